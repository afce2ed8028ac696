"""Live status of a workflow as the canvas draws it: Argo status nodes folded into one entry per canvas node.

A canvas node's path is the chain of step/task names from the entrypoint (``"prepare"``,
``"outer/inner"``). Argo names its status nodes ``<workflow>[0].outer(1:x)[0].inner``: step names joined by
``.``, stage groups ``[i]``, fan-out items ``(i:value)`` and retry attempts ``(i)``. Both engines use these
names, so the monitor never asks which engine ran the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

PHASES = ("Pending", "Running", "Succeeded", "Failed", "Error", "Skipped", "Omitted")
_DONE = {"Succeeded", "Failed", "Error", "Skipped", "Omitted"}
# the nodes a run's progress counts: one per leaf step (a retried step is its Retry node, not its attempts)
LEAF_TYPES = ("Pod", "Skipped", "Suspend", "HTTP", "Plugin")
NOT_RUN = "NotRun"  # planned steps a finished run never reached (a failed group stops the ones after it)


def precise_times(node: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A node's (or a workflow status's) start and finish, to the millisecond when the local engine
    recorded them (``dflowLabTimes``), else Argo's whole-second ``startedAt``/``finishedAt``."""
    recorded = node.get("dflowLabTimes")
    times: Mapping[str, Any] = recorded if isinstance(recorded, Mapping) else {}
    started, finished = node.get("startedAt"), node.get("finishedAt")
    if isinstance(times.get("startedAt"), (int, float)) and started:
        started = _iso_ms(times["startedAt"])
    if isinstance(times.get("finishedAt"), (int, float)) and finished:
        finished = _iso_ms(times["finishedAt"])
    return started, finished


def _iso_ms(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def planned_items(plan: Mapping[str, Any] | None, workflow: str) -> dict[str, int]:
    """The planned size of each fan-out by canvas path (``status.dflowLabPlan.fanOuts`` are keyed by the
    items' node-name prefix; the fan-outs of one path inside an enclosing fan-out add up)."""
    out: dict[str, int] = {}
    fanouts = (plan or {}).get("fanOuts") if isinstance(plan, Mapping) else None
    if not isinstance(fanouts, Mapping):
        return out
    for prefix, items in fanouts.items():
        if isinstance(prefix, str) and isinstance(items, int) and items >= 0:
            path = parse_node_name(prefix, workflow).path
            if path:
                out[path] = out.get(path, 0) + items
    return out


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


def fold_status(nodes: Iterable[dict[str, Any]], workflow: str,
                planned: Mapping[str, int] | None = None) -> dict[str, dict[str, Any]]:
    """One status entry per canvas path: ``{"phase", "startedAt", "finishedAt", "message", "counts", "total",
    "ids", "reused"}``; ``counts``/``total`` are given for fan-outs (items by phase; ``total`` is the
    fan-out's planned size from ``planned`` — ``planned_items`` — when it is larger than the items created
    so far), ``reused: True`` when every node of the path took its outputs from an earlier run. Times are to
    the millisecond when the engine recorded them (``precise_times``)."""
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
        times = [precise_times(n) for n in everyone]
        started = [t[0] for t in times if t[0]]
        finished = [t[1] for t in times if t[1]]
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
            entry["total"] = max(len(items), (planned or {}).get(path, 0))
        out[path] = entry
    return out


def progress_text(status: dict[str, Any]) -> str:
    """``"37/100 succeeded, 2 failed, 1 omitted"`` for a workflow's or a fan-out's counts (the
    canvas's ``js/canvas/progress.ts`` writes the same, for the lab and the widget)."""
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
    if counts.get(NOT_RUN):
        parts.append(f"{counts[NOT_RUN]} not run")
    return ", ".join(parts)


def workflow_progress(nodes: Iterable[dict[str, Any]], workflow: str, plan: Mapping[str, Any] | None = None,
                      finished: bool = False) -> dict[str, Any]:
    """Counts of the workflow's leaf steps by phase, and ``total``: the planned number of leaf steps
    (``status.dflowLabPlan.steps``, the local engine's plan) or, without a plan or when more were
    recorded, the leaf steps recorded so far. A leaf step is a pod, suspend, HTTP or plugin node, a
    skipped or omitted step (one node each), or a retried step (its Retry node; its attempts are not
    counted). Skipped and omitted steps are part of the total, so the counts add up to it; once the run
    has ``finished``, planned steps it never reached are counted as ``NotRun``. Without ``nodes`` (a list
    of runs leaves them out), the counts the engine recorded in the plan (``plan["counts"]``) are used."""
    nodes = list(nodes)
    counts: dict[str, int] = {}
    total = 0
    recorded = (plan or {}).get("counts") if isinstance(plan, Mapping) else None
    if not nodes and isinstance(recorded, Mapping):  # a list of runs leaves the nodes out: the engine's counts
        counts = {str(k): v for k, v in recorded.items() if isinstance(v, int) and v > 0}
        total = sum(counts.values())
    by_id = {n.get("id"): n for n in nodes}
    for n in nodes:
        kind = n.get("type")
        if kind == "Retry":  # a retried leaf step: its attempts are pods
            if not any((by_id.get(c) or {}).get("type") in LEAF_TYPES for c in n.get("children") or []):
                continue
        elif kind not in LEAF_TYPES:
            continue
        name = parse_node_name(n.get("name", ""), workflow)
        if name.attempt and kind != "Retry":
            continue
        phase = n.get("phase") or "Pending"
        total += 1
        counts[phase] = counts.get(phase, 0) + 1
    steps = (plan or {}).get("steps") if isinstance(plan, Mapping) else None
    if isinstance(steps, int) and steps > total:
        if finished:
            counts[NOT_RUN] = steps - total
        total = steps
    return {"counts": counts, "total": total}
