"""CronWorkflows on the local engine (dflow_lab.local.cron): schedules, Argo's policies, the CLI and the
scheduler in ``dflow-lab server``.  Time is injected (a clock the test moves); nothing sleeps."""

from __future__ import annotations

import calendar
import signal
import time

import pytest
import yaml

from dflow_lab.errors import WorkflowValueError
from dflow_lab.local.cron import CRON_LABEL, CronSchedule, CronScheduler, check_cron_workflow
from dflow_lab.local.objects import ObjectStore
from dflow_lab.main import main

from .local_helpers import wait_for


def _t(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def _iso(stamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


class Clock:
    def __init__(self, at: str):
        self.now = _t(at)

    def __call__(self) -> float:
        return self.now

    def set(self, at: str) -> None:
        self.now = _t(at)


def _cron(name: str, schedule="* * * * *", template=None, **spec) -> dict:
    template = template or {"name": "main", "container": {"image": "busybox", "command": ["echo"],
                                                          "args": ["at {{workflow.scheduledTime}}"]}}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow", "metadata": {"name": name},
            "spec": {"schedules": [schedule], "timezone": "UTC", **spec,
                     "workflowSpec": {"entrypoint": "main", "templates": [template]}}}


SUSPENDED = {"name": "main", "suspend": {}}


# -- schedules ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("expr", "after", "expected"), [
    ("*/5 * * * *", "2026-03-01T10:02:10Z", "2026-03-01T10:05:00Z"),
    ("0 2 * * *", "2026-03-01T02:00:00Z", "2026-03-02T02:00:00Z"),
    ("30 9 * * mon-fri", "2026-03-06T10:00:00Z", "2026-03-09T09:30:00Z"),  # Friday after 9:30 -> Monday
    ("0 0 13 * fri", "2026-03-01T00:00:00Z", "2026-03-06T00:00:00Z"),  # day-of-month OR day-of-week
    ("0 0 1 jan,jul *", "2026-02-01T00:00:00Z", "2026-07-01T00:00:00Z"),
    ("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"),
    ("@hourly", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"),
    ("@every 90s", "2026-03-01T10:00:00Z", "2026-03-01T10:01:30Z"),
    ("*/3 * * * 1-5", "2026-03-07T00:00:00Z", "2026-03-09T00:00:00Z"),  # Saturday -> Monday
])
def test_schedule_next(expr, after, expected):
    assert _iso(CronSchedule(expr, "UTC").next(_t(after))) == expected


def test_schedule_timezone():
    # 02:00 in Los Angeles (UTC-8 in winter, UTC-7 in summer)
    assert _iso(CronSchedule("0 2 * * *", "America/Los_Angeles").next(_t("2026-01-10T00:00:00Z"))) == "2026-01-10T10:00:00Z"
    assert _iso(CronSchedule("CRON_TZ=America/Los_Angeles 0 2 * * *").next(_t("2026-07-10T00:00:00Z"))) == \
        "2026-07-10T09:00:00Z"


@pytest.mark.parametrize(("spec", "message"), [
    ({"schedules": ["* * * *"]}, "5 fields"),
    ({"schedules": ["61 * * * *"]}, "minute"),
    ({"schedules": ["* * * * *"], "timezone": "Mars/Base"}, "unknown timezone"),
    ({"schedules": ["* * * * *"], "concurrencyPolicy": "Sometimes"}, "concurrencyPolicy"),
    ({"schedules": ["* * * * *"], "startingDeadlineSeconds": -1}, "startingDeadlineSeconds"),
    ({"schedules": []}, "spec.schedules is empty"),
])
def test_bad_cron_workflows_are_refused_naming_the_field(spec, message):
    cron = {"kind": "CronWorkflow", "metadata": {"name": "c"}, "spec": {**spec, "workflowSpec": {"templates": []}}}
    with pytest.raises(WorkflowValueError, match=message):
        check_cron_workflow(cron)


# -- the scheduler ------------------------------------------------------------------------------------

