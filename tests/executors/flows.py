"""The workflow every executor test runs: a shell step that makes an artifact and a parameter from an
uploaded artifact and a parameter, then a Python OP that reads that artifact and writes another."""

from __future__ import annotations

from pathlib import Path

from dflow_lab import (
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Workflow,
    upload_artifact,
)
from dflow_lab.python import PythonOPTemplate

from .conftest import OPPKG

SHELL = """set -e
mkdir -p /tmp/outputs/artifacts/data/sub /tmp/outputs/parameters
cp "$(find /tmp/inputs/artifacts/seed -name seed.txt)" /tmp/outputs/artifacts/data/seed.txt
printf 'a\\nb\\n' > /tmp/outputs/artifacts/data/sub/two.txt
echo "{{inputs.parameters.msg}}" > /tmp/outputs/artifacts/data/msg.txt
echo "made by $(id -un) in $(pwd)"
printf 'greeting from %s' "{{inputs.parameters.msg}}" > /tmp/outputs/parameters/greeting
"""


def build(tmp: Path, execops, name: str, executor=None, image: str | None = None, py_image: str | None = None, py_executor=None,
          msg: str = "hello remote world") -> Workflow:
    seed_dir = tmp / "seed"
    seed_dir.mkdir(exist_ok=True)
    (seed_dir / "seed.txt").write_text("one\ntwo\nthree\n")
    seed = upload_artifact(str(seed_dir / "seed.txt"))
    shell = ShellOPTemplate(name="make", image=image, script=SHELL)
    shell.inputs.parameters["msg"] = InputParameter()
    shell.inputs.artifacts["seed"] = InputArtifact(path="/tmp/inputs/artifacts/seed")
    shell.outputs.parameters["greeting"] = OutputParameter(value_from_path="/tmp/outputs/parameters/greeting")
    shell.outputs.artifacts["data"] = OutputArtifact(path="/tmp/outputs/artifacts/data")
    make = Step("make", shell, parameters={"msg": msg}, artifacts={"seed": seed}, executor=executor, key="make")
    count = Step("count", PythonOPTemplate(execops.CountLines, image=py_image,
                                           python_packages=[str(OPPKG / "execops")]),
                 parameters={"scale": 2}, artifacts={"data": make.outputs.artifacts["data"]}, executor=py_executor or executor,
                 key="count")
    wf = Workflow(name)
    wf.add(make)
    wf.add(count)
    return wf


def check(wf: Workflow, dest: Path, msg: str = "hello remote world") -> None:
    """The workflow succeeded with the values and artifacts the steps compute."""
    from dflow_lab import download_artifact

    assert wf.query_status() == "Succeeded", [(s.name, s.phase, s.get("message")) for s in wf.query_step()]
    make = wf.query_step(key="make")[0]
    assert make.outputs.parameters["greeting"].value == f"greeting from {msg}"
    count = wf.query_step(key="count")[0]
    assert count.outputs.parameters["lines"].value == (3 + 2 + 1) * 2
    download_artifact(count.outputs.artifacts["report"], path=str(dest))
    reports = [p.read_text() for p in dest.rglob("report.txt")]
    assert reports == ["12 lines in 3 files\n"]
