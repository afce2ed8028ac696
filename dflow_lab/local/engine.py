"""The engine host: an asyncio loop in a background thread that runs workflows, with a warm worker pool.

One host per process.  ``run(workdir, name)`` runs a stored workflow and returns a future; a workflow
runs in at most one process at a time (an ``flock`` on ``<workdir>/locks/<name>.lock``, released by the
kernel when the process dies, so a killed engine never blocks a resume).

``python -m dflow_lab.local.engine [--config-stdin] WORKDIR NAME`` runs one workflow in a detached
process; with ``--config-stdin`` it first reads the configuration and the workflow's secrets from its
stdin (``engine_config``), the channel no step inherits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import json
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from dflow_lab.config import config, s3_config
from dflow_lab.storage.repository import artifact_repository

from .. import secret_store
from ..bounds import cut_text
from ..names import check_workflow_name, workspace_path
from .interpreter import Execution
from .pool import WorkerPool
from .state import StateStore, now_iso
from .stepenv import python_path

if TYPE_CHECKING:  # the pool is imported when the first Python OP runs
    from .pool import WorkerPool

__all__ = ["EngineHost", "engine_alive", "engine_config", "engine_env", "host_slots_default"]


def engine_env() -> dict[str, str]:
    """Environment of a detached engine process: this process's, without the ``DFLOW_*`` variables (the
    configuration reaches the engine over its stdin: :func:`engine_config`), with this process's
    ``sys.path`` as ``PYTHONPATH`` (so OPs import as they do here).  Steps never inherit it whole: they
    get the environment of ``stepenv``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DFLOW_")}
    env["PYTHONPATH"] = python_path()
    return env


def engine_config(manifest: dict) -> bytes:
    """What a detached engine reads on its stdin at start: ``config`` and ``s3_config`` (their JSON
    values) and the values of the secrets ``manifest`` references — only those — from this process's
    secret store.  A pipe, not an environment variable or a file: no step inherits it, nothing is
    written to disk."""
    def plain(d: dict) -> dict:
        out = {}
        for k, v in d.items():
            try:
                json.dumps(v)
            except (TypeError, ValueError):
                continue
            out[k] = v
        return out

    return json.dumps({"config": plain(config), "s3_config": plain(s3_config),
                       "secrets": secret_store.export(secret_store.referenced(manifest))}).encode()


def _apply_config(text: bytes) -> None:
    """Take what :func:`engine_config` gave (a detached engine, at start)."""
    try:
        data = json.loads(text or b"{}")
    except ValueError:
        raise SystemExit("dflow-lab engine: the configuration on stdin is not JSON (it is written by "
                         "LocalBackend; start a detached engine through it)") from None
    config.update(data.get("config") or {})
    s3_config.update(data.get("s3_config") or {})
    secret_store.load(data.get("secrets") or {})


def host_slots_default() -> int:
    """How many host subprocesses (script/container steps) run at once."""
    return max(8, 4 * (os.cpu_count() or 1))


def _lock_path(workdir: Path, name: str) -> Path:
    workspace_path(workdir, "locks").mkdir(parents=True, exist_ok=True)
    return workspace_path(workdir, "locks", f"{check_workflow_name(name, field='workflow name')}.lock")


def _try_lock(workdir: Path, name: str) -> int | None:
    fd = os.open(_lock_path(workdir, name), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def engine_alive(workdir: str | Path, name: str) -> bool:
    """Whether some process is running workflow ``name`` now."""
    fd = _try_lock(Path(workdir).resolve(), name)
    if fd is None:
        return True
    os.close(fd)  # closing releases the lock
    return False


class EngineHost:
    """The per-process engine: event loop thread, worker pool, host subprocess slots."""

    _instance: EngineHost | None = None
    _guard = threading.Lock()

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="dflow-lab-engine", daemon=True)
        self._thread.start()
        self._pool: WorkerPool | None = None
        self._slots: asyncio.Semaphore | None = None
        self._stores: dict[Path, StateStore] = {}

    @classmethod
    def get(cls) -> EngineHost:
        """The host of this process (started on first use)."""
        with cls._guard:
            if cls._instance is None:
                cls._instance = EngineHost()
            return cls._instance

    def store(self, workdir: str | Path) -> StateStore:
        key = Path(workdir).resolve()
        if key not in self._stores:
            self._stores[key] = StateStore(key)
        return self._stores[key]

    async def _pool_and_slots(self) -> tuple[WorkerPool, asyncio.Semaphore]:
        if self._pool is None:

            size = int(config.get("local_workers") or 0) or (os.cpu_count() or 1)
            self._pool = WorkerPool(size)
            self._slots = asyncio.Semaphore(host_slots_default())
        assert self._slots is not None  # set with the pool
        return self._pool, self._slots

    def prewarm(self) -> None:
        """Start the worker pool's workers now, in the background: the run submitted next finds them up
        (or starting) while the caller compiles, validates and stores the workflow."""
        async def start() -> None:
            pool, _ = await self._pool_and_slots()
            pool.prewarm()

        asyncio.run_coroutine_threadsafe(start(), self.loop)

    def run(self, workdir: str | Path, name: str) -> concurrent.futures.Future:
        """Run stored workflow ``name``; the future gives its final phase (``None`` if another process runs it).

        The name is checked here (``WorkflowValueError``), whoever the caller is: it becomes paths."""
        check_workflow_name(name, field="workflow name")
        return asyncio.run_coroutine_threadsafe(self._run(Path(workdir).resolve(), name), self.loop)

    async def _run(self, workdir: Path, name: str) -> str | None:
        fd = _try_lock(workdir, name)
        if fd is None:
            return None
        try:

            pool, slots = await self._pool_and_slots()
            store = self.store(workdir)
            record = store.workflow(name)
            phase = ((record or {}).get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed", "Error"):
                # ended before this engine started (terminated or stopped while it was starting): nothing runs
                return str(phase)
            try:
                execution = Execution(store, name, pool, slots, artifact_repository(workdir))
            except Exception as e:  # a workflow that cannot start ends in Error with the reason
                record = store.workflow(name) or {"status": {}}
                store.set_status(name, dict(record["status"], phase="Error", message=cut_text(str(e)), finishedAt=now_iso()))
                return "Error"
            return await execution.run()
        finally:
            os.close(fd)

    def close(self) -> None:
        """Stop the workers and the loop (tests and the detached entry point call this)."""
        async def stop() -> None:
            if self._pool is not None:
                await self._pool.close()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        with EngineHost._guard:
            if EngineHost._instance is self:
                EngineHost._instance = None


def main(argv: list[str] | None = None) -> int:
    """Entry point of a detached engine process: ``python -m dflow_lab.local.engine [--config-stdin] WORKDIR NAME``."""
    args = list(sys.argv[1:] if argv is None else argv)
    config_stdin = "--config-stdin" in args
    if config_stdin:
        args.remove("--config-stdin")
    if len(args) != 2:
        print("usage: python -m dflow_lab.local.engine [--config-stdin] WORKDIR NAME", file=sys.stderr)
        return 2
    workdir, name = args
    try:
        check_workflow_name(name, field="workflow name")
    except ValueError as e:
        print(f"dflow_lab.local.engine: {e}", file=sys.stderr)
        return 2
    if config_stdin:
        _apply_config(sys.stdin.buffer.read())
    host = EngineHost.get()
    try:
        phase = host.run(workdir, name).result()
    finally:
        host.close()
    return 0 if phase in (None, "Succeeded") else 1


if __name__ == "__main__":
    sys.exit(main())
