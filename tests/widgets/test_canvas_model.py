"""The Python side of the widgets with the real model and the real local engine (no browser)."""

from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ops(tmp_path, monkeypatch):
    """The tutorial OPs, importable as ``tutorial_ops``; local runs go to a fresh workspace."""
    from dflow_lab.config import config

    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", tmp_path / "tutorial_ops.py")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "work"))
    sys.modules.pop("tutorial_ops", None)
    import tutorial_ops

    yield tutorial_ops
    sys.modules.pop("tutorial_ops", None)


def squares_workflow(ops, n=4):
    from dflow_lab import Step, Workflow
    from dflow_lab.python import PythonOPTemplate

    wf = Workflow(name="squares")
    squares = Step("squares", PythonOPTemplate(ops.Squares, image="python:3.11"), parameters={"n": n})
    total = Step("total", PythonOPTemplate(ops.Total, image="python:3.11"), parameters={"scale": 0.5},
                 artifacts={"table": squares.outputs.artifacts["table"]})
    wf.add(squares)
    wf.add(total)
    return wf


class Recorder:
    """Captures the custom messages a widget sends to the browser."""

    def __init__(self, widget):
        self.messages: list[dict] = []
        widget.send = lambda content, buffers=None: self.messages.append(content)


def entry_nodes(graph):
    return graph["templates"][graph["entrypoint"]]["nodes"]


def test_canvas_follows_canvas_edits_through_the_graph(ops):
    from dflow_lab.widgets import WorkflowCanvas

    wf = squares_workflow(ops)
    canvas = WorkflowCanvas(wf, ops=["tutorial_ops"])
    assert canvas.workflow is wf and canvas.issues == []
    assert [e["name"] for e in canvas.palette if e["source"] == "tutorial_ops"] == ["describe"]
    describe = next(e for e in canvas.palette if e["name"] == "describe")

    # what the canvas sends after a drop: a new template and a node, not yet wired
    graph = copy.deepcopy(canvas.graph)
    graph["templates"]["describe"] = describe["template"]
    entry_nodes(graph).append({"name": "describe", "template": "describe", "stage": 2})
    canvas.graph = graph
    assert [i["code"] for i in canvas.issues] == ["missing-input"]
    assert canvas.issues[0]["node"] == "describe"
    assert not next(a for a in canvas.actions if a["action"] == "run")["enabled"]

    # ... then a wire from total.total
    graph = copy.deepcopy(graph)
    graph["templates"][graph["entrypoint"]]["edges"].append(
        {"kind": "parameter", "source": {"node": "total", "port": "total"},
         "target": {"node": "describe", "port": "value"}})
    canvas.graph = graph
    assert canvas.issues == []
    edited = canvas.workflow
    assert edited is not wf
    assert sorted(n["name"] for n in entry_nodes(edited.to_graph())) == ["describe", "squares", "total"]
    assert canvas.workflow is edited  # built once per document


def test_python_changes_redraw_and_keep_the_layout(ops):
    from dflow_lab import Step
    from dflow_lab.python import PythonOPTemplate
    from dflow_lab.widgets import WorkflowCanvas

    wf = squares_workflow(ops)
    canvas = WorkflowCanvas(wf)
    graph = copy.deepcopy(canvas.graph)
    graph["layout"] = {"templates": {graph["entrypoint"]: {"nodes": {"squares": {"x": 11, "y": 22}}}}}
    canvas.graph = graph  # the canvas laid it out
    assert canvas.sync() is False  # nothing changed in Python

    wf.add(Step("describe", PythonOPTemplate(ops.Describe, image="python:3.11"), parameters={"value": 2.0}))
    assert canvas.sync() is True
    assert [n["name"] for n in entry_nodes(canvas.graph)] == ["squares", "total", "describe"]
    assert canvas.graph["layout"]["templates"][graph["entrypoint"]]["nodes"]["squares"] == {"x": 11, "y": 22}


def test_save_json_and_yaml_round_trip(ops, tmp_path):
    from dflow_lab import Workflow
    from dflow_lab.widgets import WorkflowCanvas

    canvas = WorkflowCanvas(squares_workflow(ops))
    path = canvas.save()
    assert path == Path("squares.dflow.json")
    assert json.loads(path.read_text()) == canvas.graph
    loaded = Workflow.from_graph_yaml(canvas.save(tmp_path / "wf.dflow.yaml").read_text())
    assert loaded.to_graph()["templates"].keys() == canvas.graph["templates"].keys()


def test_unknown_ops_module_is_a_clear_error():
    from dflow_lab.widgets import WorkflowCanvas

    with pytest.raises(ImportError, match="cannot import module 'no_such_module_xyz'"):
        WorkflowCanvas(ops=["no_such_module_xyz"])


