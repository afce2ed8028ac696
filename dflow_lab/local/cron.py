"""CronWorkflows on the local engine: schedules kept in the workspace, honoured while a scheduler runs.

``dflow-lab cron create FILE`` keeps a CronWorkflow (checked first: schedules, timezone, policy) in the
workspace's object store (``<workdir>/objects/cronworkflows``); ``dflow-lab cron run`` — and
``dflow-lab server`` while it is up — runs :class:`CronScheduler`, which calls :meth:`CronScheduler.tick`
about once a second.  Argo's semantics (workflow/cron/operator.go, robfig/cron):

- ``schedules`` (or the older ``schedule``): standard 5-field cron expressions (minute, hour, day of
  month, month, day of week; ``*``, lists, ranges, steps, month and day names; day of month and day of week
  both restricted means either matches), ``@yearly``/``@annually``, ``@monthly``, ``@weekly``,
  ``@daily``/``@midnight``, ``@hourly``, ``@every <duration>``, in ``timezone`` (an IANA name; default
  the host's local time) or a ``CRON_TZ=``/``TZ=`` prefix;
- each tick runs, once per schedule, a schedule time that passed since the last tick (the latest, if the
  scheduler was late: robfig runs a late entry once and schedules the next from now); two schedules due
  at the same time make one run;
- when a scheduler starts (or first sees a CronWorkflow) it does not run what it missed while none ran,
  except, as Argo's ``runOutstandingWorkflows``, the latest missed time when it is less than
  ``startingDeadlineSeconds`` ago;
- a run is skipped while ``suspend`` is true, or when ``when`` (an expression over
  ``cronworkflow.name``, ``.namespace``, ``.labels``, ``.annotations``, ``.lastScheduledTime``,
  ``.failed``, ``.succeeded``) is false; ``concurrencyPolicy``: ``Allow`` (default) runs beside active
  runs, ``Forbid`` skips while one is active, ``Replace`` terminates the active ones first;
- a run is the Workflow ``<cron name>-<unix seconds of the schedule time>`` with ``workflowSpec``, labels
  ``workflows.argoproj.io/cron-workflow`` and ``workflowMetadata``'s, annotation
  ``workflows.argoproj.io/scheduled-time`` (``{{workflow.scheduledTime}}``); ``status`` keeps
  ``active``, ``lastScheduledTime``, ``succeeded``, ``failed``, ``phase``; finished runs beyond
  ``successfulJobsHistoryLimit`` (3) and ``failedJobsHistoryLimit`` (1) are deleted, oldest first.

Time comes from the scheduler's ``clock`` (a function returning Unix seconds; tests inject one).  Limits:
one scheduler at a time per workspace (a second ``cron run`` waits for the lock); ``stopStrategy`` and
the ``backfill`` command are not implemented; a schedule expression is searched at most
:data:`SEARCH_YEARS` years ahead.
"""

from __future__ import annotations

import calendar
import collections
import contextlib
import datetime as dt
import fcntl
import re
import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import WorkflowValueError
from ..names import workspace_path
from .backend import LocalBackend
from .durations import parse_duration
from .objects import ObjectStore
from .scope import Scope

__all__ = ["CRON_LABEL", "SCHEDULED_ANNOTATION", "CronSchedule", "CronScheduler", "check_cron_workflow"]

CRON_LABEL = "workflows.argoproj.io/cron-workflow"
SCHEDULED_ANNOTATION = "workflows.argoproj.io/scheduled-time"
SEARCH_YEARS = 5
_KIND = "CronWorkflow"
_POLICIES = ("Allow", "Forbid", "Replace")
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d.lower(): (i + 1) % 7 for i, d in enumerate(calendar.day_abbr)}  # sun = 0
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_FINISHED = ("Succeeded", "Failed", "Error")


