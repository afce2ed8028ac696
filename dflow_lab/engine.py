"""The engine contract: what the model, the CLI, the API server and the Jupyter extension need of an
engine, and the one place where the engine of a configuration is chosen.

Two engines implement it: :class:`dflow_lab.local.backend.LocalBackend` (this machine, state in a SQLite
workspace) and :class:`dflow_lab.argo.client.ArgoBackend` (an Argo server or a ``dflow-lab server``).
Workflows cross it as Argo manifests (dicts) and come back as Argo workflow objects (dicts with
``metadata``, ``spec``, ``status.nodes``); nothing of the model crosses it.

This module imports nothing of the model and nothing of the engines: the engines import it (the
protocol and its data helpers :func:`now_iso`, :func:`reuse_entry`), so the implementations are named in
:data:`ENGINES` by module path and :func:`select_engine` loads the chosen one on call (``importlib``): the
dependency points from the engines to the contract, never back, and ``import dflow_lab`` does not load
the Argo client's generated package (about 0.25 s) or the local engine until one is asked for.
"""

from __future__ import annotations

import builtins
import copy
import importlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from .config import config, effective_mode
from .errors import CapabilityNotAvailable

__all__ = ["CONTROLS", "ENGINES", "Engine", "Manifest", "WorkflowObject", "control", "argo_engine", "local_engine",
           "now_iso", "reuse_entry", "select_engine"]

#: an Argo Workflow manifest (``apiVersion``, ``kind``, ``metadata``, ``spec``) as decoded JSON/YAML
Manifest = dict[str, Any]
#: an Argo workflow object as an engine answers it: ``metadata``, ``spec``, ``status`` (with ``nodes``)
WorkflowObject = dict[str, Any]

TERMINAL_PHASES = ("Succeeded", "Failed", "Error")


@runtime_checkable
class Engine(Protocol):
    """What the model, the CLI, the API server and the Jupyter extension may ask of an engine.

    Workflows are named by ``metadata.name``; every method raises :class:`dflow_lab.errors.WorkflowError`
    (or the Argo client's ``ArgoApiError``) naming the workflow when it cannot do what is asked.
    Capabilities that not every engine has are flags, not probed attributes.
    """

    #: whether :meth:`read_log` reads a log from a byte offset (the local engine); without it, a log is
    #: re-read whole through :meth:`logs` and offsets count lines
    log_offsets: ClassVar[bool]

    def submit(self, manifest: Manifest, *, wait: bool = ...,
               reuse_step: builtins.list[Any] | None = None) -> WorkflowObject:
        """Start the workflow of an Argo manifest (and wait for its end when ``wait``); the workflow object.
        ``reuse_step``: steps of earlier runs whose outputs steps with the same ``dflow_key`` reuse."""

    def get(self, name: str, fields: builtins.list[str] | None = None) -> WorkflowObject:
        """The workflow object (``metadata``, ``spec``, ``status`` with ``nodes``), projected to ``fields``."""

    def list(self, labels: dict[str, str] | None = None) -> builtins.list[WorkflowObject]:
        """The workflows whose labels include ``labels``."""

    def list_archived(self, labels: dict[str, str] | None = None) -> builtins.list[WorkflowObject]:
        """Finished workflows (Argo's archive; locally the finished workflows of the workspace)."""

    def wait(self, name: str, timeout: float | None = None) -> WorkflowObject:
        """The workflow object once it has finished (``TimeoutError`` after ``timeout`` seconds)."""

    def events(self, name: str, after: int = 0, timeout: float = 0) -> builtins.list[dict[str, Any]]:
        """Changes of the workflow after event ``after`` (each with ``seq``); waits up to ``timeout`` s."""

    def logs(self, name: str, node_id: str | None = None) -> Iterator[str]:
        """The log lines of the workflow's steps (or of one node)."""

    def read_log(self, name: str, node_id: str, offset: int = 0, max_bytes: int = ...) -> tuple[str, int, bool]:
        """``(text, end, skipped)`` of a node's log from ``offset`` (engines with ``log_offsets`` only)."""

    def delete(self, name: str) -> None: ...
    def retry(self, name: str, node_ids: builtins.list[str] | None = None) -> None: ...
    def resubmit(self, name: str, memoized: bool = False) -> WorkflowObject: ...
    def stop(self, name: str) -> None: ...
    def terminate(self, name: str) -> None: ...
    def suspend(self, name: str) -> None: ...
    def resume(self, name: str) -> None: ...

    def set_script(self, name: str, node_id: str, source: str) -> None:
        """Replace the script a node runs when it is retried (``ArgoStep.set_script``)."""


