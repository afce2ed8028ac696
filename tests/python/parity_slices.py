"""dflow's slices, written once for dflow and dflow-lab, in one workflow of two chains:

- sliced *inputs*: ``measure`` is sliced over a list parameter and a list artifact; ``total`` reads its
  stacked output parameter, and files passed as a list artifact;
- sliced *outputs* and sub-path slices: ``write`` fans out in groups (``group_size``/``pool_size``) and its
  output artifact is read by ``collect`` as one list; ``upper`` is sliced by the sub-paths of that
  artifact and its outputs are stacked.

Run with DFLOW_FLAVOR=dflow under pydflow (debug mode) or DFLOW_FLAVOR=dflow_lab; prints JSON
(tests/python/test_python_parity.py compares the two).
"""

import json
import os
from pathlib import Path
from typing import List

FLAVOR = os.environ.get("DFLOW_FLAVOR", "dflow_lab")  # "dflow": the reference, in debug mode
if FLAVOR == "dflow":
    from dflow import Step, Workflow, argo_range, config, upload_artifact
    from dflow.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate, Slices
    config["mode"] = "debug"
else:
    from dflow_lab import Step, Workflow, argo_range, config, upload_artifact
    from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate, Slices
    config["local_workdir"] = os.path.abspath("ws")


# -- sliced inputs ------------------------------------------------------------------------------------

class Measure(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"word": str, "weight": int, "data": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"score": int, "out": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        text = op_in["data"].read_text().strip()
        Path("out.txt").write_text(f"{op_in['word']}:{text}")
        return OPIO({"score": len(op_in["word"]) * op_in["weight"], "out": Path("out.txt")})


class Total(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"scores": List[int], "files": Artifact(List[Path])})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"total": int, "texts": List[str]})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"total": sum(op_in["scores"]), "texts": sorted(p.read_text() for p in op_in["files"])})


# -- sliced outputs and sub-path slices ---------------------------------------------------------------

class Write(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"name": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"out": Artifact(Path), "size": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        Path(op_in["name"]).write_text("text of " + op_in["name"])
        return OPIO({"out": Path(op_in["name"]), "size": len(op_in["name"])})


class Upper(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"f": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"text": str})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"text": op_in["f"].read_text().upper()})


class Collect(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"files": Artifact(List[Path]), "sizes": List[int], "texts": List[str]})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"names": List[str], "contents": List[str], "sizes": List[int], "texts": List[str]})

    @OP.exec_sign_check
    def execute(self, op_in):
        files = op_in["files"]
        return OPIO({"names": [p.name for p in files], "contents": [p.read_text() for p in files],
                     "sizes": op_in["sizes"], "texts": op_in["texts"]})


def sliced_inputs(wf) -> None:
    os.makedirs("inputs", exist_ok=True)
    paths = []
    for i, t in enumerate(["alpha", "beta", "gamma"]):
        p = Path(f"inputs/d{i}.txt")
        p.write_text(t)
        paths.append(p)
    measure = Step("measure", PythonOPTemplate(Measure, slices=Slices(
        "{{item}}", input_parameter=["word"], input_artifact=["data"], output_parameter=["score"])),
        parameters={"word": ["a", "bb", "ccc"], "weight": 10}, artifacts={"data": upload_artifact(paths)},
        with_param=argo_range(3))
    wf.add(measure)
    wf.add(Step("total", PythonOPTemplate(Total), parameters={"scores": measure.outputs.parameters["score"]},
                artifacts={"files": upload_artifact(paths)}, key="total"))


def sliced_outputs(wf) -> None:
    names = ["a.txt", "bb.txt", "ccc.txt", "dddd.txt", "eeeee.txt"]
    write = Step("write", PythonOPTemplate(Write, slices=Slices("{{item}}", input_parameter=["name"],
                                                                output_artifact=["out"], output_parameter=["size"],
                                                                group_size=2, pool_size=1)),
                 parameters={"name": names}, with_param=argo_range(len(names)), key="write-{{item}}")
    wf.add(write)
    upper = Step("upper", PythonOPTemplate(Upper, slices=Slices(sub_path=True, input_artifact=["f"],
                                                                output_parameter=["text"])),
                 artifacts={"f": write.outputs.artifacts["out"]}, key="upper-{{item.order}}")
    wf.add(upper)
    wf.add(Step("collect", PythonOPTemplate(Collect), key="collect",
                artifacts={"files": write.outputs.artifacts["out"]},
                parameters={"sizes": write.outputs.parameters["size"], "texts": upper.outputs.parameters["text"]}))


if __name__ == "__main__":
    wf = Workflow(name="slices")
    sliced_inputs(wf)
    sliced_outputs(wf)
    wf.submit()
    if FLAVOR == "dflow":
        import time
        while wf.query_status() in ["Pending", "Running"]:
            time.sleep(0.2)
    else:
        wf.wait()
    t = wf.query_step(key="total")[0]
    c = wf.query_step(key="collect")[0]
    print(json.dumps({
        "status": wf.query_status(),
        "inputs": {"total": t.outputs.parameters["total"].value, "texts": list(t.outputs.parameters["texts"].value)},
        "outputs": {k: list(c.outputs.parameters[k].value) for k in ("names", "contents", "sizes", "texts")},
    }))
