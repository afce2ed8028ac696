"""The Argo client reads a server's answers under bounds: size, stream line length, JSON depth, JSON at all.

A real HTTP server on 127.0.0.1 plays a hostile (or broken) Argo server; each answer must become an
``ArgoApiError`` naming the request, never a ``RecursionError``, a hang or unbounded memory.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dflow_lab.argo.client import ArgoApiError, ArgoBackend
from dflow_lab.config import config

DEEP = b"[" * 50_000 + b"]" * 50_000  # json.loads would raise RecursionError on this


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answers: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        status, body, chunked = self.answers[path.rsplit("/", 1)[-1]]
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if chunked:  # no Content-Length: the client must count what it reads
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 65536):
                part = body[i:i + 65536]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


@pytest.fixture
def hostile():
    answers = {
        "deep": (200, DEEP, False),
        "deeperror": (500, b'{"message": ' + DEEP + b"}", False),
        "big": (200, b'{"items": "' + b"x" * 3_000_000 + b'"}', False),
        "bigchunked": (200, b'{"items": "' + b"x" * 3_000_000 + b'"}', True),
        "html": (200, b"<html>502 Bad Gateway</html>", False),
        "fine": (200, b'{"metadata": {}, "items": []}', False),
    }
    handler = type("H", (_Hostile,), {"answers": answers})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ArgoBackend(host=f"http://127.0.0.1:{server.server_address[1]}", token="t", namespace="argo")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_deeply_nested_answer_is_refused_not_a_recursion_error(hostile):
    with pytest.raises(ArgoApiError) as e:
        hostile._call("GET", "/api/v1/deep", workflow="wf-1")
    assert "nested deeper than" in str(e.value) and "wf-1" in str(e.value)
    assert "GET /api/v1/deep" in str(e.value)


def test_a_deeply_nested_error_answer_still_gives_an_error(hostile):
    with pytest.raises(ArgoApiError) as e:
        hostile._call("GET", "/api/v1/deeperror", workflow="wf-1")
    assert e.value.status == 500
    assert len(str(e.value)) < 1000  # the body is cut, not echoed whole


@pytest.mark.parametrize("path", ["big", "bigchunked"])
def test_an_answer_over_the_bound_is_refused(hostile, monkeypatch, path):
    monkeypatch.setitem(config, "argo_max_response_bytes", 1_000_000)
    with pytest.raises(ArgoApiError) as e:
        hostile._call("GET", f"/api/v1/{path}")
    assert "argo_max_response_bytes" in str(e.value) and "1,000,000" in str(e.value)
    monkeypatch.setitem(config, "argo_max_response_bytes", 10_000_000)
    assert len(hostile._call("GET", f"/api/v1/{path}")["items"]) == 3_000_000


def test_a_stream_line_over_the_bound_is_refused(hostile, monkeypatch):
    monkeypatch.setitem(config, "argo_max_response_bytes", 1_000_000)
    with pytest.raises(ArgoApiError) as e:
        list(hostile._stream("/api/v1/bigchunked", []))
    assert "line of the stream" in str(e.value)


def test_an_answer_that_is_not_json_names_the_request(hostile):
    with pytest.raises(ArgoApiError) as e:
        hostile._call("GET", "/api/v1/html")
    assert "not JSON" in str(e.value) and "502 Bad Gateway" in str(e.value) and "GET /api/v1/html" in str(e.value)
    assert hostile._call("GET", "/api/v1/fine") == {"metadata": {}, "items": []}
