"""SlurmRemoteExecutor (sbatch over SSH on a login node) and SlurmJobTemplate (sbatch on the node that runs
the step) on a real one-node Slurm: the workflow of ``flows.py``, a failing script, a job cancelled by
Slurm's side, and a workflow terminated while its job runs (the job is scancelled)."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from dflow_lab import ShellOPTemplate, SlurmJobTemplate, SlurmRemoteExecutor, Step, Workflow

from . import services
from .conftest import remote_python
from .flows import build, check

HEADER = "#SBATCH --job-name=dflowlab-test\n  #SBATCH --time=10\n"


def _remote(sshd, **kw):
    return SlurmRemoteExecutor(host="127.0.0.1", port=sshd.port, username=services.TEST_USER,
                               private_key_file=str(sshd.client_key), header=HEADER, interval=0.5,
                               workdir="~/dflow-lab-slurm/{{workflow.name}}/{{pod.name}}", **kw)


def _job_state(slurm, job_id: str) -> str:
    out = subprocess.run(["scontrol", "-o", "show", "job", job_id], capture_output=True, text=True,
                         env={**__import__("os").environ, **slurm.env}).stdout
    fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
    return fields.get("JobState", "")


def test_slurm_remote_executor_runs_the_workflow(slurm, slurm_sshd, workdir, tmp_path, execops):
    wf = build(tmp_path, execops, "slurm-flow", executor=_remote(slurm_sshd),
               py_executor=_remote(slurm_sshd, remote_command=remote_python()))
    wf.submit()
    check(wf, tmp_path / "out")
    for key in ("make", "count"):
        step = wf.query_step(key=key)[0]
        job_id = step.outputs.parameters["dflow_slurm_job_id"].value
        assert str(job_id).isdigit()
        assert _job_state(slurm, str(job_id)) == "COMPLETED"
        log = "".join(wf.backend.logs(wf.id, step.id))
        assert f"Slurm job {job_id} submitted" in log
    # the canvas's step panel: where the step ran and its job, never the key
    from dflow_lab.runview.live import LiveRun

    run = LiveRun(wf.backend, wf.id, lambda msg: None, lambda state: None).start()
    try:
        services.wait_for(lambda: run.finished, 30, "the monitor reading the finished run")
        details = run.details("count")
        job_id = wf.query_step(key="count")[0].outputs.parameters["dflow_slurm_job_id"].value
        assert details["executor"] == {"kind": "SlurmRemoteExecutor",
                                       "target": f"{services.TEST_USER}@127.0.0.1:{slurm_sshd.port}"}
        assert details["slurmJobId"] == str(job_id)
        assert slurm_sshd.client_key.read_text().split("\n")[1] not in json.dumps(details)
    finally:
        run.stop()


def test_slurm_job_template_submits_from_this_host(slurm, workdir, tmp_path, execops, monkeypatch):
    monkeypatch.setenv("SLURM_CONF", slurm.env["SLURM_CONF"])
    ex = SlurmJobTemplate(header=HEADER, node_selector={"slurm": "login"}, interval=0.5)
    wf = build(tmp_path, execops, "slurm-job", executor=ex)
    manifest = wf.to_dict()
    rendered = [t for t in manifest["spec"]["templates"] if "-slurm-job-" in t["name"]]
    assert rendered and all(t["nodeSelector"] == {"slurm": "login"} for t in rendered)
    wf.submit()
    check(wf, tmp_path / "out")
    job_id = wf.query_step(key="count")[0].outputs.parameters["dflow_slurm_job_id"].value
    assert _job_state(slurm, str(job_id)) == "COMPLETED"


def test_script_failing_in_a_slurm_job(slurm, slurm_sshd, workdir):
    wf = Workflow("slurm-fail")
    wf.add(Step("boom", ShellOPTemplate(name="boom", script="echo about to fail; exit 3"),
                executor=_remote(slurm_sshd)))
    wf.submit()
    assert wf.query_status() == "Failed"
    step = wf.query_step(name="boom")[0]
    assert step.outputs["exitCode"] == "3"
    assert "exit code 3" in step["message"]
    assert "about to fail" in "".join(wf.backend.logs(wf.id, step.id))


def _slow(flag: str) -> ShellOPTemplate:
    return ShellOPTemplate(name="slow", script=f"touch {flag}\nwhile true; do sleep 0.2; done\n")


def test_a_cancelled_job_fails_the_step_with_slurms_reason(slurm, slurm_sshd, workdir):
    import os
    import threading

    flag = f"/home/{services.TEST_USER}/dflow-lab-slurm/started-{uuid.uuid4().hex}"
    wf = Workflow("slurm-cancel")
    wf.add(Step("slow", _slow(flag), executor=_remote(slurm_sshd)))
    thread = threading.Thread(target=wf.submit)
    thread.start()
    services.wait_for(lambda: os.path.exists(flag), 120, "the Slurm job starting")
    jobs = [line.split() for line in slurm.squeue().splitlines()]
    running = [j[0] for j in jobs if j[1] == "RUNNING" and j[2] == services.TEST_USER]
    assert len(running) == 1
    subprocess.run(["scancel", running[0]], check=True, env={**os.environ, **slurm.env})
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert wf.query_status() == "Failed"
    step = wf.query_step(name="slow")[0]
    assert f"Slurm job {running[0]} ended CANCELLED" in step["message"], step["message"]


@pytest.mark.parametrize("how", ["stop", "terminate"])
def test_stopping_the_workflow_scancels_its_job(slurm, slurm_sshd, workdir, how):
    import os

    flag = f"/home/{services.TEST_USER}/dflow-lab-slurm/started-{uuid.uuid4().hex}"
    wf = Workflow(f"slurm-{how}")
    wf.add(Step("slow", _slow(flag), executor=_remote(slurm_sshd)))
    wf.submit(wait=False)
    services.wait_for(lambda: os.path.exists(flag), 120, "the Slurm job starting")
    jobs = [line.split() for line in slurm.squeue().splitlines()]
    running = [j[0] for j in jobs if j[1] == "RUNNING" and j[2] == services.TEST_USER]
    assert len(running) == 1
    getattr(wf, how)()
    services.wait_for(lambda: _job_state(slurm, running[0]) == "CANCELLED", 90, "the job being cancelled")
    wf.backend.wait(wf.id, timeout=90)
    assert wf.query_status() in ("Failed", "Error")


def test_manifests_keep_secrets_out(slurm_sshd, tmp_path, execops):
    ex = SlurmRemoteExecutor(host="127.0.0.1", port=slurm_sshd.port, username=services.TEST_USER,
                             password="s3cret-pw-xyz", header=HEADER)
    wf = build(tmp_path, execops, "slurm-secret", executor=ex)
    text = json.dumps(wf.to_dict())
    assert "s3cret-pw-xyz" not in text
    assert "secretKeyRef" in text
    from dflow_lab.graph.convert import to_graph

    assert "s3cret-pw-xyz" not in json.dumps(to_graph(wf, lossy=True), default=str)


@pytest.mark.parametrize("interval", [0, -1])
def test_bad_interval_is_refused(interval):
    with pytest.raises(ValueError, match="interval"):
        SlurmRemoteExecutor(host="h", interval=interval)
