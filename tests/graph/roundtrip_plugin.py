"""A pytest plugin: every workflow any test compiles also goes through a graph and back.

    pytest -p tests.graph.roundtrip_plugin tests/core tests/local ...

Each ``Workflow.to_dict()`` a test makes is followed by ``to_graph()`` → ``from_graph()`` →
``to_dict()``; the two manifests must be equal (up to what a graph does not carry: the run id and the
order of arguments). Workflows a graph cannot carry must be refused with a ``WorkflowError``. The
session ends with a summary; any mismatch or crash fails the session.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

_results: dict[str, list] = {"same": [], "refused": [], "different": [], "crashed": []}
_busy = False


def _normalised(manifest: dict) -> dict:
    m = json.loads(json.dumps(manifest))
    meta = m.get("metadata", {})
    meta["generateName"] = (meta.pop("name", None) or meta.get("generateName", "")).rstrip("-") + "-"
    for t in m.get("spec", {}).get("templates", []):
        for p in (t.get("outputs") or {}).get("parameters") or []:
            vf = p.get("valueFrom") or {}
            if isinstance(vf.get("parameter"), str):
                vf["parameter"] = vf["parameter"].removeprefix("{{").removesuffix("}}")
        steps = [s for stage in t.get("steps") or [] for s in stage] + list((t.get("dag") or {}).get("tasks", []))
        for s in steps:
            s.get("arguments", {}).get("parameters", []).sort(key=lambda p: p["name"])
    return m


def _check(wf: Any, manifest: dict, test: str) -> None:
    from dflow_lab.errors import WorkflowError
    from dflow_lab.workflow import Workflow

    try:
        graph = wf.to_graph()
    except WorkflowError as e:
        _results["refused"].append((test, str(e).splitlines()[0][:200]))
        return
    except Exception as e:  # noqa: BLE001 - reported at the end of the session
        _results["crashed"].append((test, f"to_graph: {type(e).__name__}: {e}"[:300]))
        return
    try:
        again = Workflow.from_graph(graph).to_dict()
    except Exception as e:  # noqa: BLE001
        _results["crashed"].append((test, f"from_graph: {type(e).__name__}: {e}"[:300]))
        return
    key = "same" if _normalised(again) == _normalised(manifest) else "different"
    _results[key].append((test, wf.name))


@pytest.fixture(autouse=True)
def _graph_round_trip(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    from dflow_lab.workflow import Workflow

    original = Workflow.to_dict

    def to_dict(self: Any, *args: Any, **kwargs: Any) -> dict:
        global _busy
        manifest = original(self, *args, **kwargs)
        if not _busy:
            _busy = True
            try:
                _check(self, manifest, request.node.nodeid)
            finally:
                _busy = False
        return manifest

    monkeypatch.setattr(Workflow, "to_dict", to_dict)
    yield


def pytest_terminal_summary(terminalreporter: Any) -> None:
    tr = terminalreporter
    tr.section("graph round trip")
    tr.write_line(", ".join(f"{k}: {len(v)}" for k, v in _results.items()))
    for key in ("different", "crashed", "refused"):
        for test, what in _results[key][:40]:
            tr.write_line(f"{key:9} {test}  {what}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _results["different"] or _results["crashed"]:
        session.exitstatus = 1
