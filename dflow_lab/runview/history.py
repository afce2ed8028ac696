"""The run history of a document, as the Workflows panel and the run pickers list it (no widget machinery).

``summary(obj, engine)`` is one row for a workflow object (Argo shape): name, engine, phase, creation and
start/end times, duration, progress (leaf steps by phase, ``status.workflow_progress``), message, labels,
and the iterate loop's links: the document it ran from (``dflow-lab/document`` label, ``dflow-lab/document-path``
annotation) and the run a partial re-run reused (``dflow-lab/reused-from``). ``history_rows(backend, run,
engine)`` lists the runs that belong with ``run``: the runs of its document when it has the label, else the
runs of the same workflow name (its ``generateName``), newest first, at most ``HISTORY_LIMIT``. Both read
only what the backend's ``get``/``list`` answer; nothing is written.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..engine import Engine
from ..rerun import DOCUMENT_LABEL
from .status import precise_times, progress_text, workflow_progress

__all__ = ["HISTORY_LIMIT", "duration", "history_rows", "picker_row", "summary"]

HISTORY_LIMIT = 1000  # runs listed by a picker (newest first)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def duration(start: str | None, end: str | None, now: datetime | None = None) -> float | None:
    """Seconds from ``start`` to ``end`` (to ``now`` while running); ``None`` before the start."""
    t0 = _parse_time(start)
    if t0 is None:
        return None
    t1 = _parse_time(end) or now or datetime.now(timezone.utc)
    return max(0.0, (t1 - t0).total_seconds())


def summary(obj: dict[str, Any], engine: str) -> dict[str, Any]:
    """One row of the Workflows panel for a workflow object (Argo shape)."""
    meta = obj.get("metadata") or {}
    status = obj.get("status") or {}
    name = meta.get("name", "")
    nodes = status.get("nodes") or {}
    phase = status.get("phase") or "Pending"
    progress = workflow_progress(nodes.values() if isinstance(nodes, dict) else nodes, name,
                                 status.get("dflowLabPlan"), finished=phase in ("Succeeded", "Failed", "Error"))
    if not progress["total"] and isinstance(status.get("progress"), str) and "/" in status["progress"]:
        done, _, total = status["progress"].partition("/")  # Argo's own "3/5" when nodes were not fetched
        if done.isdigit() and total.isdigit():
            progress = {"counts": {"Succeeded": int(done)}, "total": int(total)}
    return {
        "name": name,
        "engine": engine,
        "phase": phase,
        "created": meta.get("creationTimestamp"),
        "startedAt": status.get("startedAt"),
        "finishedAt": status.get("finishedAt"),
        "duration": duration(*precise_times(status)),  # to the millisecond where the engine recorded it
        "progress": progress,
        "message": status.get("message") or None,
        "labels": meta.get("labels") or {},
        # run history: the document a run belongs to, and the run a partial re-run reused steps from
        "document": (meta.get("labels") or {}).get("dflow-lab/document"),
        "reusedFrom": (meta.get("annotations") or {}).get("dflow-lab/reused-from"),
        "documentPath": (meta.get("annotations") or {}).get("dflow-lab/document-path"),
    }


def picker_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ``summary`` row as the canvas's run picker shows it (``js/canvas/RunPicker.tsx``'s ``RunRow``)."""
    p = row.get("progress") or {}
    return {"name": row["name"], "engine": row["engine"], "phase": row["phase"], "startedAt": row.get("startedAt"),
            "created": row.get("created"), "progress": progress_text(p) if p.get("total") else None,
            "reusedFrom": row.get("reusedFrom")}


def history_rows(backend: Engine, run: dict[str, Any], engine: str) -> list[dict[str, Any]]:
    """The runs that belong with workflow object ``run`` (its document's, else its workflow name's), as
    ``summary`` rows, newest first; ``run`` itself is among them."""
    meta = run.get("metadata") or {}
    label = (meta.get("labels") or {}).get(DOCUMENT_LABEL)
    if label:
        objs = backend.list({DOCUMENT_LABEL: label})
    else:
        prefix = meta.get("generateName")
        objs = [o for o in backend.list() if prefix and (o.get("metadata") or {}).get("generateName") == prefix]
    objs = [o.recover() if hasattr(o, "recover") else o for o in objs]
    if not any((o.get("metadata") or {}).get("name") == meta.get("name") for o in objs):
        objs.append(run)
    rows = [summary(o, engine) for o in objs]
    rows.sort(key=lambda r: r.get("created") or r.get("startedAt") or "", reverse=True)
    return rows[:HISTORY_LIMIT]
