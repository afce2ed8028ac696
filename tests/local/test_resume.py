"""kill -9 of a detached engine, then resume: finished steps are not re-run, their outputs are intact."""

from __future__ import annotations

import os
import signal

from dflow_lab import Workflow
from dflow_lab.config import config
from dflow_lab.local.engine import engine_alive

from .local_helpers import manifest, nodes_by_display, out_param, sh, wait_for


def test_kill_9_then_resume(backend, tmp_path):
    runs, flag = tmp_path / "runs", tmp_path / "flag"
    # `blocker` waits (bounded, 60 s) for a flag file the test creates after the resume
    blocker = f"echo blocker >> {runs}; i=0; while [ ! -e {flag} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "first", "template": "first"}],
            [{"name": "blocker", "template": "blocker"}],
            [{"name": "last", "template": "last",
              "arguments": {"parameters": [{"name": "v", "value": "{{steps.first.outputs.parameters.v}}"}]}}],
        ]},
        sh("first", f"echo first >> {runs}; echo 7 > /tmp/v",
           outputs={"parameters": [{"name": "v", "valueFrom": {"path": "/tmp/v"}}]}),
        sh("blocker", blocker),
        sh("last", "echo got {{inputs.parameters.v}}", inputs={"parameters": [{"name": "v"}]}),
    ]), wait=False)
    name = wf["metadata"]["name"]
    wait_for(lambda: runs.exists() and "blocker" in runs.read_text(), what="blocker to start")
    pid = backend.engine_pid(name)
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)  # reap it: the engine was started by this process
    except ChildProcessError:  # already reaped by subprocess's own bookkeeping
        pass
    assert not engine_alive(backend.workdir, name)
    before = backend.get(name)
    assert before["status"]["phase"] == "Running"
    assert nodes_by_display(before)["first"]["phase"] == "Succeeded"

    with_config = {"local_workdir": str(backend.workdir), "mode": "local"}
    saved = {k: config[k] for k in with_config}
    config.update(with_config)
    try:
        Workflow(id=name).resume()  # the dflow API: a new engine continues from the state on disk
    finally:
        config.update(saved)
    wait_for(lambda: runs.read_text().split().count("blocker") == 2, what="blocker to run again")
    flag.write_text("")
    done = backend.wait(name, timeout=60)
    assert done["status"]["phase"] == "Succeeded", done["status"]
    assert runs.read_text().split() == ["first", "blocker", "blocker"]  # `first` ran once
    nodes = nodes_by_display(done)
    assert out_param(nodes["first"], "v") == "7"
    assert nodes["last"]["outputs"]["result"] == "got 7"
    # the resumed engine's process is gone and the lock is free
    wait_for(lambda: not engine_alive(backend.workdir, name), what="engine exit")


def test_kill_9_during_python_op_fan_out(tmp_path, monkeypatch):
    from dflow_lab import Step, argo_range
    from dflow_lab.python import PythonOPTemplate

    from .test_python_ops_helpers import Mark

    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    monkeypatch.setitem(config, "mode", "local")
    marks = tmp_path / "marks"
    marks.mkdir()
    gate = tmp_path / "gate"
    wf = Workflow("fan")
    wf.add(Step("m", PythonOPTemplate(Mark), parameters={"i": "{{item}}", "dir": str(marks), "gate": str(gate)},
                with_param=argo_range(6)))
    wf.submit(wait=False)
    backend = wf._backend()
    # items 0-2 finish at once; items 3-5 wait for the gate file
    wait_for(lambda: len(list(marks.glob("done-*"))) == 3 and len(list(marks.glob("start-*"))) >= 4,
             what="three finished steps and a waiting one")
    wait_for(lambda: sum(1 for n in backend.get(wf.id)["status"]["nodes"].values()
                         if n["type"] == "Pod" and n["phase"] == "Succeeded") == 3, what="three nodes recorded")
    pid = backend.engine_pid(wf.id)
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    wait_for(lambda: not engine_alive(backend.workdir, wf.id), what="lock release")
    gate.write_text("")
    wf.resume()
    assert wf.wait().status.phase == "Succeeded"
    starts = sorted(p.name for p in marks.glob("start-*"))
    # the three finished items ran once; the interrupted ones ran again
    assert [s for s in starts if s.split("-")[1] in ("0", "1", "2")] == ["start-0-1", "start-1-1", "start-2-1"]
    assert sorted(p.name for p in marks.glob("done-*")) == [f"done-{i}" for i in range(6)]
