"""The pool of warm worker processes that run Python OP steps (see ``worker.py``).

Each worker runs one step at a time.  A worker that dies while running a step (a crash, ``os._exit``,
a signal) fails that step only: the pool reports it and starts a fresh worker.  A step that must stop
early (timeout, terminate) is ended by killing its worker.  Workers start with the steps' base
environment (``stepenv.base_env``: no credentials, no ``DFLOW_*``); a step's own variables, secrets
included, are set only while it runs (``worker.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass

from .children import die_with_parent
from .stepenv import base_env

__all__ = ["WorkerPool", "WorkerResult"]


@dataclass
class WorkerResult:
    """How a step ended in a worker: its exit code, or the reason the worker died."""

    rc: int
    died: str | None = None


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process):
        self.proc = proc

    @classmethod
    async def start(cls) -> _Worker:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "dflow_lab.local.worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent,
            env=base_env(),  # the documented step environment (stepenv), nothing more
        )
        worker = cls(proc)
        line = await proc.stdout.readline()
        if not line:
            await proc.wait()
            raise RuntimeError(f"a local engine worker failed to start (exit code {proc.returncode}); "
                               f"check that `{sys.executable} -m dflow_lab.local.worker` imports")
        return worker

    def alive(self) -> bool:
        return self.proc.returncode is None

    def kill(self) -> None:
        if self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class WorkerPool:
    """Up to ``size`` warm workers, started on demand and kept for the life of the pool."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self._slots = asyncio.Semaphore(self.size)
        self._all: set[_Worker] = set()
        self._starting: list[asyncio.Task] = []  # workers being started ahead of demand (``prewarm``)

    def prewarm(self) -> None:
        """Start workers up to ``size`` now, concurrently, without waiting for them: a run's first steps
        then find them ready (or being started) instead of starting them one at a time on demand."""
        for _ in range(self.size - len(self._all) - len(self._starting)):
            task = asyncio.get_running_loop().create_task(_Worker.start())
            self._starting.append(task)
            task.add_done_callback(self._started)

    def _started(self, task: asyncio.Task) -> None:
        """A prewarmed worker is up: idle, unless a step already took its start (``_take_starting``)."""
        if task not in self._starting:
            return
        self._starting.remove(task)
        if not task.cancelled() and task.exception() is None:
            worker = task.result()
            self._all.add(worker)
            self._idle.append(worker)

    async def _take_starting(self) -> _Worker | None:
        """A worker whose start is under way (``None`` if there is none, or if it failed to start)."""
        if not self._starting:
            return None
        task = self._starting.pop(0)
        try:
            worker = await asyncio.shield(task)  # a cancelled step leaves the start to finish (and idle)
        except asyncio.CancelledError:
            self._starting.append(task)  # back to the pool: idle once up (now, if it already is)
            if task.done():
                self._started(task)
            raise
        except Exception:  # the start failed: the caller starts one itself and reports that failure
            return None
        self._all.add(worker)
        return worker

    async def run(self, source: str, env: dict[str, str], cwd: str, log: str) -> WorkerResult:
        """Run one Python OP step in a worker; cancelling the call kills that worker."""
        async with self._slots:
            result = await self._run_once(source, env, cwd, log, fresh=False)
            if result is None:  # the worker was stale; a new one runs the step whatever happens on disk
                result = await self._run_once(source, env, cwd, log, fresh=True)
            return result

    async def _run_once(self, source: str, env: dict[str, str], cwd: str, log: str,
                        fresh: bool) -> WorkerResult | None:
        """``None`` when the worker was stale (a user module changed on disk): run again in a fresh one."""
        worker = None
        while self._idle and worker is None and not fresh:
            candidate = self._idle.pop()
            if candidate.alive():
                worker = candidate
            else:
                self._all.discard(candidate)
        if worker is None and not fresh:
            worker = await self._take_starting()
        if worker is None:
            worker = await _Worker.start()
            self._all.add(worker)
        request = json.dumps({"source": source, "env": env, "cwd": cwd, "log": log, "fresh": fresh}) + "\n"
        try:
            worker.proc.stdin.write(request.encode())
            await worker.proc.stdin.drain()
            line = await worker.proc.stdout.readline()
        except asyncio.CancelledError:
            worker.kill()
            self._all.discard(worker)
            await worker.proc.wait()
            raise
        except (BrokenPipeError, ConnectionResetError):
            line = b""
        if not line:
            code = await worker.proc.wait()
            self._all.discard(worker)
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            return WorkerResult(rc=code if code > 0 else 128 - code, died=f"the OP's process died ({how})")
        answer = json.loads(line)
        if answer.get("stale"):
            self._all.discard(worker)
            await worker.proc.wait()
            return None
        self._idle.append(worker)
        return WorkerResult(rc=int(answer["rc"]))

    async def close(self) -> None:
        """Stop every worker."""
        starting, self._starting = self._starting, []
        for task in starting:
            try:
                self._all.add(await task)
            except Exception:  # a worker that failed to start has nothing left to stop
                pass
        for worker in list(self._all):
            if worker.proc.stdin and not worker.proc.stdin.is_closing():
                worker.proc.stdin.close()
            worker.kill()
            await worker.proc.wait()
        self._all.clear()
        self._idle.clear()
