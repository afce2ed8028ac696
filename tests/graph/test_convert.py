"""Model ⇄ graph ⇄ manifest round trips, standalone conversions and clear errors."""

from __future__ import annotations

import glob
import json

import pytest

from dflow_lab.errors import WorkflowError, WorkflowValueError
from dflow_lab.graph import GraphValidationError, validate
from dflow_lab.graph.convert import (
    io_from_graph,
    step_from_graph,
    template_from_graph,
    to_graph,
    to_networkx,
)
from dflow_lab.io import InputArtifact, InputParameter, Inputs, OutputParameter
from dflow_lab.op_template import ScriptOPTemplate, Secret, ShellOPTemplate
from dflow_lab.step import Step
from dflow_lab.steps import Steps
from dflow_lab.workflow import DockerSecret, Workflow
from tests.conftest import EXAMPLES_DIR

from .helpers import load_fixture
from .workflows import all_workflows, dag_workflow, hello_template, steps_workflow

WORKFLOWS = {wf.name: wf for wf in all_workflows()}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_model_graph_model_keeps_the_manifest(name):
    wf = WORKFLOWS[name]
    graph = wf.to_graph()
    assert validate(graph) == []
    again = Workflow.from_graph(graph)
    assert again.to_dict() == wf.to_dict()
    assert again.to_graph() == graph


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_json_and_yaml_forms(name):
    wf = WORKFLOWS[name]
    graph = wf.to_graph()
    assert json.loads(wf.to_graph_json()) == graph
    assert Workflow.from_graph_json(wf.to_graph_json()).to_graph() == graph
    assert Workflow.from_graph_yaml(wf.to_graph_yaml()).to_graph() == graph


def test_dag_graph_shape():
    graph = dag_workflow().to_graph()
    main = graph["templates"]["main"]
    assert [n["name"] for n in main["nodes"]] == ["a", "b", "c", "d", "e", "f"]
    edges = {(e["kind"], e["source"]["node"], e["source"].get("port"), e["target"]["node"],
              e["target"].get("port") or e["target"].get("option")) for e in main["edges"]}
    assert edges == {
        ("parameter", "@inputs", "greeting", "a", "msg"),
        ("artifact", "a", "file", "b", "src"),
        ("parameter", "a", "out", "c", "msg"),
        ("control", "b", None, "d", None),
        ("parameter", "d", "items", "e", "with_param"),
        ("control", "e", None, "f", None),
        ("parameter", "c", "msg", "@outputs", "said"),
        ("artifact", "c", "bar", "@outputs", "text"),
    }
    c = main["nodes"][2]
    assert c["artifacts"] == {"foo": {"kind": "s3", "key": "upload/abc/data.tgz"}}
    f = main["nodes"][5]
    assert f["when"] == "{{tasks.d.outputs.parameters.total}} > 0"
    assert f["options"] == {"dependencies": ["b.Failed"]}
    assert graph["templates"]["square"] == {
        "kind": "python", "op": "tests.graph.fixture_ops:Square", "image": "python:3.11",
        "inputs": {"parameters": {"x": {"type": "int"}}}, "outputs": {"parameters": {"y": {"type": "int"}}},
        "options": {"timeout": 60},
    }
    assert main["nodes"][4]["template"] == "square"  # the success-tagged copy is written as its origin


def test_steps_graph_shape():
    graph = steps_workflow().to_graph()
    main = graph["templates"]["main"]
    assert [(n["name"], n["stage"]) for n in main["nodes"]] == [
        ("first", 0), ("seq", 0), ("listing", 1), ("echo", 1), ("recurse", 2), ("sum", 2)]
    assert main["nodes"][1]["with_sequence"] == {"count": 3, "format": "%02d"}
    loop = graph["templates"]["loop"]
    assert loop["nodes"][1]["template"] == "loop"  # recursion
    assert graph["templates"]["ls"] == {"kind": "container", "image": "busybox", "command": ["ls"],
                                         "args": ["-l", "/"]}


def test_layout_is_kept(example_graph):
    example_graph["templates"]["prepare"] = {"kind": "shell", "image": "alpine:3", "script": "true",
                                             "inputs": example_graph["templates"]["prepare"]["inputs"],
                                             "outputs": example_graph["templates"]["prepare"]["outputs"]}
    wf = Workflow.from_graph(example_graph)
    assert wf.graph_layout == example_graph["layout"]
    assert wf.to_graph() == example_graph


