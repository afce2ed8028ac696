"""Leaf templates of a run: one attempt (with its timeout), script/container pods, suspend templates.

``LeafRunner._attempt`` runs one attempt of any template under its ``timeout``/``activeDeadlineSeconds``;
``_run_leaf`` hands a script or container template to ``pod.run_pod`` (a warm worker for Python OPs, a
host subprocess otherwise) within the workflow's ``parallelism``, or keeps it Pending when its
``nodeSelector`` asks for a node this host is not (``scheduling``); ``_run_suspend`` waits for a duration
or for a resume, and takes the output parameters supplied before it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .durations import parse_duration
from .nodes import NodeBook
from .pod import run_pod
from .scheduling import node_selector, unschedulable
from .scope import Scope, StepError, as_param_text

__all__ = ["LeafRunner"]


class LeafRunner(NodeBook):
    """Attempts and leaf templates (a mixin of ``Execution``)."""

    if TYPE_CHECKING:  # provided by Execution
        async def _dispatch(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, where: str) -> tuple: ...
        async def start_daemon(self, node: dict, template: dict, argv: list[str], env: dict[str, str], cwd: str,
                               log: str, where: str) -> str | None: ...  # services.DaemonRunner

    async def _attempt(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, where: str) -> tuple:
        timeout = tmpl.get("timeout")
        deadline = tmpl.get("activeDeadlineSeconds")
        limit = None
        if timeout is not None:
            limit = parse_duration(scope.render(str(timeout), f"{where}: timeout"), f"{where}: timeout")
        if deadline is not None:
            d = parse_duration(scope.render(str(deadline), f"{where}: activeDeadlineSeconds"),
                               f"{where}: activeDeadlineSeconds")
            limit = d if limit is None else min(limit, d)
        coro = self._dispatch(tmpl, inputs, node, scope, where)
        if limit is None:
            return await coro
        task = asyncio.ensure_future(coro)
        task._dflow_wf = self.name  # type: ignore[attr-defined]
        done, _ = await asyncio.wait({task}, timeout=limit)
        if done:
            return task.result()
        saved = self.cancel_message
        self.cancel_message = "Step exceeded its deadline"
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        self.cancel_message = saved
        return "Failed", None, f"Step exceeded its deadline ({limit:g}s)"


    async def _run_leaf(self, tmpl: dict, inputs: dict, node: dict, scope: Scope) -> tuple:
        await self.gate.wait()
        ids = [node["id"]]
        if node["name"].endswith(")") and "(" in node["name"]:  # an attempt of a Retry node
            ids.append(self.node_id(node["name"][:node["name"].rindex("(")]))
        override = next((self.script_overrides[i] for i in ids if i in self.script_overrides), None)
        if override and "script" in tmpl:
            tmpl = {**tmpl, "script": {**tmpl["script"], "source": override}}
        if node["type"] != "Pod":
            node["type"] = "Pod"
        selector = node_selector(tmpl, self.spec)
        reason = unschedulable(scope.render_obj(selector, f"workflow {self.name!r}, step {node['displayName']!r}: "
                                                          "nodeSelector")) if selector else None
        if reason is not None:  # no node for it: Pending until a deadline, a stop or a terminate ends it
            node["phase"], node["message"] = "Pending", reason
            self._mark(node, now=True)
            await asyncio.Future()
        if self.wf_slots is not None:
            async with self.wf_slots:
                outcome = await run_pod(self, tmpl, inputs, node, scope)
        else:
            outcome = await run_pod(self, tmpl, inputs, node, scope)
        return outcome.phase, outcome.outputs, outcome.message

    async def _run_suspend(self, tmpl: dict, node: dict, scope: Scope, where: str) -> tuple:
        duration = (tmpl.get("suspend") or {}).get("duration")
        if duration is not None:
            await asyncio.sleep(parse_duration(scope.render(str(duration), f"{where}: suspend.duration"),
                                               f"{where}: suspend.duration"))
        else:
            self._set_suspended(True)
            self.resume_event.clear()
            await self.resume_event.wait()
        params = []
        record = self.store.workflow(self.name) or {"options": {}}
        supplied = (record["options"].get("supplied") or {}).get(node["id"]) or {}
        for p in (tmpl.get("outputs") or {}).get("parameters") or []:
            vf = p.get("valueFrom") or {}
            if p["name"] in supplied:
                params.append({"name": p["name"], "value": as_param_text(supplied[p["name"]])})
            elif "default" in vf:
                params.append({"name": p["name"], "value": as_param_text(vf["default"])})
            else:
                raise StepError(f"{where}: output {p['name']!r} was not supplied before resume "
                                "(LocalBackend.set_outputs) and has no valueFrom.default")
        return "Succeeded", {"parameters": params} if params else None, ""
