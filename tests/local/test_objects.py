"""The local object store: ConfigMaps for ``configMapKeyRef`` parameters and (Cluster)WorkflowTemplates for
``workflowTemplateRef``/``templateRef``, through Python and the ``dflow-lab configmap|template`` CLI."""

from __future__ import annotations

import pytest
import yaml

from dflow_lab.errors import WorkflowValueError
from dflow_lab.local.backend import LocalBackend
from dflow_lab.local.objects import ObjectStore
from dflow_lab.main import main

from .local_helpers import manifest, nodes_by_display, sh


def _cm(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def _echo(name: str, arg: str, **extra) -> dict:
    return {"name": name, "container": {"image": "busybox", "command": ["echo"], "args": [arg]}, **extra}


@pytest.fixture()
def backend(tmp_path):
    return LocalBackend(tmp_path / "ws")


def test_store_round_trip_and_bad_names(backend):
    store = ObjectStore(backend.workdir)
    store.create(_cm("params", a="1"))
    assert store.list("ConfigMap") == ["params"]
    assert store.config_value({"name": "params", "key": "a"}, "here") == "1"
    for bad in ("../escape", "UPPER", "", "a/b"):
        with pytest.raises(WorkflowValueError, match="name"):
            store.create(_cm(bad, a="1"))
    with pytest.raises(WorkflowValueError, match="string values"):
        store.create({"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"n": 1}})
    with pytest.raises(WorkflowValueError, match="kind"):
        store.create({"kind": "Secret", "metadata": {"name": "x"}})
    assert store.delete("ConfigMap", "params") and not store.delete("ConfigMap", "params")
    assert store.list("ConfigMap") == []


def test_global_and_input_parameters_from_a_config_map(backend):
    ObjectStore(backend.workdir).create(_cm("settings", greeting="hi there", n="7"))
    tmpl = _echo("main", "{{workflow.parameters.g}} {{inputs.parameters.n}}", inputs={"parameters": [
        {"name": "n", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "n"}}}]})
    wf = backend.submit(manifest([tmpl], arguments={"parameters": [
        {"name": "g", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "greeting"}}}]}))
    assert wf["status"]["phase"] == "Succeeded"
    assert nodes_by_display(wf)[wf["metadata"]["name"]]["outputs"]["result"] == "hi there 7"


def test_missing_config_map_fails_naming_the_parameter_or_uses_the_default(backend):
    ref = {"name": "absent", "key": "k"}
    wf = backend.submit(manifest([_echo("main", "{{inputs.parameters.p}}", inputs={"parameters": [
        {"name": "p", "valueFrom": {"configMapKeyRef": ref}}]})]))
    assert wf["status"]["phase"] in ("Failed", "Error")
    messages = " ".join(n.get("message", "") for n in wf["status"]["nodes"].values()) + wf["status"].get("message", "")
    assert "inputs.parameters.p" in messages and "config map 'absent' does not exist" in messages
    wf = backend.submit(manifest([_echo("main", "{{inputs.parameters.p}}", inputs={"parameters": [
        {"name": "p", "valueFrom": {"configMapKeyRef": ref, "default": "fallback"}}]})]))
    assert wf["status"]["phase"] == "Succeeded"
    assert nodes_by_display(wf)[wf["metadata"]["name"]]["outputs"]["result"] == "fallback"


def test_workflow_template_ref_and_template_ref(backend):
    store = ObjectStore(backend.workdir)
    store.create({"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowTemplate", "metadata": {"name": "lib"},
                  "spec": {"entrypoint": "say", "arguments": {"parameters": [{"name": "who", "value": "template"},
                                                                              {"name": "mark", "value": "!"}]},
                           "templates": [_echo("say", "hello {{workflow.parameters.who}}{{workflow.parameters.mark}}"),
                                         _echo("twice", "{{inputs.parameters.x}}{{inputs.parameters.x}}",
                                               inputs={"parameters": [{"name": "x"}]})]}})
    store.create({"apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterWorkflowTemplate", "metadata": {"name": "glib"},
                  "spec": {"templates": [_echo("shout", "HEY")]}})
    wf = backend.submit({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "ref-"},
                         "spec": {"arguments": {"parameters": [{"name": "who", "value": "workflow"}]},
                                  "workflowTemplateRef": {"name": "lib"}}})
    assert wf["status"]["phase"] == "Succeeded"
    assert wf["metadata"]["labels"]["workflows.argoproj.io/workflow-template"] == "lib"
    assert nodes_by_display(wf)[wf["metadata"]["name"]]["outputs"]["result"] == "hello workflow!"
    steps = {"name": "main", "steps": [[{"name": "a", "templateRef": {"name": "lib", "template": "twice"},
                                         "arguments": {"parameters": [{"name": "x", "value": "ab"}]}},
                                        {"name": "b", "templateRef": {"name": "glib", "template": "shout",
                                                                      "clusterScope": True}}]]}
    wf = backend.submit(manifest([steps]))
    assert wf["status"]["phase"] == "Succeeded"
    nodes = nodes_by_display(wf)
    assert nodes["a"]["outputs"]["result"] == "abab" and nodes["b"]["outputs"]["result"] == "HEY"
    wf = backend.submit(manifest([{"name": "main", "steps": [[{"name": "a", "templateRef": {"name": "lib",
                                                                                           "template": "nope"}}]]}]))
    assert wf["status"]["phase"] in ("Failed", "Error")
    assert any("has no template 'nope'" in n.get("message", "") for n in wf["status"]["nodes"].values())
    with pytest.raises(WorkflowValueError, match="'missing' does not exist"):
        backend.submit({"kind": "Workflow", "metadata": {"generateName": "x-"},
                        "spec": {"workflowTemplateRef": {"name": "missing"}}})
    assert backend.list() and all(w["metadata"]["name"].startswith(("ref-", "t-")) for w in backend.list())


