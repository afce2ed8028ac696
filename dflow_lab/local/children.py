"""Child processes of the engine: each in its own process group, dying with the engine, and never left
behind by a cancellation.

- Every child is started in a new session (its PID is its process group's id) with Linux's
  ``PR_SET_PDEATHSIG``, so a killed engine leaves no step running behind it; a resumed run starts those
  steps again.
- :func:`spawn` starts a child so that a cancellation (a terminated workflow, a deadline) that arrives
  *while the child is being started* stops the child's whole group. Without it asyncio kills only the
  group's leader and then waits for the child's output pipes to close: a grandchild holding them (the
  ``sleep`` of ``sh -c 'sleep 600'``) kept the engine waiting until it ended, and ran on orphaned.
- :func:`stop_group` is the one way the engine stops a child it started (a cancelled step, a daemon at its
  scope's end, a sidecar, a failed start): SIGTERM to the group, SIGKILL after a grace period, then the
  leader's end. What a cancellation *during* that wait does is the caller's explicit choice
  (``on_cancel``): finish the stop and let the caller pass the cancellation on, or kill and raise at once.
- :func:`stop_groups` stops several children together (a scope's daemons, a step's sidecars): their grace
  periods run side by side, and a cancellation at any point SIGKILLs every group before it is passed on,
  so none of them is left running whatever cancellations arrive (stopping them one after the other, a
  second cancellation during the first one's grace period left the others running).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, Literal

__all__ = ["die_with_parent", "spawn", "signal_group", "stop_group", "stop_groups"]

_PR_SET_PDEATHSIG = 1
_POLL = 0.02  # seconds between looks at whether a stopped group's leader has exited
_PIPE_WAIT = 10.0  # seconds a stopped group's output pipes are given to close once its leader has ended
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent() -> None:
    """``preexec_fn`` of engine children: ask the kernel to SIGKILL the child when the engine dies."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to process group ``pgid`` (one the engine started); whether the group still existed."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):  # gone (its PID may already be another user's)
        return False
    return True


async def spawn(*argv: str, grace: float = 0.0, **kwargs: Any) -> asyncio.subprocess.Process:
    """``asyncio.create_subprocess_exec(*argv, **kwargs)`` in a new session with :func:`die_with_parent`.

    If the calling task is cancelled while the child is being started, the start is let finish, the
    child's group gets SIGTERM (SIGKILL after ``grace`` seconds; at once when ``grace`` is 0), the
    group's end is awaited, and the cancellation is passed on. Start errors (``OSError``) are raised as
    they come."""
    kwargs.setdefault("start_new_session", True)
    kwargs.setdefault("preexec_fn", die_with_parent)
    creating = asyncio.ensure_future(asyncio.create_subprocess_exec(*argv, **kwargs))
    try:
        return await asyncio.shield(creating)
    except asyncio.CancelledError:
        await _finish(creating)
        if not creating.cancelled() and creating.exception() is None:
            await stop_group(creating.result(), grace)
        raise


async def _finish(future: asyncio.Future) -> None:
    """Wait for ``future`` to end, whatever cancellations arrive meanwhile (they were already taken)."""
    while not future.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait({future})


async def _leader_ended(proc: asyncio.subprocess.Process, timeout: float) -> None:
    """Return once ``proc`` itself has exited (asyncio knows its return code), or after ``timeout`` seconds.
    Not ``proc.wait()``: that also waits for the output pipes to close, and what the leader left in its
    group (a shell's child that ignores SIGTERM) may hold them for as long as it lives."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while proc.returncode is None:
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(_POLL, left))


async def stop_group(proc: asyncio.subprocess.Process, grace: float,
                     on_cancel: Literal["finish", "raise"] = "finish") -> int:
    """Stop the process group of ``proc`` (one :func:`spawn` started): SIGTERM, then SIGKILL once the
    leader has exited or ``grace`` seconds have passed (at once when 0, or when the leader had already
    ended): what the leader left in its group goes with it, as a container's processes go with its first
    one. Then wait for the leader's end and for its output pipes to close (what is left in them is read
    and discarded; at most ``_PIPE_WAIT`` seconds), so that no transport of the child outlives the stop;
    returns the leader's exit code (negative: the signal).

    A cancellation while waiting out the grace ends it: the group is SIGKILLed at once. Then ``on_cancel``
    says what the caller needs:

    - ``"finish"``, for a caller already handling a cancellation, which passes it on itself (a step's
      process in a terminated workflow, :func:`spawn`): the leader's end is awaited whatever cancellations
      arrive, so nothing of the group is left running when the caller re-raises; they are absorbed here.
    - ``"raise"``, for stopping as part of normal work (a daemon at its scope's end, a sidecar after its
      main container): the cancellation is passed on right after the SIGKILL, without waiting for the
      leader to be reaped (asyncio reaps it).
    """
    if grace > 0 and proc.returncode is None and signal_group(proc.pid, signal.SIGTERM):
        try:
            await _leader_ended(proc, grace)
        except asyncio.CancelledError:
            signal_group(proc.pid, signal.SIGKILL)
            if on_cancel == "raise":
                raise
    signal_group(proc.pid, signal.SIGKILL)  # the leader, and what it left in its group (nginx's workers)
    if on_cancel == "raise":
        return await _ended(proc)
    ended = asyncio.ensure_future(_ended(proc))
    await _finish(ended)
    return ended.result()


async def _ended(proc: asyncio.subprocess.Process) -> int:
    code = await proc.wait()
    await _drain(proc, _PIPE_WAIT)
    return code


async def _drain(proc: asyncio.subprocess.Process, timeout: float) -> None:
    """Read what is left in ``proc``'s output pipes (discarded) until they close, for at most ``timeout``
    seconds. Once asyncio knows the leader's exit code, ``proc.wait()`` returns at once, pipes open or not
    (``_leader_ended`` learns it first); a stopped child's transport whose pipes were still open when its
    loop closed raised 'Event loop is closed' when it was collected. With the group killed the pipes
    close at once; one still held after ``timeout`` (by a process that left the group: its own session)
    closes when that process ends. Nothing else reads a stopped child's output (a step's log pumps are
    cancelled before its stop); if something does, it gets the end of the stream and this returns."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for reader in (proc.stdout, proc.stderr):
        while reader is not None:
            left = deadline - loop.time()
            if left <= 0:
                return
            try:
                if not await asyncio.wait_for(reader.read(65536), left):
                    break
            except (asyncio.TimeoutError, RuntimeError):  # RuntimeError: another coroutine is reading it
                return


async def stop_groups(procs: Sequence[asyncio.subprocess.Process], grace: float) -> list[int]:
    """Stop the process groups of ``procs`` together, each as ``stop_group(proc, grace, on_cancel="raise")``:
    SIGTERM to every group at once, SIGKILL to each once its leader has exited or ``grace`` seconds have
    passed; returns the leaders' exit codes in order.

    A cancellation (or any error) while they are being stopped SIGKILLs every group at once, before it is
    passed on and without awaiting anything in between, so no group is left running whatever arrives
    later; the leaders are reaped by asyncio."""
    stops = [asyncio.ensure_future(stop_group(proc, grace, on_cancel="raise")) for proc in procs]
    try:
        return list(await asyncio.gather(*stops))
    except BaseException:
        for proc in procs:
            signal_group(proc.pid, signal.SIGKILL)
        for stop in stops:
            stop.cancel()
        raise
