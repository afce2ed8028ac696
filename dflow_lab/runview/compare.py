"""Comparing two runs of a document on the graph, and paging a fan-out's items.

``compare_runs(a, b)`` takes two workflow objects (Argo shape: ``metadata``, ``spec``, ``status.nodes``, from
either engine) and marks every canvas path (``status.parse_node_name``) as ``unchanged``, ``changed``,
``added`` (only in ``b``) or ``removed`` (only in ``a``). A path is changed when, for any of its nodes
(fan-out items are matched by index), one of these differs:

- ``inputs``: the input parameter values (the step key ``dflow_key`` left out) or the input artifacts'
  locations;
- ``template``: the template the node ran (its manifest entry without its name, which the model generates
  anew for each run, and without the ``dflow_key`` input; a steps/DAG template's calls without the names of
  the templates they call, which are compared at their own nodes);
- ``outputs``: output parameter values, ``result``/``exitCode``, and output artifacts by location (a reused
  artifact is the same object, so it is unchanged; one written again is changed even when its bytes happen
  to be equal — ``artifact_diff`` compares contents);
- ``phase``.

Each entry also has both sides' durations and node ids; fan-outs have ``items`` (index → the same fields,
changed items only, at most ``ITEM_LIMIT``) and ``item_counts``. Retry attempts are not compared (their
Retry node carries the step's result).

``artifact_diff(text_a, text_b)`` is a unified diff of two text artifacts (CSV and JSON included, JSON
pretty-printed first), cut at ``DIFF_LIMIT`` lines. ``fanout_items(nodes, workflow, path, phase, offset,
limit)`` pages a fan-out's items (at most ``PAGE_LIMIT`` a page), filtered by phase.
"""

from __future__ import annotations

import difflib
import json
from datetime import datetime
from typing import Any, Iterable

from .status import fold_status, parse_node_name

__all__ = ["DIFF_LIMIT", "ITEM_LIMIT", "PAGE_LIMIT", "artifact_diff", "compare_runs", "fanout_items"]

ITEM_LIMIT = 1000  # changed fan-out items listed per path
DIFF_LIMIT = 2000  # lines of an artifact diff
PAGE_LIMIT = 200  # fan-out items per page
FIELDS = ("inputs", "template", "outputs", "phase")


def _seconds(node: dict) -> float | None:
    try:
        a = datetime.strptime(node["startedAt"], "%Y-%m-%dT%H:%M:%SZ")
        b = datetime.strptime(node["finishedAt"], "%Y-%m-%dT%H:%M:%SZ")
    except (KeyError, TypeError, ValueError):
        return None
    return (b - a).total_seconds()


def _location(art: dict) -> Any:
    return {k: v for k, v in art.items() if k not in ("name", "path", "globalName", "mode", "from")}


def _inputs(node: dict) -> dict:
    ins = node.get("inputs") or {}
    return {"parameters": {p.get("name"): p.get("value") for p in ins.get("parameters") or []
                           if p.get("name") != "dflow_key"},
            "artifacts": {a.get("name"): _location(a) for a in ins.get("artifacts") or []}}


def _outputs(node: dict) -> dict:
    outs = node.get("outputs") or {}
    return {"parameters": {p.get("name"): p.get("value") for p in outs.get("parameters") or []},
            "artifacts": {a.get("name"): _location(a) for a in outs.get("artifacts") or []
                          if a.get("name") != "main-logs"},
            "result": outs.get("result"), "exitCode": outs.get("exitCode")}


def _template(run: dict, node: dict) -> Any:
    templates = {t.get("name"): t for t in (run.get("spec") or {}).get("templates") or []}
    t = templates.get(node.get("templateName"))
    if t is None:
        return None
    t = json.loads(json.dumps(t))
    t.pop("name", None)  # generated template names differ from run to run; their content is compared
    params = (t.get("inputs") or {}).get("parameters")
    if params:
        t["inputs"]["parameters"] = [p for p in params if p.get("name") != "dflow_key"]
    for group in t.get("steps") or []:  # derived keys given to a re-run are not a change of the source
        for s in group if isinstance(group, list) else []:
            _drop_key_arg(s)
    for task in (t.get("dag") or {}).get("tasks") or []:
        _drop_key_arg(task)
    t.pop("memoize", None)
    return t


def _drop_key_arg(call: dict) -> None:
    call.pop("template", None)  # a called template is compared at its own node
    params = (call.get("arguments") or {}).get("parameters")
    if params:
        call["arguments"]["parameters"] = [p for p in params if p.get("name") != "dflow_key"]


def _members(run: dict) -> dict[str, dict[Any, dict]]:
    """path → {item index or None: node}; attempts and stage groups left out."""
    name = (run.get("metadata") or {}).get("name") or ""
    out: dict[str, dict[Any, dict]] = {}
    for node in ((run.get("status") or {}).get("nodes") or {}).values():
        if node.get("type") in ("StepGroup", "TaskGroup"):
            continue
        parsed = parse_node_name(node.get("name", ""), name)
        if not parsed.path or parsed.attempt:
            continue
        slot = out.setdefault(parsed.path, {})
        key: Any = parsed.item
        if key in slot:  # a step run once per item of an enclosing fan-out: tell them apart by name
            key = node.get("name", "")[len(name):]
        slot[key] = node
    return out