def test_template_ref_to_steps_and_dag_templates(backend):
    """A templateRef to a steps/dag template: its steps and tasks resolve `template: name` in the
    WorkflowTemplate (Argo's template context), not in the workflow, also in nested calls and loops."""
    store = ObjectStore(backend.workdir)
    store.create({"kind": "WorkflowTemplate", "metadata": {"name": "pipeline"}, "spec": {"templates": [
        {"name": "two-steps", "inputs": {"parameters": [{"name": "x"}]}, "steps": [
            [{"name": "first", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "1-{{inputs.parameters.x}}"}]}}],
            [{"name": "second", "template": "inner", "arguments": {"parameters": [
                {"name": "m", "value": "{{steps.first.outputs.result}}"}]}}]],
         "outputs": {"parameters": [{"name": "out", "valueFrom": {"parameter": "{{steps.first.outputs.result}}"}}]}},
        {"name": "inner", "inputs": {"parameters": [{"name": "m"}]}, "dag": {"tasks": [
            {"name": "leaf", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "{{item}}:{{inputs.parameters.m}}"}]},
             "withItems": ["a", "b"]}]}},
        _echo("echo", "wft {{inputs.parameters.m}}", inputs={"parameters": [{"name": "m"}]}),
    ]}})
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "call", "templateRef": {"name": "pipeline", "template": "two-steps"},
                                     "arguments": {"parameters": [{"name": "x", "value": "go"}]}}],
                                   [{"name": "mine", "template": "echo", "arguments": {"parameters": [{"name": "m", "value": "z"}]}}]]},
        # the workflow's own template of the same name: used by the workflow's steps, not by the template's
        _echo("echo", "workflow {{inputs.parameters.m}}", inputs={"parameters": [{"name": "m"}]}),
    ]))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    nodes = nodes_by_display(wf)
    assert nodes["first"]["outputs"]["result"] == "wft 1-go"
    assert {nodes["leaf(0:a)"]["outputs"]["result"], nodes["leaf(1:b)"]["outputs"]["result"]} == {
        "wft a:wft 1-go", "wft b:wft 1-go"}
    assert nodes["mine"]["outputs"]["result"] == "workflow z"
    assert nodes["call"]["outputs"]["parameters"][0]["value"] == "wft 1-go"
    # a template the WorkflowTemplate lacks is an error naming it, even if the workflow has one
    store.create({"kind": "WorkflowTemplate", "metadata": {"name": "broken"}, "spec": {"templates": [
        {"name": "s", "steps": [[{"name": "x", "template": "main"}]]}]}})
    wf = backend.submit(manifest([{"name": "main", "steps": [[{"name": "c", "templateRef": {"name": "broken", "template": "s"}}]]}]))
    assert wf["status"]["phase"] in ("Failed", "Error")
    assert any("template 'main' is not defined in WorkflowTemplate 'broken'" in n.get("message", "")
               for n in wf["status"]["nodes"].values())


def test_cli_configmap_and_template(tmp_path, capsys):
    ws = tmp_path / "ws"
    cm = tmp_path / "cm.yaml"
    cm.write_text(yaml.safe_dump(_cm("simple-parameters", msg="hello world")))
    assert main(["--workdir", str(ws), "configmap", "create", str(cm)]) == 0
    assert main(["--workdir", str(ws), "configmap", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "simple-parameters"
    wft = tmp_path / "wft.yaml"
    wft.write_text(yaml.safe_dump({"kind": "WorkflowTemplate", "metadata": {"name": "w"},
                                   "spec": {"entrypoint": "main", "templates": [sh("main", "true")]}}))
    assert main(["--workdir", str(ws), "template", "create", str(wft)]) == 0
    assert main(["--workdir", str(ws), "template", "create", str(cm)]) == 1  # a ConfigMap is not a template
    assert "takes WorkflowTemplate or ClusterWorkflowTemplate" in capsys.readouterr().err
    assert main(["--workdir", str(ws), "template", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "w"
    assert main(["--workdir", str(ws), "template", "delete", "w"]) == 0
    assert main(["--workdir", str(ws), "template", "delete", "w"]) == 1
    assert main(["--workdir", str(ws), "configmap", "delete", "../x"]) == 1
    assert ObjectStore(ws).list("WorkflowTemplate") == [] and ObjectStore(ws).list("ConfigMap") == ["simple-parameters"]
