"""The bounds of ``dflow-lab server`` over real sockets on 127.0.0.1 (issue 12): a Content-Length that is not
a non-negative integer is refused without reading, idle connections and slow request heads are closed,
open connections are bounded, and pipelined requests are all answered in order.

Every wait is a socket timeout or a polled condition with a deadline; none asserts how long anything took.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator

import pytest

from dflow_lab.apiserver import ArgoServer

WAIT = 30.0  # the longest any single wait here may take before the test fails


@pytest.fixture
def quick(tmp_path) -> Iterator[ArgoServer]:
    """A server whose idle/header timeout is one second."""
    with ArgoServer(tmp_path / "w", port=0, idle_timeout=1.0, body_timeout=5.0, max_body=64 * 1024) as s:
        yield s


@pytest.fixture
def few(tmp_path) -> Iterator[ArgoServer]:
    """A server that serves at most 3 connections at once (idle ones are kept long enough to count)."""
    with ArgoServer(tmp_path / "w", port=0, idle_timeout=WAIT * 2, max_connections=3) as s:
        yield s


def _connect(server: ArgoServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=WAIT)


class _Reader:
    """The shared reader, which a response may not close (HTTPResponse closes its file at the body's end)."""

    def __init__(self, file):
        self.file = file

    def __getattr__(self, name: str):
        return getattr(self.file, name)

    def close(self) -> None:
        pass


class _Responses:
    """Reads successive HTTP responses from one socket (one buffered reader for all of them)."""

    def __init__(self, sock: socket.socket):
        self.file = sock.makefile("rb")

    def makefile(self, *args: object, **kwargs: object) -> _Reader:  # what http.client.HTTPResponse reads
        return _Reader(self.file)

    def next(self) -> tuple[int, dict]:
        resp = http.client.HTTPResponse(self)  # type: ignore[arg-type]
        resp.begin()
        body = resp.read()
        return resp.status, (json.loads(body) if body else {})


def _head(server: ArgoServer, method: str, path: str, extra: str = "") -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.token}\r\n"
            f"{extra}\r\n").encode()


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server closes the connection (reading gives end of file) before the socket timeout."""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT} s: {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("value", ["-1", "+5", "1_0", "5, 6", "0x10", "99999999999999999999999"])
def test_content_length_not_a_non_negative_integer_is_refused_without_reading(quick, value):
    """The old server read a negative Content-Length to end of file (it hung while the client waited)."""
    with _connect(quick) as s:
        s.sendall(_head(quick, "POST", "/api/v1/workflows/argo", f"Content-Type: application/json\r\n"
                                                                  f"Content-Length: {value}\r\n"))
        status, err = _Responses(s).next()  # the client keeps the connection open and sends no body
        assert status == 400 and "Content-Length" in err["message"], (status, err)
        assert err["code"] == 3
        assert _closed_by_server(s)


def test_idle_connection_is_closed(quick):
    with _connect(quick) as s:
        assert _closed_by_server(s), "a connection that never sent a request was held open"


def test_slow_request_head_is_cut(quick):
    with _connect(quick) as s:
        s.sendall(b"GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ... and the head never ends
        assert _closed_by_server(s), "a request head that never ended was waited for forever"


def test_keep_alive_connection_is_closed_once_idle(quick):
    with _connect(quick) as s:
        s.sendall(_head(quick, "GET", "/api/v1/version"))
        status, version = _Responses(s).next()
        assert status == 200 and "dflow-lab" in version["version"]
        assert _closed_by_server(s), "an idle keep-alive connection was held open"


def test_open_connections_are_bounded(few):
    held = [_connect(few) for _ in range(3)]
    try:
        _until(lambda: few.open_connections == 3, "the server counts 3 open connections")
        with _connect(few) as extra:
            extra.sendall(_head(few, "GET", "/api/v1/version"))
            status, err = _Responses(extra).next()
            assert status == 503 and "open connections" in err["message"], (status, err)
            assert _closed_by_server(extra)
        held.pop().close()
        _until(lambda: few.open_connections == 2, "a closed connection frees its place")
        with _connect(few) as again:
            again.sendall(_head(few, "GET", "/api/v1/version"))
            assert _Responses(again).next()[0] == 200
    finally:
        for s in held:
            s.close()


def test_pipelined_requests_are_all_answered_in_order(quick):
    """Three requests in one write; the first is a GET with a body (which must be consumed, not parsed as
    the next request: the old server answered the second one 501)."""
    lint = json.dumps({"workflow": {"metadata": {"generateName": "p-"}, "spec": {
        "entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]}}}).encode()
    with _connect(quick) as s:
        s.sendall(_head(quick, "GET", "/api/v1/version", "Content-Length: 3\r\n") + b"abc"
                  + _head(quick, "POST", "/api/v1/workflows/argo/lint",
                          f"Content-Type: application/json\r\nContent-Length: {len(lint)}\r\n") + lint
                  + _head(quick, "GET", "/api/v1/info"))
        responses = _Responses(s)
        status, version = responses.next()
        assert status == 200 and "dflow-lab" in version["version"]
        status, linted = responses.next()
        assert status == 200 and linted["metadata"]["generateName"] == "p-", linted
        status, info = responses.next()
        assert status == 200 and info == {"managedNamespace": ""}


def test_refused_request_does_not_count_past_the_answer(few):
    """A request refused on its head (here: no token) is answered and its connection closed; it does not
    keep one of the bounded places."""
    for _ in range(5):
        with _connect(few) as s:
            s.sendall(b"GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert _Responses(s).next()[0] == 401
            assert _closed_by_server(s)
    _until(lambda: few.open_connections == 0, "refused connections are let go")
