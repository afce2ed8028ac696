"""A running step's log, followed line by line: ``LocalBackend.read_log`` and ``LiveRun.follow_log`` on real
local runs. Each step waits for a gate file the test creates, so every check happens while the step is
known to be running."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dflow_lab import InputParameter, Inputs, ShellOPTemplate, Step, Workflow
from dflow_lab.config import config
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate
from dflow_lab.runview.live import LiveRun

from .jupyterlab_harness import wait_until


class Chatty(OP):
    """Prints a line, waits for ``gate`` to exist, prints another and ends."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"gate": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({})

    @OP.exec_sign_check
    def execute(self, op_in):
        import os
        import time

        print("epoch 1 loss 0.9")
        deadline = time.monotonic() + 120
        while not os.path.exists(op_in["gate"]) and time.monotonic() < deadline:
            time.sleep(0.01)
        print("epoch 2 loss 0.4")
        return OPIO({})


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "work"))
    return tmp_path


def gated_shell(gate: Path) -> Workflow:
    """A shell step that writes a line, half a line, waits for the gate, then ends the line and stops."""
    wait = f"n=0; while [ ! -e {gate} ] && [ $n -lt 12000 ]; do sleep 0.01; n=$((n+1)); done"
    template = ShellOPTemplate(name="gated", image="alpine", inputs=Inputs(parameters={"x": InputParameter()}),
                               script=f"echo first; printf 'half'; {wait}; echo ' done'; echo last")
    wf = Workflow(name="logs")
    wf.add(Step("talk", template, parameters={"x": 1}))
    return wf


def wait_ended(wf: Workflow) -> None:
    wait_until(lambda: wf.query_status() in ("Succeeded", "Failed", "Error"), 60, f"the end of {wf.id}")


def pod_id(backend, name: str, display: str) -> str:
    return wait_until(lambda: next((i for i, n in backend.store.nodes(name).items()
                                    if n.get("displayName") == display and n.get("type") == "Pod"), None),
                      60, f"the pod of {display}")


def test_read_log_gives_whole_lines_while_running_and_the_rest_at_the_end(workspace):
    gate = workspace / "gate"
    wf = gated_shell(gate)
    wf.submit(wait=False)
    backend = wf._backend()
    node = pod_id(backend, wf.id, "talk")
    text = wait_until(lambda: backend.read_log(wf.id, node, 0)[0], 60, "the first line")
    first, end, skipped = backend.read_log(wf.id, node, 0)
    assert (first, skipped) == ("first\n", False)  # 'half' is not a whole line yet
    assert end == len(b"first\n") and text == first
    assert backend.read_log(wf.id, node, end) == ("", end, False)
    gate.touch()
    wait_ended(wf)
    assert wf.query_status() == "Succeeded"
    rest, final, _ = backend.read_log(wf.id, node, end)
    assert rest == "half done\nlast\n"
    assert final == len(b"first\nhalf done\nlast\n")
    # more than max_bytes waiting: the newest whole lines only, and said so
    assert backend.read_log(wf.id, node, 0, max_bytes=8) == ("last\n", final, True)


def test_follow_log_sends_a_python_op_print_while_the_step_runs(workspace, monkeypatch):
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # as for most users: prints must not wait in a buffer
    gate = workspace / "gate"
    wf = Workflow(name="follow")
    wf.add(Step("train", PythonOPTemplate(Chatty, image="python:3.11"), parameters={"gate": str(gate)}))
    wf.submit(wait=False)
    backend = wf._backend()
    run = LiveRun(backend, wf.id, lambda msg: None, lambda state: None).start()
    try:
        node = pod_id(backend, wf.id, "train")
        pieces: list[tuple[str, int, int, bool]] = []
        follower = threading.Thread(target=run.follow_log,
                                    args=(node, 0, lambda *piece: pieces.append(piece), lambda: True))
        follower.start()
        wait_until(lambda: any("epoch 1" in p[0] for p in pieces), 60, "the first print, streamed")
        assert backend.store.nodes(wf.id)[node]["phase"] == "Running"  # it came while the step ran
        assert not any("epoch 2" in p[0] for p in pieces)
        gate.touch()
        follower.join(60)
        assert not follower.is_alive(), "the follower did not stop when the step ended"
        text = "".join(p[0] for p in pieces)
        assert "epoch 1 loss 0.9\n" in text and text.endswith("epoch 2 loss 0.4\n")
        assert text == Path(backend.store.nodes(wf.id)[node]["hostDir"], "main.log").read_text()
        assert pieces[0][1] == 0
        for before, after in zip(pieces, pieces[1:]):
            assert before[2] == after[1]  # each piece starts where the one before ended
    finally:
        run.stop()


