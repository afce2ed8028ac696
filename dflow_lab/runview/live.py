"""Following a run for a widget: the engine's event stream folded into per-node status, step details.

``LiveRun`` long-polls ``backend.events(name, after, timeout)`` in a thread: each answer holds only what
changed since the last one, so the widget never re-reads the whole workflow. Changed canvas nodes are sent to
the browser in one message per batch, ``{"type": "status", "changes": {path: delta}, "delta": true}``: each
delta holds only the fields of the node's entry that changed since the last message (``None``: the field is
gone), a node's first entry only its fields that have a value (``merge_status`` folds messages as the browser's
``js/canvas/statusFeed.ts`` does; the browser applies a large message in slices across tasks). Batches are at
least ``BATCH_SECONDS`` apart: events that come sooner after a message are gathered into the next one
(``gather``), so a 10,000-task run sends about ten status messages a second however fast its steps end, while a
lone step's change still goes out at once.

The workflow's progress (``"37/1000 succeeded, 2 running"``) is counted incrementally, one node change at a
time, and its total is the number of steps the workflow will run as far as its manifest tells (each DAG task
or step of a leaf template, through nested templates, when nothing loops or recurses), so the header does not
count only the steps started so far; once the run ends, or when the manifest cannot tell (loops, recursion),
the total is the steps seen.
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from ..argo_objects import ArgoStep
from ..engine import Engine
from ..executors.render import JOB_ID_PARAMETER, executor_info
from ..utils import download_artifact
from .preview import preview_path
from .status import (
    LEAF_TYPES,
    NOT_RUN,
    fold_status,
    parse_node_name,
    planned_items,
    precise_times,
    progress_text,
)

logger = logging.getLogger(__name__)

FINAL = {"Succeeded", "Failed", "Error"}
POLL_SECONDS = 5.0
BATCH_SECONDS = 0.1  # the least time between two status messages while events keep coming
MAX_BATCH_EVENTS = 20_000  # a batch is sent once it holds this many events, whatever the time
LOG_LINES = 2000  # the most log lines a backend without byte offsets (Argo) gives the panel at once
LOG_FOLLOW_SECONDS = 0.1  # how often an open step panel looks for new log lines
LOG_REREAD_SECONDS = 1.0  # the same where the whole log is read again each time (Argo's log API)
_SLURM_JOB = re.compile(r"Slurm job (\d+)")


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start:
        return None
    t0 = datetime.fromisoformat(start.replace("Z", "+00:00"))
    t1 = datetime.fromisoformat(end.replace("Z", "+00:00")) if end else datetime.now(t0.tzinfo)
    return max(0.0, (t1 - t0).total_seconds())


def run_view(backend: Engine, name: str) -> LiveRun:
    """A ``LiveRun`` of ``name`` filled with every event so far and not following: the step panels of a run
    that is not the one followed (the other side of a comparison, a run of the lab's REST API)."""
    run = LiveRun(backend, name, lambda _msg: None, lambda _state: None)
    run.apply(backend.events(name, after=0, timeout=0))
    return run


class LiveRun:
    """The status of one run of workflow ``name`` on ``backend``, pushed to ``send`` as it changes."""

    def __init__(self, backend: Engine, name: str, send: Callable[[dict], None],
                 on_workflow: Callable[[dict], None]) -> None:
        self.backend = backend
        self.name = name
        self._send = send
        self._on_workflow = on_workflow
        self.nodes: dict[str, dict] = {}
        self.by_path: dict[str, set[str]] = {}
        self.folded: dict[str, dict] = {}
        self.planned: dict[str, int] = {}  # planned fan-out sizes by path (status.dflowLabPlan)
        self.workflow: dict[str, Any] = {"phase": "Pending"}
        self.seq = 0
        self._counted: dict[str, tuple[str, bool]] = {}  # node id -> (phase, counted in the total)
        self._counts: dict[str, int] = {}
        self._seen_total = 0
        self._planned: int | None | bool = False  # steps the manifest says will run (False: not read yet)
        self._templates: dict[str, dict] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name=f"dflow-lab-monitor-{name}", daemon=True)

    def start(self) -> LiveRun:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def finished(self) -> bool:
        return self.workflow.get("phase") in FINAL

    def wait(self, timeout: float) -> bool:
        """Wait until the follower has seen the end of the run (or stopped); True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- following ------------------------------------------------------------------------------
    def _follow(self) -> None:
        last = -BATCH_SECONDS
        while not self._stop.is_set():
            try:
                # once the run looks finished, only look for what is already there (a retry restarts it)
                events = self.backend.events(self.name, after=self.seq, timeout=0 if self.finished else POLL_SECONDS)
                if events:
                    events = gather(self.backend, self.name, events, last + BATCH_SECONDS)
            except Exception as e:  # the engine went away: say so in the widget and stop
                logger.exception("dflow-lab monitor: events of %s", self.name)
                self._on_workflow({**self.workflow, "message": f"lost the run's event stream: {e}"})
                return
            if events:
                try:
                    self.apply(events)
                except Exception as e:  # an event this monitor cannot fold: say so rather than freeze silently
                    logger.exception("dflow-lab monitor: events of %s", self.name)
                    self._on_workflow({**self._workflow_state(), "message": f"the monitor stopped following "
                                       f"{self.name}: an event it could not read ({type(e).__name__}: {e})"})
                    return
                last = time.monotonic()
            elif self.finished:
                return

    def apply(self, events: list[dict]) -> None:
        """Fold a batch of engine events in and send what changed."""
        touched: set[str] = set()
        workflow_changed = False
        with self._lock:
            for ev in events:
                self.seq = max(self.seq, int(ev.get("seq", 0)))
                node = ev.get("node")
                if node is not None:
                    self.nodes[node["id"]] = node
                    self._count(node)
                    path = parse_node_name(node.get("name", ""), self.name).path
                    if path:
                        self.by_path.setdefault(path, set()).add(node["id"])
                        touched.add(path)
                    workflow_changed = True
                if ev.get("workflow"):
                    self.workflow.update(ev["workflow"])
                    workflow_changed = True
            planned = planned_items(self.workflow.get("dflowLabPlan"), self.name)
            if planned != self.planned:  # a fan-out's planned size is known: its badge counts against it
                touched |= {p for p in set(planned) | set(self.planned)
                            if planned.get(p) != self.planned.get(p) and p in self.by_path}
                self.planned = planned
            changes = {}
            for path in touched:
                entry = fold_status((self.nodes[i] for i in self.by_path[path]), self.name, self.planned).get(path)
                old = self.folded.get(path)
                if entry is not None and entry != old:
                    self.folded[path] = entry
                    delta = _delta(old, entry)
                    if delta:  # not only its node ids
                        changes[path] = delta
            state = self._workflow_state() if workflow_changed else None
        if changes:
            self._send({"type": "status", "changes": changes, "delta": True})
        if state is not None:
            self._on_workflow(state)

    def _count(self, node: dict) -> None:
        """Update the progress counts for one node's new state (what ``workflow_progress`` counts, kept
        incrementally: a batch costs its own events, not the run's size)."""
        old = self._counted.pop(node["id"], None)
        if old is not None:
            self._counts[old[0]] -= 1
            self._seen_total -= old[1]
        kind = node.get("type")
        if kind == "Retry":  # a retried leaf step counts once, as its Retry node (its attempts are pods)
            if not any((self.nodes.get(c) or {}).get("type") in LEAF_TYPES for c in node.get("children") or ()):
                return
        elif kind not in LEAF_TYPES or parse_node_name(node.get("name", ""), self.name).attempt:
            return
        phase = node.get("phase") or "Pending"
        # skipped and omitted steps are part of the total, so that the counts add up to it
        self._counted[node["id"]] = (phase, True)
        self._counts[phase] = self._counts.get(phase, 0) + 1
        self._seen_total += 1

    def progress(self) -> dict[str, Any]:
        """``{"counts", "total"}`` of the run's steps (see the module's docstring for the total): the local
        engine's plan (``status.dflowLabPlan``, corrected as loops expand; planned steps a finished run never
        reached are ``NotRun``), else what the manifest tells (``planned_steps``) while the run runs."""
        counts = {k: v for k, v in self._counts.items() if v}
        total = self._seen_total
        plan = self.workflow.get("dflowLabPlan")
        steps = plan.get("steps") if isinstance(plan, dict) else None
        if isinstance(steps, int):
            if steps > total and self.finished:
                counts[NOT_RUN] = steps - total
            return {"counts": counts, "total": max(total, steps)}
        if self._planned is False:
            self._planned = self._planned_steps()
        if isinstance(self._planned, int) and not self.finished:
            total = max(total, self._planned)
        return {"counts": counts, "total": total}

    def _planned_steps(self) -> int | None:
        try:
            return planned_steps((self.backend.get(self.name) or {}).get("spec") or {})
        except Exception:  # noqa: BLE001 - the progress falls back to the steps seen
            return None

    def _workflow_state(self) -> dict[str, Any]:
        progress = self.progress()
        started, finished = precise_times(self.workflow)
        return {
            "name": self.name,
            "phase": self.workflow.get("phase"),
            "startedAt": started,
            "finishedAt": finished,
            "message": self.workflow.get("message"),
            "progress": progress_text(progress) if progress["total"] else None,
        }

    def snapshot(self) -> dict[str, dict]:
        """Every canvas node's status entry (fields without a value left out): a ``reset`` message's changes."""
        with self._lock:
            return {path: _delta(None, e) for path, e in self.folded.items()}

    # -- step details ---------------------------------------------------------------------------
    def details(self, path: str, item: int | None = None) -> dict[str, Any]:
        """What the step panel shows for canvas node ``path`` (item ``item`` of a fan-out)."""
        with self._lock:
            ids = sorted(self.by_path.get(path, ()))
            members = [self.nodes[i] for i in ids]
        if not members:
            return {"path": path, "inputs": [], "outputs": [], "error": f"{path} has not run yet"}
        # a retried step (or item) is its Retry node, which has the step's phase; its attempts are listed apart
        leaves = [n for n in members if n.get("type") != "TaskGroup"
                  and not parse_node_name(n.get("name", ""), self.name).attempt] or members
        items: list[tuple[int, dict[str, Any]]] = []
        for n in leaves:
            parsed = parse_node_name(n.get("name", ""), self.name)
            items.append((parsed.item if parsed.item is not None else len(items), n))
        items.sort(key=lambda t: t[0])
        index = item if item is not None else items[0][0]
        node = next((n for i, n in items if i == index), items[0][1])
        inputs = node.get("inputs") or {}
        outputs = node.get("outputs") or {}
        params_in = [p for p in inputs.get("parameters") or [] if p.get("name") != "dflow_key"]
        key = next((p.get("value") for p in inputs.get("parameters") or [] if p.get("name") == "dflow_key"), None)
        phase = node.get("phase")
        attempts = self._attempts(members, node)
        # the log of a retried step is its last attempt's (each attempt's own log: the attempts list)
        logs = self._log_start({**node, "id": attempts[-1]["id"]} if attempts and node.get("type") == "Retry" else node)
        return {
            "path": path,
            "phase": phase,
            "key": key,
            "duration": _seconds(*precise_times(node)),
            "message": node.get("message") or None,
            "items": [{"index": i, "label": n.get("displayName", str(i)), "phase": n.get("phase", "Pending")}
                      for i, n in items] if len(items) > 1 else [],
            "item": index,
            "inputs": [_param(p) for p in params_in]
            + [self._artifact(node, a, "inputs") for a in _present(inputs.get("artifacts"))],
            "outputs": [_param(p) for p in outputs.get("parameters") or [] if p.get("name") != JOB_ID_PARAMETER]
            + [self._artifact(node, a, "outputs") for a in _present(outputs.get("artifacts"))],
            **logs,
            **self._executor(node, logs.get("logs") or ""),
            "attempts": attempts,
            "reusedFrom": self._reused_from(node),
            "actions": self._actions(phase),
        }

    def _executor(self, node: dict, log: str) -> dict[str, Any]:
        """Where the step ran (the ``dflow-lab/executor`` annotation of its template: kind and
        ``user@host:port``, never credentials) and its Slurm job id (the step's output parameter, else
        the runner's "Slurm job N" line in the message or the log, so a running or failed job shows it)."""
        if self._templates is None:
            try:
                spec = (self.backend.get(self.name) or {}).get("spec") or {}
                self._templates = {t.get("name"): t for t in spec.get("templates") or []}
            except Exception:  # noqa: BLE001 - the panel works without it
                self._templates = {}
        info = executor_info(self._templates.get(str(node.get("templateName") or "")) or {})
        if info is None:
            return {}
        out: dict[str, Any] = {"executor": {"kind": info.get("kind"), "target": info.get("target")}}
        params = (node.get("outputs") or {}).get("parameters") or []
        job = next((str(p.get("value")) for p in params if p.get("name") == JOB_ID_PARAMETER and p.get("value")), None)
        if job is None:
            m = _SLURM_JOB.search(node.get("message") or "") or _SLURM_JOB.search(log)
            job = m.group(1) if m else None
        if job:
            out["slurmJobId"] = job
        return out

    def _attempts(self, members: list[dict], node: dict) -> list[dict[str, Any]]:
        """The retry attempts of the shown step (or item), oldest first: each with its own node id (for its
        log), phase, error message and duration; empty for a step that was not retried."""
        name = node.get("name", "")
        base = name[: name.rindex("(")] if parse_node_name(name, self.name).attempt else name
        out = []
        for n in members:
            tail = n.get("name", "")[len(base):]
            if n.get("name", "").startswith(base) and tail[:1] == "(" and tail[1:-1].isdigit() and tail[-1:] == ")":
                out.append((int(tail[1:-1]), n))
        return [{"index": i, "id": n.get("id"), "phase": n.get("phase") or "Pending", "message": n.get("message"),
                 "startedAt": n.get("startedAt"), "finishedAt": n.get("finishedAt"),
                 "duration": _seconds(*precise_times(n))} for i, n in sorted(out, key=lambda t: t[0])]

    def _actions(self, phase: str | None) -> list[str]:
        """The step panel's buttons: stop while the run runs; once it ended, retry (a failed step), the
        partial re-runs on this run's results (Run this step, Run from here, Re-run failed), resubmit."""
        if not self.finished:
            return ["stop"]
        failed = self.workflow.get("phase") in ("Failed", "Error")
        return ((["retry"] if phase in ("Failed", "Error") else []) + ["run-only", "run-from"]
                + (["rerun-failed"] if failed else []) + ["resubmit"])

    def _reused_from(self, node: dict) -> str | None:
        """The run a reused step's outputs come from (the workflow's ``dflow-lab/reused-from``), or None."""
        if not (node.get("memoizationStatus") or {}).get("hit"):
            return None
        try:
            meta = (self.backend.get(self.name) or {}).get("metadata") or {}
        except Exception:  # noqa: BLE001 - the panel works without it
            meta = {}
        return (meta.get("annotations") or {}).get("dflow-lab/reused-from") or "the memoization cache"

    def _log_start(self, node: dict) -> dict[str, Any]:
        """The log so far, for the step panel, with what following it needs (``logsNode``, ``logsEnd``)."""
        try:
            text, end, skipped = self.read_log(node["id"], 0)
        except Exception as e:
            return {"logs": f"(logs unavailable: {e})"}
        return {"logs": text, "logsSkipped": skipped, "logsNode": node["id"], "logsEnd": end}

    def read_log(self, node_id: str, offset: int) -> tuple[str, int, bool]:
        """``(text, end, skipped)`` of node ``node_id``'s log from ``offset`` (see ``LocalBackend.read_log``).

        A backend without ``read_log`` (Argo) is read whole each time; its offsets count lines."""
        if self.backend.log_offsets:
            return self.backend.read_log(self.name, node_id, offset)
        lines = list(self.backend.logs(self.name, node_id))
        new = lines[offset:]
        skipped = len(new) > LOG_LINES
        return "".join(line if line.endswith("\n") else line + "\n" for line in new[-LOG_LINES:]), len(lines), skipped

    def follow_log(self, node_id: str, offset: int, send: Callable[[str, int, int, bool], None],
                   current: Callable[[], bool]) -> None:
        """Send the lines node ``node_id`` adds to its log after ``offset`` as they come, every
        ``LOG_FOLLOW_SECONDS`` (``LOG_REREAD_SECONDS`` on a backend without ``read_log``), until the node
        has ended (and its last lines are sent), the run is no longer
        followed, or ``current()`` turns false (the panel was closed or shows another step)."""
        every = LOG_FOLLOW_SECONDS if self.backend.log_offsets else LOG_REREAD_SECONDS
        while current() and not self._stop.wait(every):
            with self._lock:
                ended = (self.nodes.get(node_id) or {}).get("phase") in FINAL | {"Skipped", "Omitted"}
            text, end, skipped = self.read_log(node_id, offset)
            if (text or skipped) and current():
                send(text, offset, end, skipped)
            offset = end
            if ended:  # read after the end was seen: nothing more will come
                return

    def _artifact(self, node: dict, art: dict, where: str) -> dict[str, Any]:
        """An artifact of the step with a preview of its content (downloaded to a temporary directory)."""
        entry: dict[str, Any] = {"name": art.get("name", "?"), "kind": "artifact"}
        try:
            artifact = getattr(ArgoStep(node, self.name), where).artifacts[art["name"]]
            with tempfile.TemporaryDirectory(prefix="dflow-lab-preview-") as tmp:
                download_artifact(artifact, path=tmp)
                entry["preview"] = preview_path(_only_child(Path(tmp)))
        except Exception as e:
            entry["preview"] = {"kind": "missing", "message": f"preview unavailable: {e}"}
        return entry


