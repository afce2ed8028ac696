"""A first dflow-lab workflow: a Python OP fanned out over five items, then a shell step.

Run it with ``python examples/hello.py``: it runs on this machine (the local engine) and prints
what each step produced. No cluster, no container runtime, no S3 server needed.
"""

from pathlib import Path

from dflow_lab import InputParameter, OutputArtifact, ShellOPTemplate, Step, Workflow, argo_range, download_artifact
from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate


class Square(OP):
    """Square a number and write a note about it."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int, "note": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in: OPIO) -> OPIO:
        note = Path("note.txt")
        note.write_text(f"{op_in['x']} squared is {op_in['x'] ** 2}\n")
        return OPIO({"y": op_in["x"] ** 2, "note": note})


def build() -> Workflow:
    total = ShellOPTemplate(
        name="total",
        image="alpine:3",
        script="echo 'squares: {{inputs.parameters.ys}}' | tee /tmp/summary.txt",
    )
    total.inputs.parameters = {"ys": InputParameter()}
    total.outputs.artifacts = {"summary": OutputArtifact(path="/tmp/summary.txt")}

    wf = Workflow("hello")
    square = Step("square", PythonOPTemplate(Square, image="python:3.11"),
                  parameters={"x": "{{item}}"}, with_param=argo_range(5), key="square-{{item}}")
    wf.add(square)
    wf.add(Step("total", total, parameters={"ys": square.outputs.parameters["y"]}))
    return wf


if __name__ == "__main__":
    wf = build()
    wf.submit()
    print(f"workflow {wf.id}: {wf.query_status()}")
    for step in wf.query_step(key="square-3"):
        print("square-3 ->", step.outputs.parameters["y"].value)
    summary = wf.query_step(name="total")[0].outputs.artifacts["summary"]
    download_artifact(summary, path="hello-output")
    print(Path("hello-output", "summary.txt").read_text().strip())
