"""Bad input: each mistake raises a ValueError/TypeError subclass naming the workflow, step and field."""

from __future__ import annotations

import pytest

from dflow_lab import DAG, InputArtifact, InputParameter, ShellOPTemplate, Step, Steps, Task, Workflow
from dflow_lab.errors import WorkflowTypeError, WorkflowValueError

from .builders import shell_template


def typed_template() -> ShellOPTemplate:
    t = ShellOPTemplate(name="typed", image="alpine", script="echo {{inputs.parameters.n}}")
    t.inputs.parameters = {"n": InputParameter(type=int), "opt": InputParameter(value=1.5, type=float)}
    t.inputs.artifacts = {"data": InputArtifact(path="/tmp/data")}
    return t


def test_unknown_parameter_names_step_and_field():
    with pytest.raises(WorkflowValueError) as e:
        Step("s", shell_template(), parameters={"mgs": "typo"})
    assert e.value.step == "s" and e.value.field == "mgs"
    assert "'msg'" in str(e.value) and "step 's'" in str(e.value)


def test_unknown_artifact_name():
    with pytest.raises(WorkflowValueError, match="unknown input artifact"):
        Step("s", shell_template(), artifacts={"nope": None})


def test_type_mismatch_names_expected_and_received():
    with pytest.raises(WorkflowTypeError) as e:
        Step("s", typed_template(), parameters={"n": "x" * 0 or 1.5})
    assert isinstance(e.value, TypeError)
    assert "expected int, got float" in str(e.value) and e.value.field == "n"
    with pytest.raises(WorkflowTypeError):
        Step("s", typed_template(), parameters={"n": True})
    Step("ok", typed_template(), parameters={"n": 3, "opt": 2}, artifacts={"data": "raw text"})


def test_artifact_for_parameter_is_a_type_error():
    producer = Step("p", shell_template())
    with pytest.raises(WorkflowTypeError, match="artifact cannot feed a parameter"):
        Step("s", shell_template(), parameters={"msg": producer.outputs.artifacts["out"]})


def test_missing_required_inputs_fail_at_compile_naming_the_workflow():
    wf = Workflow("missing")
    wf.add(Step("s", typed_template()))
    with pytest.raises(WorkflowValueError) as e:
        wf.to_dict()
    assert e.value.workflow == "missing" and e.value.step == "s" and e.value.field == "n"
    wf2 = Workflow("missing-art")
    wf2.add(Step("s", typed_template(), parameters={"n": 1}))
    with pytest.raises(WorkflowValueError, match="required input artifact"):
        wf2.to_dict()


def test_cycle_in_dag():
    t = shell_template()
    a = Task("a", t)
    b = Task("b", t, parameters={"msg": a.outputs.parameters["n"]})
    a.dependencies.append(b)
    wf = Workflow("cyclic", dag=DAG(name="d", tasks=[a, b]))
    with pytest.raises(WorkflowValueError, match=r"dependency cycle: (a -> b -> a|b -> a -> b)") as e:
        wf.to_dict()
    assert e.value.workflow == "cyclic"


def test_dependency_on_unknown_task():
    wf = Workflow("dangling", dag=DAG(name="d", tasks=[Task("a", shell_template(), dependencies=["ghost"])]))
    with pytest.raises(WorkflowValueError, match="'ghost'"):
        wf.to_dict()


def test_reference_outside_current_steps():
    t = shell_template()
    elsewhere = Step("elsewhere", t)
    inner = Steps(name="inner")
    inner.add(Step("uses", t, parameters={"msg": elsewhere.outputs.parameters["n"]}))
    wf = Workflow("scope")
    wf.add(elsewhere)
    wf.add(Step("call", inner))
    with pytest.raises(WorkflowValueError, match="not an earlier step of Steps 'inner'") as e:
        wf.to_dict()
    assert e.value.step == "uses"


def test_reference_to_same_stage_step():
    t = shell_template()
    a = Step("a", t)
    b = Step("b", t, parameters={"msg": a.outputs.parameters["n"]})
    wf = Workflow("stage")
    wf.add([a, b])
    with pytest.raises(WorkflowValueError, match="step 'a'"):
        wf.to_dict()


def test_string_reference_to_undeclared_input():
    inner = Steps(name="inner")
    inner.add(Step("s", shell_template(), parameters={"msg": "{{inputs.parameters.nothere}}"}))
    wf = Workflow("undeclared")
    wf.add(Step("call", inner))
    with pytest.raises(WorkflowValueError, match="inputs.parameters.nothere"):
        wf.to_dict()


def test_duplicate_names():
    t = shell_template()
    wf = Workflow("dups")
    wf.add(Step("same", t))
    with pytest.raises(WorkflowValueError, match="duplicate step name"):
        wf.add(Step("same", t))
    with pytest.raises(WorkflowValueError, match="duplicate task name"):
        DAG(name="d", tasks=[Task("x", t), Task("x", t)])


@pytest.mark.parametrize("bad", ["Under_score", "-lead", "", "a" * 129, "sp ace"])
def test_invalid_step_and_template_names(bad):
    with pytest.raises(WorkflowValueError, match="invalid step name"):
        Step(bad, shell_template())
    with pytest.raises(WorkflowValueError, match="invalid template name"):
        ShellOPTemplate(name=bad)


@pytest.mark.parametrize("bad", ["Upper", "under_score", "trailing-", ""])
def test_invalid_workflow_names(bad):
    with pytest.raises(WorkflowValueError, match="invalid workflow name"):
        Workflow(bad)


def test_invalid_parameter_name_and_key():
    t = shell_template()
    with pytest.raises(WorkflowValueError, match="invalid parameter/artifact name"):
        t.inputs.parameters["bad name"] = InputParameter()
    with pytest.raises(WorkflowValueError, match="invalid key"):
        Step("s", t, key="Bad_Key")


def test_step_needs_a_template_and_dag_needs_tasks():
    with pytest.raises(WorkflowTypeError, match="template must be an OP template"):
        Step("s", object())  # type: ignore[arg-type]
    with pytest.raises(WorkflowTypeError, match="use Task, not Step"):
        DAG(name="d", tasks=[Step("s", shell_template())])  # type: ignore[list-item]


def test_input_artifact_on_system_path():
    with pytest.raises(WorkflowValueError, match="system directory"):
        InputArtifact(path="/tmp")


def test_nothing_is_submitted_when_compilation_fails(tmp_path):
    from dflow_lab import config

    old = config["local_workdir"]
    config["local_workdir"] = str(tmp_path / "ws")
    try:
        wf = Workflow("never")
        wf.add(Step("s", typed_template()))
        with pytest.raises(WorkflowValueError):
            wf.submit()
        assert wf.id is None
        assert not (tmp_path / "ws").exists(), "nothing is written when the manifest is rejected"
    finally:
        config["local_workdir"] = old
