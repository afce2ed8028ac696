"""Unit tests of the engine's parts: depends, durations, scopes, layout, state store."""

from __future__ import annotations

import json

import pytest

from dflow_lab.local.depends import DependsError, from_dependencies, parse_depends
from dflow_lab.local.durations import parse_duration
from dflow_lab.local.layout import StepDir, declared_paths, replace_paths
from dflow_lab.local.scope import (
    Scope,
    StepError,
    aggregate_values,
    aggregated_vars,
    expand_items,
    item_display,
    item_variables,
)
from dflow_lab.local.state import StateStore


def test_depends_plain_name_means_succeeded_or_skipped():
    d = parse_depends("A && B")
    assert d.tasks() == {"A", "B"}
    assert d.evaluate({"A": {"phase": "Succeeded"}, "B": {"phase": "Skipped"}})
    assert not d.evaluate({"A": {"phase": "Succeeded"}, "B": {"phase": "Failed"}})


def test_depends_results_and_precedence():
    d = parse_depends("A.Failed || B.Succeeded && !C.Omitted")
    assert d.handled_failures() == {"A"}
    res = {"A": {"phase": "Succeeded"}, "B": {"phase": "Succeeded"}, "C": {"phase": "Omitted"}}
    assert not d.evaluate(res)  # && binds tighter than ||
    res["A"] = {"phase": "Failed"}
    assert d.evaluate(res)
    assert parse_depends("(task-1.Errored)").evaluate({"task-1": {"phase": "Error"}})


def test_depends_group_results():
    d = parse_depends("A.AnySucceeded && B.AllFailed")
    res = {"A": {"phase": "Failed", "children_phases": ["Failed", "Succeeded"]},
           "B": {"phase": "Failed", "children_phases": ["Failed", "Error"]}}
    assert d.evaluate(res)


def test_depends_continue_on_failed_counts_as_done():
    d = from_dependencies(["A"])
    assert d.evaluate({"A": {"phase": "Failed", "continue_failed": True}})
    assert not d.evaluate({"A": {"phase": "Failed"}})
    assert from_dependencies([]) is None


@pytest.mark.parametrize("bad", ["A &&", "A.Finished", "(A", "A B", "", "A; rm -rf /"])
def test_depends_rejects_bad_text(bad):
    with pytest.raises(DependsError):
        parse_depends(bad)


@pytest.mark.parametrize("text,seconds", [(30, 30), ("30", 30), ("1m30s", 90), ("500ms", 0.5), ("2h", 7200)])
def test_durations(text, seconds):
    assert parse_duration(text, "x") == pytest.approx(seconds)


def test_duration_error_names_the_field():
    with pytest.raises(ValueError, match="step a: timeout"):
        parse_duration("ten seconds", "step a: timeout")


def test_aggregation_decodes_json_only_when_all_values_decode():
    assert json.loads(aggregate_values(["1", "2"])) == [1, 2]
    assert json.loads(aggregate_values(['{"a": 1}', "[3]"])) == [{"a": 1}, [3]]
    assert json.loads(aggregate_values(["1", "x"])) == ["1", "x"]


def test_aggregated_vars_of_looped_nodes():
    nodes = [{"outputs": {"parameters": [{"name": "p", "value": str(i)}], "result": f"r{i}"}} for i in range(3)]
    v = aggregated_vars("steps.s", nodes)
    assert json.loads(v["steps.s.outputs.parameters.p"]) == [0, 1, 2]
    assert json.loads(v["steps.s.outputs.result"]) == ["r0", "r1", "r2"]
    assert json.loads(v["steps.s.outputs.parameters"]) == [{"p": "0"}, {"p": "1"}, {"p": "2"}]


def test_items_and_display_names():
    assert item_variables({"os": "debian", "v": 9}) == {"item": '{"os": "debian", "v": 9}', "item.os": "debian",
                                                       "item.v": "9"}
    assert item_display(0, "a") == "(0:a)"
    assert item_display(1, {"b": 2, "a": "x"}) == "(1:a:x,b:2)"
    scope = Scope()
    assert expand_items({"withSequence": {"count": "3", "start": "1"}}, scope, "s") == ["1", "2", "3"]
    assert expand_items({"withSequence": {"start": "3", "end": "1"}}, scope, "s") == ["3", "2", "1"]
    assert expand_items({"withSequence": {"count": "2", "format": "n%02d"}}, scope, "s") == ["n00", "n01"]
    assert expand_items({"withItems": [1, "b"]}, scope, "s") == [1, "b"]
    assert expand_items({}, scope, "s") is None


def test_with_param_must_be_a_json_list():
    with pytest.raises(StepError, match="step x.withParam"):
        expand_items({"withParam": "not json"}, Scope(), "step x")
    with pytest.raises(StepError, match="expected a JSON list"):
        expand_items({"withParam": '{"a": 1}'}, Scope(), "step x")


def test_declared_paths_are_mapped_into_the_step_dir(tmp_path):
    tmpl = {
        "inputs": {"artifacts": [{"name": "i", "path": "/tmp/in"}]},
        "outputs": {"parameters": [{"name": "p", "valueFrom": {"path": "/tmp/in/p"}}],
                    "artifacts": [{"name": "o", "path": "/mnt/out"}]},
        "container": {"volumeMounts": [{"name": "v", "mountPath": "/mnt"}]},
    }
    paths = declared_paths(tmpl)
    assert paths == ["/tmp/in/p", "/mnt/out", "/tmp/in", "/mnt"]
    sd = StepDir(tmp_path / "s").create()
    text = replace_paths("cat /tmp/in/p '/tmp/in'>/mnt/out; ls /mnt /tmp/inx /tmpx /usr/tmp /tmp/x", paths, sd)
    root = str(sd.root)
    assert text == (f"cat {root}/tmp/in/p '{root}/tmp/in'>{root}/mnt/out; ls {root}/mnt /tmp/inx /tmpx /usr/tmp "
                    "/tmp/x")
    # parents of declared files are mapped too, but never system directories
    assert declared_paths({"outputs": {"artifacts": [{"name": "b", "path": "/usr/local/bin/tool"}]}}) == [
        "/usr/local/bin/tool"]


def test_state_store_events_and_nodes(tmp_path):
    store = StateStore(tmp_path)
    store.create_workflow("w", {"spec": {}}, {"phase": "Pending"}, {"a": "1"}, {})
    with pytest.raises(ValueError, match="already exists"):
        store.create_workflow("w", {"spec": {}}, {"phase": "Pending"}, {}, {})
    store.put_node("w", {"id": "w", "phase": "Running"})
    store.put_nodes("w", [{"id": "w", "phase": "Succeeded"}, {"id": "w-1", "phase": "Running"}])
    store.set_status("w", {"phase": "Succeeded"})
    events = store.events("w")
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert [("workflow" in e, (e.get("node") or e.get("workflow"))["phase"]) for e in events] == [
        (True, "Pending"), (False, "Running"), (False, "Succeeded"), (False, "Running"), (True, "Succeeded")]
    assert store.events("w", after=events[-2]["seq"]) == events[-1:]
    assert store.nodes("w")["w"]["phase"] == "Succeeded"
    other = StateStore(tmp_path)  # a second connection (another process) sees the same state
    assert other.workflow("w")["labels"] == {"a": "1"}
    store.delete_workflow("w")
    assert other.workflow("w") is None and other.nodes("w") == {}
