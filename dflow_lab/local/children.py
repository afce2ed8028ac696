"""Child processes of the engine die with it (Linux ``PR_SET_PDEATHSIG``), so a killed engine leaves no
step running behind it; a resumed run starts those steps again."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True) if sys.platform == "linux" else None


def die_with_parent() -> None:
    """``preexec_fn`` of engine children: ask the kernel to SIGKILL the child when the engine dies."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
