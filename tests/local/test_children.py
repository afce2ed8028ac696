"""Stopping the engine's children: a cancellation that arrives while a step's process is being started
stops the process's whole group, :func:`stop_group` (the one stop of every child: steps, daemons,
sidecars, probes) escalates SIGTERM to SIGKILL after the grace and honours both ``on_cancel`` choices, and
:func:`stop_groups` (a scope's daemons, a step's sidecars) leaves none of its groups running when a
cancellation arrives during the grace.

The child below forks its grandchild *before* it execs (from ``preexec_fn``, after its output pipes are
in place), as a shell does with a script's commands: the grandchild holds the pipes. asyncio, cancelled
while starting such a child, used to kill only the leader and then wait for the pipes to close, so the
engine hung for as long as the grandchild lived (a terminated ``sleep 600`` step held its workflow
Running for ten minutes), and the grandchild ran on orphaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys

import pytest

from dflow_lab.local.children import die_with_parent, spawn, stop_group, stop_groups

from .local_helpers import run_async, wait_for

LONG = [sys.executable, "-c", "import time; time.sleep(600)"]


def _fork_a_holder() -> None:
    die_with_parent()
    if os.fork() == 0:  # the grandchild: same session and group, holding stdout/stderr
        os.execv(LONG[0], LONG)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _members(pgid: int, marker: bytes) -> list[int]:
    """Live (not zombie) processes of group ``pgid`` that this test started (``marker`` in their command
    line): PIDs wrap on a busy machine, and a group id may be another process's once ours are gone."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z" and marker in cmdline:
                found.append(int(entry))
    return found


@pytest.mark.parametrize("grace", [0.0, 5.0])
@pytest.mark.parametrize("turns", [1, 2, 3])
def test_cancelled_while_starting_stops_the_whole_group(turns, grace):
    started: list[int] = []

    async def scenario() -> None:
        async def start() -> None:
            proc = await spawn(*LONG, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                               preexec_fn=_fork_a_holder, grace=grace)
            started.append(proc.pid)
            await proc.wait()

        task = asyncio.ensure_future(start())
        for _ in range(turns):  # let the start reach the point where the fork has happened
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 60)  # hung until the grandchild ended before the fix

    pids_before = set(map(int, filter(str.isdigit, os.listdir("/proc"))))
    run_async(scenario())
    # whatever the moment of the cancel, no process of a group this test started is left
    new_groups = set()
    for pid in set(map(int, filter(str.isdigit, os.listdir("/proc")))) - pids_before:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"time.sleep(600)" in f.read():
                    new_groups.add(os.getpgid(pid))
        except (OSError, ProcessLookupError):
            pass
    for pgid in new_groups:  # clean up before failing, then fail
        os.killpg(pgid, signal.SIGKILL)
    assert not new_groups, f"processes left in groups {sorted(new_groups)}"
    for pid in started:
        assert not _members(pid, b"time.sleep(600)")


