"""continue_on_num_success / continue_on_success_ratio on the local engine, as dflow defines them on Argo.

dflow tags each item of the fan-out with ``dflow_success_tag`` (``1`` when it succeeded; the output's
default ``0`` otherwise, which Argo still collects from a failed pod) and its check step passes when the
sum of the tags reaches the threshold (``continue_on_num_success``) or ``ratio × total`` where total is
the number of items (``continue_on_success_ratio``): a failed item and an errored one (no tag) both count
as not succeeded.  Items here succeed, fail (the OP raises) and error (its input cannot be given).
"""

from __future__ import annotations

import pytest

from dflow_lab import Step, Workflow, argo_range
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate


class FailBelow(OP):
    """Fails (raises) for x below ``limit``."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int, "limit": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        if op_in["x"] < op_in["limit"]:
            raise RuntimeError(f"item {op_in['x']} fails on purpose")
        return OPIO({"y": op_in["x"]})


def _python_fanout(name: str, failing: int, **threshold) -> Workflow:
    wf = Workflow(name)
    wf.add(Step("fan", PythonOPTemplate(FailBelow), parameters={"x": "{{item}}", "limit": failing},
                with_param=argo_range(4), **threshold))
    return wf


@pytest.mark.parametrize("failing,ratio,phase", [
    (2, 0.5, "Succeeded"),   # 2 of 4 succeed: 2 >= 0.5 * 4 (the case: it failed with "0/2")
    (3, 0.5, "Failed"),      # 1 of 4
    (0, 1.0, "Succeeded"),   # all
    (1, 0.75, "Succeeded"),  # 3 of 4, exactly the ratio
    (1, 0.8, "Failed"),
])
def test_success_ratio_python_op(workdir, failing, ratio, phase):
    wf = _python_fanout("ratio", failing, continue_on_success_ratio=ratio)
    wf.submit()
    assert wf.query_status() == phase, wf.query_step(phase="Failed")
    items = wf.query_step(name="fan", type="Pod")
    assert sorted(s.phase for s in items) == sorted(["Failed"] * failing + ["Succeeded"] * (4 - failing))


@pytest.mark.parametrize("failing,count,phase", [(2, 2, "Succeeded"), (3, 2, "Failed"), (0, 4, "Succeeded")])
def test_num_success_python_op(workdir, failing, count, phase):
    wf = _python_fanout("num", failing, continue_on_num_success=count)
    wf.submit()
    assert wf.query_status() == phase


def _shell_fanout(name: str, **options) -> Workflow:
    """Item 0 succeeds, item 1 fails (exit 3), items 2 and 3 error: their argument ``{{item.x}}`` does not
    resolve (no pod runs, no tag is written)."""
    from dflow_lab import ShellOPTemplate
    from dflow_lab.io import InputParameter

    t = ShellOPTemplate(name="mixed", image="alpine:3", script="if [ {{inputs.parameters.x}} = 1 ]; then exit 3; fi\n")
    t.inputs.parameters = {"x": InputParameter()}
    wf = Workflow(name)
    wf.add(Step("fan", t, parameters={"x": "{{item.x}}"}, with_param=[{"x": 0}, {"x": 1}, {"y": 2}, {"y": 3}],
                **options))
    return wf


@pytest.mark.parametrize("options,phase", [
    ({"continue_on_success_ratio": 0.25, "continue_on_error": True}, "Succeeded"),  # 1 of 4
    ({"continue_on_success_ratio": 0.3, "continue_on_error": True}, "Failed"),      # errored items count
    ({"continue_on_num_success": 1, "continue_on_error": True}, "Succeeded"),
    ({"continue_on_num_success": 2, "continue_on_error": True}, "Failed"),
    ({"continue_on_success_ratio": 0.25}, "Failed"),  # an errored item fails the group (continueOn: failed only)
])
def test_failed_and_errored_items(workdir, options, phase):
    wf = _shell_fanout("mixed", **options)
    wf.submit()
    assert wf.query_status() == phase
    items = sorted((s.displayName, s.phase) for s in wf.query_step(name="fan") if s.displayName.startswith("fan("))
    assert [p for _, p in items] == ["Succeeded", "Failed", "Error", "Error"]
