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

from .children import spawn
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
        proc = await spawn(
            sys.executable, "-m", "dflow_lab.local.worker",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env=base_env(),  # the documented step environment (stepenv), nothing more
        )
        worker = cls(proc)
        assert proc.stdout is not None  # PIPE above
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
    """Up to ``size`` warm workers, kept for the life of the pool.

    Workers start on demand, one more only when a step has waited ``GROW_AFTER`` seconds for a busy
    worker to come free: a fan-out of millisecond steps is served by the worker it has (starting a
    Python process and importing dflow-lab costs ~0.1 s of CPU), while steps that take longer than
    that get up to ``size`` workers, each started ``GROW_AFTER`` later than the old policy did."""

    GROW_AFTER = 0.05

    def __init__(self, size: int):
        self.size = max(1, size)
        self._idle: list[_Worker] = []
        self._slots = asyncio.Semaphore(self.size)
        self._all: set[_Worker] = set()
        self._starting: list[asyncio.Task] = []  # workers being started ahead of demand (``prewarm``)
        self._waiters: list[asyncio.Future] = []  # steps waiting for a busy worker to come free

    def prewarm(self) -> None:
        """Start one worker now, without waiting for it, unless the pool has one or one is starting: a
        run's first step then finds it up (or starting) instead of starting it on demand."""
        if not self._all and not self._starting:
            self._spawn()

    def _spawn(self) -> None:
        task = asyncio.get_running_loop().create_task(_Worker.start())
        self._starting.append(task)
        task.add_done_callback(self._started)

    def _started(self, task: asyncio.Task) -> None:
        """A worker is up: idle, for the first step waiting (a failed start is reported by ``_acquire``
        to the steps that waited for it)."""
        if task in self._starting:
            self._starting.remove(task)
        if not task.cancelled() and task.exception() is None:
            worker = task.result()
            self._all.add(worker)
            self._release(worker)

    def _release(self, worker: _Worker) -> None:
        """``worker`` is idle: hand it to the first step waiting for one."""
        self._idle.append(worker)
        while self._waiters:
            waiter = self._waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break

    async def _acquire(self) -> _Worker:
        """An idle worker; else one being started, once up; else one that comes free within
        ``GROW_AFTER`` while all are busy; else a new one (up to ``size``; at ``size``, the next that
        comes free). A worker that fails to start raises its ``RuntimeError`` here."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.GROW_AFTER
        while True:
            while self._idle:
                candidate = self._idle.pop()
                if candidate.alive():
                    return candidate
                self._all.discard(candidate)
            if self._starting:  # wait for it (``_started`` makes it idle); a cancelled step leaves it starting
                task = self._starting[0]
                await asyncio.wait([task])
                error = None if task.cancelled() else task.exception()
                if error is not None:
                    raise error
                deadline = loop.time() + self.GROW_AFTER
                continue
            can_grow = len(self._all) < self.size
            if can_grow and (not self._all or loop.time() >= deadline):
                self._spawn()
                continue
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                # at size the slots make a busy worker certain; the bound only guards against a worker lost unseen
                await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()) if can_grow else 1.0)
            except asyncio.TimeoutError:
                pass
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    async def run(self, source: str, env: dict[str, str], cwd: str, log: str) -> WorkerResult:
        """Run one Python OP step in a worker; cancelling the call kills that worker."""
        async with self._slots:
            result = await self._run_once(source, env, cwd, log, fresh=False)
            if result is None:  # the worker was stale; a new one runs the step whatever happens on disk
                result = await self._run_once(source, env, cwd, log, fresh=True)
            if result is None:  # a fresh worker is never stale (worker.main checks only warm ones)
                raise RuntimeError("a fresh local engine worker answered 'stale'")
            return result

    async def _run_once(self, source: str, env: dict[str, str], cwd: str, log: str,
                        fresh: bool) -> WorkerResult | None:
        """``None`` when the worker was stale (a user module changed on disk): run again in a fresh one."""
        if fresh:
            worker = await _Worker.start()
            self._all.add(worker)
        else:
            worker = await self._acquire()
        request = json.dumps({"source": source, "env": env, "cwd": cwd, "log": log, "fresh": fresh}) + "\n"
        assert worker.proc.stdin is not None and worker.proc.stdout is not None  # PIPEs (_Worker.start)
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
        self._release(worker)
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
