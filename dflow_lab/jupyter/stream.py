"""The live event stream of a run, as server-sent events: ``GET …/workflows/<engine>/<name>/events``.

The handler long-polls the engine's ``events(name, after, timeout)`` in a worker thread and folds each
batch into per-canvas-node status with the monitor's ``LiveRun``, so the browser receives only what
changed. Messages (``data:`` JSON lines):

- ``{"type": "status", "changes": {path: status}, "reset": true}`` first: the whole status so far;
- ``{"type": "status", "changes": {path: delta}, "delta": true}``: the canvas nodes whose status changed, each
  with only the fields that changed (``runview.live.merge_status`` folds them);
- ``{"type": "workflow", "state": {"name", "phase", "startedAt", "finishedAt", "progress", "message"}}``;
- ``event: end`` once the run has finished and every change was sent; the stream then closes.

A comment line is sent when nothing happened for a poll period, so a closed page is noticed. Status messages
are at least ``live.BATCH_SECONDS`` apart while events keep coming (``live.gather``): a 10,000-task run sends
about ten a second, each with every node that changed since the last.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import tornado.web
from tornado.iostream import StreamClosedError

from ..runview.live import BATCH_SECONDS, LiveRun, gather
from .handlers import BaseHandler

POLL_SECONDS = 2.0


class EventsHandler(BaseHandler):
    """Server-sent events of one run (auth by Jupyter's token or cookie, like every handler here)."""

    @tornado.web.authenticated
    async def get(self, engine: str, name: str) -> None:
        await self.workflow_object(engine, name)  # 404 before the stream starts
        backend = self.backend(engine)
        queue: list[dict[str, Any]] = []
        run = LiveRun(backend, name, queue.append, lambda state: queue.append({"type": "workflow", "state": state}))
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        loop = asyncio.get_running_loop()
        try:
            run.apply(await self.blocking(backend.events, name, 0, 0))
            states = [m for m in queue if m["type"] == "workflow"]
            queue.clear()
            await self._send({"type": "status", "changes": run.snapshot(), "reset": True})
            await self._send(states[-1] if states else {"type": "workflow", "state": {"name": name, "phase": "Pending"}})
            last = -BATCH_SECONDS
            while True:
                if run.finished:
                    events = await loop.run_in_executor(self.ctx.pool, backend.events, name, run.seq, 0)
                    if not events:
                        await self._write("event: end\ndata: {}\n\n")
                        break
                else:
                    events = await loop.run_in_executor(self.ctx.pool, backend.events, name, run.seq, POLL_SECONDS)
                if events:
                    until = last + BATCH_SECONDS
                    if time.monotonic() < until:  # gather what follows into one batch
                        events = await loop.run_in_executor(self.ctx.pool, gather, backend, name, events, until)
                    run.apply(events)
                    last = time.monotonic()
                    batch = list(queue)
                    queue.clear()
                    for message in batch:
                        await self._send(message)
                else:
                    await self._write(": idle\n\n")
        except StreamClosedError:
            return  # the page went away
        self.finish()

    async def _send(self, message: dict[str, Any]) -> None:
        await self._write(f"data: {json.dumps(message)}\n\n")

    async def _write(self, text: str) -> None:
        self.write(text)
        await self.flush()
