"""Bounded retries with exponential backoff for transfers to a remote store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from .client import StorageError

__all__ = ["RetryPolicy"]

T = TypeVar("T")
log = logging.getLogger("dflow_lab.storage")


@dataclass(frozen=True)
class RetryPolicy:
    """Try an operation up to ``tries`` times, sleeping ``backoff * 2**n`` (capped) between tries."""

    tries: int = 6
    backoff: float = 0.5
    max_backoff: float = 8.0

    def __post_init__(self) -> None:
        if self.tries < 1:
            raise ValueError(f"RetryPolicy.tries must be >= 1, not {self.tries}")

    def delays(self) -> list[float]:
        """The sleeps between consecutive tries."""
        return [min(self.backoff * 2**n, self.max_backoff) for n in range(self.tries - 1)]

    def run(
        self,
        op: Callable[[], T],
        what: str,
        transient: Callable[[BaseException], bool],
        describe: Callable[[BaseException], str] = str,
    ) -> T:
        """Run ``op``; retry it on errors ``transient`` accepts; raise :class:`StorageError` naming
        ``what`` once the tries are spent (non-transient errors propagate at once)."""
        delays = self.delays()
        for attempt in range(self.tries):
            try:
                return op()
            except Exception as exc:  # noqa: BLE001 - classified just below
                if not transient(exc):
                    raise
                if attempt == len(delays):
                    raise StorageError(
                        f"{what} failed after {self.tries} tries: {type(exc).__name__}: {describe(exc)}"
                    ) from None
                log.warning("%s failed (%s), retrying in %.2fs", what, type(exc).__name__, delays[attempt])
                time.sleep(delays[attempt])
        raise AssertionError("unreachable")
