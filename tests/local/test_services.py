"""Daemon steps and sidecars as host processes (dflow_lab.local.services): reachable on 127.0.0.1 through
``{{steps.X.ip}}``/``{{tasks.X.ip}}``, ready per their probe, stopped when their scope ends, no orphans.

Load-proof: the server's readiness is given a 60 s bound (a Python server can take seconds to start on a
loaded machine), and "no process of the group is left" is waited for with a bound (:func:`_group_gone`): a
killed process still runs its exit for a moment before it is a zombie.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

from dflow_lab.local.interpreter import Execution
from dflow_lab.local.state import StateStore

from .local_helpers import manifest, nodes_by_display, run_async, sh, wait_for

PY = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> list[int]:
    """PIDs of live (not zombie) processes in process group ``pgid``."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def _group_gone(pgid: int) -> bool:
    """Whether process group ``pgid`` ends with no live process, waited for with a bound: the engine has
    signalled it (SIGTERM, SIGKILL) before the node ended, but on a loaded machine a killed process can
    still be exiting when the test looks. A group nobody stopped (http.server runs forever) stays."""
    wait_for(lambda: not _group_alive(pgid), 60, f"process group {pgid} to be gone")
    return True


def _server(port: int, **extra) -> dict:
    """A daemon template: Python's http.server on ``port`` (a shell forks it: a group of two processes)."""
    return {"name": "server", "daemon": True,
            "container": {"image": "python:3", "command": ["sh", "-c"],
                          "args": [f"{PY} -m http.server {port} --bind 127.0.0.1 & wait"],
                          "readinessProbe": {"httpGet": {"path": "/", "port": port}, "periodSeconds": 1,
                                             "failureThreshold": 60}},
            **extra}


def _client(port: int, ref: str) -> dict:
    return {"name": "client", "inputs": {"parameters": [{"name": "ip"}]},
            "script": {"image": "python:3", "command": [PY],
                       "source": f"import urllib.request\n"
                                 f"print(urllib.request.urlopen('http://{{{{inputs.parameters.ip}}}}:{port}/', "
                                 f"timeout=20).status)\n"}}


def test_steps_daemon_is_reachable_and_stopped_with_its_scope(backend):
    port = _free_port()
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "server", "template": "server"}],
            [{"name": "client", "template": "client",
              "arguments": {"parameters": [{"name": "ip", "value": "{{steps.server.ip}}"}]}}],
        ]},
        _server(port), _client(port, "steps"),
    ]))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    nodes = nodes_by_display(wf)
    assert nodes["client"]["outputs"]["result"] == "200"
    assert nodes["client"]["inputs"]["parameters"][0]["value"] == "127.0.0.1"
    server = nodes["server"]
    assert server["phase"] == "Succeeded" and server["podIP"] == "127.0.0.1" and "daemoned" not in server
    # the server ended before the steps template did (its scope), and the PID the engine started, with its
    # whole process group (the forked http.server), is gone
    assert server["finishedAt"] <= nodes[wf["metadata"]["name"]]["finishedAt"]
    assert _group_gone(server["pid"])
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_dag_daemon_task_counts_as_daemoned_for_depends(backend):
    port = _free_port()
    wf = backend.submit(manifest([
        {"name": "main", "dag": {"tasks": [
            {"name": "server", "template": "server"},
            {"name": "client", "template": "client", "depends": "server.Daemoned",
             "arguments": {"parameters": [{"name": "ip", "value": "{{tasks.server.ip}}"}]}},
        ]}},
        _server(port), _client(port, "tasks"),
    ]))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    nodes = nodes_by_display(wf)
    assert nodes["client"]["outputs"]["result"] == "200"
    assert _group_gone(nodes["server"]["pid"])


