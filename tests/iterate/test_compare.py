"""Comparing two runs on the graph, artifact diffs, and paging a fan-out's items."""

from __future__ import annotations

from dflow_lab import reuse_set
from dflow_lab.local.backend import LocalBackend
from dflow_lab.runview.compare import PAGE_LIMIT, artifact_diff, compare_runs, fanout_items

from .ops import pipeline


def test_compare_marks_exactly_the_changed_steps(workdir, log):
    wf = pipeline(log, factor=2)
    wf.submit()
    wf2 = pipeline(log, factor=5)
    wf2.submit(reuse_step=reuse_set(wf2, wf, "scale"))
    a, b = wf.query().recover(), wf2.query().recover()
    diff = compare_runs(a, b)
    states = {p: e["state"] for p, e in diff["paths"].items()}
    assert states == {"prep": "unchanged", "item": "unchanged", "scale": "changed", "report": "changed"}
    assert diff["paths"]["scale"]["fields"] == ["inputs", "outputs"]
    assert diff["paths"]["report"]["fields"] == ["inputs", "outputs"]
    assert diff["paths"]["item"]["item_counts"] == {"unchanged": 3}
    assert diff["counts"] == {"unchanged": 2, "changed": 2}
    assert diff["paths"]["scale"]["duration"]["a"] is not None


def test_compare_fanout_items_added_removed_and_phase(workdir, log):
    wf = pipeline(log, items=3)
    wf.submit()
    wf2 = pipeline(log, items=4, fail=True)
    wf2.submit()
    diff = compare_runs(wf.query().recover(), wf2.query().recover())
    item = diff["paths"]["item"]
    assert item["state"] == "changed"
    assert item["item_counts"] == {"unchanged": 3, "added": 1}
    # a fresh run writes prep's artifact again: a new object, so its outputs changed
    assert diff["paths"]["prep"]["fields"] == ["outputs"]
    assert item["items"]["3"] == {"state": "added"}
    assert diff["paths"]["scale"]["fields"] == ["inputs", "outputs", "phase"]
    assert diff["paths"]["report"]["state"] == "removed"


def test_artifact_diff_text_and_json():
    d = artifact_diff("x,y\n1,2\n", "x,y\n1,3\n")
    assert not d["same"] and "-1,2" in d["diff"] and "+1,3" in d["diff"]
    assert artifact_diff('{"a": 1, "b": 2}', '{"b":2,"a":1}')["same"]


def fanout_manifest(count: int) -> dict:
    """Step ``each`` over ``count`` items; item i fails when i % 7 == 3 (the run goes on past them)."""
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "fan-"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "steps": [[{"name": "each", "template": "one", "withSequence": {"count": str(count)},
                                             "continueOn": {"failed": True},
                                             "arguments": {"parameters": [{"name": "i", "value": "{{item}}"}]}}]]},
                {"name": "one", "inputs": {"parameters": [{"name": "i"}]},
                 "script": {"image": "alpine:3", "command": ["sh"],
                            "source": "[ $(({{inputs.parameters.i}} % 7)) -ne 3 ]"}}]}}


def test_fanout_items_paged_and_filtered(tmp_path):
    backend = LocalBackend(tmp_path / "ws")  # 450 items: three pages (the browser test expands 1,000)
    name = backend.submit(fanout_manifest(450), wait=True)["metadata"]["name"]
    nodes = list(backend.get(name)["status"]["nodes"].values())
    page = fanout_items(nodes, name, "each")
    assert page["total"] == 450 and page["matching"] == 450 and len(page["items"]) == PAGE_LIMIT
    assert page["counts"] == {"Succeeded": 386, "Failed": 64}
    assert [i["index"] for i in page["items"][:3]] == [0, 1, 2]
    last = fanout_items(nodes, name, "each", offset=400, limit=500)
    assert len(last["items"]) == 50 and last["items"][-1]["index"] == 449 and last["limit"] == PAGE_LIMIT
    failed = fanout_items(nodes, name, "each", phase="Failed")
    assert failed["matching"] == 64 and all(i["phase"] == "Failed" for i in failed["items"])
    assert [i["index"] for i in failed["items"][:3]] == [3, 10, 17]