def _node_diff(a: dict | None, b: dict | None, run_a: dict, run_b: dict) -> dict:
    if a is None or b is None:
        return {"state": "added" if a is None else "removed"}
    fields = []
    if _inputs(a) != _inputs(b):
        fields.append("inputs")
    if _template(run_a, a) != _template(run_b, b):
        fields.append("template")
    if _outputs(a) != _outputs(b):
        fields.append("outputs")
    if a.get("phase") != b.get("phase"):
        fields.append("phase")
    return {"state": "changed" if fields else "unchanged", "fields": fields}


def compare_runs(run_a: dict, run_b: dict) -> dict:
    """``{"a", "b", "paths": {path: entry}, "counts": {state: n}}`` (see the module docstring)."""
    ma, mb = _members(run_a), _members(run_b)
    name_a = (run_a.get("metadata") or {}).get("name")
    name_b = (run_b.get("metadata") or {}).get("name")
    paths: dict[str, dict] = {}
    for path in sorted(set(ma) | set(mb)):
        sa, sb = ma.get(path, {}), mb.get(path, {})
        fanout = any(k is not None for k in set(sa) | set(sb))
        entry: dict[str, Any] = {"ids": {"a": [n["id"] for n in sa.values()], "b": [n["id"] for n in sb.values()]}}
        if not sa or not sb:
            entry["state"] = "added" if not sa else "removed"
            entry["fields"] = []
        else:
            fields: set[str] = set()
            items: dict[str, dict] = {}
            item_counts: dict[str, int] = {}
            for k in sorted(set(sa) | set(sb), key=str):
                d = _node_diff(sa.get(k), sb.get(k), run_a, run_b)
                fields.update(d.get("fields") or [])
                if fanout:
                    item_counts[d["state"]] = item_counts.get(d["state"], 0) + 1
                    if d["state"] != "unchanged" and len(items) < ITEM_LIMIT:
                        items[str(k)] = d
                elif d["state"] != "unchanged":
                    fields.update(FIELDS if d["state"] != "changed" else ())
            added_or_removed = item_counts.get("added", 0) + item_counts.get("removed", 0)
            entry["state"] = "changed" if fields or added_or_removed else "unchanged"
            entry["fields"] = [f for f in FIELDS if f in fields]
            if fanout:
                entry["items"] = items
                entry["item_counts"] = item_counts
        da = [s for s in (_seconds(n) for n in sa.values()) if s is not None]
        db = [s for s in (_seconds(n) for n in sb.values()) if s is not None]
        entry["duration"] = {"a": sum(da) if da else None, "b": sum(db) if db else None}
        paths[path] = entry
    counts: dict[str, int] = {}
    for e in paths.values():
        counts[e["state"]] = counts.get(e["state"], 0) + 1
    return {"a": name_a, "b": name_b, "paths": paths, "counts": counts}


def artifact_diff(text_a: str, text_b: str, name_a: str = "a", name_b: str = "b") -> dict:
    """A unified diff of two text artifacts (JSON is compared pretty-printed): ``{"same", "diff", "cut"}``."""
    def norm(text: str) -> list[str]:
        try:
            return json.dumps(json.loads(text), indent=1, sort_keys=True).splitlines()
        except ValueError:
            return text.splitlines()

    la, lb = norm(text_a), norm(text_b)
    lines = list(difflib.unified_diff(la, lb, name_a, name_b, lineterm=""))
    return {"same": la == lb, "diff": lines[:DIFF_LIMIT], "cut": len(lines) > DIFF_LIMIT}


def fanout_items(nodes: Iterable[dict], workflow: str, path: str, phase: str | None = None, offset: int = 0,
                 limit: int = PAGE_LIMIT) -> dict:
    """One page of a fan-out's items: ``{"path", "total", "matching", "counts", "offset", "items": [{"index",
    "id", "displayName", "phase", "startedAt", "finishedAt", "message"}]}``, ordered by item index;
    ``phase`` filters (``"Failed"`` also takes ``Error``)."""
    limit = max(1, min(int(limit), PAGE_LIMIT))
    offset = max(0, int(offset))
    members = []
    pool = []
    for n in nodes:
        if n.get("type") in ("StepGroup", "TaskGroup"):
            continue
        parsed = parse_node_name(n.get("name", ""), workflow)
        if parsed.path == path and not parsed.attempt and parsed.item is not None:
            pool.append((parsed.item, n))
    folded = fold_status((n for _, n in pool), workflow).get(path) or {}
    wanted = {"Failed", "Error"} if phase in ("Failed", "Error") else ({phase} if phase else None)
    for index, n in sorted(pool, key=lambda x: x[0]):
        if wanted is None or (n.get("phase") or "Pending") in wanted:
            members.append((index, n))
    page = members[offset: offset + limit]
    return {"path": path, "total": len(pool), "matching": len(members), "counts": folded.get("counts") or {},
            "offset": offset, "limit": limit,
            "items": [{"index": i, "id": n.get("id"), "displayName": n.get("displayName"),
                       "phase": n.get("phase") or "Pending", "startedAt": n.get("startedAt"),
                       "finishedAt": n.get("finishedAt"), "message": n.get("message")} for i, n in page]}