def test_daemon_exiting_before_ready_fails_and_is_retried(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "server", "template": "server"}]]},
        {"name": "server", "daemon": True, "retryStrategy": {"limit": 1},
         "container": {"image": "busybox", "command": ["sh", "-c", "exit 3"],
                       "readinessProbe": {"tcpSocket": {"port": _free_port()}, "periodSeconds": 1}}},
    ]))
    assert wf["status"]["phase"] == "Failed"
    nodes = nodes_by_display(wf)
    assert "exited with code 3 before it was ready" in nodes["server(1)"]["message"]
    assert nodes["server(0)"]["phase"] == "Failed"


def test_daemon_never_ready_fails_within_its_bound(backend):
    port = _free_port()
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "server", "template": "server"}]]},
        {"name": "server", "daemon": True,
         "container": {"image": "busybox", "command": ["sleep", "600"],
                       "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 1, "failureThreshold": 1}}},
    ]))
    assert wf["status"]["phase"] == "Failed"
    assert "not ready after 10 s" in nodes_by_display(wf)["server"]["message"]


def test_daemon_that_exits_before_its_scope_ends_fails_the_scope(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "server", "template": "server"}],
            [{"name": "after", "template": "after"}],
        ]},
        {"name": "server", "daemon": True, "container": {"image": "busybox", "command": ["sh", "-c", "exit 0"]}},
        sh("after", "sleep 1"),
    ]))
    assert wf["status"]["phase"] == "Failed"
    server = nodes_by_display(wf)["server"]
    assert server["phase"] == "Failed" and "before its scope ended" in server["message"]


def test_sidecar_runs_beside_main_and_is_stopped(backend):
    port = _free_port()
    wf = backend.submit(manifest([
        {"name": "main",
         "script": {"image": "python:3", "command": [PY], "source": (
             "import os, time, urllib.request\n"
             "for _ in range(300):\n"
             "    try:\n"
             f"        print(urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=5).status); break\n"
             "    except OSError:\n"
             "        time.sleep(0.1)\n"
             "print(open(os.environ['DFLOW_LAB_ROOT'] + '/sidecar.pid').read().strip())\n")},
         "sidecars": [{"name": "web", "image": "python:3", "command": ["sh", "-c"],
                       "args": [f"echo $$ > sidecar.pid; exec {PY} -m http.server {port} --bind 127.0.0.1"]}]},
    ]))
    assert wf["status"]["phase"] == "Succeeded", wf["status"].get("message")
    status, pid = wf["status"]["nodes"][next(iter(wf["status"]["nodes"]))]["outputs"]["result"].split("\n")
    assert status == "200"
    assert _group_gone(int(pid))  # the sidecar (the group of its shell) was stopped with the step


def test_stopped_workflow_stops_its_daemon(backend):
    port = _free_port()
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "server", "template": "server"}],
            [{"name": "wait", "template": "wait"}],
        ]},
        _server(port), sh("wait", "sleep 600"),
    ]), wait=False)
    name = wf["metadata"]["name"]
    server = wait_for(lambda: next((n for n in backend.get(name)["status"]["nodes"].values()
                                    if n["displayName"] == "server" and n.get("daemoned")), None),
                      timeout=60, what="the daemon to be ready")
    backend.stop(name)
    done = backend.wait(name, timeout=120)
    assert done["status"]["phase"] == "Failed"
    assert nodes_by_display(done)["server"]["phase"] == "Succeeded"
    assert _group_gone(server["pid"])


def test_a_terminated_run_leaves_no_exec_probe_running(backend, tmp_path):
    """A run ended while a daemon's exec readinessProbe runs stops the probe's whole group too (its shell
    and the shell's child); the probe used to run on after the cancellation."""
    pidfile = tmp_path / "probe.pid"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "server", "template": "server"}]]},
        {"name": "server", "daemon": True,
         "container": {"image": "busybox", "command": ["sleep", "600"],
                       "readinessProbe": {"exec": {"command": ["sh", "-c", f"echo $$ > {pidfile}; sleep 600; true"]},
                                          "timeoutSeconds": 600, "failureThreshold": 1}}},
    ]), wait=False)
    name = wf["metadata"]["name"]
    pgid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), 60, "the probe to start"))
    wait_for(lambda: len(_group_alive(pgid)) == 2, 60, "the probe's shell and its sleep")
    backend.terminate(name)
    assert backend.wait(name, timeout=120)["status"]["phase"] == "Failed"
    assert _group_gone(pgid)