def test_pydflow_graphs_build_and_round_trip():
    for name in ("pydflow_steps.json", "pydflow_dag.json", "pydflow_nested.json"):
        wf = Workflow.from_graph(load_fixture(name))  # pydflow's shape is recognised
        graph = wf.to_graph()
        again = Workflow.from_graph(graph)
        assert again.to_graph() == graph
        assert again.to_dict() == wf.to_dict()


def test_pydflow_slices_move_to_the_template():
    graph = Workflow.from_graph(load_fixture("pydflow_nested.json")).to_graph()
    sliced = next(n for n in graph["templates"]["outer"]["nodes"] if n["name"] == "sliced")
    assert "slices" not in sliced and sliced["parameters"] == {"x": [1, 2, 3]}
    assert graph["templates"][sliced["template"]]["options"]["slices"] == {
        "input_parameter": ["x"], "output_parameter": ["y"]}  # the '{{item}}' tag pydflow wrote is implied


def _normalised(manifest: dict) -> dict:
    """A manifest without what a graph does not carry: the run id and the order of arguments; and
    ``valueFrom.parameter`` without its braces (the model writes a parsed string with them, a reference
    object without: reported to the core model)."""
    m = json.loads(json.dumps(manifest))
    meta = m["metadata"]
    meta["generateName"] = (meta.pop("name", None) or meta.get("generateName", "")).rstrip("-") + "-"
    for t in m["spec"]["templates"]:
        for p in (t.get("outputs") or {}).get("parameters") or []:
            vf = p.get("valueFrom") or {}
            if isinstance(vf.get("parameter"), str):
                vf["parameter"] = vf["parameter"].removeprefix("{{").removesuffix("}}")
        for stage in t.get("steps") or []:
            for s in stage:
                s.get("arguments", {}).get("parameters", []).sort(key=lambda p: p["name"])
        for s in (t.get("dag") or {}).get("tasks", []):
            s.get("arguments", {}).get("parameters", []).sort(key=lambda p: p["name"])
    return m


ARGO_EXAMPLES = sorted(glob.glob(str(EXAMPLES_DIR / "*.yaml")))


@pytest.mark.skipif(not ARGO_EXAMPLES, reason="Argo examples not found")
def test_argo_examples_round_trip_or_refuse_clearly():
    """Every Argo example the model parses either round trips through a graph with the same manifest, or
    is refused with a WorkflowError naming what a graph cannot carry."""
    carried, refused = [], []
    for path in ARGO_EXAMPLES:
        try:
            wf = Workflow.from_yaml(open(path).read())
            manifest = wf.to_dict()
        except Exception:  # the parser's business, not the graph's
            continue
        try:
            graph = wf.to_graph()
        except WorkflowError as e:
            refused.append((path, str(e)))
            continue
        assert validate(graph) == [], path
        rebuilt = Workflow.from_graph(graph)
        assert _normalised(rebuilt.to_dict()) == _normalised(manifest), path
        assert rebuilt.to_graph() == graph, path
        carried.append(path)
    assert len(carried) >= 40, (len(carried), refused[:5])
    assert all("cannot be written to a graph" in msg or "entrypoint" in msg for _, msg in refused)


def test_standalone_template_step_and_io():
    hello = hello_template()
    standalone = to_graph(hello)
    assert standalone["name"] == "hello" and standalone["kind"] == "shell"
    rebuilt = template_from_graph(standalone)
    assert rebuilt.convert_to_argo() == hello.convert_to_argo()
    assert ScriptOPTemplate.from_graph(standalone).name == "hello"

    steps = Steps("s", inputs=Inputs(parameters={"who": InputParameter()}))
    step = Step("say", hello, parameters={"msg": steps.inputs.parameters["who"]}, key="k")
    form = to_graph(step)
    assert form["node"] == {"name": "say", "template": "hello", "stage": 0, "key": "k"}
    assert form["edges"] == [{"kind": "parameter", "source": {"node": "@inputs", "port": "who"},
                              "target": {"node": "say", "port": "msg"}}]
    again = step_from_graph(Step, form, {"hello": hello})
    assert again.convert_to_argo() == step.convert_to_argo()

    assert to_graph(hello.inputs) == {"parameters": {"msg": {"type": "str", "default": "hi",
                                                             "description": "what to say"}}}
    out = io_from_graph(OutputParameter, {"type": "int", "value_from_path": "/tmp/x", "default": 0})
    assert (out.type, out.value_from_path, out.default) == (int, "/tmp/x", 0)
    assert to_graph(out) == {"type": "int", "default": 0, "value_from_path": "/tmp/x"}


