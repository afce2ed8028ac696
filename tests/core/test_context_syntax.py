"""dflow's ``with`` syntax: steps and tasks made inside the block join the workflow or template."""

from __future__ import annotations

import pytest

from dflow_lab import DAG, Step, Steps, Task, Workflow
from dflow_lab.context_syntax import GLOBAL_CONTEXT

from .builders import shell_template


def test_steps_made_in_a_steps_block_join_it():
    t = shell_template()
    with Steps(name="block") as steps:
        a = Step("a", t)
        Step("b", t, parameters={"msg": a.outputs.parameters["n"]})
    assert [[s.name for s in stage] for stage in steps.steps] == [["a"], ["b"]]
    assert not GLOBAL_CONTEXT.in_context


def test_tasks_made_in_a_dag_block_join_it_with_their_dependencies():
    t = shell_template()
    with DAG(name="d") as dag:
        a = Task("a", t)
        Task("b", t, parameters={"msg": a.outputs.parameters["n"]})
    tasks = {x["name"]: x for x in dag.convert_to_argo()["dag"]["tasks"]}
    assert tasks["b"]["depends"] == "(a.Succeeded)"


def test_a_workflow_takes_a_dag_when_tasks_come_first():
    wf = Workflow("tasks-first")
    wf.add(Task("a", shell_template()))
    assert isinstance(wf.entrypoint, DAG) and wf.entrypoint.name == "tasks-first-dag"
    assert isinstance(Workflow("empty").entrypoint, Steps)


def test_workflow_block_submits_at_the_end(tmp_path):
    from dflow_lab import config

    old = config["local_workdir"]
    config["local_workdir"] = str(tmp_path / "ws")
    try:
        with Workflow("in-block") as wf:
            Task("a", shell_template())
        assert wf.id is not None and wf.query_status() == "Succeeded"
    finally:
        config["local_workdir"] = old


def test_an_error_in_the_block_submits_nothing_and_blocks_do_not_nest():
    wf = Workflow("broken")
    with pytest.raises(KeyError):
        with wf:
            Step("a", shell_template())
            raise KeyError("a mistake in the block")
    assert wf.id is None and not GLOBAL_CONTEXT.in_context
    with pytest.raises(RuntimeError, match="do not nest"):
        with Steps(name="outer"):
            with DAG(name="inner"):
                pass
    assert not GLOBAL_CONTEXT.in_context


def test_check_steps_are_not_added_twice():
    with Steps(name="checked") as steps:
        Step("fan", shell_template(), parameters={"msg": "{{item}}"}, with_param=[1, 2], continue_on_num_success=1)
    assert [[s.name for s in stage] for stage in steps.steps] == [["fan"], ["fan-check"]]
