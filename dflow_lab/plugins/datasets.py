"""dflow's ``dflow.plugins.datasets``: ``DatasetsArtifact`` (a Bohrium dataset mounted into a step).

On dflow a ``DatasetsArtifact`` is a dataset of the Bohrium platform, mounted by a launching sidecar.
dflow-lab has no Bohrium datasets service: building one raises an error naming what it needs. Data sets
on one machine are artifacts of the local store or S3: ``upload_artifact(path)`` returns an
``S3Artifact`` (with ``namespace=``/``dataset_name=`` and ``config["lineage"]`` it is registered, see
:mod:`dflow_lab.plugins.lineage`), and ``S3Artifact(key=…)`` names an existing one.
"""

from __future__ import annotations

from typing import Any

from ..common import S3Artifact
from ._needs import ServiceNeeded
from .dispatcher import DispatcherArtifact

__all__ = ["DatasetsArtifact", "S3Artifact", "wait_for_mount"]

_INSTEAD = "use upload_artifact(path) / S3Artifact(key=…) for data sets on the local store or S3"


def wait_for_mount(point: str, timeout: int = 60) -> None:
    raise ServiceNeeded("datasets.wait_for_mount", "a Bohrium datasets mount", _INSTEAD)


class DatasetsArtifact(DispatcherArtifact):
    """A Bohrium dataset: needs the Bohrium datasets service (raises when built)."""

    def __new__(cls, element: Any = None, version: Any = None, type: str = "datasets", **kwargs: Any) -> Any:
        raise ServiceNeeded("DatasetsArtifact", "the Bohrium datasets service", _INSTEAD)
