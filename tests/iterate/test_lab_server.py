"""The iterate loop through the Jupyter server extension (a real ``jupyter server``): run history of a
document, Run from here / Run this step / Re-run failed, compare, fan-out item pages, and attempts and their
logs after the server is restarted."""

from __future__ import annotations

import pytest
import requests

from tests.lab.jupyter import JupyterServer, wait_for

from .ops import executions, pipeline

DOC = "pipe.dflow.json"


def _get(server, path, **kw):
    r = requests.get(server.api(path), headers=server.auth, timeout=30, **kw)
    assert r.status_code == 200, r.text
    return r.json()


def _post(server, path, body, status=201):
    r = requests.post(server.api(path), headers=server.auth, json=body, timeout=60)
    assert r.status_code == status, r.text
    return r.json()


def _finished(server, name):
    def done():
        w = _get(server, f"workflows/local/{name}")["workflow"]
        return w if w["phase"] in ("Succeeded", "Failed", "Error") else None

    return wait_for(done, 120, f"workflow {name} to finish", interval=0.2)


@pytest.fixture
def server(tmp_path):
    home = tmp_path / "home"
    srv = JupyterServer(home, home / "root")
    try:
        yield srv
    finally:
        srv.stop()


def test_history_partial_runs_compare_and_items(server, tmp_path):
    log = tmp_path / "count.txt"
    g1 = pipeline(log, factor=2, items=5).to_graph()
    first = _post(server, "workflows", {"graph": g1, "engine": "local", "path": DOC})["name"]
    assert _finished(server, first)["phase"] == "Succeeded"
    g2 = pipeline(log, factor=5, items=5).to_graph()
    body = {"graph": g2, "engine": "local", "path": DOC, "rerun": {"mode": "from", "step": "scale", "run": first}}
    second = _post(server, "workflows", body)["name"]
    w2 = _finished(server, second)
    assert w2["phase"] == "Succeeded" and w2["reusedFrom"] == first
    assert executions(log) == {"prep": 1, "item": 5, "scale": 2, "report": 2}

    history = _get(server, "workflows", params={"document": DOC})["workflows"]
    assert [w["name"] for w in history] == [second, first]
    assert history[0]["document"] == history[1]["document"]
    other = _post(server, "workflows", {"graph": g1, "engine": "local", "path": "other.dflow.json"})["name"]
    _finished(server, other)
    assert len(_get(server, "workflows", params={"document": DOC})["workflows"]) == 2

    diff = _get(server, f"workflows/local/{second}/compare", params={"with": first})
    assert {p: e["state"] for p, e in diff["paths"].items() if e["state"] != "unchanged"} == {
        "scale": "changed", "report": "changed"}
    assert diff["a"] == first and diff["b"] == second

    only = _post(server, "workflows", {"graph": g2, "engine": "local", "path": DOC,
                                       "rerun": {"mode": "only", "step": "report", "run": second}})["name"]
    _finished(server, only)
    # the other document's run ran everything once more; the "only" run ran report alone
    assert executions(log) == {"prep": 2, "item": 10, "scale": 3, "report": 4}

    page = _get(server, f"workflows/local/{first}/items", params={"path": "item", "limit": 2, "offset": 3})
    assert page["total"] == 5 and [i["index"] for i in page["items"]] == [3, 4]
    assert _get(server, f"workflows/local/{first}/items", params={"path": "item", "phase": "Failed"})["matching"] == 0


def test_rerun_failed_and_refusals(server, tmp_path):
    log = tmp_path / "count.txt"
    broken = _post(server, "workflows", {"graph": pipeline(log, fail=True).to_graph(), "engine": "local",
                                         "path": DOC})["name"]
    assert _finished(server, broken)["phase"] == "Failed"
    refused = _post(server, "workflows", {"graph": pipeline(log).to_graph(), "engine": "local", "path": DOC,
                                          "rerun": {"mode": "only", "step": "report", "run": broken}}, status=400)
    assert "scale" in refused["message"] and broken in refused["message"]
    bad = _post(server, "workflows", {"graph": pipeline(log).to_graph(), "engine": "local",
                                      "rerun": {"mode": "sideways", "run": broken}}, status=400)
    assert "rerun" in bad["message"]
    fixed = _post(server, "workflows", {"graph": pipeline(log).to_graph(), "engine": "local", "path": DOC,
                                        "rerun": {"mode": "failed", "run": broken}})["name"]
    assert _finished(server, fixed)["phase"] == "Succeeded"
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 1}


def retry_graph(count) -> dict:
    """Step ``second`` fails on its first two attempts and is retried (a count file says which attempt)."""
    return {"version": 1, "name": "flaky", "entrypoint": "main", "templates": {
        "gate": {"kind": "shell", "script": f"n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count}\n"
                                            f"echo attempt $n\ntest $n -ge 3 || {{ echo broken $n; exit 3; }}\n",
                 "options": {"retry_strategy": {"limit": 3}}},
        "main": {"kind": "dag", "nodes": [{"name": "second", "template": "gate"}], "edges": []}}}


def test_attempts_and_logs_after_a_server_restart(tmp_path):
    home = tmp_path / "home"
    graph = retry_graph(tmp_path / "n")
    srv = JupyterServer(home, home / "root")
    try:
        name = _post(srv, "workflows", {"graph": graph, "engine": "local", "path": DOC})["name"]
        assert _finished(srv, name)["phase"] == "Succeeded"
    finally:
        srv.stop()
    srv = JupyterServer(home, home / "root")  # a restarted server reads the same workspace
    try:
        details = _get(srv, f"workflows/local/{name}/details", params={"path": "second"})
        attempts = details.get("attempts") or []
        assert [a["phase"] for a in attempts] == ["Failed", "Failed", "Succeeded"], details
        for i, a in enumerate(attempts, 1):
            lines = _get(srv, f"workflows/local/{name}/logs", params={"node": a["id"]})["lines"]
            assert lines[0] == f"attempt {i}"
    finally:
        srv.stop()