@pytest.fixture
def gated(workspace):
    """The gated shell step running under a LiveRun: ``(wf, backend, run, node id)``; the gate opens at the end."""
    gate = workspace / "gate"
    wf = gated_shell(gate)
    wf.submit(wait=False)
    backend = wf._backend()
    run = LiveRun(backend, wf.id, lambda msg: None, lambda state: None).start()
    try:
        yield wf, backend, run, pod_id(backend, wf.id, "talk")
    finally:
        gate.touch()
        run.stop()
        wait_ended(wf)


def test_follow_log_stops_when_the_panel_moves_on(gated):
    wf, backend, run, node = gated
    showing = threading.Event()
    showing.set()
    pieces: list = []
    follower = threading.Thread(target=run.follow_log,
                                args=(node, 0, lambda *piece: pieces.append(piece), showing.is_set))
    follower.start()
    wait_until(lambda: pieces, 60, "the first line")
    showing.clear()  # the panel now shows another step
    follower.join(10)
    assert not follower.is_alive()
    assert backend.store.nodes(wf.id)[node]["phase"] == "Running"


def test_the_panel_of_a_running_step_carries_where_its_log_ends(gated):
    wf, backend, run, node = gated
    wait_until(lambda: backend.read_log(wf.id, node, 0)[0], 60, "the first line")
    details = wait_until(lambda: (d := run.details("talk")).get("logsNode") and d, 60, "the step's panel")
    assert details["logs"] == "first\n" and details["logsEnd"] == len(b"first\n")
    assert details["logsNode"] == node and details["logsSkipped"] is False


def test_follow_log_over_argo_reads_the_log_again(workspace, monkeypatch):
    """A backend without byte offsets in its logs (``log_offsets`` false: Argo; here dflow-lab's Argo-compatible server on 127.0.0.1): the
    follower reads the whole log each time and sends the lines after those it sent."""
    from dflow_lab.apiserver import ArgoServer

    server = ArgoServer(workspace / "argo-ws", port=0).start()
    try:
        for key, value in {"mode": "argo", "host": server.url, "token": server.token, "namespace": "argo",
                           "http_headers": {}}.items():
            monkeypatch.setitem(config, key, value)
        gate = workspace / "gate"
        wf = Workflow(name="follow-argo")
        wf.add(Step("train", PythonOPTemplate(Chatty, image="python:3.11"), parameters={"gate": str(gate)}))
        wf.submit()
        backend = wf._backend()
        assert backend.log_offsets is False
        run = LiveRun(backend, wf.id, lambda msg: None, lambda state: None).start()
        try:
            node = wait_until(lambda: next((i for i, n in run.nodes.items() if n.get("displayName") == "train"
                                            and n.get("type") == "Pod"), None), 60, "the pod of train")
            pieces: list[tuple[str, int, int, bool]] = []
            follower = threading.Thread(target=run.follow_log,
                                        args=(node, 0, lambda *piece: pieces.append(piece), lambda: True))
            follower.start()
            wait_until(lambda: pieces, 60, "the first print")
            assert pieces[0][:3] == ("epoch 1 loss 0.9\n", 0, 1)  # offsets count lines here
            gate.touch()
            follower.join(60)
            assert not follower.is_alive()
            assert "".join(p[0] for p in pieces) == "epoch 1 loss 0.9\nepoch 2 loss 0.4\n"
        finally:
            run.stop()
            gate.touch()
            wait_ended(wf)
    finally:
        server.stop()