def gather(backend: Engine, name: str, events: list[dict], until: float) -> list[dict]:
    """``events`` and those that follow them until ``time.monotonic()`` reaches ``until`` (or the batch holds
    ``MAX_BATCH_EVENTS``): one batch, one message. Returns at once when ``until`` has passed."""
    events = list(events)
    while len(events) < MAX_BATCH_EVENTS:
        left = until - time.monotonic()
        if left <= 0:
            break
        after = max(int(ev.get("seq", 0)) for ev in events)
        more = backend.events(name, after=after, timeout=left)
        events.extend(more)
    return events


def planned_steps(spec: dict) -> int | None:
    """How many steps (pods) a workflow's manifest will run: each task or step of a leaf template counts
    once, a task of a Steps/DAG template counts that template's steps. None when it cannot tell: a loop
    (``withItems``/``withParam``/``withSequence``), recursion, or a template the manifest lacks."""
    templates = {t.get("name"): t for t in spec.get("templates") or []}
    memo: dict[str, int | None] = {}

    def count(name: str, stack: tuple[str, ...]) -> int | None:
        if name in stack or len(stack) > 100:
            return None
        if name in memo:
            return memo[name]
        t = templates.get(name)
        if t is None:
            return None
        calls = [s for group in t.get("steps") or [] for s in group] if "steps" in t else \
            (t.get("dag") or {}).get("tasks") if "dag" in t else None
        if calls is None:
            memo[name] = 1
            return 1
        total = 0
        for call in calls:
            if any(call.get(k) is not None for k in ("withItems", "withParam", "withSequence")):
                return None
            inner = count(call.get("template") or "", (*stack, name)) if call.get("template") else None
            if inner is None:
                return None
            total += inner
        memo[name] = total
        return total

    return count(spec.get("entrypoint") or "", ())


