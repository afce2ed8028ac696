"""Node bookkeeping of a run: status nodes, their IDs and pod names, batched writes, reuse on resume.

``NodeBook`` is the base of ``interpreter.Execution``: it holds the run's state (declared below) and
records every status node.  Changes are batched (``_mark``) and written by the run's flush loop in one
SQLite transaction; a finished node is written at once (``durable``) so that a resume after a kill -9
finds it.  ``reuse`` finds a node of an earlier run (resume, retry, resubmit) that needs no re-run.
The other concerns of a run are mixins beside it: ``steps``, ``dag``, ``leaf``, ``retries``, ``outputs``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..bounds import cut_text
from ..names import get_pod_name, node_hash
from .plan import Planner
from .state import StateStore, now_iso

__all__ = ["DONE_OK", "FAILED", "MAX_PLANNED_FANOUTS", "NodeBook"]

DONE_OK = ("Succeeded", "Skipped")
FAILED = ("Failed", "Error")
_DONE_OK = DONE_OK
_FAILED = FAILED
_EXECUTABLE = ("Pod", "HTTP", "Plugin", "Container", "Suspend")  # the node types Argo's progress counts
_COMPLETE = ("Succeeded", "Skipped", "Omitted")
_LEAF_TYPES = ("Pod", "Skipped", "Suspend", "HTTP", "Plugin")  # the leaf steps of a run's progress
MAX_PLANNED_FANOUTS = 10_000  # fan-out sizes kept in the plan (nested fan-outs past it are not recorded)


def _node_progress(value: Any) -> tuple[int, int]:
    """A node's own ``N/M`` progress (``0/1`` when it has none or it is not valid)."""
    if isinstance(value, str) and "/" in value:
        n, _, m = value.partition("/")
        if n.isdigit() and m.isdigit() and int(n) <= int(m):
            return int(n), int(m)
    return 0, 1


