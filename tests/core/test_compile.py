"""Compilation to Argo manifests: shapes, references, de-duplication, round trips."""

from __future__ import annotations

import pytest
import yaml

from dflow_lab import (
    DAG,
    ContainerOPTemplate,
    InputParameter,
    PythonScriptOPTemplate,
    Secret,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
    argo_enumerate,
    argo_len,
    argo_sequence,
    if_expression,
)

from .builders import build_dag_workflow, build_steps_workflow, shell_template


def templates_by_name(manifest):
    return {t["name"]: t for t in manifest["spec"]["templates"]}


def test_steps_manifest_shape(steps_workflow):
    m = steps_workflow.to_dict()
    assert m["apiVersion"] == "argoproj.io/v1alpha1" and m["kind"] == "Workflow"
    assert m["metadata"] == {"generateName": "steps-demo-"}
    assert m["spec"]["entrypoint"] == "steps-demo-steps"
    assert m["spec"]["arguments"] == {"parameters": [{"name": "greeting", "value": "hello"}]}
    ts = templates_by_name(m)
    assert set(ts) == {"steps-demo-steps", "echo"}, "one shared template is emitted once"
    stages = ts["steps-demo-steps"]["steps"]
    assert [[s["name"] for s in st] for st in stages] == [["first"], ["second", "third"]]
    second = stages[1][0]
    assert second["when"] == "{{steps.first.outputs.parameters.n}} > 2"
    assert second["withParam"] == "{{=toJson(sprig.untilStep(0, 3, 1))}}"
    assert second["continueOn"] == {"failed": True}
    assert {"name": "msg", "value": "{{steps.first.outputs.parameters.n}}"} in second["arguments"]["parameters"]
    assert second["arguments"]["artifacts"] == [{"name": "inp", "from": "{{steps.first.outputs.artifacts.out}}"}]
    assert {"name": "dflow_key", "value": "second-{{item}}"} in second["arguments"]["parameters"]
    echo = ts["echo"]
    assert echo["script"] == {
        "image": "alpine:3",
        "command": ["sh"],
        "source": "echo {{inputs.parameters.msg}} > /tmp/out.txt && echo 3 > /tmp/n",
    }
    assert {"name": "n", "valueFrom": {"path": "/tmp/n"}, "description": '{"type": "int"}'} in echo["outputs"]["parameters"]


def test_dag_dependencies_inferred_and_added(dag_workflow):
    ts = templates_by_name(dag_workflow.to_dict())
    tasks = {t["name"]: t for t in ts["inner"]["dag"]["tasks"]}
    assert "depends" not in tasks["a"]
    assert tasks["b"]["depends"] == "(a.Succeeded)"
    assert tasks["c"]["depends"] == "(b.Succeeded)"
    assert ts["inner"]["outputs"]["parameters"] == [
        {"name": "o", "valueFrom": {"parameter": "{{tasks.b.outputs.parameters.n}}"}, "description": '{"type": "int"}'}
    ]
    assert ts["inner"]["outputs"]["artifacts"] == [{"name": "art", "from": "{{tasks.b.outputs.artifacts.out}}"}]


def test_dependencies_are_added_on_top_of_data_flow():
    t = shell_template()
    a = Task("a", t)
    x = Task("x", t)
    b = Task("b", t, parameters={"msg": a.outputs.parameters["n"]}, dependencies=[x, "a.Failed"])
    d = DAG(name="d", tasks=[a, x, b])
    task = {t["name"]: t for t in d.convert_to_argo()["dag"]["tasks"]}["b"]
    assert task["depends"] == "(a.Succeeded) && (x.Succeeded) && (a.Failed)"


def test_continue_on_failed_dependency_lets_dependents_run():
    t = shell_template()
    a = Task("a", t, continue_on_failed=True)
    b = Task("b", t, dependencies=[a])
    task = {t["name"]: t for t in DAG(name="d", tasks=[a, b]).convert_to_argo()["dag"]["tasks"]}["b"]
    assert task["depends"] == "(a.Succeeded || a.Failed || a.Errored)"


