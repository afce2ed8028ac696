"""dflow's ``dflow.plugins.metadata``: ``MetadataClient``, a lineage client.

dflow's ``MetadataClient`` talks to a DataHub GMS service through the ``dp-metadata`` SDK. dflow-lab's
records in the local lineage store (:class:`~dflow_lab.plugins.lineage.LocalLineageClient`) when no
endpoint is given (neither ``gms_endpoint`` nor ``METADATA_GMS_ENDPOINT``); given an endpoint, it
raises an error naming what that needs (a DataHub GMS service and the dp-metadata SDK), which dflow-lab
does not provide. ``project`` and ``token`` are kept, never logged or recorded.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from ._needs import ServiceNeeded
from .lineage import LocalLineageClient

__all__ = ["MetadataClient", "config"]

config = {
    "gms_endpoint": os.environ.get("METADATA_GMS_ENDPOINT"),
    "project": os.environ.get("METADATA_PROJECT"),
    "token": os.environ.get("METADATA_TOKEN"),
}


class MetadataClient(LocalLineageClient):
    """Lineage in the local state (no endpoint), as dflow's ``MetadataClient`` is used."""

    def __init__(self, gms_endpoint: Optional[str] = None, project: Optional[str] = None,
                 token: Optional[str] = None, path: Any = None) -> None:
        endpoint = gms_endpoint if gms_endpoint is not None else config["gms_endpoint"]
        if endpoint:
            raise ServiceNeeded("MetadataClient(gms_endpoint=…)", "a DataHub GMS service and the dp-metadata SDK",
                                "leave gms_endpoint unset to record lineage in the local state")
        super().__init__(path)
        self.gms_endpoint = None
        self.project = project if project is not None else config["project"]
        self._token = token if token is not None else config["token"]

    def __repr__(self) -> str:
        return f"MetadataClient(project={self.project!r}, path={self.path!r})"
