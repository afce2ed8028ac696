"""ArgoWorkflow / ArgoStep over status in Argo's shape."""

from __future__ import annotations

import datetime
import json

import pytest

from dflow_lab.argo_objects import (
    ArgoObjectDict,
    ArgoStep,
    ArgoWorkflow,
    fnva,
    get_duration,
    get_pod_name,
    match,
)


def _wf() -> dict:
    def node(i, name, display, typ="Pod", phase="Succeeded", key=None, start="2024-01-01T00:00:0%dZ", **kw):
        params = [{"name": "x", "value": "1"}]
        if key:
            params.append({"name": "dflow_key", "value": key})
        return {"id": i, "name": name, "displayName": display, "type": typ, "phase": phase,
                "startedAt": start % int(i[-1]), "finishedAt": "2024-01-01T00:00:09Z",
                "templateName": "t", "inputs": {"parameters": params}, **kw}

    nodes = {
        "w": node("w0", "w", "w", typ="Steps", children=["w1"]) | {"id": "w"},
        "w1": node("w1", "w[0].a", "a", key="k-a", outputs={
            "parameters": [{"name": "n", "value": "3", "description": json.dumps({"type": "int"})},
                           {"name": "s", "value": "3", "description": json.dumps({"type": "str"})},
                           {"name": "l", "value": "[1, 2]", "description": json.dumps({"type": "typing.List[int]"})}],
            "artifacts": [{"name": "f", "s3": {"key": "w/p/f.tgz"}}]}),
        "w2": node("w2", "w[0].b(0:x)", "b(0:x)", phase="Failed", key="k-b0"),
        "w3": node("w3", "w[0].b(1:y)", "b(1:y)", key="k-b1"),
        "w4": node("w4", "w[0].bee", "bee", typ="Steps"),
    }
    return {"metadata": {"name": "w", "uid": "u-1"}, "spec": {},
            "status": {"phase": "Failed", "startedAt": "2024-01-01T00:00:00Z",
                       "finishedAt": "2024-01-01T00:01:00Z", "nodes": nodes}}


def test_get_step_filters():
    wf = ArgoWorkflow(_wf())
    assert wf.id == "w" and wf.uid == "u-1"
    assert [s.displayName for s in wf.get_step(name="b")] == ["b(0:x)", "b(1:y)"]
    assert [s.key for s in wf.get_step(key=["k-a", "k-b1"])] == ["k-a", "k-b1"]
    assert [s.id for s in wf.get_step(phase="Failed")] == ["w2"]
    assert [s.id for s in wf.get_step(type="Steps")] == ["w", "w4"]
    assert [s.id for s in wf.get_step(id="w3")] == ["w3"]
    assert wf.get_step(name="a", phase="Failed") == []
    assert [s.id for s in wf.get_step(parent_id="w")] == ["w1"]
    assert wf.get_duration() == datetime.timedelta(minutes=1)


def test_step_values_typed_by_description():
    step = ArgoWorkflow(_wf()).get_step(key="k-a")[0]
    assert step.outputs.parameters["n"].value == 3
    assert step.outputs.parameters["s"].value == "3"
    assert step.outputs.parameters["l"].value == [1, 2]
    assert step.inputs.parameters["x"].value == "1"  # no description: the raw string
    assert step.outputs.artifacts["f"].s3.key == "w/p/f.tgz"
    assert step.get_duration() == datetime.timedelta(seconds=8)


def test_modify_outputs_in_place():
    step = ArgoWorkflow(_wf()).get_step(key="k-a")[0]
    step.modify_output_parameter("n", 7)
    assert step.outputs.parameters["n"].value == 7
    step.modify_output_parameter("s", "hello")
    assert step.outputs.parameters["s"].value == "hello"
    step.modify_output_artifact("f", {"s3": {"key": "other/f.tgz"}})
    assert step.outputs.artifacts["f"].s3.key == "other/f.tgz"
    assert step.outputs.artifacts["f"].modified.old["s3"]["key"] == "w/p/f.tgz"
    with pytest.raises(KeyError, match="no output parameter 'zz'"):
        step.modify_output_parameter("zz", 1)


def test_object_dict_attribute_access_and_recover():
    d = ArgoObjectDict({"a": {"b": [{"c": 1}]}})
    d.a.b[0].c = 2
    d.new = 5
    assert d.recover() == {"a": {"b": [{"c": 2}]}, "new": 5}
    with pytest.raises(AttributeError):
        _ = d.missing


def test_pod_names_and_hash():
    assert fnva(b"", 0x811C9DC5, 0x01000193, 2**32) == 0x811C9DC5
    assert fnva(b"a", 0x811C9DC5, 0x01000193, 2**32) == 0xE40C292C  # FNV-1a test vector
    assert get_pod_name("wf", "wf", "t", "wf") == "wf"
    assert get_pod_name("wf-abc", "wf-abc[0].step(0:1)", "hello", "x") == "wf-abc-hello-3840855701"
    long = get_pod_name("w" * 200, "w[0].s", "t" * 100, "x")
    assert len(long) <= 253


def test_match_and_duration_of_running_step():
    assert match("a(0:x)", ["a"]) and match("a", ["a"]) and not match("ab", ["a"])
    assert match("sq-12", ["sq-[0-9]+"]) and not match("sq-x", ["sq-[0-9]+"]) and not match("a", ["(unclosed"])
    running = ArgoStep({"startedAt": "2024-01-01T00:00:00Z", "finishedAt": None}, "w")
    assert running.get_duration() > datetime.timedelta(days=1)
    assert get_duration({"startedAt": None}) == datetime.timedelta()