@pytest.mark.parametrize("build", [build_steps_workflow, build_dag_workflow])
def test_yaml_round_trip_is_exact(build):
    wf = build()
    y = wf.to_yaml()
    assert Workflow.from_yaml(y).to_yaml() == y
    j = wf.to_json()
    assert Workflow.from_json(j).to_json() == j


def test_round_trip_keeps_kinds_and_options():
    wf = Workflow.from_yaml(build_steps_workflow().to_yaml())
    stage = wf.entrypoint.steps[1]
    assert isinstance(wf.entrypoint, Steps)
    assert isinstance(stage[0].template, ShellOPTemplate)
    assert stage[0].continue_on_failed is True
    assert stage[0].key == "second-{{item}}"
    assert stage[0].template.outputs.parameters["n"].type is int


def test_distinct_templates_with_one_name_are_renamed_identical_ones_merged():
    t1, t2, t3 = shell_template("same"), shell_template("same"), shell_template("same")
    t3.script = "echo different"
    wf = Workflow("dedup")
    wf.add([Step("a", t1), Step("b", t2), Step("c", t3)])
    m = wf.to_dict()
    names = [t["name"] for t in m["spec"]["templates"]]
    assert names == ["dedup-steps", "same", "same-2"]
    refs = [s["template"] for s in m["spec"]["templates"][0]["steps"][0]]
    assert refs == ["same", "same", "same-2"]
    assert t3.name == "same", "compilation does not rename the user's objects"


def test_template_kinds_compile():
    py = PythonScriptOPTemplate(name="py", image="python:3.11", script="print(1)",
                                requests={"cpu": "1"}, limits={"memory": "1Gi"}, timeout=30,
                                retry_strategy={"limit": 2, "retryPolicy": "OnError"},
                                envs={"A": "1", "TOKEN": Secret(value="s3cr3t", name="tok")})
    c = ContainerOPTemplate(name="ctr", image="busybox", command=["echo"], args=["hi"])
    wf = Workflow("kinds")
    wf.add([Step("p", py), Step("c", c)])
    m = wf.to_dict()
    ts = templates_by_name(m)
    assert ts["py"]["script"]["command"] == ["python3"]
    assert ts["py"]["script"]["resources"] == {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}
    assert ts["py"]["timeout"] == "30s"
    assert ts["py"]["retryStrategy"] == {"limit": "2", "retryPolicy": "OnError"}, "IntOrString as the schema has it"
    assert {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "tok", "key": "secret"}}} in ts["py"]["script"]["env"]
    assert "s3cr3t" not in wf.to_yaml(), "secret values never appear in manifests"
    assert ts["ctr"]["container"] == {"image": "busybox", "command": ["echo"], "args": ["hi"]}
    again = Workflow.from_yaml(wf.to_yaml())
    assert again.to_yaml() == wf.to_yaml()


def test_loops_and_expressions():
    t = shell_template()
    listing = Step("list", t)
    fan = Step("fan", t, parameters={"msg": "{{item}}"}, with_param=listing.outputs.parameters["n"])
    seq = Step("seq", t, parameters={"msg": "{{item}}"}, with_sequence=argo_sequence(count=argo_len(listing.outputs.parameters["n"]), format="%03d"))
    enum = Step("enum", t, parameters={"msg": "{{item.order}}"}, with_param=argo_enumerate(listing.outputs.parameters["n"]))
    items = Step("items", t, parameters={"msg": "{{item}}"}, with_param=[1, 2, 3])
    cond = Step("cond", t, parameters={"msg": if_expression(listing.outputs.parameters["n"] > 1, "big", "small")})
    wf = Workflow("loops")
    wf.add(listing)
    wf.add([fan, seq, enum, items, cond])
    stage = {s["name"]: s for s in templates_by_name(wf.to_dict())["loops-steps"]["steps"][1]}
    assert stage["fan"]["withParam"] == "{{steps.list.outputs.parameters.n}}"
    assert stage["seq"]["withSequence"] == {
        "count": '{{=len(sprig.fromJson(steps["list"].outputs.parameters["n"]))}}', "format": "%03d"}
    assert stage["enum"]["withParam"].startswith("{{=toJson(map(sprig.untilStep(0, len(sprig.fromJson(")
    assert stage["items"]["withParam"] == "[1, 2, 3]"
    assert stage["cond"]["arguments"]["parameters"][0]["value"] == (
        '{{=(asFloat(steps["list"].outputs.parameters["n"]) > 1 ? "big" : "small")}}'
    )


