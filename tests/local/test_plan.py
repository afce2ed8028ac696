"""The local engine's plan of a run (``status.dflowLabPlan``, ``local/plan.py``): the number of leaf steps
known from the start and corrected as loops expand and steps are skipped or omitted; the dependents of a
failed DAG task are Omitted while the DAG fails fast (as Argo records them); sub-second node times beside
Argo's whole-second ``startedAt``/``finishedAt``."""

from __future__ import annotations

import re

from dflow_lab.local.plan import Planner, static_items
from dflow_lab.runview.status import workflow_progress

from .local_helpers import manifest, nodes_by_display, sh

OK = sh("ok", "true")
BAD = sh("bad", "exit 1")
SLOW = sh("slow", "sleep 0.3")
ECHO = sh("echo", "echo {{inputs.parameters.x}}", inputs={"parameters": [{"name": "x"}]})
LIST = sh("list", "echo '[1, 2, 3, 4, 5]' > /tmp/items", outputs={
    "parameters": [{"name": "items", "valueFrom": {"path": "/tmp/items"}}]})
RFC3339 = re.compile(r"\A\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


def _leaf_count(wf: dict) -> int:
    progress = workflow_progress(wf["status"]["nodes"].values(), wf["metadata"]["name"])
    return progress["total"]


def test_static_sizes_and_the_plan_of_nested_templates():
    assert static_items({"withItems": [1, 2, 3]}) == 3
    assert static_items({"withSequence": {"count": "4"}}) == 4
    assert static_items({"withSequence": {"start": "5", "end": "1"}}) == 5
    assert static_items({"withSequence": {"count": "{{inputs.parameters.n}}"}}) is None
    assert static_items({"withParam": "{{steps.a.outputs.result}}"}) is None
    inner = {"name": "inner", "steps": [[{"name": "x", "template": "ok"}, {"name": "y", "template": "ok"}]]}
    loop = {"name": "loop", "steps": [[{"name": "each", "template": "inner", "withItems": [1, 2, 3]}]]}
    rec = {"name": "rec", "steps": [[{"name": "again", "template": "rec"}]]}
    dag = {"name": "main", "dag": {"target": "b", "tasks": [
        {"name": "a", "template": "loop"}, {"name": "b", "template": "ok", "dependencies": ["a"]},
        {"name": "c", "template": "ok"}]}}
    planner = Planner({t["name"]: t for t in (inner, loop, rec, dag, OK)})
    assert planner.template("inner") == 2
    assert planner.template("loop") == 6
    assert planner.template("rec") == 1  # recursion counts one step until it runs
    assert planner.template("main") == 7  # the target b needs a (6) and b; c is not run
    assert planner.workflow({"entrypoint": "main", "onExit": "inner"}) == 9


def test_the_plan_is_known_from_the_start_and_follows_a_fan_out(backend):
    main = {"name": "main", "parallelism": 1, "steps": [
        [{"name": "make", "template": "list"}],
        [{"name": "each", "template": "slow", "withParam": "{{steps.make.outputs.parameters.items}}"}],
        [{"name": "after", "template": "ok"}],
        [{"name": "never", "template": "ok", "when": "1 > 2"}],
    ]}
    wf = backend.submit(manifest([main, LIST, SLOW, OK]), wait=True)
    name = wf["metadata"]["name"]
    # replay the run's events: the plan each status write carried, and how many pods had succeeded then
    nodes: dict[str, dict] = {}
    seen: list[tuple[int, int]] = []
    for ev in backend.events(name):
        if ev.get("node"):
            nodes[ev["node"]["id"]] = ev["node"]
        plan = (ev.get("workflow") or {}).get("dflowLabPlan")
        if plan:
            done = sum(1 for n in nodes.values() if n.get("type") == "Pod" and n.get("phase") == "Succeeded")
            seen.append((plan["steps"], done))
    assert seen[0] == (4, 0)  # from the start: make, one item of the loop not known yet, after, never
    assert any(steps == 8 and 1 < done < 7 for steps, done in seen), seen  # the loop expanded into 5
    assert wf["status"]["phase"] == "Succeeded"
    plan = wf["status"]["dflowLabPlan"]
    assert plan["steps"] == 8 == _leaf_count(wf)  # make + 5 items + after + the skipped step
    assert list(plan["fanOuts"].values()) == [5] and list(plan["fanOuts"])[0].endswith("].each")


def test_dependents_of_a_failed_task_are_omitted_while_failing_fast(backend):
    dag = {"name": "main", "dag": {"tasks": [
        {"name": "broken", "template": "bad"},
        {"name": "after", "template": "ok", "dependencies": ["broken"]},
        {"name": "later", "template": "ok", "depends": "after"},
        {"name": "loop", "template": "ok", "depends": "after", "withItems": [1, 2, 3]},
    ]}}
    wf = backend.submit(manifest([dag, OK, BAD]), wait=True)
    assert wf["status"]["phase"] == "Failed"
    nodes = nodes_by_display(wf)
    assert nodes["broken"]["phase"] == "Failed"
    for name in ("after", "later", "loop"):
        assert nodes[name]["phase"] == "Omitted" and nodes[name]["type"] == "Skipped", nodes[name]
        assert nodes[name]["message"].startswith("omitted: depends condition not met")
    # each omitted task is one node in the plan (the omitted loop is not its 3 items)
    assert wf["status"]["dflowLabPlan"]["steps"] == 4 == _leaf_count(wf)
    progress = workflow_progress(wf["status"]["nodes"].values(), wf["metadata"]["name"])
    assert progress["counts"] == {"Failed": 1, "Omitted": 3}
    # the engine's own counts (what a list of runs, without nodes, shows) are the same
    assert wf["status"]["dflowLabPlan"]["counts"] == progress["counts"]
    listed = next(w for w in backend.list() if w["metadata"]["name"] == wf["metadata"]["name"])
    assert "nodes" not in listed["status"]
    assert workflow_progress([], wf["metadata"]["name"], listed["status"]["dflowLabPlan"], finished=True) == progress


def test_sub_second_times_beside_argo_timestamps(backend):
    wf = backend.submit(manifest([{"name": "main", "steps": [[{"name": "a", "template": "echo",
                                                               "arguments": {"parameters": [{"name": "x", "value": "1"}]}}]]},
                                  ECHO]), wait=True)
    assert RFC3339.match(wf["status"]["startedAt"]) and RFC3339.match(wf["status"]["finishedAt"])
    times = wf["status"]["dflowLabTimes"]
    assert times["finishedAt"] >= times["startedAt"]
    for node in wf["status"]["nodes"].values():
        assert RFC3339.match(node["startedAt"]) and RFC3339.match(node["finishedAt"]), node
        precise = node["dflowLabTimes"]
        assert isinstance(precise["startedAt"], float) and precise["finishedAt"] >= precise["startedAt"]
        # the precise times fall in the whole seconds Argo's form gives
        assert int(precise["startedAt"]) - 1 <= _epoch(node["startedAt"]) <= precise["startedAt"]


def _epoch(text: str) -> float:
    from datetime import datetime, timezone

    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
