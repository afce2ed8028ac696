"""The engine contract: what the model, the CLI, the API server and the Jupyter extension need of an
engine, and the one place where the engine of a configuration is chosen.

Two engines implement it: :class:`dflow_lab.local.backend.LocalBackend` (this machine, state in a SQLite
workspace) and :class:`dflow_lab.argo.client.ArgoBackend` (an Argo server or a ``dflow-lab server``).
Workflows cross it as Argo manifests (dicts) and come back as Argo workflow objects (dicts with
``metadata``, ``spec``, ``status.nodes``); nothing of the model crosses it.

This module imports nothing of the model; the engines import its data helpers (:func:`now_iso`,
:func:`reuse_entry`), so :func:`select_engine` loads the chosen implementation on call.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .config import config, effective_mode
from .errors import CapabilityNotAvailable

__all__ = ["argo_engine", "local_engine", "now_iso", "reuse_entry", "select_engine"]


def now_iso() -> str:
    """The current UTC time in Argo's format (``2024-01-02T03:04:05Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def reuse_entry(step: Any) -> dict:
    """A reused step (``ArgoStep`` or status-node dict) as ``{"key", "type", "outputs"}``."""
    data = step.recover() if hasattr(step, "recover") else copy.deepcopy(step)
    key = getattr(step, "key", None) or next(
        (p.get("value") for p in ((data.get("inputs") or {}).get("parameters") or [])
         if isinstance(p, dict) and p.get("name") == "dflow_key"), None)
    outputs = data.get("outputs") or {}
    out: dict = {}
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


def local_engine(workdir: str | Path | None = None) -> Any:
    """The local engine over the workspace ``workdir`` (default ``config["local_workdir"]``)."""
    try:
        from .local.backend import LocalBackend  # lazy: the engine imports this module's helpers
    except ImportError as e:
        raise CapabilityNotAvailable("the local engine", "the local engine (dflow_lab.local)") from e
    return LocalBackend(workdir if workdir is not None else config.get("local_workdir"))


def argo_engine(host: str | None = None, token: str | None = None, namespace: str | None = None) -> Any:
    """An Argo server's engine (each argument defaults to the configuration's)."""
    try:
        from .argo.client import ArgoBackend  # lazy: the client imports this module's helpers
    except ImportError as e:
        raise CapabilityNotAvailable("Argo mode", "the Argo backend (dflow_lab.argo.client)") from e
    return ArgoBackend(host=host, token=token, namespace=namespace)


def uses_argo(host: str | None = None) -> bool:
    """Whether the configuration points at an Argo server: ``config["mode"]`` is ``"argo"``/``"default"``,
    or a host is given or configured (``config["host"]``, ``DFLOW_HOST``)."""
    return effective_mode() == "argo" or bool(host or config.get("host"))


def select_engine(host: str | None = None, token: str | None = None, namespace: str | None = None) -> Any:
    """The engine a workflow with these settings (each defaulting to the configuration's) goes to."""
    if uses_argo(host):
        return argo_engine(host=host or config.get("host"), token=token or config.get("token"),
                           namespace=namespace or config.get("namespace"))
    return local_engine()
