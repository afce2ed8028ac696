"""A lineage store in the local state: artifacts, workflows and tasks registered to SQLite.

``LocalLineageClient`` implements dflow's ``LineageClient`` interface. Set
``config["lineage"] = LocalLineageClient()`` and ``upload_artifact(path, namespace=…, dataset_name=…)``
registers the upload (its URN is ``artifact.urn``); ``S3Artifact(urn=…)`` resolves that URN back to the
storage key. The database is ``<config["local_workdir"]>/lineage.sqlite`` unless a path is given.
URNs are ``urn:dflow-lab:<kind>:<namespace>/<name>`` (artifacts) or ``…:<kind>:<uuid>`` (workflows and
tasks); registering an artifact again under the same namespace and name points it at the new uri.

Limits: the engine does not register tasks by itself (``config["register_tasks"]`` is accepted and
ignored); register_task records what it is given.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from typing import Any, Dict, List, Optional, Union

from ..common import LineageClient
from ..config import config

__all__ = ["LineageClient", "LocalLineageClient", "ArtifactMetadata"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS artifacts (urn TEXT PRIMARY KEY, namespace TEXT, name TEXT, uri TEXT,
                                      description TEXT, tags TEXT, properties TEXT);
CREATE TABLE IF NOT EXISTS workflows (urn TEXT PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS tasks (urn TEXT PRIMARY KEY, name TEXT, workflow_urn TEXT, inputs TEXT, outputs TEXT);
"""


class ArtifactMetadata:
    """What ``get_artifact_metadata`` returns: ``urn``, ``namespace``, ``name``, ``uri`` and the rest."""

    def __init__(self, urn: str, namespace: str, name: str, uri: str, description: str = "",
                 tags: Optional[List[str]] = None, properties: Optional[Dict[str, str]] = None) -> None:
        self.urn = urn
        self.namespace = namespace
        self.name = name
        self.uri = uri
        self.description = description
        self.tags = tags or []
        self.properties = properties or {}

    def __repr__(self) -> str:
        return f"ArtifactMetadata(urn={self.urn!r}, uri={self.uri!r})"


def _check_part(what: str, value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 256 or any(c in value for c in "\n\r\0"):
        raise ValueError(f"lineage: {what} must be a non-empty one-line string of at most 256 characters, "
                         f"not {value!r}")
    return value


class LocalLineageClient(LineageClient):
    """dflow's ``LineageClient`` recorded in a SQLite file of the local state."""

    def __init__(self, path: Optional[Union[str, os.PathLike]] = None) -> None:
        self.path = os.fspath(path) if path is not None else os.path.join(str(config["local_workdir"]),
                                                                           "lineage.sqlite")

    def _db(self) -> sqlite3.Connection:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.executescript(_SCHEMA)
        return db

    def register_workflow(self, workflow_name: str) -> str:
        urn = "urn:dflow-lab:workflow:" + uuid.uuid4().hex
        with self._db() as db:
            db.execute("INSERT INTO workflows VALUES (?, ?)", (urn, _check_part("workflow_name", workflow_name)))
        return urn

    def register_artifact(self, namespace: str, name: str, uri: str, description: str = "",
                          tags: Optional[List[str]] = None, properties: Optional[Dict[str, str]] = None,
                          **kwargs: Any) -> str:
        urn = "urn:dflow-lab:artifact:%s/%s" % (_check_part("namespace", namespace), _check_part("name", name))
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (urn, namespace, name, str(uri), description, json.dumps(tags or []),
                        json.dumps(properties or {})))
        return urn

    def register_task(self, task_name: str, input_urns: Dict[str, Union[str, List[str]]],
                      output_uris: Dict[str, str], workflow_urn: str) -> Dict[str, str]:
        urn = "urn:dflow-lab:task:" + uuid.uuid4().hex
        outputs = {k: self.register_artifact(urn.rsplit(":", 1)[1], k, v) for k, v in output_uris.items()}
        with self._db() as db:
            db.execute("INSERT INTO tasks VALUES (?, ?, ?, ?, ?)",
                       (urn, _check_part("task_name", task_name), workflow_urn, json.dumps(input_urns),
                        json.dumps(outputs)))
        return outputs

    def get_artifact_metadata(self, urn: str) -> ArtifactMetadata:
        with self._db() as db:
            row = db.execute("SELECT urn, namespace, name, uri, description, tags, properties FROM artifacts "
                             "WHERE urn = ?", (urn,)).fetchone()
        if row is None:
            raise KeyError(f"lineage: no artifact registered under {urn!r} in {self.path}")
        return ArtifactMetadata(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), json.loads(row[6]))

    def tasks_of(self, workflow_urn: str) -> List[Dict[str, Any]]:
        """The tasks registered for a workflow: ``{"urn", "name", "inputs", "outputs"}`` each."""
        with self._db() as db:
            rows = db.execute("SELECT urn, name, inputs, outputs FROM tasks WHERE workflow_urn = ? ORDER BY rowid",
                              (workflow_urn,)).fetchall()
        return [{"urn": r[0], "name": r[1], "inputs": json.loads(r[2]), "outputs": json.loads(r[3])} for r in rows]
