"""``dflow-lab server``: the Argo Server REST API that dflow and the ``argo`` CLI use, over the local engine.

Served by tornado (already installed with jupyter_server) on one event loop; the engine's calls, which
block (SQLite, long polls), run in a thread pool, one thread per request or open stream.

What the server accepts, and its bounds (each a constructor argument and a ``dflow-lab server`` option):

- It binds 127.0.0.1 unless told otherwise (``allow_remote``), and requires
  ``Authorization: Bearer <token>`` (a generated token, stored 0600 in the workspace) unless auth is
  explicitly turned off (loopback only). TLS with ``tls_cert``/``tls_key``.
- A request's head is checked before anything of its body is read: a missing or wrong token (401), a
  ``Transfer-Encoding`` (411: send a Content-Length), a Content-Length that is not one non-negative
  decimal integer (400), a body over ``max_body`` bytes (413). Such a request is answered and its
  connection closed; the body is never parsed.
- ``idle_timeout``: a connection that has not delivered a complete request head within this many seconds
  of the server starting to wait for one (an idle keep-alive connection, or headers sent slowly) is
  closed. ``body_timeout``: the time a declared body may take to arrive.
- ``max_connections``: open connections beyond this many are answered 503 and closed at once.
- Pipelined requests on one connection are answered in order (a body is always consumed by its
  Content-Length, whatever the method).
- Malformed JSON (400), names that are not Kubernetes names (400), content types other than JSON
  (415); errors are answered in grpc-gateway's shape (``{"code", "message", "error"}``), as Argo does.
  Requests are not logged (their query strings may carry selectors users consider private).

Endpoints: ``/api/v1/version``, ``/api/v1/info``, ``/api/v1/userinfo``; ``/api/v1/workflows/{ns}``
(GET list, POST create), ``/api/v1/workflows/{ns}/lint``, ``/api/v1/workflows/{ns}/{name}`` (GET,
DELETE), ``…/{name}/{retry,resubmit,stop,terminate,suspend,resume}`` (PUT), ``…/{name}/log`` and
``…/{name}/{podName}/log`` (streams), ``/api/v1/workflow-events/{ns}`` (stream),
``/api/v1/archived-workflows`` (finished workflows, kept after deletion, see ``archive``) and
``/api/v1/namespaces/{ns}/configmaps`` (POST of Argo memoization caches, which
``submit(reuse_step=…)`` uses, and of parameter config maps; GET lists them, ``…/configmaps/{name}`` GET and
DELETE), ``/api/v1/workflow-templates/{ns}`` and ``/api/v1/cluster-workflow-templates`` (list, create,
lint, get, update, delete: ``templates``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import re
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl

import tornado.web
from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.iostream import IOStream, StreamClosedError
from tornado.netutil import bind_sockets

from ..local.backend import LocalBackend
from ..local.cron import CronScheduler
from ..yamlsafe import load_json
from .api import VERSION, ApiError, ArgoApi, check_name
from .auth import TOKEN_FILE, check_bearer, load_or_create_token
from .templates import TemplateApi

__all__ = ["ArgoServer", "DEFAULT_PORT", "DEFAULT_MAX_BODY", "DEFAULT_IDLE_TIMEOUT", "DEFAULT_BODY_TIMEOUT",
           "DEFAULT_MAX_CONNECTIONS", "is_loopback"]

DEFAULT_PORT = 2746
DEFAULT_MAX_BODY = 64 * 1024 * 1024
DEFAULT_IDLE_TIMEOUT = 60.0  # seconds to deliver a request head (idle keep-alive or slow headers)
DEFAULT_BODY_TIMEOUT = 120.0  # seconds for a declared body to arrive
DEFAULT_MAX_CONNECTIONS = 128
_MAX_HEADER_BYTES = 64 * 1024  # a request head larger than this is refused (tornado answers 400)
_REFUSAL_GRACE = 2.0  # seconds a refused connection is kept to drain what the client still sends
_REFUSAL_DRAIN = 1024 * 1024  # … and at most this many bytes of it, read and dropped
_DRAIN_LIMIT = 64 * 1024 * 1024  # refused bodies up to this much over max_body are read and dropped
_GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 411: 3, 413: 8, 415: 3, 422: 3, 500: 13,
               503: 14}
_ACTIONS = ("retry", "resubmit", "stop", "terminate", "suspend", "resume")
_CONTENT_LENGTH_RE = re.compile(r"[0-9]{1,19}")
_SERVER_NAME = "dflow-lab-argo-server"
_T = TypeVar("_T")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) only reaches this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_body(status: int, message: str) -> bytes:
    return json.dumps({"code": _GRPC_CODES.get(status, 2), "message": message, "error": message}).encode()


class ArgoServer:
    """An Argo-compatible API server over the local workspace ``workdir``.

    Args:
        workdir: the local engine's workspace (default ``config["local_workdir"]``)
        host: the address to bind; anything but a loopback address needs ``allow_remote=True``
        port: the port (0: a free one; ``port`` tells which after construction)
        auth: require the bearer token (default); ``False`` serves anyone who can connect (loopback only)
        token: the token to require (default: the workspace's generated token)
        max_body: the largest request body accepted, in bytes
        allow_remote: permit binding a non-loopback address
        tls_cert / tls_key: serve HTTPS with this certificate and key (PEM files)
        idle_timeout: seconds a connection may take to deliver a request head (idle or slow headers)
        body_timeout: seconds a declared request body may take to arrive
        max_connections: open connections served at once; more are answered 503
        cron: run the workspace's CronWorkflows (``dflow_lab.local.cron``) while serving
    """

    def __init__(self, workdir: str | os.PathLike[str] | None = None, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 *, auth: bool = True, token: str | None = None, max_body: int = DEFAULT_MAX_BODY,
                 allow_remote: bool = False, tls_cert: str | None = None, tls_key: str | None = None,
                 idle_timeout: float = DEFAULT_IDLE_TIMEOUT, body_timeout: float = DEFAULT_BODY_TIMEOUT,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS, cron: bool = True):
        if not is_loopback(host) and not allow_remote:
            raise ValueError(f"refusing to bind {host!r}: it is reachable from other machines; pass "
                             "allow_remote=True (dflow-lab server --host … --allow-remote) to serve beyond loopback")
        if not auth and not is_loopback(host):
            raise ValueError(f"refusing to serve {host!r} without authentication: --no-auth is for loopback only")
        for what, value in (("max_body", max_body), ("idle_timeout", idle_timeout),
                            ("body_timeout", body_timeout), ("max_connections", max_connections)):
            if not value > 0:
                raise ValueError(f"ArgoServer: {what} must be positive, not {value!r}")
        self.backend = LocalBackend(workdir)
        self.token_created = False
        if auth and token is None:
            token, self.token_created = load_or_create_token(self.backend.workdir)
        self.token: str | None = token if auth else None
        self.max_body = max_body
        self.idle_timeout = idle_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
        self.stopping = threading.Event()
        self.api = ArgoApi(self.backend, self.backend.workdir, self.backend.store, self.stopping)
        self.templates = TemplateApi(self.backend.workdir)
        self.cron = CronScheduler(self.backend.workdir, backend=self.backend) if cron else None
        self._ssl: ssl.SSLContext | None = None
        if tls_cert is not None:
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ssl.load_cert_chain(tls_cert, tls_key)
        self.tls = self._ssl is not None
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sockets = bind_sockets(port, address=host, family=family)
        self.host = host
        self.port: int = self._sockets[0].getsockname()[1]
        # one thread per request or open stream; connections are bounded, so are the threads
        self.pool = ThreadPoolExecutor(max_workers=max_connections + 4, thread_name_prefix="dflow-lab-api")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._http: _BoundedHTTPServer | None = None
        self._ready = threading.Event()
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

    @property
    def bound_addresses(self) -> list[tuple[str, int]]:
        """The (address, port) pairs the server listens on."""
        return [s.getsockname()[:2] for s in self._sockets]

    @property
    def open_connections(self) -> int:
        """The connections being served now (refused ones not counted)."""
        return len(self._http._connections) if self._http is not None else 0

    # -- running -------------------------------------------------------------------------------------

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        if self.stopping.is_set():  # stop() came before the loop ran
            self._stop_requested.set()
        app = _application(self)
        self._http = _BoundedHTTPServer(
            _Gate(app, self), max_connections=self.max_connections, refusal_grace=_REFUSAL_GRACE,
            ssl_options=self._ssl, idle_connection_timeout=self.idle_timeout, body_timeout=self.body_timeout,
            max_body_size=self.max_body, max_header_size=_MAX_HEADER_BYTES)
        self._http.add_sockets(self._sockets)
        self._ready.set()
        try:
            await self._stop_requested.wait()
        finally:
            self.stopping.set()  # streams end at their next poll
            self._http.stop()
            try:
                await asyncio.wait_for(self._http.close_all_connections(), 10)
            except asyncio.TimeoutError:
                pass

    def _run(self) -> None:
        cron = None
        if self.cron is not None:  # schedules are honoured while the server is up
            cron = threading.Thread(target=self.cron.run, args=(self.stopping,), name="dflow-lab-cron", daemon=True)
            cron.start()
        try:
            asyncio.run(self._serve())
        finally:
            self.stopping.set()
            self._ready.set()
            self.pool.shutdown(wait=False, cancel_futures=True)

    def start(self) -> ArgoServer:
        """Serve in a background thread; returns self once the server accepts connections."""
        self._thread = threading.Thread(target=self._run, name="dflow-lab-argo-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(30) or self._http is None:
            raise RuntimeError("dflow-lab server did not start within 30 s")
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()``/``request_stop()`` (or KeyboardInterrupt)."""
        self._run()

    def request_stop(self) -> None:
        """Ask the serving loop to end (safe from another thread and from a signal handler)."""
        self.stopping.set()
        loop, event = self._loop, self._stop_requested
        if loop is not None and event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def stop(self) -> None:
        """Stop serving: open streams end, the sockets are closed."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout=15)
        for s in self._sockets:
            s.close()

    def __enter__(self) -> ArgoServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- the request head, checked before any body is read -------------------------------------------

    def refusal(self, headers: httputil.HTTPHeaders) -> tuple[int, str] | None:
        """``(status, message)`` for a request whose head alone refuses it, else ``None``."""
        if self.token is not None and not check_bearer(headers.get("Authorization"), self.token):
            return 401, ("unauthorized: send 'Authorization: Bearer <token>' (the token is in "
                         f"<workspace>/{TOKEN_FILE})")
        if "Transfer-Encoding" in headers:
            return 411, "chunked request bodies are not accepted: send a Content-Length"
        lengths = headers.get_list("Content-Length")
        if lengths:
            values = {v.strip() for one in lengths for v in one.split(",")}
            if len(values) != 1 or not _CONTENT_LENGTH_RE.fullmatch(next(iter(values))):
                shown = ", ".join(lengths)[:40]
                return 400, f"Content-Length {shown!r} is not one non-negative decimal integer"
            length = int(next(iter(values)))
            if length > self.max_body:
                return 413, (f"request body of {length} bytes is over the server's limit of {self.max_body} bytes "
                             "(dflow-lab server --max-body)")
        return None


# -- HTTP layer: the head gate and the connection bound ------------------------------------------------

async def _answer_and_close(stream: IOStream, status: int, message: str, *, drain: int, within: float) -> None:
    """Write a complete error response on a raw stream, then close it. Up to ``drain`` bytes the client
    still sends (its refused body) are read and dropped for at most ``within`` seconds first, so that a
    client that writes its whole body before reading gets the answer instead of a reset connection."""
    body = _error_body(status, message)
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nServer: {_SERVER_NAME}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        await asyncio.wait_for(stream.write(head.encode() + body), within)
        try:
            stream.socket.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        drained = 0
        while drained < drain and loop.time() < deadline:
            chunk = await asyncio.wait_for(stream.read_bytes(min(65536, drain - drained), partial=True),
                                           deadline - loop.time())
            drained += len(chunk)
    except (asyncio.TimeoutError, StreamClosedError, OSError, ssl.SSLError):
        pass
    finally:
        stream.close()


class _BoundedHTTPServer(HTTPServer):
    """tornado's HTTP server with a bound on open connections: one more is answered 503 and closed."""

    def initialize(self, request_callback: Any, *, max_connections: int = DEFAULT_MAX_CONNECTIONS,  # type: ignore[override]
                   refusal_grace: float = _REFUSAL_GRACE, **kwargs: Any) -> None:
        self.max_connections = max_connections
        self.refusal_grace = refusal_grace
        self.refusing = 0  # refused requests whose body is being drained: they count as open connections
        super().initialize(request_callback, **kwargs)

    async def refuse(self, stream: IOStream, status: int, message: str, declared: int) -> None:
        """Answer a request refused on its head (the stream detached from tornado's HTTP handling). A refused
        body of up to ``max_body`` + 64 MiB is drained within ``body_timeout`` (as a client may send it
        all before reading); a larger one is not, its connection closes after the answer."""
        server = cast("_Gate", self.request_callback).server
        drain = declared if declared <= server.max_body + _DRAIN_LIMIT else 0
        self.refusing += 1
        try:
            await _answer_and_close(stream, status, message, drain=max(drain, _REFUSAL_DRAIN),
                                    within=server.body_timeout if drain > _REFUSAL_DRAIN else self.refusal_grace)
        finally:
            self.refusing -= 1

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        if len(self._connections) + self.refusing >= self.max_connections:
            message = (f"the server has {self.max_connections} open connections, its limit "
                       "(dflow-lab server --max-connections): try again later")
            asyncio.ensure_future(_answer_and_close(stream, 503, message, drain=_REFUSAL_DRAIN,
                                                    within=self.refusal_grace))
            return
        super().handle_stream(stream, address)


class _Gate(httputil.HTTPServerConnectionDelegate):
    """Checks each request's head (:meth:`ArgoServer.refusal`) before the application sees it."""

    def __init__(self, app: tornado.web.Application, server: ArgoServer) -> None:
        self.app = app
        self.server = server

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _GateMessage(self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        self.app.on_close(server_conn)


class _GateMessage(httputil.HTTPMessageDelegate):
    def __init__(self, gate: _Gate, server_conn: object, request_conn: httputil.HTTPConnection) -> None:
        self.gate = gate
        self.server_conn = server_conn
        self.conn = request_conn
        self.inner: httputil.HTTPMessageDelegate | None = None

    def headers_received(self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
                         headers: httputil.HTTPHeaders) -> Awaitable[None] | None:
        refused = self.gate.server.refusal(headers)
        if refused is not None:
            # the connection leaves tornado's HTTP handling: nothing more of it is parsed
            stream = self.conn.detach()  # type: ignore[attr-defined]
            length = headers.get("Content-Length", "")
            declared = int(length) if _CONTENT_LENGTH_RE.fullmatch(length) else 0
            http = self.gate.server._http
            assert http is not None
            asyncio.ensure_future(http.refuse(stream, *refused, declared))
            return None
        self.inner = self.gate.app.start_request(self.server_conn, self.conn)
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.inner.data_received(chunk) if self.inner is not None else None

    def finish(self) -> None:
        if self.inner is not None:
            self.inner.finish()

    def on_connection_close(self) -> None:
        if self.inner is not None:
            self.inner.on_connection_close()


# -- the application ---------------------------------------------------------------------------------

class _Handler(tornado.web.RequestHandler):
    """Base of the endpoints: JSON answers in grpc-gateway's error shape, engine calls in the pool."""

    argo: ArgoServer

    def initialize(self, argo: ArgoServer) -> None:
        self.argo = argo
        self.cancel = threading.Event()  # set when the client goes away: its stream ends

    def set_default_headers(self) -> None:
        self.set_header("Server", _SERVER_NAME)

    def prepare(self) -> None:
        raw = self.request.path.lower()
        if "%2f" in raw or "%5c" in raw:
            raise ApiError(400, "path segments must not contain encoded '/' or '\\'")

    def on_connection_close(self) -> None:
        self.cancel.set()

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.request.query, keep_blank_values=True))

    async def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` in the server's thread pool (the engine's calls block)."""
        return await asyncio.get_running_loop().run_in_executor(self.argo.pool, fn, *args)

    def send_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(obj).encode())

    async def answer(self, fn: Callable[..., Any], *args: Any) -> None:
        self.send_json(await self.call(fn, *args))

    def json_body(self) -> dict[str, Any]:
        raw = self.request.body
        if not raw:
            return {}
        ctype = (self.request.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype not in ("application/json", "application/yaml", "text/plain", ""):
            raise ApiError(415, f"content type {ctype!r} is not accepted: send application/json")
        try:
            body = load_json(raw, source="request body")  # nesting bounded (dflow_lab/yamlsafe.py)
        except (UnicodeDecodeError, ValueError) as e:
            raise ApiError(400, f"malformed JSON body: {e}") from None
        if not isinstance(body, dict):
            raise ApiError(400, f"the request body must be a JSON object, not {type(body).__name__}")
        return body

    async def stream(self, make: Callable[[threading.Event], Generator[dict[str, Any], None, None]]) -> None:
        """Answer a stream of objects: one JSON per line, or server-sent events when the client accepts
        ``text/event-stream``. An error before the first object is a plain error answer; after it, the
        error goes in the stream (grpc-gateway's StreamError). Ends when the client goes away."""
        sse = "text/event-stream" in (self.request.headers.get("Accept") or "")
        items = await self.call(make, self.cancel)
        try:
            item = await self.call(next, items, None)
            self.set_header("Content-Type", "text/event-stream" if sse else "application/json")
            self.set_header("Cache-Control", "no-cache")
            while item is not None:
                text = json.dumps(item)
                self.write(f"data: {text}\n\n" if sse else text + "\n")
                await self.flush()  # chunked: the object reaches the client now
                try:
                    item = await self.call(next, items, None)
                except Exception as e:  # noqa: BLE001 - headers are sent: the error goes in the stream
                    status = e.status if isinstance(e, ApiError) else 500
                    error = {"grpcCode": _GRPC_CODES.get(status, 2), "httpCode": status, "message": str(e)}
                    self.write(json.dumps({"error": error}) + "\n")
                    item = None
            self.finish()
        except StreamClosedError:  # the client went away
            self.cancel.set()
        finally:
            self.cancel.set()
            try:
                await self.call(items.close)
            except RuntimeError:  # the server is stopping: its pool takes no more work
                pass

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        status = status_code
        if isinstance(exc, ApiError):
            status, message = exc.status, exc.message
        elif status == 405:
            allowed = [m for m in ("GET", "POST", "PUT", "DELETE") if m.lower() in type(self).__dict__]
            message = f"method {self.request.method} is not allowed here (use {', '.join(allowed)})"
        elif isinstance(exc, tornado.web.HTTPError) or exc is None:
            message = (getattr(exc, "log_message", None) or self._reason) % getattr(exc, "args", ())
        else:  # an engine failure: answered, not a dropped connection
            status, message = 500, f"internal error: {type(exc).__name__}: {exc}"
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(_error_body(status, message))

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, ApiError):  # an ApiError is an answer, not a failure of the server
            super().log_exception(typ, value, tb)


class _Info(_Handler):
    def get(self, what: str) -> None:
        self.send_json({"version": VERSION, "info": {"managedNamespace": ""},
                        "userinfo": {"subject": "dflow-lab", "serviceAccountName": "dflow-lab"}}[what])


class _Archived(_Handler):
    async def get(self) -> None:
        q = self.query
        await self.answer(self.argo.api.list, q.get("namespace") or _namespace_in(q), q, True)


class _ArchivedOne(_Handler):
    async def get(self, uid: str) -> None:
        await self.answer(self.argo.api.get_archived, uid)

    async def delete(self, uid: str) -> None:
        await self.answer(self.argo.api.delete_archived, uid)


class _Events(_Handler):
    async def get(self, ns: str) -> None:
        ns, q = check_name(ns, "namespace"), self.query
        await self.stream(lambda cancel: self.argo.api.watch(ns, q, cancel))


class _ConfigMaps(_Handler):
    async def get(self, ns: str) -> None:
        await self.answer(self.argo.templates.list_configmaps, check_name(ns, "namespace"), self.query)

    async def post(self, ns: str) -> None:
        await self.answer(self.argo.api.create_configmap, check_name(ns, "namespace"), self.json_body())


class _KindHandler(_Handler):
    def initialize(self, argo: ArgoServer, kind: str = "WorkflowTemplate") -> None:
        super().initialize(argo)
        self.kind = kind


class _Templates(_KindHandler):
    """``/api/v1/workflow-templates/{ns}`` and ``/api/v1/cluster-workflow-templates`` (list, create)."""

    async def get(self, ns: str | None = None) -> None:
        ns = check_name(ns, "namespace") if ns is not None else None
        await self.answer(self.argo.templates.list, self.kind, ns, self.query)

    async def post(self, ns: str | None = None) -> None:
        ns = check_name(ns, "namespace") if ns is not None else None
        await self.answer(self.argo.templates.create, self.kind, ns, self.json_body())


class _TemplateLint(_KindHandler):
    async def post(self, ns: str | None = None) -> None:
        ns = check_name(ns, "namespace") if ns is not None else None
        await self.answer(self.argo.templates.lint, self.kind, ns, self.json_body())


class _Template(_KindHandler):
    """``…/workflow-templates/{ns}/{name}`` and ``…/cluster-workflow-templates/{name}`` (get, update, delete)."""

    def _where(self, args: tuple[Any, ...]) -> tuple[str | None, str]:
        ns, name = args if len(args) == 2 else (None, args[0])
        return (check_name(ns, "namespace") if ns is not None else None), name

    async def get(self, *args: str) -> None:
        await self.answer(self.argo.templates.get, self.kind, *self._where(args))

    async def put(self, *args: str) -> None:
        await self.answer(self.argo.templates.update, self.kind, *self._where(args), self.json_body())

    async def delete(self, *args: str) -> None:
        await self.answer(self.argo.templates.delete, self.kind, *self._where(args))


class _ConfigMap(_Handler):
    async def get(self, ns: str, name: str) -> None:
        await self.answer(self.argo.templates.get_configmap, check_name(ns, "namespace"), name)

    async def delete(self, ns: str, name: str) -> None:
        await self.answer(self.argo.templates.delete_configmap, check_name(ns, "namespace"), name)


class _Workflows(_Handler):
    async def get(self, ns: str) -> None:
        await self.answer(self.argo.api.list, check_name(ns, "namespace"), self.query)

    async def post(self, ns: str) -> None:
        await self.answer(self.argo.api.create, check_name(ns, "namespace"), self.json_body())


class _Lint(_Handler):
    async def post(self, ns: str) -> None:
        await self.answer(self.argo.api.lint, check_name(ns, "namespace"), self.json_body())


class _Workflow(_Handler):
    async def get(self, ns: str, name: str) -> None:
        ns, name = check_name(ns, "namespace"), check_name(name, "workflow name")
        await self.answer(self.argo.api.get, ns, name, self.query.get("fields"))

    async def delete(self, ns: str, name: str) -> None:
        await self.answer(self.argo.api.delete, check_name(ns, "namespace"), check_name(name, "workflow name"))


class _Action(_Handler):
    async def put(self, ns: str, name: str, action: str) -> None:
        ns, name = check_name(ns, "namespace"), check_name(name, "workflow name")
        await self.answer(self.argo.api.action, ns, name, action, self.json_body())


class _Log(_Handler):
    async def get(self, ns: str, name: str, pod: str | None = None) -> None:
        ns, name = check_name(ns, "namespace"), check_name(name, "workflow name")
        q = self.query
        pod = check_name(pod, "pod name") if pod is not None else q.get("podName")
        await self.stream(lambda cancel: self.argo.api.logs(ns, name, pod, q, cancel))


class _NotFound(_Handler):
    def prepare(self) -> None:
        raise ApiError(404, f"no such endpoint: {self.request.method} {self.request.path}")


def _application(server: ArgoServer) -> tornado.web.Application:
    seg = r"([^/]+)"
    wf = r"/api/v1/workflows/" + seg
    routes: list[Any] = [
        (r"/api/v1/(version|info|userinfo)/*", _Info),
        (r"/api/v1/archived-workflows/*", _Archived),
        (r"/api/v1/archived-workflows/" + seg + "/*", _ArchivedOne),
        (r"/api/v1/workflow-events/" + seg + "/*", _Events),
        (r"/api/v1/namespaces/" + seg + r"/configmaps/*", _ConfigMaps),
        (r"/api/v1/namespaces/" + seg + r"/configmaps/" + seg + "/*", _ConfigMap),
        (r"/api/v1/workflow-templates/" + seg + "/*", _Templates),
        (r"/api/v1/workflow-templates/" + seg + r"/lint/*", _TemplateLint),
        (r"/api/v1/workflow-templates/" + seg + "/" + seg + "/*", _Template),
        (r"/api/v1/cluster-workflow-templates/*", _Templates, {"kind": "ClusterWorkflowTemplate"}),
        (r"/api/v1/cluster-workflow-templates/lint/*", _TemplateLint, {"kind": "ClusterWorkflowTemplate"}),
        (r"/api/v1/cluster-workflow-templates/" + seg + "/*", _Template, {"kind": "ClusterWorkflowTemplate"}),
        (wf + "/*", _Workflows),
        (wf + r"/lint/*", _Lint),
        (wf + "/" + seg + "/*", _Workflow),
        (wf + "/" + seg + "/(" + "|".join(_ACTIONS) + ")/*", _Action),
        (wf + "/" + seg + r"/log/*", _Log),
        (wf + "/" + seg + "/" + seg + r"/log/*", _Log),
    ]
    app = tornado.web.Application(
        [(route[0], route[1], {"argo": server, **(route[2] if len(route) > 2 else {})}) for route in routes],
        default_handler_class=_NotFound, default_handler_args={"argo": server},
        log_function=lambda handler: None, compress_response=False)
    return app


def _namespace_in(query: dict[str, str]) -> str | None:
    m = re.search(r"metadata\.namespace\s*==?\s*([^,\s]+)", query.get("listOptions.fieldSelector") or "")
    return m.group(1) if m else None
