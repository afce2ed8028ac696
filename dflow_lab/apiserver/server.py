"""``dflow-lab server``: the Argo Server REST API that dflow and the ``argo`` CLI use, over the local engine.

Served with the standard library's threading HTTP server: no extra dependency, one thread per
connection (streams hold theirs), which is plenty for a workstation's clients. It binds 127.0.0.1
unless told otherwise, requires ``Authorization: Bearer <token>`` (a generated token, stored 0600 in
the workspace) unless auth is explicitly turned off, refuses bodies over ``max_body`` bytes (413),
malformed JSON (400), names that are not Kubernetes names (400), and answers errors in
grpc-gateway's shape (``{"code", "message", "error"}``), as Argo does.

Endpoints: ``/api/v1/version``, ``/api/v1/info``, ``/api/v1/userinfo``; ``/api/v1/workflows/{ns}``
(GET list, POST create), ``/api/v1/workflows/{ns}/lint``, ``/api/v1/workflows/{ns}/{name}`` (GET,
DELETE), ``…/{name}/{retry,resubmit,stop,terminate,suspend,resume}`` (PUT), ``…/{name}/log`` and
``…/{name}/{podName}/log`` (streams), ``/api/v1/workflow-events/{ns}`` (stream),
``/api/v1/archived-workflows`` (finished workflows, kept after deletion, see ``archive``) and ``/api/v1/namespaces/{ns}/configmaps`` (POST
of Argo memoization caches, which ``submit(reuse_step=…)`` uses).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..local.backend import LocalBackend
from ..yamlsafe import load_json
from .api import VERSION, ApiError, ArgoApi, check_name
from .auth import TOKEN_FILE, check_bearer, load_or_create_token

__all__ = ["ArgoServer", "DEFAULT_PORT", "DEFAULT_MAX_BODY"]

DEFAULT_PORT = 2746
DEFAULT_MAX_BODY = 64 * 1024 * 1024
_DRAIN_LIMIT = 64 * 1024 * 1024  # refused bodies up to this much over the limit are read and dropped
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 411: 3, 413: 8, 415: 3, 422: 3, 500: 13}
_ACTIONS = ("retry", "resubmit", "stop", "terminate", "suspend", "resume")
_SEGMENT = r"([^/]+)"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only reaches this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ArgoServer:
    """An Argo-compatible API server over the local workspace ``workdir``.

    Args:
        workdir: the local engine's workspace (default ``config["local_workdir"]``)
        host: the address to bind; anything but a loopback address needs ``allow_remote=True``
        port: the port (0: a free one; see ``port`` after ``start()``)
        auth: require the bearer token (default); ``False`` serves anyone who can connect
        token: the token to require (default: the workspace's generated token)
        max_body: the largest request body accepted, in bytes
        allow_remote: permit binding a non-loopback address
        tls_cert / tls_key: serve HTTPS with this certificate and key (PEM files)
    """

    def __init__(self, workdir: str | os.PathLike | None = None, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 *, auth: bool = True, token: str | None = None, max_body: int = DEFAULT_MAX_BODY,
                 allow_remote: bool = False, tls_cert: str | None = None, tls_key: str | None = None):
        if not is_loopback(host) and not allow_remote:
            raise ValueError(f"refusing to bind {host!r}: it is reachable from other machines; pass "
                             "allow_remote=True (dflow-lab server --host … --allow-remote) to serve beyond loopback")
        if not auth and not is_loopback(host):
            raise ValueError(f"refusing to serve {host!r} without authentication: --no-auth is for loopback only")
        self.backend = LocalBackend(workdir)
        self.token_created = False
        if auth and token is None:
            token, self.token_created = load_or_create_token(self.backend.workdir)
        self.token = token if auth else None
        self.max_body = max_body
        self.stopping = threading.Event()
        self.api = ArgoApi(self.backend, self.stopping)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        server_cls = type("_Server", (ThreadingHTTPServer,), {"address_family": family, "daemon_threads": True})
        self.httpd = server_cls((host, port), _handler_class(self))
        self.tls = tls_cert is not None
        if tls_cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert, tls_key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"ArgoServer(url={self.url!r}, workdir={str(self.backend.workdir)!r}, auth={self.token is not None})"

    @property
    def url(self) -> str:
        """The base URL clients use (``config["host"]``)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def token_path(self) -> Path:
        """Where the workspace's generated token is kept."""
        return self.backend.workdir / TOKEN_FILE

    def start(self) -> ArgoServer:
        """Serve in a background thread; returns self."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="dflow-lab-argo-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` (or KeyboardInterrupt)."""
        try:
            self.httpd.serve_forever()
        finally:
            self.stopping.set()
            self.httpd.server_close()

    def request_stop(self) -> None:
        """Ask ``serve_forever`` to return (safe from a signal handler in the serving thread)."""
        self.stopping.set()
        threading.Thread(target=self.httpd.shutdown, daemon=True).start()

    def stop(self) -> None:
        """Stop serving: open streams end, the socket is closed."""
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ArgoServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _handler_class(server: ArgoServer) -> type:
    class Handler(_Handler):
        argo = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "dflow-lab-argo-server"
    disable_nagle_algorithm = True  # small answers go out at once (no 40 ms delayed-ACK stall)
    argo: ArgoServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: requests are not logged (their query strings may carry selectors users consider private)."""

    # -- plumbing ----------------------------------------------------------------------------------

    def _send_json(self, status: int, obj: Any) -> None:
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str) -> None:
        self._send_json(status, {"code": _GRPC_CODES.get(status, 2), "message": message, "error": message})

    def _stream(self, items: Iterator[dict]) -> None:
        sse = "text/event-stream" in (self.headers.get("Accept") or "")
        first = next(items, None)  # errors before the first item are still plain responses
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if sse else "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        def write(obj: dict) -> None:
            text = json.dumps(obj)
            chunk = (f"data: {text}\n\n" if sse else text + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()

        try:
            item = first
            while item is not None:
                write(item)
                try:
                    item = next(items, None)
                except Exception as e:  # headers are sent: the error goes in the stream (grpc-gateway's StreamError)
                    status = e.status if isinstance(e, ApiError) else 500
                    write({"error": {"grpcCode": _GRPC_CODES.get(status, 2), "httpCode": status, "message": str(e)}})
                    item = None
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _body(self) -> dict:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True  # the chunked body is not read
            raise ApiError(411, "chunked request bodies are not accepted: send a Content-Length")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "Content-Length is not a number") from None
        if length > self.argo.max_body:
            self._discard(length)
            raise ApiError(413, f"request body of {length} bytes is over the server's limit of "
                                f"{self.argo.max_body} bytes")
        if length == 0:
            return {}
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        raw = self.rfile.read(length)
        if ctype not in ("application/json", "application/yaml", "text/plain", ""):
            raise ApiError(415, f"content type {ctype!r} is not accepted: send application/json")
        try:
            body = load_json(raw, source="request body")  # nesting bounded (dflow_lab/yamlsafe.py)
        except (UnicodeDecodeError, ValueError) as e:
            raise ApiError(400, f"malformed JSON body: {e}") from None
        if not isinstance(body, dict):
            raise ApiError(400, f"the request body must be a JSON object, not {type(body).__name__}")
        return body

    def _discard(self, length: int) -> None:
        """Skip a refused body so that the client reads the answer; a huge one closes the connection instead."""
        if length > self.argo.max_body + _DRAIN_LIMIT:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def _authorized(self) -> bool:
        token = self.argo.token
        return token is None or check_bearer(self.headers.get("Authorization"), token)

    def _dispatch(self, method: str) -> None:
        try:
            parts = urlsplit(self.path)
            raw_path = parts.path
            if "%2f" in raw_path.lower() or "%5c" in raw_path.lower():
                raise ApiError(400, "path segments must not contain encoded '/' or '\\'")
            path = unquote(raw_path)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            if not self._authorized():
                # the body is not parsed; skip it so that it is not read as a next request
                try:
                    self._discard(int(self.headers.get("Content-Length") or 0))
                except ValueError:
                    self.close_connection = True
                raise ApiError(401, "unauthorized: send 'Authorization: Bearer <token>' (the token is in "
                                    "<workspace>/argo-server.token)")
            result = self._route(method, path, query)
            if result is not None:
                self._send_json(200, result)
        except ApiError as e:
            self._send_error(e.status, e.message)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # an engine failure: answered, not a dropped connection
            self._send_error(500, f"internal error: {type(e).__name__}: {e}")

    def do_GET(self) -> None:  # noqa: N802 - http.server's names
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:  # noqa: N802 - answered 405 where the path exists
        self._dispatch("PATCH")

    # -- routes ------------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, str]) -> Any:
        api = self.argo.api
        path = path.rstrip("/") or "/"
        if path in ("/api/v1/version", "/api/v1/info", "/api/v1/userinfo"):
            self._only(method, "GET")
            return {"/api/v1/version": VERSION, "/api/v1/info": {"managedNamespace": ""},
                    "/api/v1/userinfo": {"subject": "dflow-lab", "serviceAccountName": "dflow-lab"}}[path]
        if path == "/api/v1/archived-workflows":
            self._only(method, "GET")
            return api.list(query.get("namespace") or _namespace_in(query), query, archived=True)
        if m := re.fullmatch(r"/api/v1/archived-workflows/" + _SEGMENT, path):
            uid = m.group(1)
            if method == "GET":
                return api.get_archived(uid)
            self._only(method, "DELETE")
            return api.delete_archived(uid)
        if m := re.fullmatch(r"/api/v1/workflow-events/" + _SEGMENT, path):
            self._only(method, "GET")
            self._stream(api.watch(check_name(m.group(1), "namespace"), query))
            return None
        if m := re.fullmatch(r"/api/v1/namespaces/" + _SEGMENT + r"/configmaps", path):
            self._only(method, "POST")
            return api.create_configmap(check_name(m.group(1), "namespace"), self._body())
        if not path.startswith("/api/v1/workflows/"):
            raise ApiError(404, f"no such endpoint: {method} {path}")
        segments = path[len("/api/v1/workflows/"):].split("/")
        ns = check_name(segments[0], "namespace")
        if len(segments) == 1:
            if method == "GET":
                return api.list(ns, query)
            self._only(method, "POST")
            return api.create(ns, self._body())
        if len(segments) == 2 and segments[1] == "lint":
            self._only(method, "POST")
            return api.lint(ns, self._body())
        name = check_name(segments[1], "workflow name")
        if len(segments) == 2:
            if method == "GET":
                return api.get(ns, name, query.get("fields"))
            self._only(method, "DELETE")
            return api.delete(ns, name)
        if len(segments) == 3 and segments[2] in _ACTIONS:
            self._only(method, "PUT")
            return api.action(ns, name, segments[2], self._body())
        if segments[-1] == "log" and len(segments) in (3, 4):
            self._only(method, "GET")
            pod = check_name(segments[2], "pod name") if len(segments) == 4 else query.get("podName")
            self._stream(api.logs(ns, name, pod, query))
            return None
        raise ApiError(404, f"no such endpoint: {method} {path}")

    @staticmethod
    def _only(method: str, allowed: str) -> None:
        if method != allowed:
            raise ApiError(405, f"method {method} is not allowed here (use {allowed})")


def _namespace_in(query: dict[str, str]) -> str | None:
    m = re.search(r"metadata\.namespace\s*==?\s*([^,\s]+)", query.get("listOptions.fieldSelector") or "")
    return m.group(1) if m else None
