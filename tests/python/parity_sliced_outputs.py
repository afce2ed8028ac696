"""dflow's sliced output artifacts and sub-path slices, written once for dflow and dflow-lab: a fan-out in
groups whose output artifact the next step reads as one list, and a step sliced by the sub-paths of that
artifact whose outputs are stacked.

Run with DFLOW_FLAVOR=dflow under pydflow (debug mode) or DFLOW_FLAVOR=dflow_lab; prints JSON.
"""

import json
import os
from pathlib import Path
from typing import List

FLAVOR = os.environ.get("DFLOW_FLAVOR", "dflow_lab")  # "dflow": the reference, in debug mode
if FLAVOR == "dflow":
    from dflow import Step, Workflow, argo_range, config
    from dflow.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate, Slices
    config["mode"] = "debug"
else:
    from dflow_lab import Step, Workflow, argo_range, config
    from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate, Slices
    config["local_workdir"] = os.path.abspath("ws")


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


if __name__ == "__main__":
    names = ["a.txt", "bb.txt", "ccc.txt", "dddd.txt", "eeeee.txt"]
    wf = Workflow(name="sliced-outputs")
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
    wf.submit()
    if FLAVOR == "dflow":
        import time
        while wf.query_status() in ["Pending", "Running"]:
            time.sleep(0.2)
    else:
        wf.wait()
    c = wf.query_step(key="collect")[0]
    print(json.dumps({"status": wf.query_status(),
                      **{k: list(c.outputs.parameters[k].value) for k in ("names", "contents", "sizes", "texts")}}))
