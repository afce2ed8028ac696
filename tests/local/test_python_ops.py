"""Python OP steps through the dflow API: warm workers, typed outputs, crashes that fail one step."""

from __future__ import annotations

import hashlib

import pytest

from dflow_lab import Step, Steps, Workflow, argo_range
from dflow_lab.config import config
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate

from ..ops import Total


class Square(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int, "pid": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        import os

        return OPIO({"y": op_in["x"] ** 2, "pid": os.getpid()})


class Crash(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        import os

        if op_in["x"] == 1:
            os._exit(9)  # the worker process dies
        return OPIO({"y": op_in["x"]})


def test_fan_out_and_aggregate_typed(workdir):
    wf = Workflow("fan")
    sq = Step("sq", PythonOPTemplate(Square), parameters={"x": "{{item}}"}, with_param=argo_range(5), key="sq-{{item}}")
    wf.add(sq)
    wf.add(Step("total", PythonOPTemplate(Total), parameters={"ys": sq.outputs.parameters["y"]}, key="total"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    total = wf.query_step(key="total")[0]
    assert total.outputs.parameters["total"].value == 30
    steps = wf.query_step(name="sq", type="Pod")
    assert sorted(s.outputs.parameters["y"].value for s in steps) == [0, 1, 4, 9, 16]
    assert wf.query_step_by_key("sq-3")[0].outputs.parameters["y"].value == 9
    pids = {s.outputs.parameters["pid"].value for s in steps}
    assert len(pids) <= max(1, config.get("local_workers") or 0) + 2  # warm workers are reused


def test_crashing_op_fails_its_step_only(workdir):
    wf = Workflow("crash")
    wf.add(Step("c", PythonOPTemplate(Crash), parameters={"x": "{{item}}"}, with_param=argo_range(3),
                continue_on_failed=True))
    wf.add(Step("after", PythonOPTemplate(Square), parameters={"x": 2}, key="after"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    phases = sorted((s.displayName, s.phase) for s in wf.query_step(name="c", type="Pod"))
    assert [p for _, p in phases] == ["Succeeded", "Failed", "Succeeded"]
    failed = wf.query_step(name="c", phase="Failed")[0]
    assert "died" in failed.message
    assert wf.query_step(key="after")[0].outputs.parameters["y"].value == 4


def test_reuse_step_with_modified_output(workdir):
    wf = Workflow("reuse")
    a = Step("a", PythonOPTemplate(Square), parameters={"x": 3}, key="a")
    wf.add(a)
    wf.add(Step("b", PythonOPTemplate(Square), parameters={"x": a.outputs.parameters["y"]}, key="b"))
    wf.submit()
    old = wf.query_step(key="a")[0]
    old.modify_output_parameter("y", 5)
    wf2 = Workflow("reuse")
    a2 = Step("a", PythonOPTemplate(Square), parameters={"x": 3}, key="a")
    wf2.add(a2)
    wf2.add(Step("b", PythonOPTemplate(Square), parameters={"x": a2.outputs.parameters["y"]}, key="b"))
    wf2.submit(reuse_step=[old])
    assert wf2.query_status() == "Succeeded"
    assert wf2.query_step(key="b")[0].outputs.parameters["y"].value == 25


def test_nested_steps_template(workdir):
    inner = Steps("inner")
    inner.add(Step("s", PythonOPTemplate(Square), parameters={"x": 4}, key="inner-s"))
    wf = Workflow("nested")
    wf.add(Step("outer", inner))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(key="inner-s")[0].outputs.parameters["y"].value == 16


def test_get_and_set_script_then_retry(workdir, tmp_path):
    from dflow_lab import ShellOPTemplate

    flag = tmp_path / "fixed"
    wf = Workflow("script")
    wf.add(Step("sh", ShellOPTemplate(name="check", image="busybox", script=f"test -e {flag}"), key="sh"))
    wf.submit()
    assert wf.query_status() == "Failed"
    step = wf.query_step(key="sh")[0]
    assert step.get_script().strip().endswith(f"test -e {flag}")
    step.set_script(f"touch {flag}")
    wf.retry()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    assert flag.exists()


class Flaky(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"counter": str, "fatal": bool})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"attempts": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        from pathlib import Path

        from dflow_lab.python import FatalError, TransientError

        counter = Path(op_in["counter"])
        n = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(n))
        if op_in["fatal"]:
            raise FatalError("cannot be fixed by retrying")
        if n < 3:
            raise TransientError(f"flaky, attempt {n}")
        return OPIO({"attempts": n})


class Sleepy(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"seconds": float})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({})

    @OP.exec_sign_check
    def execute(self, op_in):
        import time

        time.sleep(op_in["seconds"])
        return OPIO({})


def test_transient_errors_are_retried_fatal_ones_not(workdir, tmp_path):
    wf = Workflow("flaky")
    wf.add([
        Step("t", PythonOPTemplate(Flaky, retry_on_transient_error=3),
             parameters={"counter": str(tmp_path / "t"), "fatal": False}, key="t"),
        Step("f", PythonOPTemplate(Flaky, retry_on_transient_error=3),
             parameters={"counter": str(tmp_path / "f"), "fatal": True}, key="f", continue_on_failed=True),
    ])
    wf.submit()
    assert wf.query_step(key="t")[0].outputs.parameters["attempts"].value == 3
    assert (tmp_path / "f").read_text() == "1"  # a FatalError is not retried
    assert wf.query_step(key="f")[0].phase == "Failed"


def test_timeout_kills_the_op_and_its_worker_is_replaced(workdir):
    wf = Workflow("sleepy")
    wf.add(Step("slow", PythonOPTemplate(Sleepy, timeout=1), parameters={"seconds": 60}, key="slow",
                continue_on_failed=True))
    wf.add(Step("next", PythonOPTemplate(Square), parameters={"x": 5}, key="next"))
    wf.submit()
    slow = wf.query_step(key="slow")[0]
    assert slow.phase == "Failed" and "deadline" in slow.message
    assert wf.query_step(key="next")[0].outputs.parameters["y"].value == 25


def test_undecodable_parameter_fails_the_step_naming_the_field(workdir):
    wf = Workflow("bad-value")
    wf.add(Step("sq", PythonOPTemplate(Square), parameters={"x": "not a number"}, key="sq"))
    wf.submit()
    assert wf.query_status() == "Failed"
    step = wf.query_step(key="sq")[0]
    assert step.phase == "Failed"
    assert step.message.startswith("Error (exit code 2): ")
    assert "input 'x'" in step.message and "'not a number'" in step.message


class Count(OP):
    @classmethod
    def get_input_sign(cls):
        from dflow_lab.python import BigParameter

        return OPIOSign({"d": BigParameter(dict)})

    @classmethod
    def get_output_sign(cls):
        from dflow_lab.python import BigParameter

        return OPIOSign({"out": BigParameter(dict)})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"out": {"n": len(op_in["d"])}})


def test_big_parameters_pass_as_artifacts_and_read_back_typed(workdir):
    wf = Workflow("big")
    a = Step("a", PythonOPTemplate(Count), parameters={"d": {"x": 1, "y": 2}}, key="a")
    wf.add(a)
    wf.add(Step("b", PythonOPTemplate(Count), parameters={"d": a.outputs.parameters["out"]}, key="b"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(key="a")[0].outputs.parameters["out"].value == {"n": 2}
    assert wf.query_step(key="b")[0].outputs.parameters["out"].value == {"n": 1}


def test_an_edited_op_module_is_reimported(workdir, tmp_path, monkeypatch):
    import importlib
    import os
    import sys

    module = tmp_path / "edited_ops.py"
    source = '''
from dflow_lab.python import OP, OPIO, OPIOSign


class Version(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"v": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"v": VERSION})
'''
    module.write_text("VERSION = 1\n" + source)
    monkeypatch.syspath_prepend(str(tmp_path))
    import edited_ops

    def run() -> set[int]:  # four parallel steps: every warm worker runs the OP
        wf = Workflow("edited")
        wf.add(Step("v", PythonOPTemplate(edited_ops.Version), with_param=argo_range(4)))
        wf.submit()
        return {s.outputs.parameters["v"].value for s in wf.query_step(name="v", type="Pod")}

    assert run() == {1}
    module.write_text("VERSION = 2\n" + source)
    os.utime(module, (module.stat().st_atime, module.stat().st_mtime + 5))
    importlib.reload(edited_ops)
    assert run() == {2}  # the warm workers that had imported version 1 were replaced
    sys.modules.pop("edited_ops", None)


@pytest.mark.parametrize("wait", [True, False])
def test_secrets_reach_the_step_but_never_the_manifest_or_disk(tmp_path, monkeypatch, wait):
    from dflow_lab import Secret, ShellOPTemplate, Step, Workflow
    from dflow_lab.config import config

    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    token = "s3cr3t-" + ("wait" if wait else "detached")
    digest = hashlib.sha256(token.encode()).hexdigest()  # the script checks the value without holding it
    t = ShellOPTemplate(name="use-secret", image="alpine", envs={"TOKEN": Secret(value=token)},
                        script='test "$(printf %%s "$TOKEN" | sha256sum | cut -c1-64)" = "%s" && echo ok' % digest)
    wf = Workflow("secret-" + ("wait" if wait else "detached"))
    wf.add(Step("use", t))
    assert token not in wf.to_yaml()
    wf.submit(wait=wait)
    if not wait:
        wf.wait()
    assert wf.query_status() == "Succeeded"
    leaked = [p for p in (tmp_path / "ws").rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
    assert leaked == []


def test_unknown_secret_fails_the_step_with_a_clear_message(tmp_path, monkeypatch):
    from dflow_lab import Secret, ShellOPTemplate, Step, Workflow
    from dflow_lab.config import config

    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    t = ShellOPTemplate(name="k8s-secret", image="alpine", envs={"TOKEN": Secret(name="in-cluster", key="tok")},
                        script='echo "$TOKEN"')
    wf = Workflow("secret-missing")
    wf.add(Step("use", t))
    wf.submit()
    assert wf.query_status() in ("Failed", "Error")
    messages = " ".join(str(s.get("message") or "") for s in wf.query_step(name="use"))
    assert "secret 'in-cluster'" in messages and "Secret(value=" in messages
