"""The values of ``Secret(value=…)``, kept in this process and handed to the steps that declare them.

The model writes here (``Secret(value=…)`` calls :func:`put`); the local engine reads here (a step's
``secretKeyRef`` is looked up with :func:`get`).  A value lives in this process's memory only: it is
never written to a manifest, graph, log, the workspace database or the environment of a process that
did not ask for it.  A detached engine receives, over a pipe on its stdin, only the secrets its
workflow's manifest references (:func:`referenced`, :func:`export`, :func:`load`), and a step is given
only the secrets its own template's ``env`` references.

A secret is addressed as Kubernetes addresses one: a secret ``name`` holding string values under
``key``s.  This module imports nothing of dflow-lab, so engines can use it without the model.

Limits: values are kept for the life of the process (:func:`forget` removes one, :func:`clear` all);
the store is process-wide, guarded by a lock for the engine thread and the notebook thread.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["clear", "export", "forget", "get", "load", "put", "referenced"]

_values: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


def put(name: str, key: str, value: str) -> None:
    """Keep ``value`` as key ``key`` of secret ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"secret {name!r} (key {key!r}): a secret's value is a str, not a {type(value).__name__}")
    with _lock:
        _values.setdefault(name, {})[key] = value


def get(name: str, key: str) -> str | None:
    """The value of key ``key`` of secret ``name``, or ``None`` when this process does not hold it."""
    with _lock:
        return _values.get(name, {}).get(key)


def forget(name: str) -> None:
    """Drop every key of secret ``name``."""
    with _lock:
        _values.pop(name, None)


def clear() -> None:
    """Drop every secret."""
    with _lock:
        _values.clear()


def referenced(manifest: Any) -> set[tuple[str, str]]:
    """The ``(name, key)`` pairs of every ``secretKeyRef`` in a manifest (any depth)."""
    found: set[tuple[str, str]] = set()
    stack = [manifest]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            ref = obj.get("secretKeyRef")
            if isinstance(ref, dict) and isinstance(ref.get("name"), str):
                found.add((ref["name"], str(ref.get("key") or "secret")))
            stack.extend(v for v in obj.values() if isinstance(v, (dict, list)))
        elif isinstance(obj, list):
            stack.extend(v for v in obj if isinstance(v, (dict, list)))
    return found


def export(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """The values this process holds for ``pairs`` (as ``{name: {key: value}}``; unknown pairs left out),
    to hand to a detached engine."""
    out: dict[str, dict[str, str]] = {}
    with _lock:
        for name, key in pairs:
            value = _values.get(name, {}).get(key)
            if value is not None:
                out.setdefault(name, {})[key] = value
    return out


def load(data: Mapping[str, Mapping[str, str]]) -> None:
    """Add what :func:`export` gave (in a detached engine, at start)."""
    for name, keys in data.items():
        for key, value in keys.items():
            put(str(name), str(key), value)
