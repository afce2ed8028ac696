"""DispatcherExecutor through the real dpdispatcher package: the workflow of ``flows.py`` (a shell step
and a Python OP, with keys, read back with ``query_step`` after the run) submitted by dpdispatcher as
a Slurm job over SSH, as a Shell job over SSH and as a Shell job on this host (``LocalContext``); a
failing script fails its step with its log; an unreachable machine and a missing dpdispatcher give
errors that name the workflow, the step and the field; terminating the workflow scancels its job."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from dflow_lab import ShellOPTemplate, Step, Workflow
from dflow_lab.errors import WorkflowValueError
from dflow_lab.plugins.dispatcher import DispatcherExecutor

from . import services
from .conftest import remote_python
from .flows import build, check

# found, not imported here: importing dpdispatcher opens a dpdispatcher.log in the current directory
pytestmark = pytest.mark.skipif(importlib.util.find_spec("dpdispatcher") is None,
                                reason="dpdispatcher is in the dev extra (pip install -e '.[dev]')")


def _ssh_executor(sshd, batch_type: str, **kw) -> DispatcherExecutor:
    """As a dflow user writes it: host, user, key and a machine_dict naming the batch system."""
    return DispatcherExecutor(
        host="127.0.0.1", port=sshd.port, username=services.TEST_USER, private_key_file=str(sshd.client_key),
        machine_dict={"batch_type": batch_type, "context_type": "SSHContext"},
        resources_dict={"custom_flags": ["#SBATCH --time=10"]} if batch_type == "Slurm" else None,
        check_interval=1, **kw)


def _job_logs(wf: Workflow, key: str) -> str:
    step = wf.query_step(key=key)[0]
    return "".join(wf.backend.logs(wf.id, step.id))


def test_slurm_over_ssh_runs_the_workflow(slurm, slurm_sshd, workdir, tmp_path, execops):
    wf = build(tmp_path, execops, "dispatcher-slurm", executor=_ssh_executor(slurm_sshd, "Slurm"),
               py_executor=_ssh_executor(slurm_sshd, "Slurm", remote_command=remote_python()))
    wf.submit()
    check(wf, tmp_path / "out")
    for key in ("make", "count"):
        log = _job_logs(wf, key)
        assert "submitting through dpdispatcher (Slurm over SSHContext" in log, log
    assert "made by dflowlab" in _job_logs(wf, "make")  # the script ran as the remote user, its log came back


def test_shell_over_ssh_runs_the_workflow(sshd, workdir, tmp_path, execops):
    wf = build(tmp_path, execops, "dispatcher-shell", executor=_ssh_executor(sshd, "Shell"),
               py_executor=_ssh_executor(sshd, "Shell", remote_command=remote_python()))
    wf.submit()
    check(wf, tmp_path / "out")
    log = _job_logs(wf, "make")
    assert "submitting through dpdispatcher (Shell over SSHContext" in log
    assert "made by dflowlab" in log
    # the key never reaches the manifest, the logs or the step's spec
    secret_line = sshd.client_key.read_text().split("\n")[1]
    assert secret_line not in json.dumps(wf.to_dict()) and secret_line not in log


def test_shell_on_this_host_local_context(workdir, tmp_path, execops):
    # LocalContext links the inputs into its directory unless told to copy them (symlink: False);
    # the shell step's `find` does not descend into a linked directory, so this machine copies
    machine = {"batch_type": "Shell", "context_type": "LocalContext", "remote_root": str(tmp_path / "remote"),
               "remote_profile": {"symlink": False}}
    wf = build(tmp_path, execops, "dispatcher-local", executor=DispatcherExecutor(machine_dict=machine, check_interval=1),
               py_executor=DispatcherExecutor(machine_dict=machine, remote_command=sys.executable, check_interval=1))
    wf.submit()
    check(wf, tmp_path / "out")


def test_a_failing_script_fails_its_step_with_its_log(sshd, workdir):
    fail = ShellOPTemplate(name="fail", script="echo about to fail\nexit 3\n")
    wf = Workflow("dispatcher-fail")
    wf.add(Step("fail", fail, executor=_ssh_executor(sshd, "Shell"), key="fail"))
    wf.submit()
    assert wf.query_status() == "Failed"
    step = wf.query_step(key="fail")[0]
    assert step.phase == "Failed"
    assert "exited with code 3" in step.get("message", ""), step.get("message")
    assert "about to fail" in _job_logs(wf, "fail")


def test_an_unreachable_machine_names_workflow_step_and_machine(workdir):
    port = services.free_port()  # nothing listens there
    ex = DispatcherExecutor(host="127.0.0.1", port=port, username=services.TEST_USER,
                            machine_dict={"batch_type": "Shell"}, check_interval=1)
    wf = Workflow("dispatcher-unreachable")
    wf.add(Step("hello", ShellOPTemplate(name="hello", script="echo hi\n"), executor=ex, key="hello"))
    wf.submit()
    assert wf.query_status() == "Failed"
    step = wf.query_step(key="hello")[0]
    message = step.get("message", "")
    assert f"workflow {wf.id}" in message and "hello" in message, message
    assert f"{services.TEST_USER}@127.0.0.1:{port}" in message and "DispatcherExecutor" in message, message


def test_without_dpdispatcher_submit_refuses_naming_the_step(workdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "dpdispatcher", None)  # as if it were not installed
    ex = DispatcherExecutor(host="127.0.0.1", port=22, username="u", machine_dict={"batch_type": "Shell"})
    wf = Workflow("dispatcher-missing")
    wf.add(Step("hello", ShellOPTemplate(name="hello", script="echo hi\n"), executor=ex))
    with pytest.raises(WorkflowValueError, match="dpdispatcher") as err:
        wf.submit()
    text = str(err.value)
    assert "dispatcher-missing" in text and "hello" in text and "executor" in text, text
    assert wf.id is None  # nothing was stored or run


def test_terminating_the_workflow_cancels_its_slurm_job(slurm, slurm_sshd, workdir):
    """SIGTERM reaches the step's runner, which asks dpdispatcher to remove the unfinished task: scancel."""
    import os
    import uuid

    from .test_slurm import _job_state, _slow

    flag = f"{services.ensure_user().pw_dir}/dispatcher-started-{uuid.uuid4().hex}"  # the home exists
    wf = Workflow("dispatcher-terminate")
    wf.add(Step("slow", _slow(flag), executor=_ssh_executor(slurm_sshd, "Slurm")))
    wf.submit(wait=False)
    services.wait_for(lambda: os.path.exists(flag), 120, "the Slurm job starting")
    jobs = [line.split() for line in slurm.squeue().splitlines()]
    running = [j[0] for j in jobs if j[1] == "RUNNING" and j[2] == services.TEST_USER]
    assert len(running) == 1
    wf.terminate()
    services.wait_for(lambda: _job_state(slurm, running[0]) == "CANCELLED", 90, "the job being cancelled")
    wf.backend.wait(wf.id, timeout=90)
    assert wf.query_status() in ("Failed", "Error")
    os.remove(flag)
