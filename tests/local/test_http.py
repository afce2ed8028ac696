"""``http`` templates on the local engine against a real HTTP server on 127.0.0.1 (started here)."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from dflow_lab.local.backend import LocalBackend

from .local_helpers import manifest, nodes_by_display


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        status = 404 if self.path.startswith("/missing") else 200
        payload = json.dumps({"path": self.path, "method": self.command, "body": body,
                              "token": self.headers.get("X-Token")}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)


def _http(name: str, **spec) -> dict:
    return {"name": name, "http": spec}


def test_http_template_result_and_success_condition(tmp_path, server):
    backend = LocalBackend(tmp_path / "ws")
    steps = {"name": "main", "steps": [[
        {"name": "get", "template": "get", "arguments": {"parameters": [{"name": "p", "value": "x1"}]}},
        {"name": "post", "template": "post"},
        {"name": "missing", "template": "missing", "continueOn": {"failed": True}},
        {"name": "accept-404", "template": "accept-404"}]]}
    wf = backend.submit(manifest([
        steps,
        {**_http("get", url=server + "/item/{{inputs.parameters.p}}", headers=[{"name": "X-Token", "value": "t"}]),
         "inputs": {"parameters": [{"name": "p"}]}},
        _http("post", url=server + "/post", method="POST", body='{"a": 1}',
              successCondition='response.statusCode == 200 && response.body contains "POST"'),
        _http("missing", url=server + "/missing"),
        _http("accept-404", url=server + "/missing", successCondition="response.statusCode == 404"),
    ]))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    nodes = nodes_by_display(wf)
    assert nodes["get"]["type"] == "HTTP"
    assert json.loads(nodes["get"]["outputs"]["result"]) == {"path": "/item/x1", "method": "GET", "body": "",
                                                             "token": "t"}
    assert json.loads(nodes["post"]["outputs"]["result"])["body"] == '{"a": 1}'
    assert nodes["missing"]["phase"] == "Failed" and "404" in nodes["missing"]["message"]
    assert nodes["accept-404"]["phase"] == "Succeeded"


def test_http_template_refuses_other_hosts(tmp_path):
    backend = LocalBackend(tmp_path / "ws")
    wf = backend.submit(manifest([_http("main", url="https://example.com/")]))
    assert wf["status"]["phase"] in ("Failed", "Error")
    root = nodes_by_display(wf)[wf["metadata"]["name"]]
    assert "loopback" in root["message"] and "http.url 'https://example.com/'" in root["message"]
