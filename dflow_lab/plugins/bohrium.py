"""dflow's ``dflow.plugins.bohrium``: the Bohrium platform's executor, context, storage and login.

Every name dflow scripts import exists, so a script imports and builds its workflow; using any of them
(logging in, creating a job group, rendering a step, storing an artifact) raises an error naming what it
needs — a Bohrium account and the Bohrium service — before anything is submitted. ``config`` and
``s3_config`` are dflow's settings dicts (``username``, ``password``, ``ticket``, ``project_id``…); a
password or ticket put there is never logged.
"""

from __future__ import annotations

from typing import Any, Optional

from ..executors.base import Executor
from ._needs import ServiceNeeded
from .dispatcher import DispatcherArtifact

__all__ = ["BohriumContext", "BohriumDatasetsArtifact", "BohriumExecutor", "TiefblueClient", "config",
           "create_job_group", "login", "s3_config"]

config = {"username": None, "phone": None, "password": None, "authorization": None, "ticket": None,
          "project_id": None, "job_group_id": None, "bohrium_url": "https://bohrium.dp.tech",
          "tiefblue_url": "https://tiefblue.dp.tech", "k8s_api_server": None}
s3_config: dict = {}

_NEED = "a Bohrium account and the Bohrium service"
_INSTEAD = "run on the local engine (no executor) or with an SSH/Slurm executor"


def login(username: Optional[str] = None, phone: Optional[str] = None, password: Optional[str] = None,
          bohrium_url: Optional[str] = None) -> str:
    raise ServiceNeeded("bohrium.login", _NEED)


def create_job_group(job_group_name: str) -> int:
    raise ServiceNeeded("bohrium.create_job_group", _NEED)


class BohriumExecutor(Executor):
    """Kept as given; ``render`` raises (dflow-lab has no Bohrium account to submit with)."""

    def __init__(self, executor: Optional[str] = None, extra: Optional[dict] = None, **kwargs: Any) -> None:
        self.executor = executor
        self.extra = extra
        self.kwargs = {k: v for k, v in kwargs.items() if k not in ("password", "ticket", "authorization")}

    def render(self, template: Any) -> Any:
        raise ServiceNeeded(f"BohriumExecutor (template {getattr(template, 'name', template)!r})", _NEED, _INSTEAD)


class BohriumContext:
    """dflow's workflow context for Bohrium; building one raises."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ServiceNeeded("BohriumContext", _NEED, _INSTEAD)


class TiefblueClient:
    """dflow's storage client for Bohrium's Tiefblue store; building one raises."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise ServiceNeeded("TiefblueClient", "a Bohrium account and its Tiefblue storage",
                            "use the local store or S3 (s3_config)")


class BohriumDatasetsArtifact(DispatcherArtifact):
    """A Bohrium dataset; building one raises."""

    def __new__(cls, path: Any = None, sub_path: Any = None) -> Any:
        raise ServiceNeeded("BohriumDatasetsArtifact", "the Bohrium datasets service",
                            "use upload_artifact(path) / S3Artifact(key=…)")
