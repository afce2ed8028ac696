"""A cancellation that arrives while a step's process is being started stops the process's whole group.

The child below forks its grandchild *before* it execs (from ``preexec_fn``, after its output pipes are
in place), as a shell does with a script's commands: the grandchild holds the pipes. asyncio, cancelled
while starting such a child, used to kill only the leader and then wait for the pipes to close, so the
engine hung for as long as the grandchild lived (a terminated ``sleep 600`` step held its workflow
Running for ten minutes), and the grandchild ran on orphaned.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from dflow_lab.local.children import die_with_parent, spawn

from .local_helpers import run_async

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


def _members(pgid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
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
        assert not _members(pid)


def test_a_started_child_is_its_groups_leader():
    async def scenario() -> int:
        proc = await spawn(sys.executable, "-c", "import os; print(os.getpgid(0) == os.getpid())",
                           stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        return out.strip() == b"True"

    assert run_async(scenario())