def _scheduler(backend, clock, *crons) -> CronScheduler:
    for c in crons:
        ObjectStore(backend.workdir).create(check_cron_workflow(c))
    return CronScheduler(backend.workdir, clock=clock, backend=backend)


def _status(backend, name) -> dict:
    return ObjectStore(backend.workdir).get("CronWorkflow", name).get("status") or {}


def test_runs_at_schedule_times_once_with_scheduled_time(backend):
    clock = Clock("2026-01-01T00:00:30Z")
    s = _scheduler(backend, clock, _cron("every-minute"))
    assert s.tick() == []  # first sight: nothing missed is run (no startingDeadlineSeconds)
    clock.set("2026-01-01T00:00:59Z")
    assert s.tick() == []
    clock.set("2026-01-01T00:01:00Z")
    started = s.tick()
    assert started == [f"every-minute-{int(_t('2026-01-01T00:01:00Z'))}"]
    assert s.tick() == []  # the same time is not run twice
    wf = backend.wait(started[0], timeout=120)
    assert wf["status"]["phase"] == "Succeeded"
    assert wf["metadata"]["labels"][CRON_LABEL] == "every-minute"
    root = next(n for n in wf["status"]["nodes"].values() if n["name"] == started[0])
    assert root["outputs"]["result"] == "at 2026-01-01T00:01:00Z"
    # a late scheduler runs a missed entry once, at its latest time
    clock.set("2026-01-01T00:05:10Z")
    assert s.tick() == [f"every-minute-{int(_t('2026-01-01T00:05:00Z'))}"]
    status = _status(backend, "every-minute")
    assert status["lastScheduledTime"] == "2026-01-01T00:05:00Z"
    backend.wait(f"every-minute-{int(_t('2026-01-01T00:05:00Z'))}", timeout=120)
    s.tick()
    status = _status(backend, "every-minute")
    assert status["active"] == [] and status["succeeded"] == 2


def test_forbid_and_replace(backend):
    clock = Clock("2026-01-01T00:00:30Z")
    s = _scheduler(backend, clock, _cron("forbid", template=SUSPENDED, concurrencyPolicy="Forbid"),
                   _cron("replace", template=SUSPENDED, concurrencyPolicy="Replace"))
    s.tick()
    clock.set("2026-01-01T00:01:00Z")
    first = sorted(s.tick())
    assert [n.split("-")[0] for n in first] == ["forbid", "replace"]
    for name in first:
        wait_for(lambda n=name: backend.get(n)["status"]["phase"] == "Running", timeout=60, what=f"{name} running")
    clock.set("2026-01-01T00:02:00Z")
    second = s.tick()
    assert second == [f"replace-{int(_t('2026-01-01T00:02:00Z'))}"]  # Forbid skipped: its run is active
    assert backend.get(first[0])["status"]["phase"] == "Running"
    assert backend.get(first[1])["status"]["phase"] == "Failed"  # Replace terminated the active run
    assert [r["name"] for r in _status(backend, "replace")["active"]] == second
    assert any("Forbid" in e for e in s.events)
    for name in (first[0], second[0]):
        wait_for(lambda n=name: backend.get(n)["status"]["phase"] == "Running", timeout=60, what=f"{name} running")
        backend.terminate(name)
        backend.wait(name, timeout=60)


