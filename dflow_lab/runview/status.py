"""Live status of a workflow as the canvas draws it: Argo status nodes folded into one entry per canvas node.

A canvas node's path is the chain of step/task names from the entrypoint (``"prepare"``,
``"outer/inner"``). Argo names its status nodes ``<workflow>[0].outer(1:x)[0].inner``: step names joined by
``.``, stage groups ``[i]``, fan-out items ``(i:value)`` and retry attempts ``(i)``. Both engines use these
names, so the monitor never asks which engine ran the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Error", "Skipped", "Omitted")
_DONE = {"Succeeded", "Failed", "Error", "Skipped", "Omitted"}


@dataclass(frozen=True)
class NodeName:
    """A status node name parsed against its workflow's name."""

    path: str  # canvas path ("" for the workflow and its stage groups)
    item: int | None  # fan-out item index of the last step, if any
    attempt: bool  # a retry attempt (its Retry parent carries the step's phase)


def parse_node_name(name: str, workflow: str) -> NodeName:
    """Split an Argo status node name into the canvas path, the fan-out item and the attempt flag."""
    rest = name[len(workflow):] if name.startswith(workflow) else name
    steps: list[str] = []
    item: int | None = None
    attempt = False
    i = 0
    while i < len(rest):
        c = rest[i]
        if c == ".":
            j = i + 1
            while j < len(rest) and rest[j] not in ".[(":
                j += 1
            steps.append(rest[i + 1 : j])
            item, attempt = None, False
            i = j
        elif c in "[(":
            close = {"[": "]", "(": ")"}[c]
            depth, j = 0, i
            while j < len(rest):
                if rest[j] == c:
                    depth += 1
                elif rest[j] == close:
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            inner = rest[i + 1 : j]
            if c == "(":
                head, colon, _ = inner.partition(":")
                if colon and head.isdigit():
                    item, attempt = int(head), False
                elif inner.isdigit():
                    attempt = True
            i = j + 1
        else:  # a name that does not follow the convention: keep it whole
            steps.append(rest[i:])
            break
    return NodeName("/".join(steps), item, attempt)


def _aggregate_phase(phases: list[str]) -> str:
    if not phases:
        return "Pending"
    if any(p == "Running" for p in phases):
        return "Running"
    if all(p in _DONE for p in phases):
        if any(p == "Error" for p in phases):
            return "Error"
        if any(p == "Failed" for p in phases):
            return "Failed"
        if all(p in ("Skipped", "Omitted") for p in phases):
            return phases[0]
        return "Succeeded"
    return "Running" if any(p in _DONE for p in phases) else "Pending"


def fold_status(nodes: Iterable[dict[str, Any]], workflow: str) -> dict[str, dict[str, Any]]:
    """One status entry per canvas path: ``{"phase", "startedAt", "finishedAt", "message", "counts", "total",
    "ids", "reused"}``; ``counts``/``total`` are given for fan-outs (items by phase), ``reused: True`` when
    every node of the path took its outputs from an earlier run."""
    groups: dict[str, list[tuple[NodeName, dict]]] = {}
    for node in nodes:
        if node.get("type") == "StepGroup":
            continue
        parsed = parse_node_name(node.get("name", ""), workflow)
        if not parsed.path or parsed.attempt:
            continue
        groups.setdefault(parsed.path, []).append((parsed, node))
    out: dict[str, dict[str, Any]] = {}
    for path, members in groups.items():
        mains = [n for p, n in members if p.item is None]
        items = [n for p, n in members if p.item is not None]
        if len(mains) > 1:  # the step ran once per item of an enclosing fan-out
            items, mains = items + mains, []
        if mains:
            phase = mains[0].get("phase") or "Pending"
        else:
            phase = _aggregate_phase([n.get("phase") or "Pending" for n in items])
        everyone = mains + items
        started = [n["startedAt"] for n in everyone if n.get("startedAt")]
        finished = [n["finishedAt"] for n in everyone if n.get("finishedAt")]
        entry: dict[str, Any] = {
            "phase": phase,
            "startedAt": min(started) if started else None,
            "finishedAt": max(finished) if phase in _DONE and finished else None,
            "message": next((n.get("message") for n in everyone if n.get("message")), None),
            "ids": [n["id"] for n in everyone if "id" in n],
        }
        if everyone and all((n.get("memoizationStatus") or {}).get("hit") for n in everyone):
            entry["reused"] = True  # outputs taken from an earlier run (reuse_step / memoization), not run
        if items:
            counts: dict[str, int] = {}
            for n in items:
                counts[n.get("phase") or "Pending"] = counts.get(n.get("phase") or "Pending", 0) + 1
            entry["counts"] = counts
            entry["total"] = len(items)
        out[path] = entry
    return out


def progress_text(status: dict[str, Any]) -> str:
    """``"37/100 succeeded, 2 failed"`` for a workflow's or a fan-out's counts."""
    counts = status.get("counts") or {}
    total = status.get("total") or 0
    parts = [f"{counts.get('Succeeded', 0)}/{total} succeeded"]
    failed = counts.get("Failed", 0) + counts.get("Error", 0)
    if failed:
        parts.append(f"{failed} failed")
    if counts.get("Running"):
        parts.append(f"{counts['Running']} running")
    for phase in ("Skipped", "Omitted"):
        if counts.get(phase):
            parts.append(f"{counts[phase]} {phase.lower()}")
    return ", ".join(parts)


def workflow_progress(nodes: Iterable[dict[str, Any]], workflow: str) -> dict[str, Any]:
    """Counts of the workflow's leaf steps (pods) by phase. ``total`` counts the steps that run (pods), as
    Argo's ``status.progress`` does, so the header, the node badges and the Workflows panel agree; skipped
    and omitted steps are counted beside it (``counts["Skipped"]``, ``counts["Omitted"]``), not in it."""
    counts: dict[str, int] = {}
    total = 0
    for n in nodes:
        if n.get("type") not in ("Pod", "Skipped"):
            continue
        if parse_node_name(n.get("name", ""), workflow).attempt:
            continue
        phase = n.get("phase") or "Pending"
        if n.get("type") == "Pod" and phase not in ("Skipped", "Omitted"):
            total += 1
        counts[phase] = counts.get(phase, 0) + 1
    return {"counts": counts, "total": total}