def now_iso() -> str:
    """The current UTC time in Argo's format (``2024-01-02T03:04:05Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def reuse_entry(step: Any) -> dict[str, Any]:
    """A reused step (``ArgoStep`` or status-node dict) as ``{"key", "type", "outputs"}``."""
    data = step.recover() if hasattr(step, "recover") else copy.deepcopy(step)
    key = getattr(step, "key", None) or next(
        (p.get("value") for p in ((data.get("inputs") or {}).get("parameters") or [])
         if isinstance(p, dict) and p.get("name") == "dflow_key"), None)
    outputs = data.get("outputs") or {}
    out: dict[str, Any] = {}
    params = outputs.get("parameters") or []
    if isinstance(params, dict):
        params = list(params.values())
    out_params = []
    for p in params:
        p = p.recover() if hasattr(p, "recover") else p
        if p.get("save_as_artifact"):
            continue
        out_params.append({k: v for k, v in p.items() if k in ("name", "value", "globalName", "description")})
    arts = outputs.get("artifacts") or []
    if isinstance(arts, dict):
        arts = list(arts.values())
    out_arts = [{k: v for k, v in (a.recover() if hasattr(a, "recover") else a).items()
                 if k not in ("modified", "local_path")} for a in arts]
    if out_params:
        out["parameters"] = out_params
    if out_arts:
        out["artifacts"] = out_arts
    for k in ("result", "exitCode"):
        if k in outputs:
            out[k] = outputs[k]
    return {"key": key, "type": data.get("type", "Pod"), "outputs": out}


CONTROLS = ("stop", "terminate", "suspend", "resume")


def control(engine: Engine, action: str, name: str) -> None:
    """Apply one of the :data:`CONTROLS` to workflow ``name`` (``ValueError`` for another action)."""
    actions = {"stop": engine.stop, "terminate": engine.terminate, "suspend": engine.suspend,
               "resume": engine.resume}
    if action not in actions:
        raise ValueError(f"workflow {name!r}: no control {action!r}; use one of {list(CONTROLS)}")
    actions[action](name)


#: the implementations of :class:`Engine`, by kind: ``"module:Class"`` (loaded by :func:`load_engine`)
ENGINES: dict[str, str] = {
    "local": "dflow_lab.local.backend:LocalBackend",
    "argo": "dflow_lab.argo.client:ArgoBackend",
}
_WHAT = {"local": ("the local engine", "the local engine (dflow_lab.local)"),
         "argo": ("Argo mode", "the Argo backend (dflow_lab.argo.client)")}


def load_engine(kind: str) -> type:
    """The engine class of ``kind`` (a key of :data:`ENGINES`), imported on first use."""
    if kind not in ENGINES:
        raise ValueError(f"no engine {kind!r}; the engines are {sorted(ENGINES)}")
    engine_class: type = _load(ENGINES[kind], kind)
    return engine_class


def _load(path: str, kind: str) -> Any:
    """The object ``"module:name"`` of an engine's package, imported on call (see the module docstring)."""
    module, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as e:
        feature, needs = _WHAT.get(kind, (f"the {kind} engine", module))
        raise CapabilityNotAvailable(feature, needs) from e


def local_engine(workdir: str | Path | None = None) -> Engine:
    """The local engine over the workspace ``workdir`` (default ``config["local_workdir"]``)."""
    engine: Engine = load_engine("local")(workdir if workdir is not None else config.get("local_workdir"))
    return engine


def prewarm_local_workers() -> None:
    """Start this process's warm Python OP workers now, in the background (see ``WorkerPool.prewarm``):
    a local run submitted next finds them up or starting instead of starting them on demand."""
    _load("dflow_lab.local.engine:EngineHost", "local").get().prewarm()


def argo_engine(host: str | None = None, token: str | None = None, namespace: str | None = None) -> Engine:
    """An Argo server's engine (each argument defaults to the configuration's)."""
    engine: Engine = load_engine("argo")(host=host, token=token, namespace=namespace)
    return engine


def uses_argo(host: str | None = None) -> bool:
    """Whether the configuration points at an Argo server: ``config["mode"]`` is ``"argo"``/``"default"``,
    or a host is given or configured (``config["host"]``, ``DFLOW_HOST``)."""
    return effective_mode() == "argo" or bool(host or config.get("host"))


def select_engine(host: str | None = None, token: str | None = None, namespace: str | None = None) -> Engine:
    """The engine a workflow with these settings (each defaulting to the configuration's) goes to."""
    if uses_argo(host):
        return argo_engine(host=host or config.get("host"), token=token or config.get("token"),
                           namespace=namespace or config.get("namespace"))
    return local_engine()
