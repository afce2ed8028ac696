"""SQLite state of the local engine: workflows, status nodes, events, memoization cache.

One database per workspace (``<local_workdir>/state.db``) in WAL mode, so that the engine writes while
any other process (CLI, Jupyter server, a second notebook) reads.  Every node or workflow change appends
an event row; ``events(after=seq)`` is how watchers follow a run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from ..engine import now_iso

__all__ = ["StateStore", "now_iso"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows (
    name TEXT PRIMARY KEY,
    manifest TEXT NOT NULL,
    status TEXT NOT NULL,
    labels TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    control TEXT,
    options TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS nodes (
    workflow TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (workflow, id)
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow TEXT NOT NULL,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_workflow ON events (workflow, seq);
CREATE TABLE IF NOT EXISTS memo (
    cache TEXT NOT NULL,
    key TEXT NOT NULL,
    outputs TEXT NOT NULL,
    node_id TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (cache, key)
);
"""


class StateStore:
    """Access to one workspace's state database (thread-safe: one connection behind a lock)."""

    def __init__(self, workdir: str | Path):
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.path = self.workdir / "state.db"
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    # -- workflows -----------------------------------------------------------------------------

    def create_workflow(self, name: str, manifest: dict, status: dict, labels: dict, options: dict) -> None:
        """Record a new workflow; raises ``ValueError`` if the name is taken."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO workflows (name, manifest, status, labels, created, options) VALUES (?,?,?,?,?,?)",
                    (name, json.dumps(manifest), json.dumps(status), json.dumps(labels), time.time(),
                     json.dumps(options)),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"workflow {name!r} already exists in {self.workdir}") from None
            self._event(name, "workflow", status)

    def workflow(self, name: str) -> dict[str, Any] | None:
        """``{"name", "manifest", "status", "labels", "created", "control", "options"}`` or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, manifest, status, labels, created, control, options FROM workflows WHERE name=?",
                (name,),
            ).fetchone()
        return _workflow_row(row) if row else None

    def workflows(self) -> list[dict[str, Any]]:
        """All workflows, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, manifest, status, labels, created, control, options FROM workflows "
                "ORDER BY created DESC"
            ).fetchall()
        return [_workflow_row(r) for r in rows]

    def set_status(self, name: str, status: dict) -> None:
        """Replace the workflow-level status (phase, times, message, outputs) and log an event."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("UPDATE workflows SET status=? WHERE name=?", (json.dumps(status), name))
            self._event(name, "workflow", status)
            self._db.execute("COMMIT")

    def set_manifest(self, name: str, manifest: dict) -> None:
        """Replace the stored manifest (used by ``set_script`` overrides)."""
        with self._lock:
            self._db.execute("UPDATE workflows SET manifest=? WHERE name=?", (json.dumps(manifest), name))

    def set_options(self, name: str, options: dict) -> None:
        """Replace the engine options of a workflow."""
        with self._lock:
            self._db.execute("UPDATE workflows SET options=? WHERE name=?", (json.dumps(options), name))

    def set_control(self, name: str, control: str | None) -> None:
        """Ask the engine running ``name`` to ``stop``/``terminate``/``suspend`` (``None`` clears)."""
        with self._lock:
            self._db.execute("UPDATE workflows SET control=? WHERE name=?", (control, name))

    def control(self, name: str) -> str | None:
        """The pending control request of a workflow."""
        with self._lock:
            row = self._db.execute("SELECT control FROM workflows WHERE name=?", (name,)).fetchone()
        return row[0] if row else None

    def delete_workflow(self, name: str) -> None:
        """Remove a workflow, its nodes and its events."""
        with self._lock:
            self._db.execute("BEGIN")
            for table, col in (("workflows", "name"), ("nodes", "workflow"), ("events", "workflow")):
                self._db.execute(f"DELETE FROM {table} WHERE {col}=?", (name,))
            self._db.execute("COMMIT")

    # -- nodes ---------------------------------------------------------------------------------

    def put_node(self, workflow: str, node: dict) -> None:
        """Insert or replace a status node and log an event."""
        self.put_nodes(workflow, [node])

    def put_nodes(self, workflow: str, nodes: list[dict]) -> None:
        """Insert or replace several nodes in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            for node in nodes:
                self._db.execute(  # an update keeps the row (and so the order nodes were created in)
                    "INSERT INTO nodes (workflow, id, data) VALUES (?,?,?) "
                    "ON CONFLICT (workflow, id) DO UPDATE SET data=excluded.data",
                    (workflow, node["id"], json.dumps(node)),
                )
                self._event(workflow, "node", node)
            self._db.execute("COMMIT")

    def delete_nodes(self, workflow: str, ids: list[str]) -> None:
        """Forget nodes (so that a retry runs them again)."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("DELETE FROM nodes WHERE workflow=? AND id=?", [(workflow, i) for i in ids])
            self._db.execute("COMMIT")

    def nodes(self, workflow: str) -> dict[str, dict]:
        """All status nodes of a workflow keyed by id, in the order they were created."""
        with self._lock:
            rows = self._db.execute("SELECT data FROM nodes WHERE workflow=? ORDER BY rowid", (workflow,)).fetchall()
        out = {}
        for (data,) in rows:
            node = json.loads(data)
            out[node["id"]] = node
        return out

    # -- events --------------------------------------------------------------------------------

    def _event(self, workflow: str, kind: str, data: dict) -> None:
        self._db.execute(
            "INSERT INTO events (workflow, time, kind, data) VALUES (?,?,?,?)",
            (workflow, now_iso(), kind, json.dumps(data)),
        )

    def events(self, workflow: str, after: int = 0) -> list[dict]:
        """Changes of a workflow with ``seq > after``, oldest first (the Backend ``events`` shape)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, time, kind, data FROM events WHERE workflow=? AND seq>? ORDER BY seq",
                (workflow, after),
            ).fetchall()
        return [{"seq": seq, "time": t, kind: json.loads(data)} for seq, t, kind, data in rows]

    # -- memoization ---------------------------------------------------------------------------

    def memo_get(self, cache: str, key: str, max_age: float | None) -> dict | None:
        """A cached outputs entry ``{"outputs", "node_id"}`` younger than ``max_age`` seconds, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT outputs, node_id, created FROM memo WHERE cache=? AND key=?", (cache, key)
            ).fetchone()
        if not row or (max_age is not None and time.time() - row[2] > max_age):
            return None
        return {"outputs": json.loads(row[0]), "node_id": row[1]}

    def memo_put(self, cache: str, key: str, outputs: dict, node_id: str) -> None:
        """Store the outputs of a succeeded memoized node."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO memo (cache, key, outputs, node_id, created) VALUES (?,?,?,?,?)",
                (cache, key, json.dumps(outputs), node_id, time.time()),
            )


def _workflow_row(row: tuple) -> dict[str, Any]:
    name, manifest, status, labels, created, control, options = row
    return {
        "name": name,
        "manifest": json.loads(manifest),
        "status": json.loads(status),
        "labels": json.loads(labels),
        "created": created,
        "control": control,
        "options": json.loads(options),
    }
