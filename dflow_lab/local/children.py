"""Child processes of the engine: each in its own process group, dying with the engine, and never left
behind by a cancellation.

- Every child is started in a new session (its PID is its process group's id) with Linux's
  ``PR_SET_PDEATHSIG``, so a killed engine leaves no step running behind it; a resumed run starts those
  steps again.
- :func:`spawn` starts a child so that a cancellation (a terminated workflow, a deadline) that arrives
  *while the child is being started* stops the child's whole group. Without it asyncio kills only the
  group's leader and then waits for the child's output pipes to close: a grandchild holding them (the
  ``sleep`` of ``sh -c 'sleep 600'``) kept the engine waiting until it ended, and ran on orphaned.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
from typing import Any

__all__ = ["die_with_parent", "spawn", "signal_group", "stop_group"]

_PR_SET_PDEATHSIG = 1
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


async def stop_group(proc: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM the group of ``proc`` (one :func:`spawn` started), SIGKILL it after ``grace`` seconds (at once
    when 0), and wait for ``proc`` to end, whatever cancellations arrive meanwhile."""
    if grace > 0 and signal_group(proc.pid, signal.SIGTERM):
        waiting = asyncio.ensure_future(proc.wait())
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(waiting), grace)
    signal_group(proc.pid, signal.SIGKILL)  # the leader, and what it left in its group
    await _finish(asyncio.ensure_future(proc.wait()))
