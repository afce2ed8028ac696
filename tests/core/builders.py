"""Builders of small workflows shared by the core tests."""

from __future__ import annotations

import pytest

from dflow_lab import (
    DAG,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
    argo_range,
)


def shell_template(name: str = "echo") -> ShellOPTemplate:
    t = ShellOPTemplate(
        name=name,
        image="alpine:3",
        script="echo {{inputs.parameters.msg}} > /tmp/out.txt && echo 3 > /tmp/n",
    )
    t.inputs.parameters = {"msg": InputParameter(value="hi")}
    t.inputs.artifacts = {"inp": InputArtifact(path="/tmp/in", optional=True)}
    t.outputs.parameters = {"n": OutputParameter(value_from_path="/tmp/n", type=int)}
    t.outputs.artifacts = {"out": OutputArtifact(path="/tmp/out.txt")}
    return t


def build_steps_workflow() -> Workflow:
    t = shell_template()
    s1 = Step("first", t, parameters={"msg": "hello"}, key="first-key")
    s2 = Step(
        "second",
        t,
        parameters={"msg": s1.outputs.parameters["n"]},
        artifacts={"inp": s1.outputs.artifacts["out"]},
        when="%s > 2" % s1.outputs.parameters["n"],
        with_param=argo_range(3),
        continue_on_failed=True,
        key="second-{{item}}",
    )
    wf = Workflow("steps-demo", parameters={"greeting": "hello"})
    wf.add(s1)
    wf.add([s2, Step("third", t, parameters={"msg": "{{workflow.parameters.greeting}}"})])
    return wf


def build_dag_workflow() -> Workflow:
    t = shell_template()
    d = DAG(name="inner")
    d.inputs.parameters["q"] = InputParameter(value=2)
    a = Task("a", t, parameters={"msg": d.inputs.parameters["q"]})
    b = Task("b", t, parameters={"msg": a.outputs.parameters["n"]}, artifacts={"inp": a.outputs.artifacts["out"]})
    c = Task("c", t, parameters={"msg": "x"}, dependencies=[b])
    d.add([a, b, c])
    d.outputs.parameters["o"] = OutputParameter(value_from_parameter=b.outputs.parameters["n"])
    d.outputs.artifacts["art"] = OutputArtifact(_from=b.outputs.artifacts["out"])
    outer = Steps(name="outer")
    outer.add(Step("run-inner", d, parameters={"q": 5}))
    return Workflow("dag-demo", steps=outer)


@pytest.fixture
def steps_workflow() -> Workflow:
    return build_steps_workflow()


@pytest.fixture
def dag_workflow() -> Workflow:
    return build_dag_workflow()