def test_a_started_child_is_its_groups_leader():
    async def scenario() -> int:
        proc = await spawn(sys.executable, "-c", "import os; print(os.getpgid(0) == os.getpid())",
                           stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        return out.strip() == b"True"

    assert run_async(scenario())


# A leader with one grandchild in its group. SIGTERM is noted on stdout ("term <pid>") and survived, by the
# grandchild always and by the leader unless ``default`` (then it ends the leader, as SIGTERM does).
# ``exit``: the leader ends at once, leaving the grandchild behind in its group (nginx's workers); the
# grandchild lets go of stdout then, as a service's does not hold the engine's pipes (asyncio's wait()
# waits for them).
GROUP = r"""
import os, signal, sys, time
def noted(signum, frame):
    os.write(1, b"term %d\n" % os.getpid())
if sys.argv[1] != "default":
    signal.signal(signal.SIGTERM, noted)
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGTERM, noted)
    if sys.argv[1] == "exit":
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    while True:
        time.sleep(60)
os.write(1, b"ready %d\n" % pid)
if sys.argv[1] == "exit":
    sys.exit(0)
while True:
    time.sleep(60)
"""


MARK = b"def noted(signum"  # in the command line of GROUP's processes


async def _start_group(mode: str) -> tuple[asyncio.subprocess.Process, int]:
    proc = await spawn(sys.executable, "-c", GROUP, mode, stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.startswith(b"ready "), line
    return proc, int(line.split()[1])


def _run_group_scenario(scenario, mode: str):
    """Run ``scenario(proc, grandchild)`` on a fresh group; afterwards the group must be empty (waited for
    with a bound: a SIGKILLed process takes a moment to die). Whatever happened, this test's processes are
    then killed, the pipe read to its end and the leader reaped, in the scenario's loop."""

    async def main():
        proc, grandchild = await _start_group(mode)
        try:
            result = await scenario(proc, grandchild)
            await asyncio.to_thread(wait_for, lambda: not _members(proc.pid, MARK), 60,
                                    f"group {proc.pid} to be empty")
            return result
        finally:  # ours only, one by one: never a group id that may have been reused
            for pid in _members(proc.pid, MARK):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await asyncio.wait_for(proc.stdout.read(), 60)
            await asyncio.wait_for(proc.wait(), 60)

    return run_async(main())


@pytest.mark.parametrize("on_cancel", ["finish", "raise"])
def test_a_group_that_survives_sigterm_is_killed_after_the_grace(on_cancel):
    async def scenario(proc, grandchild):
        return await stop_group(proc, 0.5, on_cancel=on_cancel)

    assert _run_group_scenario(scenario, "ignore") == -signal.SIGKILL


@pytest.mark.parametrize("on_cancel", ["finish", "raise"])
def test_sigterm_comes_first_and_what_the_leader_leaves_is_killed(on_cancel):
    async def scenario(proc, grandchild):
        # a grace far longer than any test: the call returns because SIGTERM ended the leader
        return await asyncio.wait_for(stop_group(proc, 600, on_cancel=on_cancel), 120)

    assert _run_group_scenario(scenario, "default") == -signal.SIGTERM


def test_a_leader_that_already_ended_costs_no_grace():
    async def scenario(proc, grandchild):
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        assert _members(proc.pid, MARK) == [grandchild]
        return await asyncio.wait_for(stop_group(proc, 600), 120)  # no SIGTERM, no grace: SIGKILL

    assert _run_group_scenario(scenario, "exit") == 0


@pytest.mark.parametrize("on_cancel", ["finish", "raise"])
def test_the_stop_returns_once_the_childs_pipes_are_closed(on_cancel):
    """The leader ends on SIGTERM; its grandchild survives it and holds stdout until the SIGKILL. asyncio
    learns the leader's exit code before the pipe closes, and ``proc.wait()`` then returns at once: the
    stop used to return with the child's pipe transport still open, and in a loop that closed soon after
    (``asyncio.run``, as these tests run) the transport raised 'Event loop is closed' when it was
    collected (pytest's PytestUnraisableExceptionWarning, in about 1 run in 8 of the cancel-while-starting
    tests). The stop now reads the pipes to their end before it returns."""
    async def scenario(proc, grandchild):
        code = await asyncio.wait_for(stop_group(proc, 600, on_cancel=on_cancel), 120)
        assert proc.stdout.at_eof()  # read to its end and closed: the transport is closed with it
        return code

    assert _run_group_scenario(scenario, "default") == -signal.SIGTERM


async def _cancel_in_the_grace(proc, on_cancel: str, cancels: int):
    """Run ``stop_group(proc, 600, on_cancel)`` in a task and cancel it ``cancels`` times once the group
    has had its SIGTERM (the task is then waiting out the grace); the task's outcome."""
    task = asyncio.ensure_future(stop_group(proc, 600, on_cancel=on_cancel))
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert line.startswith(b"term "), line
    for _ in range(cancels):
        task.cancel()
        await asyncio.sleep(0)
    done, _ = await asyncio.wait({task}, timeout=120)  # not the 600 s grace
    assert done, "stop_group waited out the grace despite the cancellation"
    return task


@pytest.mark.parametrize("cancels", [1, 2, 3])
def test_finish_a_cancel_in_the_grace_kills_and_waits_for_the_end(cancels):
    """``finish`` (a cancelled step, a failed start): the stop completes and returns; the caller, already
    handling a cancellation, passes it on."""
    async def scenario(proc, grandchild):
        task = await _cancel_in_the_grace(proc, "finish", cancels)
        assert not task.cancelled()
        assert proc.returncode == -signal.SIGKILL  # the leader was reaped before the call returned
        return task.result()

    assert _run_group_scenario(scenario, "ignore") == -signal.SIGKILL


def test_raise_a_cancel_in_the_grace_kills_and_is_passed_on():
    """``raise`` (a daemon at its scope's end, a sidecar): the group is killed and the cancellation goes on."""
    async def scenario(proc, grandchild):
        task = await _cancel_in_the_grace(proc, "raise", 1)
        assert task.cancelled()
        return await asyncio.wait_for(proc.wait(), 60)

    assert _run_group_scenario(scenario, "ignore") == -signal.SIGKILL


@pytest.mark.parametrize("cancels", [1, 2])
def test_stop_groups_a_cancel_in_the_grace_kills_every_group(cancels):
    """Several groups stopped together (a scope's daemons, a step's sidecars), all surviving SIGTERM: both get
    SIGTERM at once, and a cancellation during the grace (the scope was already ending on a first one)
    SIGKILLs every group, not only the one being waited for, before it is passed on. Stopped one after
    the other, the cancellation used to leave the second group running until the engine exited."""

    async def main():
        groups = [await _start_group("ignore") for _ in range(2)]
        try:
            async def scope_end():
                try:
                    await asyncio.Event().wait()  # the scope's work, until it is cancelled
                finally:
                    await stop_groups([proc for proc, _ in groups], 600)

            task = asyncio.ensure_future(scope_end())
            await asyncio.sleep(0)
            task.cancel()  # the scope ends (a deadline): its groups are being stopped
            for proc, _ in groups:  # every leader had its SIGTERM: the grace is running
                line = await asyncio.wait_for(proc.stdout.readline(), 60)
                assert line.startswith(b"term "), line
            for _ in range(cancels):  # the workflow is terminated meanwhile
                task.cancel()
                await asyncio.sleep(0)
            done, _ = await asyncio.wait({task}, timeout=120)  # not the 600 s grace
            assert done and task.cancelled()
            for proc, _ in groups:
                await asyncio.to_thread(wait_for, lambda pgid=proc.pid: not _members(pgid, MARK), 60,
                                        f"group {proc.pid} to be empty")
                assert await asyncio.wait_for(proc.wait(), 60) == -signal.SIGKILL
        finally:  # ours only, one by one
            for proc, _ in groups:
                for pid in _members(proc.pid, MARK):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                await asyncio.wait_for(proc.stdout.read(), 60)
                await asyncio.wait_for(proc.wait(), 60)

    run_async(main())


def test_stop_groups_returns_each_leaders_exit_code():
    async def main():
        ended = await spawn(sys.executable, "-c", "raise SystemExit(3)")
        assert await asyncio.wait_for(ended.wait(), 60) == 3
        proc, grandchild = await _start_group("default")
        try:
            codes = await asyncio.wait_for(stop_groups([ended, proc], 600), 120)  # SIGTERM ends the leader
            await asyncio.to_thread(wait_for, lambda: not _members(proc.pid, MARK), 60, "the group to be empty")
            return codes
        finally:
            for pid in _members(proc.pid, MARK):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await asyncio.wait_for(proc.stdout.read(), 60)
            await asyncio.wait_for(proc.wait(), 60)

    assert run_async(main()) == [3, -signal.SIGTERM]
