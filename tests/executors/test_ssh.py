"""RemoteExecutor over a real sshd: a shell step and a Python OP with artifacts both ways, password and
key logins, a script failing remotely, sshd killed mid-step (retries), secrets kept out of everything."""

from __future__ import annotations

import json
import threading

import pytest

from dflow_lab import OutputParameter, RemoteExecutor, ShellOPTemplate, Step, Workflow

from . import services
from .conftest import remote_python
from .flows import build, check


def _executor(sshd, tmp_path, **kw):
    return RemoteExecutor(host="127.0.0.1", port=sshd.port, username=services.TEST_USER,
                          private_key_file=str(sshd.client_key), remote_command=kw.pop("remote_command", None),
                          workdir=kw.pop("workdir", "~/dflow-lab-tests/{{workflow.name}}/{{pod.name}}"), **kw)


def test_shell_and_python_op_with_artifacts_both_ways(sshd, workdir, tmp_path, execops):
    ex = _executor(sshd, tmp_path)
    wf = build(tmp_path, execops, "ssh-flow", executor=ex,
               py_executor=_executor(sshd, tmp_path, remote_command=remote_python()))
    manifest = wf.to_dict()
    text = json.dumps(manifest)
    key_text = sshd.client_key.read_text()
    assert key_text.split("\n")[1] not in text  # the key is a secretKeyRef, never in the manifest
    wf.submit()
    check(wf, tmp_path / "out")
    make = wf.query_step(key="make")[0]
    log = "".join(wf.backend.logs(wf.id, make.id)) if hasattr(wf.backend, "logs") else ""
    assert f"made by {services.TEST_USER} in /home/{services.TEST_USER}/dflow-lab-tests/ssh-flow" in log
    assert key_text.split("\n")[1] not in log


def test_password_login_and_clean(sshd, workdir, tmp_path):
    ex = RemoteExecutor(host="127.0.0.1", port=sshd.port, username=services.TEST_USER,
                        password=services.TEST_PASSWORD, workdir="~/dflow-lab-tests/{{workflow.name}}/w",
                        clean="always")
    t = ShellOPTemplate(name="hello", script="echo hello from $(hostname) > /tmp/outputs/parameters/x; echo done")
    t.outputs.parameters["x"] = OutputParameter(value_from_path="/tmp/outputs/parameters/x")
    wf = Workflow("ssh-pw")
    wf.add(Step("hello", t, executor=ex))
    assert services.TEST_PASSWORD not in json.dumps(wf.to_dict())
    assert services.TEST_PASSWORD not in repr(ex)
    wf.submit()
    assert wf.query_status() == "Succeeded"
    step = wf.query_step(name="hello")[0]
    assert step.outputs.parameters["x"].value.startswith("hello from ")
    home = services.ensure_user().pw_dir
    import os

    assert not os.path.exists(f"{home}/dflow-lab-tests/{wf.id}/w")  # clean="always"


def test_script_failing_remotely_fails_the_step_without_retrying(sshd, workdir, tmp_path):
    ex = _executor(sshd, tmp_path, action_retries=3)
    marker = f"/home/{services.TEST_USER}/dflow-lab-tests/fail-count"
    t = ShellOPTemplate(name="boom", script=f"echo run >> {marker}; echo oops >&2; exit 7")
    wf = Workflow("ssh-fail")
    wf.add(Step("boom", t, executor=ex))
    import os

    if os.path.exists(marker):
        os.unlink(marker)
    wf.submit()
    assert wf.query_status() == "Failed"
    step = wf.query_step(name="boom")[0]
    assert step.outputs["exitCode"] == "7"
    assert "exit code 7" in step["message"]
    with open(marker) as f:
        assert f.read() == "run\n"  # ran once: a failing script is a result, not a transient failure


def test_sshd_killed_mid_step_is_retried(sshd, workdir, tmp_path):
    import uuid

    flag = f"/home/{services.TEST_USER}/dflow-lab-tests/go-{uuid.uuid4().hex}"
    t = ShellOPTemplate(name="slow", script=(
        f"touch {flag}.started\n"
        f"i=0; while [ ! -e {flag} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n"
        "echo finished > /tmp/outputs/parameters/r\n"))
    t.outputs.parameters["r"] = OutputParameter(value_from_path="/tmp/outputs/parameters/r")
    ex = _executor(sshd, tmp_path, action_retries=-1, retry_timeout=120)
    wf = Workflow("ssh-kill")
    wf.add(Step("slow", t, executor=ex))
    done = threading.Event()

    def run():
        try:
            wf.submit()
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    import os

    services.wait_for(lambda: os.path.exists(flag + ".started"), 60, "the remote script starting")
    sessions = sshd.connected_sessions()
    sshd.kill()  # the listener and the step's session: the runner's connection drops
    sshd.start()
    open(flag, "w").close()
    thread.join(timeout=180)
    assert done.is_set()
    assert wf.query_status() == "Succeeded"
    step = wf.query_step(name="slow")[0]
    assert step.outputs.parameters["r"].value == "finished"
    log = "".join(wf.backend.logs(wf.id, step.id))
    assert sessions >= 1
    assert "retry" in log, log


def test_bad_key_file_is_a_clear_error(sshd, tmp_path):
    ex = RemoteExecutor(host="127.0.0.1", port=sshd.port, private_key_file=str(tmp_path / "missing"))
    t = ShellOPTemplate(name="x", script="true")
    with pytest.raises(ValueError, match="private_key_file .* cannot be read"):
        ex.render(t)


def test_terminating_the_workflow_kills_the_remote_script(sshd, workdir):
    import os
    import uuid

    flag = f"/home/{services.TEST_USER}/dflow-lab-tests/started-{uuid.uuid4().hex}"
    t = ShellOPTemplate(name="slow", script=f"echo $$ > {flag}.pid; touch {flag}\nwhile true; do sleep 0.2; done\n")
    wf = Workflow("ssh-terminate")
    wf.add(Step("slow", t, executor=_executor(sshd, None)))
    wf.submit(wait=False)
    services.wait_for(lambda: os.path.exists(flag), 60, "the remote script starting")
    with open(flag + ".pid") as f:
        pid = int(f.read())
    assert os.path.exists(f"/proc/{pid}")
    wf.terminate()
    services.wait_for(lambda: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z",
                      60, "the remote script ending")
    wf.backend.wait(wf.id, timeout=60)
    assert wf.query_status() in ("Failed", "Error")