def test_secrets_never_reach_the_graph():
    hello = hello_template()
    hello.envs["TOKEN"] = Secret(value="hunter2-secret-value")
    steps = Steps("main")
    steps.add(Step("say", hello))
    wf = Workflow("secretive", steps=steps, image_pull_secrets=[DockerSecret("reg.io", "me", "pa55word")])
    text = wf.to_graph_json() + wf.to_graph_yaml()
    assert "hunter2" not in text and "pa55word" not in text
    graph = wf.to_graph()
    env = graph["templates"]["hello"]["options"]["envs"]["TOKEN"]
    assert env == {"valueFrom": {"secretKeyRef": {"name": hello.envs["TOKEN"].name, "key": "secret"}}}
    assert Workflow.from_graph(graph).to_dict() == wf.to_dict()


def test_pydflow_credentials_are_dropped():
    source = load_fixture("pydflow_steps.json")
    assert "password" in json.dumps(source)  # pydflow writes the S3 secret key into its graph
    assert "password" not in Workflow.from_graph(source).to_graph_json()


def test_what_a_graph_cannot_carry_is_refused_by_name():
    class Exec:
        def render(self, t):
            return t

    hello = hello_template()
    steps = Steps("main")
    steps.add(Step("say", hello, executor=Exec()))
    with pytest.raises(WorkflowValueError, match="step 'say'.*executor"):
        Workflow("with-exec", steps=steps).to_graph()
    cat = ShellOPTemplate(name="cat", script="cat /tmp/in", inputs=Inputs(artifacts={"f": InputArtifact(path="/tmp/in")}))
    steps = Steps("main")
    first = Step("say", hello)
    steps.add(first)
    steps.add(Step("cat", cat, artifacts={"f": first.outputs.artifacts["file"].sub_path("a.txt")}))
    with pytest.raises(WorkflowValueError, match=r"step 'cat', field 'f'.*sub-path \('a.txt'\).*cannot be written"):
        Workflow("with-sub-path", steps=steps).to_graph()
    steps = Steps("main")
    steps.add(Step("say", hello))
    with pytest.raises(WorkflowValueError, match="workflow 'with-nan', field 'x'.*NaN"):
        Workflow("with-nan", steps=steps, parameters={"x": float("nan")}).to_graph()
    steps = Steps("main")
    steps.add(Step("say", ShellOPTemplate(name="t", script="true", inputs=Inputs(parameters={"p": InputParameter()})),
                   parameters={"p": object()}))
    with pytest.raises(WorkflowError, match="workflow 'with-object'.*step 'say'.*field 'p'"):
        Workflow("with-object", steps=steps).to_graph()


def test_bad_graphs_fail_before_anything_is_built(example_graph):
    example_graph["templates"]["prepare"]["op"] = "no_such_module_xyz:Prepare"
    example_graph["templates"]["main"]["nodes"][1]["template"] = "nope"
    with pytest.raises(GraphValidationError) as err:
        Workflow.from_graph(example_graph)
    assert [i.code for i in err.value.issues] == ["unknown-template"]
    assert "workflow 'mol-screen'" in str(err.value) and "node 'score'" in str(err.value)
    example_graph["templates"]["main"]["nodes"][1]["template"] = "score"
    with pytest.raises(WorkflowValueError, match="template 'prepare'.*no_such_module_xyz"):
        Workflow.from_graph(example_graph)


def test_stale_sign_is_reported():
    graph = dag_workflow().to_graph()
    graph["templates"]["square"]["inputs"]["parameters"]["z"] = {"type": "int", "default": 0}
    with pytest.raises(WorkflowValueError, match="template 'square'.*'z'.*re-export"):
        Workflow.from_graph(graph)


def test_unknown_options_are_named(example_graph):
    example_graph["templates"]["score"]["options"] = {"colour": "red"}
    example_graph["templates"]["prepare"] = {"kind": "shell", "script": "true",
                                             "inputs": example_graph["templates"]["prepare"]["inputs"],
                                             "outputs": example_graph["templates"]["prepare"]["outputs"]}
    with pytest.raises(WorkflowError, match="template 'score'.*colour"):
        Workflow.from_graph(example_graph)