def test_nested_and_recursive_templates():
    t = shell_template()
    inner = Steps(name="inner")
    inner.inputs.parameters["depth"] = InputParameter(type=int)
    inner.add(Step("work", t, parameters={"msg": inner.inputs.parameters["depth"]}))
    inner.add(Step("again", inner, parameters={"depth": 1}, when="{{inputs.parameters.depth}} < 1"))
    wf = Workflow("recursive")
    wf.add(Step("start", inner, parameters={"depth": 0}))
    m = wf.to_dict()
    ts = templates_by_name(m)
    assert ts["inner"]["steps"][1][0]["template"] == "inner"
    assert Workflow.from_yaml(wf.to_yaml()).to_yaml() == wf.to_yaml()


def test_workflow_options():
    wf = Workflow("opts", annotations={"a": "b"}, labels={"team": "x"}, parallelism=3,
                  pod_gc_strategy="OnPodSuccess", image_pull_secrets=["reg"], artifact_repo_key="repo")
    wf.add(Step("s", shell_template()))
    spec = wf.to_dict()["spec"]
    assert spec["parallelism"] == 3
    assert spec["podGC"] == {"strategy": "OnPodSuccess"}
    assert spec["imagePullSecrets"] == [{"name": "reg"}]
    assert spec["artifactRepositoryRef"] == {"key": "repo"}
    assert Workflow.from_yaml(wf.to_yaml()).to_yaml() == wf.to_yaml()


def test_continue_on_num_success_adds_a_check_step():
    t = shell_template()
    fan = Step("fan", t, parameters={"msg": "{{item}}"}, with_param=[1, 2, 3], continue_on_num_success=2)
    wf = Workflow("ratio")
    wf.add(fan)
    m = wf.to_dict()
    stages = templates_by_name(m)["ratio-steps"]["steps"]
    assert [s["name"] for s in stages[1]] == ["fan-check"]
    assert stages[0][0]["continueOn"] == {"failed": True}
    assert stages[0][0]["template"] == "echo-tagged"
    check_args = {p["name"]: p["value"] for p in stages[1][0]["arguments"]["parameters"]}
    assert check_args == {"success": "{{steps.fan.outputs.parameters.dflow_success_tag}}", "threshold": "2"}


def test_manifest_is_plain_data(steps_workflow):
    text = steps_workflow.to_yaml()
    assert yaml.safe_load(text) == steps_workflow.to_dict()


@pytest.mark.parametrize("build", [build_steps_workflow, build_dag_workflow])
def test_graph_round_trip_of_the_model(build):
    wf = build()
    graph = wf.to_graph()
    again = Workflow.from_graph(graph)
    assert again.to_graph() == graph
    assert again.to_yaml() == wf.to_yaml()


def test_step_parallelism_limits_its_template():
    t = shell_template()
    wf = Workflow("par")
    wf.add(Step("fan", t, parameters={"msg": "{{item}}"}, with_param=[1, 2, 3, 4], parallelism=2))
    assert templates_by_name(wf.to_dict())["par-steps"]["parallelism"] == 2
    d = DAG(name="d", parallelism=5)
    with pytest.warns(UserWarning, match="the smaller one, 3"):
        d.add(Task("fan", t, parameters={"msg": "{{item}}"}, with_param=[1, 2], parallelism=3))
    assert d.convert_to_argo()["parallelism"] == 3


def test_use_resource_runs_the_step_as_a_kubernetes_resource():
    from dflow_lab import Resource

    class Job(Resource):
        action = "create"
        success_condition = "status.succeeded > 0"

        def get_manifest(self, template):
            return "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: %s-\n" % template.name

    wf = Workflow("res")
    wf.add(Step("job", shell_template(), use_resource=Job()))
    ts = templates_by_name(wf.to_dict())
    assert ts["res-steps"]["steps"][0][0]["template"] == "echo-resource"
    assert ts["echo-resource"]["resource"] == {
        "action": "create",
        "manifest": "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: echo-\n",
        "successCondition": "status.succeeded > 0",
    }