def test_run_locally_streams_status_and_details(ops):
    from dflow_lab.widgets import WorkflowCanvas

    canvas = WorkflowCanvas(squares_workflow(ops, n=3))
    sent = Recorder(canvas)
    run = canvas.run_locally()
    assert run.wait(120), "the run did not finish"
    assert canvas.view == "monitor"
    assert canvas.workflow_state["phase"] == "Succeeded"
    assert canvas.workflow_state["progress"] == "2/2 succeeded"
    assert [a["action"] for a in canvas.actions] == ["edit", "resubmit"]
    # the browser got only changes, and in the end both steps succeeded
    final: dict = {}
    for m in sent.messages:
        assert m["type"] == "status"
        final.update(m["changes"])
    assert {k: v["phase"] for k, v in final.items()} == {"squares": "Succeeded", "total": "Succeeded"}

    details = run.details("squares")
    assert details["phase"] == "Succeeded" and "wrote 3 rows" in details["logs"]
    assert {p["name"]: p.get("value") for p in details["inputs"]} == {"n": "3"}
    table = next(p for p in details["outputs"] if p["name"] == "table")["preview"]
    assert table == {"kind": "table", "columns": ["i", "square"], "rows": [["0", "0"], ["1", "1"], ["2", "4"]],
                     "truncated": False}
    assert next(p for p in run.details("total")["outputs"] if p["name"] == "total")["value"] == "2.5"

    canvas._on_action("edit")  # back to the editor
    assert canvas.view == "canvas" and canvas.run is None


def test_monitor_shows_fanout_progress_and_failures(ops):
    from dflow_lab import Step, Workflow
    from dflow_lab.python import PythonOPTemplate
    from dflow_lab.widgets import WorkflowMonitor

    wf = Workflow(name="fanout")
    wf.add(Step("describe", PythonOPTemplate(ops.Describe, image="python:3.11"),
                parameters={"value": "{{item}}"}, with_param=[1, 2, 3, 4]))
    wf.add(Step("squares", PythonOPTemplate(ops.Squares, image="python:3.11"), parameters={"n": "many"}))
    wf.submit(wait=False)
    monitor = WorkflowMonitor(wf)
    assert monitor.run.wait(120)
    snap = monitor.run.snapshot()
    assert snap["describe"]["counts"] == {"Succeeded": 4} and snap["describe"]["total"] == 4
    assert monitor.workflow_state["phase"] == "Failed"
    assert snap["squares"]["phase"] in ("Failed", "Error") and snap["squares"]["message"]
    assert [a["action"] for a in monitor.actions] == ["retry", "resubmit"]
    assert monitor.notice["level"] == "error"

    items = monitor.run.details("describe", item=2)
    assert [i["phase"] for i in items["items"]] == ["Succeeded"] * 4
    assert {p["name"]: p["value"] for p in items["inputs"]}["value"] == "3"
    assert {p["name"]: p["value"] for p in items["outputs"]}["text"] == "the total is 3"
    assert "retry" in monitor.run.details("squares")["actions"]


def test_monitor_by_id_draws_the_graph_of_the_manifest(ops):
    from dflow_lab.widgets import WorkflowMonitor

    wf = squares_workflow(ops, n=2)
    wf.submit(wait=True)
    monitor = WorkflowMonitor(id=wf.id)  # only the id: the graph comes from the run's manifest
    assert monitor.run.wait(60)
    assert sorted(n["name"] for n in entry_nodes(monitor.graph)) == ["squares", "total"]
    assert {k: v["phase"] for k, v in monitor.run.snapshot().items()} == {"squares": "Succeeded", "total": "Succeeded"}


def test_submit_to_argo_and_watch(ops, tmp_path, monkeypatch):
    """Submit to an Argo-compatible server (dflow-lab's own, on 127.0.0.1) and follow the run."""
    from dflow_lab.argo.server import ArgoServer
    from dflow_lab.config import config
    from dflow_lab.widgets import WorkflowCanvas

    canvas = WorkflowCanvas(squares_workflow(ops, n=2))
    assert not next(a for a in canvas.actions if a["action"] == "submit")["enabled"]
    with pytest.raises(ValueError, match="no Argo server configured"):
        canvas.submit()
    server = ArgoServer(tmp_path / "argo-ws", port=0).start()
    try:
        for key, value in {"mode": "argo", "host": server.url, "token": server.token, "namespace": "argo",
                           "http_headers": {}}.items():
            monkeypatch.setitem(config, key, value)
        canvas._refresh()
        assert next(a for a in canvas.actions if a["action"] == "submit")["enabled"]
        run = canvas.submit()
        assert run.wait(120), "the run did not finish"
        assert canvas.workflow_state["phase"] == "Succeeded"
        assert {k: v["phase"] for k, v in run.snapshot().items()} == {"squares": "Succeeded", "total": "Succeeded"}
        assert server.token not in json.dumps(canvas.get_state(), default=str)  # no secret reaches the browser
    finally:
        server.stop()