def test_to_networkx():
    g = dag_workflow().to_networkx()
    assert list(g.nodes) == ["a", "b", "c", "d", "e", "f"]
    assert g.nodes["e"] == {"template": "square", "kind": "python"}
    assert g.edges["a", "b"]["kind"] == "data" and g.edges["a", "b"]["links"] == [("artifact", "file", "src")]
    assert g.edges["b", "d"]["kind"] == "control"
    assert g.edges["d", "e"]["links"] == [("parameter", "items", "with_param")]
    assert g.edges["d", "f"]["links"] == [("reference", "total", None)]  # from the `when` text
    s = steps_workflow().to_networkx()
    assert s.nodes["first"]["stage"] == 0 and s.edges["first", "echo"]["kind"] == "data"
    assert s.edges["seq", "listing"]["kind"] == "control"  # stage order
    assert set(to_networkx(steps_workflow(), "inner").nodes) == {"say"}


def test_shell_command_is_kept():
    t = ShellOPTemplate(name="b", command=["bash"], script="echo $0")
    assert to_graph(t)["command"] == ["bash"]
    assert template_from_graph(to_graph(t)).command == ["bash"]


def test_load_graph_json_and_yaml():
    from dflow_lab.graph.convert import load_graph

    wf = dag_workflow()
    assert load_graph(wf.to_graph_json()) == wf.to_graph()
    assert load_graph(wf.to_graph_yaml(), "yaml") == wf.to_graph()
    with pytest.raises(ValueError, match="toml"):
        load_graph("", "toml")


def test_lossy_graphs_for_display():
    """``to_graph(wf, lossy=True)`` leaves out (and lists) what a graph cannot carry, for monitors."""
    from dflow_lab.graph.schema import conforms

    class Exec:
        def render(self, t):
            return t

    steps = Steps("main")
    steps.add(Step("say", hello_template(), executor=Exec()))
    graph = to_graph(Workflow("with-exec", steps=steps), lossy=True)
    assert graph["layout"]["omitted"] == [
        "workflow 'with-exec', template 'main', step 'say': a step with an executor cannot be written to a graph "
        "(an executor is code, not data); set the executor after loading the graph"]
    shown = 0
    for path in ARGO_EXAMPLES:
        try:
            wf = Workflow.from_yaml(open(path).read())
            wf.to_dict()
        except Exception:  # the parser's business
            continue
        try:
            wf.to_graph()
            continue
        except WorkflowError as e:
            if "entrypoint" in str(e):
                continue
        graph = to_graph(wf, lossy=True)
        assert graph["layout"]["omitted"] and conforms(graph), path
        shown += 1
    assert shown >= 10


def test_graph_of_a_parsed_manifest_with_python_ops():
    """A manifest's Python OP templates: as Python OPs when the parser recovers the OP class, else as
    scripts (a parsed template without its class)."""
    parsed = Workflow.from_dict(steps_workflow().to_dict())
    graph = parsed.to_graph()
    assert graph["templates"]["add"]["kind"] in ("python", "script")
    assert validate(graph) == []
    assert _normalised(Workflow.from_graph(graph).to_dict()) == _normalised(parsed.to_dict())
    with pytest.raises(WorkflowValueError, match="internal port 'dflow_success_tag'"):
        Workflow.from_dict(dag_workflow().to_dict()).to_graph()  # its explicit success check


def test_what_the_model_implies_is_not_written():
    """A success threshold implies continue_on_failed, and Slices() implies the '{{item}}' tag: the graph
    leaves both out, so that a graph read into the model and written again is the same graph (the canvas
    redrawn from Python shows what the user set)."""
    from dflow_lab import Step
    from dflow_lab.python import PythonOPTemplate, Slices

    from .fixture_ops import Square

    wf = Workflow(name="implied")
    wf.add(Step("a", PythonOPTemplate(Square, image="python:3.11"), parameters={"x": [1, 2]}, with_param=[0, 1],
                slices=Slices(input_parameter=["x"]), continue_on_success_ratio=0.5))
    graph = wf.to_graph()
    (node,) = next(t for t in graph["templates"].values() if t["kind"] == "steps")["nodes"]
    assert "continue_on_failed" not in node and node["slices"] == {"input_parameter": ["x"]}
    again = Workflow.from_graph(graph)
    assert again.to_graph() == graph
    step = again.entrypoint.steps[0][0]  # (the threshold's check step follows in a stage of its own)
    assert step.continue_on_failed is True and step.slices.slices == "{{item}}"


def test_a_sliced_workflows_manifest_parses_back_to_itself():
    """The init-artifact steps, sub-path wiring and group items of sliced steps survive Workflow.from_dict."""
    manifest = WORKFLOWS["sliced"].to_dict()
    names = [t["name"] for t in manifest["spec"]["templates"]]
    assert sum(n.endswith("-init-artifact") for n in names) == 2
    assert Workflow.from_dict(manifest).to_dict() == manifest
