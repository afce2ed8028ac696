"""reuse_set on the local engine: run one step, run from a step, re-run failed, derived keys, refusals."""

from __future__ import annotations

import pytest

from dflow_lab import reuse_set
from dflow_lab.argo.reuse import REUSED_FROM, UpstreamMissing, derive_keys, node_keys, plan
from dflow_lab.utils import download_artifact

from .ops import executions, pipeline


def _first_run(log, **kw):
    wf = pipeline(log, **kw)
    wf.submit()
    return wf


def _reused(wf) -> set[str]:
    return {s.displayName for s in wf.query_step() if (s.get("memoizationStatus") or {}).get("hit")}


def test_derived_keys_match_between_manifest_and_an_earlier_run(workdir, log):
    wf = _first_run(log)
    run = wf.query().recover()
    keys = node_keys(run)
    names = {run["status"]["nodes"][i]["displayName"]: k for i, k in keys.items()}
    entry = run["spec"]["entrypoint"]
    assert names["prep"] == f"{entry}.prep"
    assert names["item(0:0)"] == f"{entry}.item.0" and names["item(2:2)"] == f"{entry}.item.2"
    manifest = derive_keys(pipeline(log).to_dict())
    args = {s["name"]: {p["name"]: p["value"] for p in s["arguments"]["parameters"]}
            for g in next(t for t in manifest["spec"]["templates"] if t["name"] == entry)["steps"] for s in g}
    assert args["prep"]["dflow_key"] == f"{entry}.prep"
    assert args["item"]["dflow_key"] == f"{entry}.item.{{{{item}}}}"


def test_run_from_here_reuses_upstream_byte_for_byte(workdir, log):
    wf = _first_run(log, factor=2)
    assert wf.query_status() == "Succeeded"
    assert executions(log) == {"prep": 1, "item": 3, "scale": 1, "report": 1}
    wf2 = pipeline(log, factor=5)
    reuse = reuse_set(wf2, wf.id, "scale", mode="from")
    assert sorted(s.displayName for s in reuse) == ["item(0:0)", "item(1:1)", "item(2:2)", "prep"]
    wf2.submit(reuse_step=reuse)
    assert wf2.query_status() == "Succeeded"
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 2}
    assert _reused(wf2) == {"prep", "item(0:0)", "item(1:1)", "item(2:2)"}
    assert wf2.query().metadata.annotations[REUSED_FROM] == wf.id
    assert wf2.query_step(name="report")[0].outputs.parameters["line"].value == "total=165"
    old = wf.query_step(name="prep")[0].outputs.artifacts["table"]
    new = wf2.query_step(name="prep")[0].outputs.artifacts["table"]
    a = download_artifact(old, path=str(workdir.parent / "a"))
    b = download_artifact(new, path=str(workdir.parent / "b"))
    assert open(a[0], "rb").read() == open(b[0], "rb").read()


def test_run_this_step_alone(workdir, log):
    wf = _first_run(log, factor=2)
    wf2 = pipeline(log, factor=3)
    wf2.submit(reuse_step=reuse_set(wf2, wf, "scale", mode="only"))
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 1}
    assert wf2.query_step(name="scale")[0].outputs.parameters["total"].value == 3 * (10 + 11 + 12)
    assert "report" in _reused(wf2) and "scale" not in _reused(wf2)


def test_rerun_failed_after_a_forced_failure(workdir, log):
    wf = _first_run(log, fail=True)
    assert wf.query_status() == "Failed"
    assert executions(log) == {"prep": 1, "item": 3, "scale": 1}
    with pytest.raises(ValueError, match="takes its steps from the run"):
        reuse_set(pipeline(log), wf.id, "scale", mode="failed")
    wf2 = pipeline(log, fail=False)
    wf2.submit(reuse_step=reuse_set(wf2, wf.id, mode="failed"))
    assert wf2.query_status() == "Succeeded"
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 1}
    with pytest.raises(ValueError, match="has no failed or errored step"):
        reuse_set(wf2, wf2.id, mode="failed")


def test_upstream_without_results_is_refused_naming_it(workdir, log):
    wf = _first_run(log, fail=True)
    wf2 = pipeline(log)
    with pytest.raises(UpstreamMissing) as e:
        reuse_set(wf2, wf.id, "report", mode="only")
    assert "scale" in str(e.value) and wf.id in str(e.value) and e.value.missing == ["scale"]
    with pytest.raises(ValueError, match="no step 'nope'"):
        reuse_set(wf2, wf.id, "nope")


def test_chained_reruns_reuse_the_newest(workdir, log):
    wf = _first_run(log, factor=2)
    wf2 = pipeline(log, factor=4)
    wf2.submit(reuse_step=reuse_set(wf2, wf, "scale"))
    wf3 = pipeline(log, factor=4)
    wf3.submit(reuse_step=reuse_set(wf3, wf2, "report", mode="only"))
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 3}
    assert wf3.query().metadata.annotations[REUSED_FROM] == wf2.id


def test_dag_plan_follows_dependencies(workdir):
    manifest = {"metadata": {"name": "d"}, "spec": {"entrypoint": "main", "templates": [
        {"name": "main", "dag": {"tasks": [
            {"name": "a", "template": "leaf"},
            {"name": "b", "template": "leaf", "depends": "a.Succeeded"},
            {"name": "c", "template": "leaf", "dependencies": ["a"]},
            {"name": "d", "template": "leaf",
             "arguments": {"parameters": [{"name": "x", "value": "{{tasks.b.outputs.result}}"}]}}]}},
        {"name": "leaf", "script": {"image": "x", "command": ["sh"], "source": "true"}}]}}
    nodes = {"d": {"id": "d", "name": "d", "type": "DAG", "templateName": "main", "phase": "Succeeded",
                   "children": ["d-a", "d-b", "d-c", "d-d"]}}
    for n in "abcd":
        nodes[f"d-{n}"] = {"id": f"d-{n}", "name": f"d.{n}", "displayName": n, "type": "Pod", "boundaryID": "d",
                           "templateName": "leaf", "phase": "Succeeded"}
    run = {"metadata": {"name": "d"}, "spec": manifest["spec"], "status": {"nodes": nodes}}
    p = plan(manifest, run, "from", ["b"])
    assert p.rerun == ["main.b", "main.d"]
    assert sorted(n["displayName"] for n in p.reuse) == ["a", "c"]
    assert p.keys["d-a"] == "main.a"
