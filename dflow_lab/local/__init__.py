"""The embedded local engine: runs Argo workflow manifests on this machine (see docs/local-engine.md).

``LocalBackend`` is the entry point; the engine itself is ``interpreter.Execution`` running in an
``engine.EngineHost``, with state in ``state.StateStore`` and Python OPs in ``pool.WorkerPool``.
``Execution`` is split by concern: ``nodes`` (status nodes), ``steps``, ``dag``, ``leaf`` (attempts,
pods, suspend), ``retries`` (and memoization), ``outputs``.
"""

from __future__ import annotations

__all__ = ["LocalBackend"]


def __getattr__(name: str) -> type:
    if name == "LocalBackend":
        # lazy: importing a helper of this package (layout, executors use it) must not load the engine
        from .backend import LocalBackend

        return LocalBackend
    raise AttributeError(name)
