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
    from dflow_lab.runview.live import merge_status
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
        merge_status(final, m)
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
    from dflow_lab.apiserver import ArgoServer
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


class KernelPage:
    """The notebook page's end of a real kernel connection: runs cells, and speaks the widget protocol (the
    comm messages of ipywidgets) to one widget in the kernel as the widget's JavaScript would."""

    def __init__(self, client):
        self.client = client
        self.comm_id: str | None = None

    def run(self, source: str, timeout: float = 60) -> str:
        out: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                raise AssertionError("\n".join(msg["content"]["traceback"]))

        reply = self.client.execute_interactive(source, timeout=timeout, output_hook=hook)
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out)

    def send(self, content: dict) -> None:
        """A custom message from the widget's view (``model.send(content)`` in js/widget)."""
        data = {"method": "custom", "content": content}
        self.client.shell_channel.send(self.client.session.msg("comm_msg", {"comm_id": self.comm_id, "data": data}))

    def receive(self, method: str, predicate, timeout: float = 30) -> dict:
        """The first ``method`` message (``custom`` content, or ``update`` state) of the widget that
        ``predicate`` accepts."""
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} message of the widget within {timeout} s")
            try:
                msg = self.client.get_iopub_msg(timeout=left)
            except queue.Empty:
                continue
            content = msg["content"]
            if msg["msg_type"] != "comm_msg" or content.get("comm_id") != self.comm_id:
                continue
            data = content["data"]
            if data.get("method") == method:
                body = data["content"] if method == "custom" else data["state"]
                if predicate(body):
                    return body


@pytest.fixture
def kernel_page(ops, tmp_path):
    """A real IPython kernel working in ``tmp_path`` (the tutorial OPs beside it), a canvas of the squares
    workflow in it, and the page's end of the connection."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=str(tmp_path))
    try:
        page = KernelPage(client)
        page.comm_id = page.run(
            "from dflow_lab import Step, Workflow\n"
            "from dflow_lab.python import PythonOPTemplate\n"
            "from dflow_lab.widgets import WorkflowCanvas\n"
            "from tutorial_ops import Squares, Total\n"
            "wf = Workflow(name='squares')\n"
            "squares = Step('squares', PythonOPTemplate(Squares, image='python:3.11'), parameters={'n': 4})\n"
            "wf.add(squares)\n"
            "wf.add(Step('total', PythonOPTemplate(Total, image='python:3.11'), parameters={'scale': 0.5},\n"
            "            artifacts={'table': squares.outputs.artifacts['table']}))\n"
            "canvas = WorkflowCanvas(wf)\n"
            "print(canvas.model_id)\n").strip()
        yield page
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_code_goes_to_a_new_cell_or_else_to_a_file(kernel_page, tmp_path):
    """"</> Code" over the real widget protocol: the code goes to the view that pressed the button; a page
    that added the cell gets a notice and no file; a page that could not gets ``<name>_workflow.py``."""
    page = kernel_page
    target = tmp_path / "squares_workflow.py"
    code = page.run("print(canvas.code, end='')")
    assert code.startswith("# Workflow \"squares\"")

    # the page could not add a cell (VS Code, the classic notebook, no lab extension): the file, and why
    page.send({"type": "action", "action": "code", "view": "view-1"})
    offer = page.receive("custom", lambda m: m.get("type") == "insert-cell")
    assert offer == {"type": "insert-cell", "view": "view-1", "request": offer["request"], "code": code}
    assert not target.exists()  # nothing written before the page answered
    page.send({"type": "cell", "request": offer["request"], "inserted": False})
    notice = page.receive("update", lambda s: s.get("notice"))["notice"]
    assert notice == {"level": "info", "text": "Python code written to squares_workflow.py "
                                               "(this page cannot add a notebook cell)"}
    assert target.read_text() == code
    target.unlink()

    # the page added the cell: said so, and no file
    page.send({"type": "action", "action": "code", "view": "view-2"})
    offer = page.receive("custom", lambda m: m.get("type") == "insert-cell")
    assert offer["view"] == "view-2"
    page.send({"type": "cell", "request": offer["request"], "inserted": True})
    notice = page.receive("update", lambda s: s.get("notice"))["notice"]
    assert notice == {"level": "info", "text": "Code inserted in a new cell below"}

    # an answer to an offer already answered, or to none made, changes nothing (the cell ran after them)
    page.send({"type": "cell", "request": offer["request"], "inserted": False})
    page.send({"type": "cell", "request": offer["request"] + 7, "inserted": False})
    assert page.run("print(canvas.notice['text'])").strip() == "Code inserted in a new cell below"
    assert not target.exists()

    # a view that does not say which it is (an older page) gets the file at once
    page.send({"type": "action", "action": "code"})
    notice = page.receive("update", lambda s: s.get("notice") and "written" in s["notice"]["text"])["notice"]
    assert notice["text"] == "Python code written to squares_workflow.py"
    assert target.read_text() == code


def test_elk_script_is_sent_on_request_not_in_the_module(kernel_page):
    """The widget's ES module does not carry elk (it travels in the message that opens the widget); the view asks
    for elk's script when a layout needs it, and the kernel answers with the file as one binary buffer."""
    import queue
    import time

    from dflow_lab.widgets._static import ELK_SCRIPT, STATIC

    module = (STATIC / "widget.js").read_text()
    elk = (STATIC / ELK_SCRIPT).read_bytes()
    assert len(elk) > 1_000_000 and b"org.eclipse.elk" in elk
    assert "org.eclipse.elk" not in module, "elk is bundled into widget.js again"
    page = kernel_page
    page.send({"type": "elk-script"})
    deadline = time.monotonic() + 30
    while True:
        assert time.monotonic() < deadline, "no elk-script answer from the kernel within 30 s"
        try:
            msg = page.client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        content = msg["content"]
        if (msg["msg_type"] == "comm_msg" and content.get("comm_id") == page.comm_id
                and content["data"].get("content", {}).get("type") == "elk-script"):
            break
    assert "error" not in content["data"]["content"]
    assert [bytes(b) for b in msg["buffers"]] == [elk]