def test_suspend_and_starting_deadline(backend):
    clock = Clock("2026-01-01T00:00:30Z")
    s = _scheduler(backend, clock, _cron("paused", suspend=True), _cron("late", startingDeadlineSeconds=120))
    s.tick()
    clock.set("2026-01-01T00:01:00Z")
    started = s.tick()
    assert started == [f"late-{int(_t('2026-01-01T00:01:00Z'))}"]  # "paused" is suspended
    assert "lastScheduledTime" not in _status(backend, "paused")
    # the scheduler stops; a new one starts 90 s after the last missed time (within the deadline): it runs it
    clock.set("2026-01-01T00:04:30Z")
    s2 = CronScheduler(backend.workdir, clock=clock, backend=backend)
    assert s2.tick() == [f"late-{int(_t('2026-01-01T00:04:00Z'))}"]
    # ... and one that starts later than the deadline runs nothing missed
    clock.set("2026-01-01T00:09:30Z")
    s3 = CronScheduler(backend.workdir, clock=clock, backend=backend)
    # the last missed time (00:09:00) is 30 s ago: outside a 20 s deadline, so it is not run
    cron = ObjectStore(backend.workdir).get("CronWorkflow", "late")
    cron["spec"]["startingDeadlineSeconds"] = 20
    ObjectStore(backend.workdir).create(cron)
    assert s3.tick() == []
    for name in backend.list({CRON_LABEL: "late"}):
        backend.wait(name["metadata"]["name"], timeout=120)


def test_history_limits_delete_old_runs(backend):
    clock = Clock("2026-01-01T00:00:30Z")
    s = _scheduler(backend, clock, _cron("hist", successfulJobsHistoryLimit=1))
    s.tick()
    names = []
    for minute in (1, 2, 3):
        clock.set(f"2026-01-01T00:0{minute}:00Z")
        names += s.tick()
        backend.wait(names[-1], timeout=120)
    s.tick()
    kept = [w["metadata"]["name"] for w in backend.list({CRON_LABEL: "hist"})]
    assert kept == [names[-1]]


# -- the CLI and the server ---------------------------------------------------------------------------

def test_cli_cron(tmp_path, capsys):
    ws = tmp_path / "ws"
    path = tmp_path / "cron.yaml"
    path.write_text(yaml.safe_dump(_cron("cli-cron")))
    assert main(["--workdir", str(ws), "cron", "create", str(path)]) == 0
    assert main(["--workdir", str(ws), "cron", "suspend", "cli-cron"]) == 0
    assert main(["--workdir", str(ws), "cron", "list"]) == 0
    out = capsys.readouterr().out
    assert "cli-cron" in out and "true" in out.splitlines()[-1]
    assert main(["--workdir", str(ws), "cron", "resume", "cli-cron"]) == 0
    assert ObjectStore(ws).get("CronWorkflow", "cli-cron")["spec"]["suspend"] is False
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_cron("bad", schedule="every day")))
    assert main(["--workdir", str(ws), "cron", "create", str(bad)]) == 1
    assert "spec.schedules[0]" in capsys.readouterr().err
    assert ObjectStore(ws).get("CronWorkflow", "bad") is None
    assert main(["--workdir", str(ws), "cron", "delete", "cli-cron"]) == 0
    assert main(["--workdir", str(ws), "cron", "delete", "cli-cron"]) == 1
    before = signal.getsignal(signal.SIGTERM)
    assert main(["--workdir", str(ws), "cron", "run", "--for", "0.5"]) == 0
    # its SIGTERM handler served the command only: a handler left behind was inherited by the pool
    # processes of later tests in this process, and Pool.terminate could leave one running for ever
    assert signal.getsignal(signal.SIGTERM) is before


def test_server_runs_schedules_while_up(tmp_path):
    from dflow_lab.apiserver import ArgoServer

    clock = Clock("2026-01-01T00:00:30Z")
    ObjectStore(tmp_path / "ws").create(check_cron_workflow(_cron("served")))
    server = ArgoServer(tmp_path / "ws", port=0)
    server.cron.clock = clock  # before it starts: the scheduler's first tick sees the injected time
    with server:
        wait_for(lambda: "served" in server.cron.checked, timeout=60, what="the server's scheduler to see it")
        clock.set("2026-01-01T00:01:00Z")
        name = f"served-{int(_t('2026-01-01T00:01:00Z'))}"
        wait_for(lambda: server.backend.store.workflow(name) is not None, timeout=60, what="the scheduled run")
        assert server.backend.wait(name, timeout=120)["status"]["phase"] == "Succeeded"
