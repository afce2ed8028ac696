"""The engines the server extension talks to: the local workspace and, when configured, an Argo server.

Both are the Backend interface of docs/internals.md, so listing, status, logs and events never ask which
engine ran a workflow. The rows the Workflows side panel shows are `dflow_lab.runview.history.summary`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import config, s3_config
from ..engine import Engine, argo_engine, local_engine
from ..errors import CapabilityNotAvailable
from .settings import ServerSettings

ENGINES = ("local", "argo")


class EngineUnavailable(RuntimeError):
    """The engine asked for cannot be used (Argo not configured, or its client missing)."""


class Engines:
    """Backends by name; the local one lives in ``local_workdir``, Argo's comes from the settings."""

    def __init__(self, settings: ServerSettings, local_workdir: str | Path) -> None:
        self.settings = settings
        self.local_workdir = Path(local_workdir)
        self._local: Engine | None = None

    def backend(self, engine: str) -> Engine:
        """The backend of ``engine`` (``"local"`` or ``"argo"``)."""
        if engine == "local":
            if self._local is None:
                self._local = local_engine(self.local_workdir)
            return self._local
        if engine == "argo":
            host = self.settings.get("argoHost")
            if not host:
                raise EngineUnavailable("Argo is not configured: set the Argo host in Settings → dflow-lab")
            try:
                return argo_engine(host=host, token=self.settings.secret("argoToken"),
                                   namespace=self.settings.get("namespace") or None)
            except CapabilityNotAvailable as e:
                raise EngineUnavailable(f"the Argo client is not available in this installation: {e}") from e
        raise EngineUnavailable(f"unknown engine {engine!r}: use one of {list(ENGINES)}")

    def _graph_file(self, engine: str, name: str) -> Path:
        return self.local_workdir / "lab-graphs" / engine / f"{name}.json"

    def remember_graph(self, engine: str, name: str, graph: dict[str, Any]) -> None:
        """Keep the graph (with its layout) a run was submitted from, for its monitor."""
        path = self._graph_file(engine, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(graph))

    def graph_of(self, engine: str, name: str) -> dict[str, Any] | None:
        """The graph run ``name`` was submitted from here, or ``None`` (a run submitted elsewhere)."""
        path = self._graph_file(engine, name)
        return json.loads(path.read_text()) if path.is_file() else None

    def forget_graph(self, engine: str, name: str) -> None:
        """Drop the graph kept for a run that was deleted."""
        self._graph_file(engine, name).unlink(missing_ok=True)

    def configured(self) -> list[str]:
        """The engines that can be listed now."""
        return ["local"] + (["argo"] if self.settings.get("argoHost") else [])


_S3_KEYS = ("endpoint", "bucket_name", "secure", "access_key", "secret_key")
_defaults: dict[str, Any] = {}


def apply_settings(settings: ServerSettings) -> None:
    """Make the server process's model configuration follow the settings (default image, artifact store);
    a setting cleared again gives back the configuration the server started with."""
    if not _defaults:
        _defaults.update(image=config["image"], s3={k: s3_config[k] for k in _S3_KEYS})
    config["image"] = settings.get("defaultImage") or _defaults["image"]
    s3 = dict(_defaults["s3"])
    if settings.get("artifactEndpoint"):
        s3.update(
            endpoint=settings.get("artifactEndpoint"),
            bucket_name=settings.get("artifactBucket") or s3["bucket_name"],
            secure=bool(settings.get("artifactSecure")),
            access_key=settings.get("artifactAccessKey") or s3["access_key"],
            secret_key=settings.secret("artifactSecretKey") or s3["secret_key"],
        )
    s3_config.update(s3)
