"""Bulk work on large graphs: the cyclic garbage collector is paused while a graph is converted.

Building or walking a 10,000-node graph allocates hundreds of thousands of small objects; each
collector pass then rescans all of them (and the graph itself) — several times the work of the
conversion. Pausing it for the duration and letting it run once afterwards is what JSON parsers do.
"""

from __future__ import annotations

import functools
import gc
from contextlib import contextmanager
from typing import Any, Callable, Iterator, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector inside the block (re-enabled after, if it was on)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def bulk(func: F) -> F:
    """Run ``func`` with the collector paused."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with paused_gc():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
