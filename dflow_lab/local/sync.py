"""Argo's ``synchronization`` on one host: mutexes and semaphores, workflow- and template-level.

Semantics (as Argo's): a workflow-level ``spec.synchronization`` is held from the workflow's start to its
end (it waits, phase Pending, until it gets it); a template-level ``synchronization`` is held by each node
of that template while it runs (retries included) and the node waits, Pending with "Waiting for …",
until it gets it.  A mutex (``mutexes: [{name}]``, or the older ``mutex: {name}``) admits one holder; a
semaphore (``semaphores: [{configMapKeyRef}]``, or ``semaphore: {configMapKeyRef}``) admits as many as the
integer value under that key of a ConfigMap of the workspace (``dflow-lab configmap create``), re-read
while waiting so a changed limit applies.  ``database: true`` locks (Argo's multi-controller locks) are the
same here: every engine process of the workspace shares them, and a ``database: {key}`` semaphore's limit
is key ``key`` of the workspace config map :data:`DATABASE_LIMITS` (Argo keeps it in a database table).  Locks are per workspace and namespace,
so concurrent workflows of the workspace exclude each other, whichever process runs them.

Mechanism: one ``flock``ed file per slot under ``<workdir>/locks/`` (named by a hash of the lock's key, so
no name from a manifest becomes a path); a holder that dies releases its slots with its process.

Limits: waiters are not served in Argo's priority/FIFO order (each polls, backing off to
:data:`MAX_POLL` seconds); a semaphore's limit is at most :data:`MAX_SLOTS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Callable

from ..errors import WorkflowValueError
from .objects import ObjectStore
from .scope import StepError

__all__ = ["DATABASE_LIMITS", "MAX_POLL", "MAX_SLOTS", "hold", "lock_specs"]

#: the workspace config map holding the limits of ``database: {key}`` semaphores (Argo keeps them in a table)
DATABASE_LIMITS = "database-semaphores"
MAX_POLL = 0.5
MAX_SLOTS = 1024


def lock_specs(sync: Any, where: str) -> list[tuple[str, str, dict | None]]:
    """The locks a ``synchronization`` block asks for: ``(key, description, configMapKeyRef or None)``."""
    if not sync:
        return []
    if not isinstance(sync, dict):
        raise StepError(f"{where}: synchronization is a mapping (mutexes, semaphores)")
    out: list[tuple[str, str, dict | None]] = []
    mutexes = list(sync.get("mutexes") or []) + ([sync["mutex"]] if sync.get("mutex") else [])
    for m in mutexes:
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not m["name"]:
            raise StepError(f"{where}: synchronization mutex needs a name")
        ns = m.get("namespace") or "default"
        out.append((f"{ns}/Mutex/{m['name']}", f"mutex {m['name']!r}", None))
    semaphores = list(sync.get("semaphores") or []) + ([sync["semaphore"]] if sync.get("semaphore") else [])
    for s in semaphores:
        db = s.get("database") if isinstance(s, dict) else None
        if isinstance(db, dict):  # Argo's database semaphore: its limit kept in the workspace's config map
            if not isinstance(db.get("key"), str) or not db["key"]:
                raise StepError(f"{where}: a database semaphore needs a key")
            db_ref: dict[str, Any] = {"name": DATABASE_LIMITS, "key": db["key"]}
            out.append((f"{s.get('namespace') or 'default'}/Database/{db['key']}",
                        f"database semaphore {db['key']!r}", db_ref))
            continue
        ref = (s or {}).get("configMapKeyRef") if isinstance(s, dict) else None
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not isinstance(ref.get("key"), str):
            raise StepError(f"{where}: a synchronization semaphore needs configMapKeyRef with a name and a key "
                            "(the local engine reads it from the workspace's config maps)")
        ns = s.get("namespace") or "default"
        out.append((f"{ns}/ConfigMap/{ref['name']}/{ref['key']}",
                    f"semaphore {ref['name']}/{ref['key']}", ref))
    return out


def _limit(store: ObjectStore, ref: dict | None, where: str) -> int:
    if ref is None:
        return 1
    try:
        value = store.config_value(ref, f"{where}: synchronization semaphore")
    except WorkflowValueError as exc:
        raise StepError(str(exc)) from None
    try:
        limit = int(str(value).strip())
    except ValueError:
        raise StepError(f"{where}: semaphore {ref['name']}/{ref['key']} is {value!r}, not an integer limit") from None
    if not 0 <= limit <= MAX_SLOTS:
        raise StepError(f"{where}: semaphore {ref['name']}/{ref['key']} = {limit} is outside 0..{MAX_SLOTS}")
    return limit


def _try_slot(directory: Path, key: str, limit: int) -> int | None:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    for slot in range(limit):
        fd = os.open(directory / f"{digest}.{slot}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return fd
    return None


@contextlib.asynccontextmanager
async def hold(workdir: Path, sync: Any, where: str,
               waiting: Callable[[str], None] | None = None) -> AsyncIterator[None]:
    """Hold every lock ``sync`` asks for while the block runs; ``waiting(message)`` is called once when a
    lock is not free at once (for a Pending message).  Locks are taken in key order (no deadlock between
    two holders asking for the same set)."""
    specs = sorted(lock_specs(sync, where))
    if not specs:
        yield
        return
    store = ObjectStore(workdir)
    directory = Path(workdir).resolve() / "locks" / "sync"
    directory.mkdir(parents=True, exist_ok=True)
    held: list[int] = []
    told = False
    try:
        for key, what, ref in specs:
            delay = 0.01
            while True:
                fd = _try_slot(directory, key, _limit(store, ref, where))
                if fd is not None:
                    held.append(fd)
                    break
                if not told and waiting is not None:
                    waiting(f"Waiting for {key} lock ({what}).")
                    told = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_POLL)
        yield
    finally:
        for fd in held:
            os.close(fd)