def test_a_second_cancellation_while_daemons_stop_leaves_none_running(tmp_path):
    """A scope that ends on a cancellation (a deadline) stops its daemons; a second cancellation during their
    SIGTERM grace (the workflow is terminated meanwhile) used to kill only the daemon being waited for and
    leave the scope's other daemons running, their nodes Running, until the engine exited (a notebook
    kernel's in-process engine: as long as the kernel). Now every daemon of the scope is killed and closed
    before the cancellation is passed on. Real daemons (shells that survive SIGTERM, noting it in a file)
    in a real ``Execution``; the cancellations are the test's, at known moments."""
    store = StateStore(tmp_path / "ws")
    name = "t-second-cancel"
    daemon = {"name": "server", "daemon": True, "container": {"image": "busybox", "command": ["sh"]}}
    store.create_workflow(name, manifest([{"name": "main", "steps": [[{"name": "a", "template": "server"}]]},
                                          daemon]),
                          {"phase": "Running"}, {}, {})
    marks = [tmp_path / f"term-{i}" for i in range(3)]
    started: list[int] = []

    async def scenario() -> list[dict]:
        ex = Execution(store, name, None, asyncio.Semaphore(1), None)
        nodes = []
        for i, mark in enumerate(marks):
            node = ex.open_node(f"{name}[0].d{i}", f"d{i}", "Pod", "server", None, "the-scope")
            script = f"trap 'echo term >> {mark}' TERM; touch {mark}.trapped; while :; do sleep 1; done"
            reason = await ex.start_daemon(node, daemon, ["sh", "-c", script], {"PATH": os.environ["PATH"]},
                                           str(tmp_path), str(tmp_path / f"d{i}.log"), f"daemon d{i}")
            assert reason is None, reason
            started.append(node["pid"])
            nodes.append(node)

        async def scope() -> None:
            try:
                await asyncio.Event().wait()  # the scope's steps, until the scope is cancelled
            finally:  # as Execution._dispatch: the scope ends, its daemons stop
                await ex.stop_daemons("the-scope")

        procs = [service.proc for service in ex._services_of("the-scope")]

        async def until(cond, what: str) -> None:  # bounded wait on a condition
            deadline = loop.time() + 60
            while not cond():
                assert loop.time() < deadline, f"timed out waiting for {what}"
                await asyncio.sleep(0.02)

        loop = asyncio.get_running_loop()
        # every daemon has set its trap (a SIGTERM before it would end the shell, not test the stop)
        await until(lambda: all(Path(f"{m}.trapped").exists() for m in marks), "the daemons' traps")
        task = asyncio.ensure_future(scope())
        await asyncio.sleep(0)
        task.cancel()  # the first cancellation: the scope's deadline
        await until(marks[0].exists, "the first daemon's SIGTERM")  # its grace (10 s) is running
        task.cancel()  # the second: the workflow is terminated
        done, _ = await asyncio.wait({task}, timeout=120)  # not the grace
        assert done and task.cancelled()
        # every leader was SIGKILLed (the stop did not wait for them): reaped here, in this loop, so that
        # no process transport outlives it
        for proc in procs:
            assert await asyncio.wait_for(proc.wait(), 60) == -signal.SIGKILL
        return nodes

    try:
        nodes = run_async(scenario())
        assert [n["phase"] for n in nodes] == ["Succeeded"] * 3
        assert not any(n.get("daemoned") for n in nodes)
        for pid in started:
            assert _group_gone(pid)
    finally:  # this test's processes only, one by one, should any be left
        for pid in started:
            for member in _group_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(member, signal.SIGKILL)
