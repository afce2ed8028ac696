"""dflow's slices idiom, written once for dflow and dflow-lab: a sliced step over a list, its stacked
outputs consumed by a second step, and files passed as a list artifact.

Run with DFLOW_FLAVOR=dflow under pydflow (debug mode) or DFLOW_FLAVOR=dflow_lab; prints JSON.
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


if __name__ == "__main__":
    os.makedirs("inputs", exist_ok=True)
    paths = []
    for i, t in enumerate(["alpha", "beta", "gamma"]):
        p = Path(f"inputs/d{i}.txt")
        p.write_text(t)
        paths.append(p)
    data = upload_artifact(paths)
    words = ["a", "bb", "ccc"]
    measure = Step("measure", PythonOPTemplate(Measure, slices=Slices(
        "{{item}}", input_parameter=["word"], input_artifact=["data"], output_parameter=["score"])),
        parameters={"word": words, "weight": 10}, artifacts={"data": data}, with_param=argo_range(3))
    wf = Workflow(name="slices")
    wf.add(measure)
    total = Step("total", PythonOPTemplate(Total), parameters={"scores": measure.outputs.parameters["score"]},
                 artifacts={"files": upload_artifact(paths)}, key="total")
    wf.add(total)
    wf.submit()
    if FLAVOR == "dflow":
        import time
        while wf.query_status() in ["Pending", "Running"]:
            time.sleep(0.2)
    t = wf.query_step(key="total")[0]
    print(json.dumps({"status": wf.query_status(), "total": t.outputs.parameters["total"].value,
                      "texts": list(t.outputs.parameters["texts"].value)}))