class NodeBook:
    """The state of one run and its status-node records (the base of ``Execution``)."""

    store: StateStore
    name: str
    manifest: dict
    options: dict
    status: dict
    spec: dict
    templates: dict[str, dict]
    defaults: dict
    pool: Any
    host_slots: asyncio.Semaphore
    repository: Any
    runs_dir: Path
    shared_volumes: dict[str, Path]
    nodes: dict[str, dict]
    prior: dict[str, dict]
    retry_only: set[str]
    reuse_by_key: dict[str, dict]
    script_overrides: dict[str, str]
    wf_slots: asyncio.Semaphore | None
    gate: asyncio.Event
    resume_event: asyncio.Event
    cancel_message: str
    global_vars: dict[str, Any]
    global_outputs: dict[str, dict]
    failures: list[dict]
    _dirty: dict[str, dict]
    _written: set[str]
    _source_nodes: dict[str, dict] | None
    _children_of: dict[str, set[str]]
    _flush_soon: bool
    _main_task: asyncio.Task
    planner: Planner
    planned: int
    planned_fanouts: dict[str, int]

    if TYPE_CHECKING:  # provided by the other mixins of Execution
        def _publish_globals(self, outputs: dict) -> None: ...

    # -- node bookkeeping ------------------------------------------------------------------------

    def node_id(self, node_name: str) -> str:
        """Argo's node ID: the workflow name for the root, else ``<workflow>-<fnv32a(node name)>``."""
        return self.name if node_name == self.name else f"{self.name}-{node_hash(node_name)}"

    def pod_name(self, node: dict) -> str:
        """Argo's (v2) pod name of a node."""
        return get_pod_name(self.name, node["name"], node.get("templateName") or "", node["id"])

    def _mark(self, node: dict, now: bool = False) -> None:
        """Record a node change.  ``now`` (a finished node, which must survive a kill -9) writes it, with
        every other change waiting, before the engine's loop runs anything else: the nodes that finish
        in one turn of the loop share one SQLite transaction.  Other changes (parents gaining
        children) wait for the flush loop.  The database keeps parents before children: nodes are
        written in the order they were first recorded."""
        self._dirty[node["id"]] = node
        if now and not self._flush_soon:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # outside the engine's loop: write at once
                self.flush()
                return
            self._flush_soon = True
            loop.call_soon(self._flush_batch)

    def _flush_batch(self) -> None:
        self._flush_soon = False
        self.flush()

    def _write(self, nodes: list[dict]) -> None:
        self.store.put_nodes(self.name, nodes)
        self._written.update(n["id"] for n in nodes)

    def flush(self) -> None:
        """Write changed nodes to the state database (one transaction)."""
        if self._dirty:
            nodes = list(self._dirty.values())
            self._dirty.clear()
            self._write(nodes)

    def _link(self, parent: dict | list[dict] | None, node: dict) -> None:
        parents = parent if isinstance(parent, list) else [parent] if parent else []
        for p in parents:
            known = self._children_of.get(p["id"])
            if known is None:  # a set beside each parent's list: linking is O(1) under 10,000 children
                known = self._children_of[p["id"]] = set(p.setdefault("children", []))
            if node["id"] not in known:
                known.add(node["id"])
                p.setdefault("children", []).append(node["id"])
                self._mark(p)

    def open_node(self, name: str, display: str, type_: str, template: str | None, parent: Any,
                  boundary: str | None, inputs: dict | None = None) -> dict:
        """Create (or re-create, on resume) a Running node and link it under ``parent``."""
        node_id = self.node_id(name)
        node: dict[str, Any] = {
            "id": node_id, "name": name, "displayName": display, "type": type_, "phase": "Running",
            "startedAt": now_iso(), "finishedAt": None, "children": [],
            # sub-second times for monitors (durations in tenths); startedAt/finishedAt keep Argo's form
            "dflowLabTimes": {"startedAt": round(time.time(), 3)},
        }
        if template:
            node["templateName"] = template
        if boundary:
            node["boundaryID"] = boundary
        if inputs:
            node["inputs"] = inputs
        self.nodes[node_id] = node
        self._children_of.pop(node_id, None)
        self._link(parent, node)
        self._mark(node)
        return node

    def close_node(self, node: dict, phase: str, outputs: dict | None = None, message: str = "",
                   durable: bool = False) -> dict:
        """Finish a node (``durable``: written at once, so that a resume finds it)."""
        node["phase"] = phase
        node["finishedAt"] = now_iso()
        _precise_finish(node)
        if outputs:
            node["outputs"] = outputs
        if message:
            node["message"] = cut_text(message)
        if phase in _FAILED:
            self.failures.append(node)
        self._mark(node, now=durable)
        return node

    def reuse(self, name: str, parent: Any) -> dict | None:
        """A node of the earlier run that needs no re-run (succeeded or skipped; failed and not retried)."""
        old = self.prior.get(name[len(self.name):])
        if old is None or not old.get("finishedAt"):
            return None
        ok = old["phase"] in _DONE_OK
        keep_failed = (self.retry_only and old["phase"] in _FAILED and old["type"] == "Pod"
                       and old["id"] not in self.retry_only and not self.options.get("reuse_from"))
        if not (ok or keep_failed):
            return None
        node = json.loads(json.dumps(old))
        node["id"] = self.node_id(name)
        node["name"] = name
        if self.options.get("reuse_from"):
            node["children"] = []
            self._relink_children(old, node)
        self.nodes[node["id"]] = node
        self._children_of.pop(node["id"], None)
        self._link(parent, node)
        self._mark(node)
        if ok:
            self._publish_globals(node.get("outputs") or {})
        return node

    def _relink_children(self, old: dict, node: dict) -> None:
        """Copy the subtree of a node reused from another workflow (resubmit --memoized)."""
        source = self.options["reuse_from"]
        if self._source_nodes is None:
            self._source_nodes = self.store.nodes(source)
        old_nodes = self._source_nodes
        for cid in old.get("children") or []:
            child = old_nodes.get(cid)
            if child is None or not child["name"].startswith(source):
                continue
            name = self.name + child["name"][len(source):]
            if self.node_id(name) in self.nodes:
                self._link(node, self.nodes[self.node_id(name)])
                continue
            copy = json.loads(json.dumps(child))
            copy["id"], copy["name"], copy["children"] = self.node_id(name), name, []
            if "boundaryID" in copy:
                copy["boundaryID"] = self.node_id(self.name + self._name_of(old_nodes, copy["boundaryID"], source))
            self.nodes[copy["id"]] = copy
            self._children_of.pop(copy["id"], None)
            self._link(node, copy)
            self._mark(copy)
            self._relink_children(child, copy)

    @staticmethod
    def _name_of(nodes: dict, node_id: str, prefix: str) -> str:
        n = nodes.get(node_id)
        return n["name"][len(prefix):] if n else ""

    def _progress(self) -> str:
        """Argo's ``status.progress``: the sum over executable nodes (pods, suspend, HTTP, plugin,
        container nodes) of each node's own ``N/M`` (``0/1`` by default), which is complete (``M/M``)
        once the node Succeeded, was Skipped or Omitted.  A failed pod stays at ``0/1``; steps and DAG
        nodes, groups and retry nodes add nothing themselves."""
        done = total = 0
        for n in self.nodes.values():
            if n.get("type") not in _EXECUTABLE:
                continue
            d, t = _node_progress(n.get("progress"))
            if n.get("phase") in _COMPLETE:
                d = t
            done += d
            total += t
        return f"{done}/{total}"

    # -- the plan: how many leaf steps the run will record (``plan.py``) ---------------------------

    def replan(self, delta: int) -> None:
        """Correct the planned total once a loop expanded or a step was skipped or omitted."""
        self.planned += delta

    def plan_fanout(self, prefix: str, step: dict, items: int) -> None:
        """A loop expanded into ``items``: the plan assumed ``planned_items``; its items are named
        ``<prefix>(i:…)``, and monitors count a fan-out's items against this size."""
        self.replan((items - self.planner.planned_items(step)) * self.planner.one(step))
        if len(self.planned_fanouts) < MAX_PLANNED_FANOUTS:
            self.planned_fanouts[prefix] = items

    def plan_one_node(self, step: dict, looped: bool) -> None:
        """A step or task recorded one node (skipped, omitted, errored, an empty loop) instead of its plan."""
        self.replan(1 - (self.planner.step(step) if looped else self.planner.one(step)))

    def plan_status(self) -> dict:
        """``status.dflowLabPlan``: ``{"steps": planned leaf steps, "fanOuts": {item prefix: items},
        "counts": {phase: leaf steps}}``. ``counts`` are what ``runview.status.workflow_progress`` counts
        from the nodes (a leaf step: a pod, suspend, HTTP or plugin node, a skipped or omitted step, a
        retried step's Retry node, not its attempts), kept here so that a list of runs, which leaves the
        nodes out, shows the same numbers."""
        counts: dict[str, int] = {}
        attempts: set[str] = set()
        for n in self.nodes.values():
            if n.get("type") == "Retry":
                attempts.update(n.get("children") or ())
        for n in self.nodes.values():
            kind = n.get("type")
            if kind == "Retry":
                if not any((self.nodes.get(c) or {}).get("type") in _LEAF_TYPES for c in n.get("children") or ()):
                    continue
            elif kind not in _LEAF_TYPES or n["id"] in attempts:
                continue
            phase = n.get("phase") or "Pending"
            counts[phase] = counts.get(phase, 0) + 1
        return {"steps": max(self.planned, 0), "fanOuts": dict(self.planned_fanouts), "counts": counts}

    def _close_running(self, message: str) -> None:
        for node in self.nodes.values():
            if node.get("phase") in ("Running", "Pending"):
                node["phase"] = "Failed"
                node["finishedAt"] = now_iso()
                _precise_finish(node)
                node["message"] = message
                self._mark(node)

    def _set_suspended(self, value: bool) -> None:
        self.status["suspended"] = value
        self.store.set_status(self.name, self.status)


def _precise_finish(node: dict) -> None:
    times = node.get("dflowLabTimes")
    if isinstance(times, dict):
        node["dflowLabTimes"] = {**times, "finishedAt": round(time.time(), 3)}