def _field(text: str, lo: int, hi: int, names: dict[str, int], what: str) -> tuple[set[int], bool]:
    """The values of one cron field and whether it is restricted (not ``*``/``?``)."""
    values: set[int] = set()
    for part in text.lower().split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(f"{what}: step {step_text!r} is not a positive number")
            step = int(step_text)
        if part in ("*", "?"):
            start, end = lo, hi
        elif "-" in part:
            a, b = part.split("-", 1)
            start, end = _value(a, names, what), _value(b, names, what)
        else:
            start = _value(part, names, what)
            end = hi if step > 1 else start
        if what == "day of week" and end == 7:  # 7 is Sunday too
            end, values = 6, values | ({0} if start <= 7 else set())
        if not (lo <= start <= hi and lo <= end <= hi) or start > end:
            raise ValueError(f"{what}: {part!r} is outside {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return values, text not in ("*", "?")


def _value(text: str, names: dict[str, int], what: str) -> int:
    if text in names:
        return names[text]
    if not text.isdigit():
        raise ValueError(f"{what}: {text!r} is not a number" + (" or a name" if names else ""))
    return int(text)


class CronSchedule:
    """One schedule expression, in a timezone; :meth:`next` gives the first time after a given one."""

    def __init__(self, expression: str, timezone: str | None = None):
        text = str(expression).strip()
        tz_name = timezone or None
        m = re.match(r"^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$", text)
        if m:
            tz_name, text = m.group(1), m.group(2).strip()
        try:
            self.tz = ZoneInfo(tz_name) if tz_name else None
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {tz_name!r} (an IANA name such as 'Europe/Paris')") from None
        self.text = expression
        self.every: float | None = None
        if text.startswith("@every"):
            self.every = parse_duration(text[len("@every"):].strip(), "@every")
            if self.every < 1:
                raise ValueError("@every needs a duration of at least 1s")
            return
        text = _DESCRIPTORS.get(text.lower(), text)
        fields = text.split()
        if len(fields) != 5:
            raise ValueError(f"{expression!r} is not a cron expression: 5 fields (minute hour day-of-month month "
                             "day-of-week) or a descriptor such as @hourly, @every 1h")
        self.minutes, _ = _field(fields[0], 0, 59, {}, "minute")
        self.hours, _ = _field(fields[1], 0, 23, {}, "hour")
        self.dom, self.dom_set = _field(fields[2], 1, 31, {}, "day of month")
        self.months, _ = _field(fields[3], 1, 12, _MONTHS, "month")
        self.dow, self.dow_set = _field(fields[4], 0, 7, _DAYS, "day of week")

    def _day_ok(self, d: dt.datetime) -> bool:
        dom_ok = d.day in self.dom
        dow_ok = (d.isoweekday() % 7) in self.dow
        if self.dom_set and self.dow_set:
            return dom_ok or dow_ok
        return dom_ok and dow_ok

    def next(self, after: float) -> float:
        """The first schedule time (Unix seconds) strictly after ``after``."""
        if self.every is not None:
            return float(int(after + self.every))
        tz = self.tz or dt.datetime.fromtimestamp(after).astimezone().tzinfo
        t = dt.datetime.fromtimestamp(int(after) - int(after) % 60 + 60, tz).replace(tzinfo=None)
        limit = t.year + SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = (t.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
                continue
            if not self._day_ok(t):
                t = t.replace(hour=0, minute=0) + dt.timedelta(days=1)
                continue
            if t.hour not in self.hours:
                t = t.replace(minute=0) + dt.timedelta(hours=1)
                continue
            if t.minute not in self.minutes:
                t += dt.timedelta(minutes=1)
                continue
            local = t.replace(tzinfo=tz) if self.tz is not None else t.astimezone()
            stamp = local.timestamp()
            if stamp > after:
                return stamp
            t += dt.timedelta(minutes=1)
        raise ValueError(f"{self.text!r} has no time in the next {SEARCH_YEARS} years")


def _schedules(spec: dict) -> list[str]:
    schedules = spec.get("schedules")
    if schedules is None and spec.get("schedule"):
        schedules = [spec["schedule"]]
    return [str(s) for s in schedules or []]


def check_cron_workflow(manifest: Any) -> dict:
    """Check a CronWorkflow before it is kept: raises ``WorkflowValueError`` naming the field."""
    if not isinstance(manifest, dict) or manifest.get("kind") != _KIND:
        raise WorkflowValueError("not a CronWorkflow (kind: CronWorkflow)", field="kind")
    name = str((manifest.get("metadata") or {}).get("name") or "")
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        raise WorkflowValueError(f"CronWorkflow {name!r}: spec is missing", workflow=name, field="spec")
    if not isinstance(spec.get("workflowSpec"), dict):
        raise WorkflowValueError(f"CronWorkflow {name!r}: spec.workflowSpec is missing", workflow=name,
                                 field="spec.workflowSpec")
    schedules = _schedules(spec)
    if not schedules:
        raise WorkflowValueError(f"CronWorkflow {name!r}: spec.schedules is empty", workflow=name, field="spec.schedules")
    for i, s in enumerate(schedules):
        try:
            CronSchedule(s, spec.get("timezone"))
        except ValueError as e:
            raise WorkflowValueError(f"CronWorkflow {name!r}: spec.schedules[{i}]: {e}", workflow=name,
                                     field=f"spec.schedules[{i}]") from None
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy not in _POLICIES:
        raise WorkflowValueError(f"CronWorkflow {name!r}: concurrencyPolicy {policy!r} is not one of {_POLICIES}",
                                 workflow=name, field="spec.concurrencyPolicy")
    deadline = spec.get("startingDeadlineSeconds")
    if deadline is not None and (not isinstance(deadline, int) or isinstance(deadline, bool) or deadline < 0):
        raise WorkflowValueError(f"CronWorkflow {name!r}: startingDeadlineSeconds must be a non-negative integer",
                                 workflow=name, field="spec.startingDeadlineSeconds")
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        v = spec.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise WorkflowValueError(f"CronWorkflow {name!r}: {key} must be a non-negative integer", workflow=name,
                                     field=f"spec.{key}")
    if not isinstance(spec.get("suspend", False), bool):
        raise WorkflowValueError(f"CronWorkflow {name!r}: suspend must be true or false", workflow=name,
                                 field="spec.suspend")
    return manifest


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _epoch(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


class CronScheduler:
    """Runs the workspace's CronWorkflows.  ``tick()`` does one pass at ``clock()``; ``run()`` ticks about
    once a second until ``stop`` is set."""

    def __init__(self, workdir: Any, clock: Callable[[], float] = time.time, backend: Any = None):
        self.backend = backend or LocalBackend(workdir)
        self.store = ObjectStore(self.backend.workdir)
        self.clock = clock
        self.checked: dict[str, float] = {}  # CronWorkflow -> the time up to which its schedules were handled
        # what the scheduler did, the latest 1,000 (`cron run` prints and removes them)
        self.events: collections.deque[str] = collections.deque(maxlen=1000)

    # -- one pass ---------------------------------------------------------------------------------

    def tick(self) -> list[str]:
        """Handle every CronWorkflow at ``clock()``; returns the names of the Workflows started."""
        now = self.clock()
        started: list[str] = []
        for name in self.store.list(_KIND):
            cron = self.store.get(_KIND, name)
            if cron is None:
                continue
            self._reconcile(cron)
            spec = cron.get("spec") or {}
            due: set[float] = set()
            since = self.checked.get(name)
            for expr in _schedules(spec):
                try:
                    sched = CronSchedule(expr, spec.get("timezone"))
                except ValueError:
                    continue
                if since is None:  # first sight: only an outstanding run within startingDeadlineSeconds
                    missed = self._missed(cron, sched, now)
                    if missed is not None:
                        due.add(missed)
                    continue
                latest = None
                t = sched.next(since)
                while t <= now:
                    latest = t
                    t = sched.next(t)
                if latest is not None:
                    due.add(latest)
            self.checked[name] = now
            for t in sorted(due):
                wf = self._run(cron, t)
                if wf:
                    started.append(wf)
            self._save(cron)
        return started

    def _missed(self, cron: dict, sched: CronSchedule, now: float) -> float | None:
        status = cron.get("status") or {}
        deadline = (cron.get("spec") or {}).get("startingDeadlineSeconds")
        if not status.get("lastScheduledTime") or deadline is None:
            return None
        missed = None
        t = sched.next(_epoch(status["lastScheduledTime"]))
        while t < now:
            missed = t
            t = sched.next(t)
        if missed is not None and now < missed + deadline:
            return missed
        return None

    def _reconcile(self, cron: dict) -> None:
        """Drop finished runs from ``status.active`` (counting them) and apply the history limits."""
        status = cron.setdefault("status", {})
        active = []
        for ref in status.get("active") or []:
            try:
                phase = self.backend.get(ref["name"])["status"].get("phase")
            except (KeyError, ValueError, TypeError):
                continue  # deleted
            if phase in _FINISHED:
                key = "succeeded" if phase == "Succeeded" else "failed"
                status[key] = int(status.get(key) or 0) + 1
            else:
                active.append(ref)
        status["active"] = active
        if not active and status.get("phase") == "Active":
            status["phase"] = ""
        spec = cron.get("spec") or {}
        limits = {"Succeeded": spec.get("successfulJobsHistoryLimit", 3), "Failed": spec.get("failedJobsHistoryLimit", 1)}
        name = cron["metadata"]["name"]
        runs = [w for w in self.backend.list({CRON_LABEL: name})
                if (w.get("status") or {}).get("phase") in _FINISHED]
        runs.sort(key=lambda w: (w.get("status") or {}).get("finishedAt") or "", reverse=True)
        for phase, limit in limits.items():
            mine = [w for w in runs if (w["status"]["phase"] == "Succeeded") == (phase == "Succeeded")]
            for w in mine[int(limit):]:
                with contextlib.suppress(KeyError, ValueError):
                    self.backend.delete(w["metadata"]["name"])

    def _when(self, cron: dict) -> bool:
        when = (cron.get("spec") or {}).get("when")
        if not when:
            return True
        meta = cron.get("metadata") or {}
        status = cron.get("status") or {}
        values: dict[str, Any] = {"cronworkflow.name": meta.get("name", ""),
                                  "cronworkflow.namespace": meta.get("namespace", "default"),
                                  "cronworkflow.failed": int(status.get("failed") or 0),
                                  "cronworkflow.succeeded": int(status.get("succeeded") or 0),
                                  "cronworkflow.lastScheduledTime": status.get("lastScheduledTime")}
        for k, v in (meta.get("labels") or {}).items():
            values[f"cronworkflow.labels.{k}"] = v
        for k, v in (meta.get("annotations") or {}).items():
            values[f"cronworkflow.annotations.{k}"] = v
        scope = Scope(values)
        where = f"CronWorkflow {meta.get('name')!r}: spec.when"
        text = scope.render(str(when), where)
        return scope.eval_when(text, where)

    def _run(self, cron: dict, scheduled: float) -> str | None:
        """Start the run of ``scheduled`` unless a policy says no; its Workflow's name, or ``None``."""
        spec = cron.get("spec") or {}
        meta = cron["metadata"]
        status = cron.setdefault("status", {})
        label = f"CronWorkflow {meta['name']!r} at {_iso(scheduled)}"
        if spec.get("suspend"):
            self.events.append(f"{label}: suspended, not run")
            return None
        try:
            if not self._when(cron):
                self.events.append(f"{label}: `when` is false, not run")
                return None
        except Exception as e:  # noqa: BLE001 - a bad `when` is reported, the scheduler goes on
            self.events.append(f"{label}: `when` failed: {e}")
            status["conditions"] = [{"type": "SubmissionError", "status": "True", "message": str(e)}]
            return None
        policy = spec.get("concurrencyPolicy") or "Allow"
        active = status.get("active") or []
        if active and policy == "Forbid":
            self.events.append(f"{label}: concurrencyPolicy Forbid and {len(active)} run(s) active, not run")
            return None
        if active and policy == "Replace":
            for ref in active:
                with contextlib.suppress(KeyError, ValueError, TimeoutError):
                    self.backend.terminate(ref["name"])
                    self.backend.wait(ref["name"], timeout=60)
            self._reconcile(cron)
        name = f"{meta['name']}-{int(scheduled)}"
        wm = spec.get("workflowMetadata") or {}
        manifest = {
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
            "metadata": {"name": name, "namespace": meta.get("namespace", "default"),
                         "labels": {**(wm.get("labels") or {}), CRON_LABEL: meta["name"]},
                         "annotations": {**(wm.get("annotations") or {}), SCHEDULED_ANNOTATION: _iso(scheduled)}},
            "spec": spec["workflowSpec"],
        }
        if self.backend.store.workflow(name) is not None:
            return None  # already submitted (two schedules, or a restart): Argo's AlreadyExists
        try:
            self.backend.submit(manifest, wait=False)
        except (WorkflowValueError, ValueError) as e:
            self.events.append(f"{label}: the Workflow was refused: {e}")
            status["conditions"] = [{"type": "SubmissionError", "status": "True", "message": str(e)}]
            return None
        status["active"] = [*(status.get("active") or []), {"kind": "Workflow", "name": name,
                                                             "namespace": meta.get("namespace", "default")}]
        status["lastScheduledTime"] = _iso(scheduled)
        status["phase"] = "Active"
        status.pop("conditions", None)
        self.events.append(f"{label}: started Workflow {name}")
        return name

    def _save(self, cron: dict) -> None:
        name = cron["metadata"]["name"]
        current = self.store.get(_KIND, name)
        if current is None:  # deleted meanwhile
            return
        current["status"] = cron.get("status") or {}
        self.store.create(current)

    # -- the loop ---------------------------------------------------------------------------------

    def run(self, stop: threading.Event, every: float = 1.0) -> None:
        """Tick until ``stop`` is set, holding the workspace's scheduler lock (one scheduler at a time)."""
        lock_path = workspace_path(self.backend.workdir, "locks", "cron.lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a") as lock:
            while not stop.is_set():
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    stop.wait(every)
            while not stop.is_set():
                self.tick()
                stop.wait(every)
