"""REST handlers of the server extension, under ``<base_url>/dflow-lab/api/``.

Every handler is a Jupyter ``APIHandler`` whose methods are ``@tornado.web.authenticated``: a request
needs Jupyter's token or login cookie, and a cookie-authenticated request that changes something needs
the ``_xsrf`` token too (Jupyter's XSRF check). Errors are JSON ``{"message", "issues"?}`` with secrets
redacted; the traceback stays in the server.

| method | path | what |
| --- | --- | --- |
| GET, PUT | ``settings`` | public settings (+ which secrets are set); update them (secrets are write-only) |
| POST | ``validate`` | ``{"graph"}`` → ``{"issues"}`` (``dflow_lab.graph.validate.validate``) |
| POST | ``code`` | ``{"graph"}`` → ``{"code", "filename"}`` (``dflow_lab.code_gen.gen_code``) |
| POST | ``documents/parse`` | ``{"text", "path"}`` → ``{"graph", "format"}`` (graph JSON/YAML or Argo YAML) |
| POST | ``documents/dump`` | ``{"graph", "format", "path"}`` → ``{"text"}`` |
| POST | ``ops`` | ``{"path", "module"?, "name", "inputs", "outputs", "body"?}``: a new ``@OP.function`` beside the document → ``{"entry", "file", "line"}`` |
| GET | ``palette`` | built-in templates; OPs next to the document (``?path=``), in the root, configured modules, ``dflow_lab.ops`` entry points |
| GET | ``palette/stamp`` | ``{"stamp"}``: a fingerprint of the ``.py`` files beside the document (``?path=``) and in the root, polled by the editor to notice OPs written outside JupyterLab |
| GET, POST | ``workflows`` | list (``?engine=``) / run or submit ``{"graph", "engine", "path"?}`` (``path``: the document) |
| GET, DELETE | ``workflows/<engine>/<name>`` | summary, graph and folded status / delete |
| GET | ``workflows/<engine>/<name>/details`` | a step's inputs, outputs with previews, logs (``?path=&item=``) |
| GET | ``workflows/<engine>/<name>/logs`` | log lines of a node (``?node=``) or of the whole run |
| GET | ``workflows/<engine>/<name>/artifacts`` | one artifact's preview (``?path=&io=&name=&item=``) |
| POST | ``workflows/<engine>/<name>/actions`` | ``{"action": stop/terminate/suspend/resume/retry/resubmit}`` |
| GET | ``workflows/<engine>/<name>/events`` | the live stream (server-sent events, see ``stream.py``) |
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence

import tornado.web
from jupyter_server.base.handlers import APIHandler

from ..argo.reuse import MODES
from ..code_gen import gen_code
from ..engine import Engine, control
from ..errors import WorkflowError
from ..graph.issues import GraphValidationError
from ..graph.validate import validate
from ..python.discovery import folder_entries, folder_stamp, importable
from ..python.newop import write_function_op
from ..rerun import DOCUMENT_LABEL, document_label, reuse_set
from ..runview.compare import compare_runs, fanout_items
from ..runview.history import summary
from ..runview.live import run_view
from ..runview.status import PHASES, fold_status, planned_items
from ..workflow import Workflow
from ..yamlsafe import load_json
from .documents import DocumentError, dump, parse
from .engines import ENGINES, Engines, EngineUnavailable, apply_settings
from .palette import discover
from .settings import ServerSettings, SettingsError

logger = logging.getLogger(__name__)

NAME_RE = r"[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?"
LOG_LINES = 2000
ACTIONS = ("stop", "terminate", "suspend", "resume", "retry", "resubmit")


class ApiError(tornado.web.HTTPError):
    """An HTTP error whose ``message`` is shown to the user, with validation ``issues`` when there are some."""

    def __init__(self, status: int, message: str, issues: list[dict] | None = None) -> None:
        super().__init__(status, log_message=message.replace("%", "%%"))
        self.message = message
        self.issues = issues


class DflowLabContext:
    """What the handlers share: settings, engines, extra OP modules, and a thread pool for blocking calls."""

    def __init__(self, settings: ServerSettings, engines: Engines, op_modules: list[str],
                 root: Path | None = None) -> None:
        self.settings = settings
        self.engines = engines
        self.op_modules = list(op_modules)
        self.root = (root or Path.cwd()).resolve()  # the server's root: documents' paths are relative to it
        self.pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="dflow-lab")


class BaseHandler(APIHandler):
    """JSON in and out, user errors as 4xx with a clear message, blocking work off the event loop."""

    ctx: DflowLabContext

    def initialize(self, ctx: DflowLabContext) -> None:
        self.ctx = ctx

    def body(self) -> dict[str, Any]:
        try:
            data = load_json(self.request.body or b"{}", source=self.request.path)  # depth-bounded
        except ValueError as e:
            raise ApiError(400, f"{self.request.path}: the request body is not JSON: {e}") from e
        if not isinstance(data, dict):
            raise ApiError(400, f"{self.request.path}: the request body must be a JSON object")
        return data

    def graph_of(self, data: dict[str, Any]) -> dict[str, Any]:
        graph = data.get("graph")
        if not isinstance(graph, dict):
            raise ApiError(400, f"{self.request.path}: field 'graph' must be a graph document (a JSON object)")
        return graph

    async def blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` in the extension's thread pool, turning user errors into 4xx answers."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self.ctx.pool, lambda: fn(*args))
        except (tornado.web.HTTPError, ApiError):
            raise
        except GraphValidationError as e:
            raise ApiError(400, self.ctx.settings.redact(str(e)), [i.to_dict() for i in e.issues]) from e
        except (WorkflowError, DocumentError, SettingsError, ValueError, ImportError) as e:
            raise ApiError(400, self.ctx.settings.redact(str(e))) from e
        except EngineUnavailable as e:
            raise ApiError(503, self.ctx.settings.redact(str(e))) from e
        except RuntimeError as e:  # the Argo server's answer (ArgoApiError carries its HTTP status)
            status = getattr(e, "status", None)
            if not isinstance(status, int) or not 400 <= status < 600:
                raise
            # Argo refusing our token is not the browser's session failing: never answer 401/403 for it
            raise ApiError(502 if status in (401, 403) else status, self.ctx.settings.redact(str(e))) from e

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            message = exc.message
        elif isinstance(exc, tornado.web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        else:
            message = self._reason or "internal error"
            if exc is not None:
                message = f"{type(exc).__name__}: {exc}"
        body: dict[str, Any] = {"message": self.ctx.settings.redact(str(message)), "status": status_code}
        if isinstance(exc, ApiError) and exc.issues is not None:
            body["issues"] = exc.issues
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, tornado.web.HTTPError):  # a user error: one line, no traceback
            logger.info("dflow-lab: %s %s -> %s", self.request.method, self.request.path, value.status_code)
        else:
            logger.error("dflow-lab: %s %s failed: %s", self.request.method, self.request.path,
                         self.ctx.settings.redact(f"{typ.__name__}: {value}"))

    def backend(self, engine: str) -> Engine:
        if engine not in ENGINES:
            raise ApiError(404, f"unknown engine {engine!r}: use one of {list(ENGINES)}")
        try:
            return self.ctx.engines.backend(engine)
        except EngineUnavailable as e:
            raise ApiError(503, self.ctx.settings.redact(str(e))) from e

    def document_folders(self, path: Any) -> list[Path]:
        """The folder of document ``path`` (relative to the server's root, inside it) and the root itself:
        where Python OPs are looked for and imported from."""
        if path in (None, ""):
            return [self.ctx.root]
        if not isinstance(path, str) or "\0" in path or path.startswith(("/", "\\")):
            raise ApiError(400, f"{self.request.path}: 'path' must be a document path relative to the server's root")
        folder = (self.ctx.root / path).parent.resolve()
        if folder != self.ctx.root and self.ctx.root not in folder.parents:
            raise ApiError(400, f"{self.request.path}: document path {path!r} is outside the server's root")
        return list(dict.fromkeys([folder, self.ctx.root]))

    async def workflow_object(self, engine: str, name: str) -> dict[str, Any]:
        backend = self.backend(engine)
        try:
            return await self.blocking(backend.get, name)
        except ApiError as e:
            if e.status_code in (400, 404):  # the backends' errors for an unknown name
                raise ApiError(404, e.message) from e
            raise


# -- settings, graphs, documents, palette ------------------------------------------------------------

class SettingsHandler(BaseHandler):
    """Public settings and which secrets are set (GET); an update, secrets write-only (PUT)."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(self.ctx.settings.public())

    @tornado.web.authenticated
    def put(self) -> None:
        try:
            self.ctx.settings.update(self.body())
        except SettingsError as e:
            raise ApiError(400, str(e)) from e
        apply_settings(self.ctx.settings)
        self.finish(self.ctx.settings.public())


def _problems(graph: dict[str, Any]) -> list[Any]:
    return validate(graph)


def _require_valid(graph: dict[str, Any]) -> None:
    """Refuse an invalid graph before anything is generated, written or submitted."""
    issues = _problems(graph)
    if issues:
        raise GraphValidationError(issues, workflow=str(graph.get("name")))


class ValidateHandler(BaseHandler):
    """The validation issues of a graph."""

    @tornado.web.authenticated
    async def post(self) -> None:
        graph = self.graph_of(self.body())
        issues = await self.blocking(_problems, graph)
        self.finish({"issues": [issue.to_dict() for issue in issues]})


def _code(graph: dict[str, Any]) -> dict[str, str]:
    _require_valid(graph)
    name = re.sub(r"\W", "_", str(graph.get("name") or "workflow"))
    return {"code": gen_code(graph), "filename": f"{name}_workflow.py"}


class CodeHandler(BaseHandler):
    """The Python code that rebuilds a (valid) graph, and a file name for it."""

    @tornado.web.authenticated
    async def post(self) -> None:
        graph = self.graph_of(self.body())
        self.finish(await self.blocking(_code, graph))


class ParseHandler(BaseHandler):
    """A workflow file's text as a graph (graph JSON/YAML, or Argo YAML read into the model)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = self.body()
        text = data.get("text")
        if not isinstance(text, str):
            raise ApiError(400, "documents/parse: field 'text' must be the file's text")
        self.finish(await self.blocking(parse, text, str(data.get("path") or "<document>")))


class DumpHandler(BaseHandler):
    """A graph as the text of a workflow file (JSON, YAML or Argo YAML)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = self.body()
        graph = self.graph_of(data)
        text = await self.blocking(dump, graph, str(data.get("format") or "json"), str(data.get("path") or "<document>"))
        self.finish({"text": text})


class PaletteHandler(BaseHandler):
    """OP templates from the configured modules and the ``dflow_lab.ops`` entry points."""

    @tornado.web.authenticated
    async def get(self) -> None:
        extra = [m.strip() for m in self.get_query_arguments("module") if m.strip()]
        modules = list(dict.fromkeys(self.ctx.op_modules + list(self.ctx.settings.get("opModules")) + extra))
        folders = self.document_folders(self.get_query_argument("path", ""))
        self.finish(await self.blocking(discover, modules, folders, self.ctx.root))


class PaletteStampHandler(BaseHandler):
    """A fingerprint of the ``.py`` files where the document's palette looks for OPs (names, sizes, mtimes;
    ``discovery.folder_stamp``, bounded): the editor polls it and asks for the palette again when it
    changes, so that a file written outside JupyterLab shows up without a reload."""

    @tornado.web.authenticated
    async def get(self) -> None:
        folders = self.document_folders(self.get_query_argument("path", ""))
        self.finish({"stamp": await self.blocking(folder_stamp, folders)})


def _new_op(folder: Path, root: Path, data: dict[str, Any]) -> dict[str, Any]:
    module = str(data.get("module") or "ops")
    written = write_function_op(folder, module, data.get("name"), data.get("inputs") or [],
                                data.get("outputs") or [], data.get("body"))
    rel = written["file"].resolve().relative_to(root).as_posix()
    entries, errors = folder_entries(folder, root)
    op = f"{module}:{data.get('name')}"
    entry = next((e for e in entries if e["template"].get("op") == op), None)
    if entry is None:
        why = "; ".join(e["message"] for e in errors if e["source"] == rel) or "it was not found after writing"
        raise ValueError(f"New Python OP: {rel} was written but its OP cannot be offered: {why}")
    return {"entry": entry, "file": rel, "line": written["line"]}


class NewOpHandler(BaseHandler):
    """Write a new function OP into a module beside the document (``dflow_lab.python.newop``)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        data = self.body()
        if not isinstance(data.get("path"), str) or not data["path"]:
            raise ApiError(400, f"{self.request.path}: 'path' (the document) is required")
        folder = self.document_folders(data["path"])[0]
        self.set_status(201)
        self.finish(await self.blocking(_new_op, folder, self.ctx.root, data))


# -- workflows ---------------------------------------------------------------------------------------

def _submit(engines: Engines, engine: str, graph: dict[str, Any], folders: Sequence[Path] = (),
            document: Path | None = None, rerun: dict[str, Any] | None = None,
            doc_path: str | None = None) -> dict[str, Any]:
    """Run a graph; ``document``: the file it came from (its runs are labelled, the run history);
    ``rerun``: ``{"mode": "only"|"from"|"failed", "step": name, "run": earlier run}`` (dflow_lab.rerun)."""
    _require_valid(graph)
    entry = (graph.get("templates") or {}).get(graph.get("entrypoint")) or {}
    if not entry.get("nodes"):
        raise ValueError(f"workflow {graph.get('name')!r} is empty: add a step to its entrypoint "
                         f"{graph.get('entrypoint')!r} before running it")
    importable(graph, folders)  # OPs found next to the document import from there (and in its steps)
    wf = Workflow.from_graph(graph)
    if document is not None:
        wf.labels = {**(wf.labels or {}), DOCUMENT_LABEL: document_label(str(document))}
        if doc_path:  # where the monitor finds the document again (relative to the server's root)
            wf.annotations = {**(wf.annotations or {}), "dflow-lab/document-path": doc_path}
    manifest = wf.to_dict()
    reuse: dict[str, Any] = {}
    if rerun:
        run = engines.backend(engine).get(rerun["run"])
        reuse["reuse_step"] = reuse_set(manifest, run, rerun.get("step"), rerun["mode"])
    obj = engines.backend(engine).submit(manifest, wait=False, **reuse)
    engines.remember_graph(engine, obj["metadata"]["name"], graph)
    return obj


def _rerun_of(raw: Any, engine: str) -> dict[str, Any] | None:
    """The ``rerun`` field of a run request, checked: ``{"mode", "step"?, "run"}``."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or raw.get("mode") not in MODES:
        raise ApiError(400, f"workflows: field 'rerun' must be {{mode: one of {list(MODES)}, step, run}}")
    if not isinstance(raw.get("run"), str) or not raw["run"]:
        raise ApiError(400, "workflows: field 'rerun.run' must name the earlier run whose results are reused")
    step = raw.get("step")
    if raw["mode"] != "failed" and not (isinstance(step, str) and step):
        raise ApiError(400, f"workflows: re-run mode {raw['mode']!r} needs 'rerun.step' (a step name)")
    return {"mode": raw["mode"], "step": step if raw["mode"] != "failed" else None, "run": raw["run"]}


def _list(engines: Engines, which: list[str], labels: dict[str, str] | None = None) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for engine in which:
        try:
            objs = engines.backend(engine).list(labels) if labels else engines.backend(engine).list()
        except Exception as e:  # one engine down must not hide the other's workflows
            errors[engine] = engines.settings.redact(f"{type(e).__name__}: {e}")
            continue
        rows.extend(summary(obj, engine) for obj in objs)
    rows.sort(key=lambda r: r.get("created") or r.get("startedAt") or "", reverse=True)
    return {"workflows": rows, "errors": errors}


class WorkflowsHandler(BaseHandler):
    """The workflows of the configured engines (GET); run or submit a graph (POST)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        engine = self.get_query_argument("engine", "")
        which = [engine] if engine else self.ctx.engines.configured()
        for e in which:
            if e not in ENGINES:
                raise ApiError(400, f"unknown engine {e!r}: use one of {list(ENGINES)}")
        labels = None
        document = self.get_query_argument("document", "")
        if document:  # the run history of one document

            self.document_folders(document)  # inside the root
            labels = {DOCUMENT_LABEL: document_label(str((self.ctx.root / document).resolve()))}
        self.finish(await self.blocking(_list, self.ctx.engines, which, labels))

    @tornado.web.authenticated
    async def post(self) -> None:
        data = self.body()
        graph = self.graph_of(data)
        engine = str(data.get("engine") or "local")
        self.backend(engine)  # 404/503 before any work
        folders = self.document_folders(data.get("path"))
        document = (self.ctx.root / data["path"]).resolve() if data.get("path") else None
        rerun = _rerun_of(data.get("rerun"), engine)
        obj = await self.blocking(_submit, self.ctx.engines, engine, graph, folders, document, rerun,
                                  data.get("path") or None)
        self.set_status(201)
        self.finish({"name": obj["metadata"]["name"], "engine": engine, "workflow": summary(obj, engine)})


def _workflow(engines: Engines, engine: str, name: str) -> dict[str, Any]:
    obj = engines.backend(engine).get(name)
    nodes = (obj.get("status") or {}).get("nodes") or {}
    graph, graph_error = engines.graph_of(engine, name), None
    if graph is None:  # submitted elsewhere: the graph of its manifest
        try:
            graph = Workflow.from_dict(obj).to_graph()
        except Exception as e:  # a manifest the model cannot draw: its status still shows
            graph_error = f"{type(e).__name__}: {e}"
    status = {path: {k: v for k, v in entry.items() if k != "ids"}
              for path, entry in fold_status(nodes.values(), name,
                                             planned_items((obj.get("status") or {}).get("dflowLabPlan"), name)).items()}
    return {"workflow": summary(obj, engine), "graph": graph, "graph_error": graph_error, "status": status}


class WorkflowHandler(BaseHandler):
    """One run: its summary, graph and status per canvas node (GET); delete it (DELETE)."""

    @tornado.web.authenticated
    async def get(self, engine: str, name: str) -> None:
        await self.workflow_object(engine, name)  # 404 for an unknown name
        self.finish(await self.blocking(_workflow, self.ctx.engines, engine, name))

    @tornado.web.authenticated
    async def delete(self, engine: str, name: str) -> None:
        await self.workflow_object(engine, name)
        await self.blocking(self.backend(engine).delete, name)
        self.ctx.engines.forget_graph(engine, name)
        self.set_status(204)
        self.finish()


def _compare(backend: Engine, name: str, other: str) -> dict[str, Any]:
    return compare_runs(backend.get(other), backend.get(name))


class CompareHandler(BaseHandler):
    """Compare this run (``b``) with an earlier one (``?with=<run>``, ``a``): a state per canvas node."""

    @tornado.web.authenticated
    async def get(self, engine: str, name: str) -> None:
        other = self.get_query_argument("with", "")
        if not other:
            raise ApiError(400, f"workflow {name!r}: compare needs ?with=<the other run>")
        await self.workflow_object(engine, name)
        await self.workflow_object(engine, other)
        self.finish(await self.blocking(_compare, self.backend(engine), name, other))


def _items(backend: Engine, name: str, path: str, phase: str | None, offset: int, limit: int) -> dict[str, Any]:
    nodes = (backend.get(name).get("status") or {}).get("nodes") or {}
    return fanout_items(nodes.values(), name, path, phase, offset, limit)


class ItemsHandler(BaseHandler):
    """One page of a fan-out's items (``?path=<step>&phase=&offset=&limit=``, at most 200 a page)."""

    @tornado.web.authenticated
    async def get(self, engine: str, name: str) -> None:
        path = self.get_query_argument("path", "")
        phase = self.get_query_argument("phase", "") or None
        if not path:
            raise ApiError(400, f"workflow {name!r}: items needs ?path=<the fan-out step's canvas path>")
        if phase is not None and phase not in PHASES:
            raise ApiError(400, f"workflow {name!r}: phase {phase!r} is not one of {list(PHASES)}")
        await self.workflow_object(engine, name)
        offset, limit = _int_arg(self, "offset") or 0, _int_arg(self, "limit") or 200
        self.finish(await self.blocking(_items, self.backend(engine), name, path, phase, offset, limit))


def _details(backend: Engine, name: str, path: str, item: int | None) -> dict[str, Any]:
    return run_view(backend, name).details(path, item)


def _int_arg(handler: BaseHandler, key: str) -> int | None:
    raw = handler.get_query_argument(key, "")
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError as e:
        raise ApiError(400, f"query argument {key!r} must be an integer, not {raw!r}") from e


class DetailsHandler(BaseHandler):
    """What the monitor shows for one step: inputs, outputs with previews, logs, actions."""

    @tornado.web.authenticated
    async def get(self, engine: str, name: str) -> None:
        path = self.get_query_argument("path", "")
        if not path:
            raise ApiError(400, f"workflow {name!r}: query argument 'path' (the step's canvas path) is required")
        await self.workflow_object(engine, name)
        self.finish(await self.blocking(_details, self.backend(engine), name, path, _int_arg(self, "item")))


class ArtifactHandler(BaseHandler):
    """The preview of one artifact of a step."""

    @tornado.web.authenticated
    async def get(self, engine: str, name: str) -> None:
        path = self.get_query_argument("path", "")
        art = self.get_query_argument("name", "")
        io = self.get_query_argument("io", "outputs")
        if not path or not art or io not in ("inputs", "outputs"):
            raise ApiError(400, f"workflow {name!r}: artifacts needs ?path=<step>&name=<artifact>&io=inputs|outputs")
        await self.workflow_object(engine, name)
        details = await self.blocking(_details, self.backend(engine), name, path, _int_arg(self, "item"))
        if details.get("error"):
            raise ApiError(404, f"workflow {name!r}, step {path!r}: {details['error']}")
        found = next((p for p in details.get(io, []) if p.get("kind") == "artifact" and p.get("name") == art), None)
        if found is None:
            raise ApiError(404, f"workflow {name!r}, step {path!r}: no {io[:-1]} artifact {art!r}")
        self.finish({"name": art, "step": path, "io": io, "preview": found.get("preview")})


def _logs(backend: Engine, name: str, node: str | None) -> dict[str, Any]:
    lines = list(backend.logs(name, node or None))
    return {"lines": lines[-LOG_LINES:], "truncated": len(lines) > LOG_LINES}


class LogsHandler(BaseHandler):
    """Log lines of a node, or of the whole run (the last LOG_LINES)."""

    @tornado.web.authenticated
    async def get(self, engine: str, name: str) -> None:
        await self.workflow_object(engine, name)
        node = self.get_query_argument("node", "") or None
        self.finish(await self.blocking(_logs, self.backend(engine), name, node))


def _failed_ids(backend: Engine, name: str, path: str) -> list[str]:
    """The ids of the failed status nodes of canvas node ``path`` (all items of a fan-out)."""
    nodes = (backend.get(name).get("status") or {}).get("nodes") or {}
    entry = fold_status(nodes.values(), name).get(path)
    if entry is None:
        raise ValueError(f"workflow {name!r} has no step {path!r}")
    failed = [i for i in entry["ids"] if (nodes.get(i) or {}).get("phase") in ("Failed", "Error")]
    if not failed:
        raise ValueError(f"workflow {name!r}, step {path!r}: nothing failed there to retry")
    return failed


def _act(backend: Engine, name: str, action: str, node_ids: list[str] | None, path: str | None) -> dict[str, Any]:
    if action == "retry":
        backend.retry(name, node_ids=_failed_ids(backend, name, path) if path else node_ids)
        return {"name": name}
    if action == "resubmit":
        return {"name": backend.resubmit(name)["metadata"]["name"]}
    control(backend, action, name)
    return {"name": name}


class ActionHandler(BaseHandler):
    """Stop, terminate, suspend, resume, retry (all failed steps, ``node_ids``, or those of one step ``path``)
    or resubmit a run."""

    @tornado.web.authenticated
    async def post(self, engine: str, name: str) -> None:
        data = self.body()
        action = data.get("action")
        if action not in ACTIONS:
            raise ApiError(400, f"workflow {name!r}: field 'action' must be one of {list(ACTIONS)}, not {action!r}")
        node_ids = data.get("node_ids")
        if node_ids is not None and not (isinstance(node_ids, list) and all(isinstance(i, str) for i in node_ids)):
            raise ApiError(400, f"workflow {name!r}: field 'node_ids' must be a list of node ids")
        path = data.get("path")
        if path is not None and not (isinstance(path, str) and path):
            raise ApiError(400, f"workflow {name!r}: field 'path' must be a step's canvas path")
        await self.workflow_object(engine, name)
        result = await self.blocking(_act, self.backend(engine), name, action, node_ids, path)
        self.finish({"engine": engine, **result})
