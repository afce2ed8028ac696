"""Lifecycle hooks (dflow_lab.local.hooks): expression-triggered and exit hooks running ``http`` templates
against a real HTTP server on 127.0.0.1 (started here), at workflow, step and task level."""

from __future__ import annotations

import http.server
import threading

import pytest

from .local_helpers import manifest, nodes_by_display, sh


class _Recorder(http.server.BaseHTTPRequestHandler):
    calls: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).calls.append(self.path)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server():
    _Recorder.calls = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", _Recorder.calls
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


def _http(url: str) -> dict:
    return {"name": "http", "inputs": {"parameters": [{"name": "what"}]},
            "http": {"url": url + "/{{inputs.parameters.what}}"}}


def _hook(expression: str, what: str) -> dict:
    return {"expression": expression, "template": "http",
            "arguments": {"parameters": [{"name": "what", "value": what}]}}


def test_workflow_level_hooks_and_http_exit_hook(backend, server):
    url, calls = server
    wf = backend.submit(manifest([{"name": "main", "steps": [[{"name": "step1", "template": "heads"}]]},
                                  sh("heads", "echo heads"), _http(url)],
                                 hooks={"exit": {"template": "http",
                                                 "arguments": {"parameters": [{"name": "what", "value": "exit"}]}},
                                        "running": _hook('workflow.status == "Running"', "running"),
                                        "succeeded": _hook('workflow.status == "Succeeded"', "succeeded"),
                                        "failed": _hook('workflow.status == "Failed"', "failed")}))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    assert sorted(calls) == ["/exit", "/running", "/succeeded"]
    nodes = {n["name"]: n for n in wf["status"]["nodes"].values()}
    name = wf["metadata"]["name"]
    for hook in ("running", "succeeded"):
        node = nodes[f"{name}.hooks.{hook}"]
        assert node["type"] == "HTTP" and node["phase"] == "Succeeded" and node["outputs"]["result"] == "ok"
        assert node["id"] in nodes[name]["children"]
    assert f"{name}.hooks.failed" not in nodes


def test_step_and_task_level_hooks(backend, server):
    url, calls = server
    steps = {"name": "main", "steps": [
        [{"name": "step-1", "template": "echo", "hooks": {
            "running": _hook('steps["step-1"].status == "Running"', "s1-running"),
            "success": _hook('steps["step-1"].status == "Succeeded"', "s1-success"),
            "failure": _hook('steps["step-1"].status == "Failed"', "s1-failure")}}],
        [{"name": "dag", "template": "dag"}]]}
    dag = {"name": "dag", "dag": {"tasks": [
        {"name": "t", "template": "fail", "continueOn": {"failed": True}, "hooks": {
            "failed": _hook('tasks.t.status == "Failed"', "t-failed"),
            "ok": _hook('tasks.t.status == "Succeeded"', "t-ok")}}]}}
    wf = backend.submit(manifest([steps, dag, sh("echo", "echo hi"), sh("fail", "exit 1"), _http(url)]))
    assert sorted(calls) == ["/s1-running", "/s1-success", "/t-failed"]
    nodes = nodes_by_display(wf)
    hook = nodes["step-1.hooks.running"]
    assert hook["phase"] == "Succeeded" and hook["id"] in nodes["step-1"]["children"]
    assert nodes["t.hooks.failed"]["phase"] == "Succeeded"
    # a hook starts no earlier than its step, and the step is done only when its hooks are
    assert nodes["step-1.hooks.success"]["finishedAt"] <= nodes["dag"]["startedAt"]
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")


def test_hook_without_expression_is_an_error_naming_it(backend, server):
    url, calls = server
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "s", "template": "echo",
                                     "hooks": {"bad": {"template": "http"}}}]]},
        sh("echo", "echo hi"), _http(url)]))
    node = nodes_by_display(wf)["s.hooks.bad"]
    assert node["phase"] == "Error" and "hooks.bad: a lifecycle hook other than 'exit' needs an expression" in node["message"]
    assert calls == []
