"""Python OP steps through the dflow API: warm workers, typed outputs, crashes that fail one step."""

from __future__ import annotations

from typing import List

import pytest

from dflow_lab import Step, Steps, Workflow, argo_range
from dflow_lab.config import config
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate


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


class Total(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"ys": List[int]})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"total": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"total": sum(op_in["ys"])})


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


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    monkeypatch.setitem(config, "mode", "local")
    return tmp_path / "ws"


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
