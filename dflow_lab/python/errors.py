"""Exceptions an OP raises to tell the engine how its failure should be treated."""

from __future__ import annotations

__all__ = ["TransientError", "FatalError"]


class TransientError(Exception):
    """A failure worth retrying (a flaky network, a busy license server).

    The step exits with code 1; ``PythonOPTemplate(retry_on_transient_error=n)`` retries it up to
    ``n`` times.
    """


class FatalError(Exception):
    """A failure that retrying cannot fix. The step exits with code 2 and is not retried."""
