"""dflow's ``dflow.plugins.ray``: ``RayClusterExecutor`` (run a step's OP on a Ray cluster).

dflow-lab runs no Ray cluster: the executor can be built (so scripts import and define workflows), and
rendering a step with it raises an error naming what it needs (a Ray cluster reachable at
``ray_remote_path`` and the ``ray`` package), before anything is submitted.
"""

from __future__ import annotations

from typing import Any, Optional

from ..executors.base import Executor
from ._needs import ServiceNeeded

__all__ = ["RayClusterExecutor"]


class RayClusterExecutor(Executor):
    """Kept as given; ``render`` raises (dflow-lab cannot reach a Ray cluster)."""

    def __init__(self, ray_image: Optional[str] = None, ray_remote_path: str = "/tmp/ray_remote",
                 ray_host: Optional[str] = None, **kwargs: Any) -> None:
        self.ray_image = ray_image
        self.ray_remote_path = ray_remote_path
        self.ray_host = ray_host
        self.kwargs = kwargs

    def render(self, template: Any) -> Any:
        raise ServiceNeeded(f"RayClusterExecutor (template {getattr(template, 'name', template)!r})",
                            "a Ray cluster and the ray package",
                            "run the step without executor=, or with an SSH/Slurm/container executor")
