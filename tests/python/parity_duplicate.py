"""The README example of dflow (two Duplicate steps), written once for dflow and dflow-lab.

Run with DFLOW_FLAVOR=dflow under pydflow (debug mode) or DFLOW_FLAVOR=dflow_lab; prints the results as JSON.
"""

import json
import os
from pathlib import Path

FLAVOR = os.environ.get("DFLOW_FLAVOR", "dflow_lab")  # "dflow": the reference, in debug mode
if FLAVOR == "dflow":
    from dflow import Step, Workflow, config, download_artifact, upload_artifact
    from dflow.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate
    config["mode"] = "debug"
else:
    from dflow_lab import Step, Workflow, config, download_artifact, upload_artifact
    from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate
    config["local_workdir"] = os.path.abspath("ws")


class Duplicate(OP):
    def __init__(self):
        pass

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"msg": str, "num": int, "foo": Artifact(Path), "idir": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"msg": str, "bar": Artifact(Path), "odir": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        with open(op_in["foo"]) as f:
            content = f.read().strip()
        with open("bar.txt", "w") as f:
            f.write(content * op_in["num"])
        odir = Path("output")
        odir.mkdir()
        for name in sorted(os.listdir(op_in["idir"])):
            with open(op_in["idir"] / name) as f:
                content = f.read().strip()
            with open(odir / name, "w") as f:
                f.write(content * op_in["num"])
        return OPIO({"msg": op_in["msg"] * op_in["num"], "bar": Path("bar.txt"), "odir": odir})


if __name__ == "__main__":
    Path("foo.txt").write_text("Hi")
    os.makedirs("tmp", exist_ok=True)
    Path("tmp/foo.txt").write_text("Hello")
    Path("tmp/bar.txt").write_text("World")
    step0 = Step("step0", PythonOPTemplate(Duplicate, image="python:3.8"),
                 parameters={"msg": "Hello", "num": 2},
                 artifacts={"foo": upload_artifact(["foo.txt"]), "idir": upload_artifact(["tmp"])})
    step1 = Step("step1", PythonOPTemplate(Duplicate, image="python:3.8"),
                 parameters={"msg": step0.outputs.parameters["msg"], "num": 3},
                 artifacts={"foo": step0.outputs.artifacts["bar"], "idir": step0.outputs.artifacts["odir"]},
                 key="step1")
    wf = Workflow(name="python")
    wf.add(step0)
    wf.add(step1)
    wf.submit()
    if FLAVOR == "dflow":
        import time
        while wf.query_status() in ["Pending", "Running"]:
            time.sleep(0.2)
    s1 = wf.query_step(key="step1")[0]
    out = {"status": wf.query_status(), "msg": s1.outputs.parameters["msg"].value}
    dl = download_artifact(s1.outputs.artifacts["bar"], path="dl-bar")
    out["bar"] = Path(dl[0]).read_text()
    dl = download_artifact(s1.outputs.artifacts["odir"], path="dl-odir")
    out["odir"] = sorted((p.name, p.read_text()) for p in Path(dl[0]).iterdir())
    print(json.dumps(out))