def _present(artifacts: list[dict] | None) -> list[dict]:
    """The artifacts a step had: an optional one that was not given has no storage key."""
    return [a for a in artifacts or [] if a.get("key") or not a.get("optional")]


def _only_child(p: Path) -> Path:
    children = list(p.iterdir())
    return children[0] if len(children) == 1 else p


def _param(p: dict) -> dict[str, Any]:
    value = p.get("value", p.get("default"))
    return {"name": p.get("name", "?"), "kind": "parameter", "value": "" if value is None else str(value)}


def _public(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "ids"}


def _delta(old: dict | None, new: dict) -> dict:
    """What a status message carries for an entry that was ``old`` (None: never sent) and is ``new``: the fields
    that changed, ``None`` for one that is gone; for a new entry, its fields that have a value."""
    new = _public(new)
    if old is None:
        return {k: v for k, v in new.items() if v is not None}
    old = _public(old)
    return {k: new.get(k) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}


def merge_status(known: dict[str, dict], message: dict) -> dict[str, dict]:
    """Fold a status message (``{"changes", "reset"?, "delta"?}``, as ``LiveRun`` sends them) into ``known``
    (canvas path -> status entry) as the browser does (js/canvas/statusFeed.ts): a ``reset`` replaces it all, a
    ``delta`` entry is merged over the entry (a ``None`` field is dropped), else an entry replaces the old one;
    ``None`` for a whole entry removes the path. Returns ``known``."""
    if message.get("reset"):
        known.clear()
    for path, entry in (message.get("changes") or {}).items():
        if entry is None:
            known.pop(path, None)
            continue
        base = dict(known.get(path) or {}) if message.get("delta") and not message.get("reset") else {}
        base.update(entry)
        known[path] = {k: v for k, v in base.items() if v is not None}
    return known
