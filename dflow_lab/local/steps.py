"""Steps templates of a run: groups in order, the steps of a group in parallel, loops, ``when``, hooks.

``StepsRunner._run_steps`` opens a StepGroup node per group, expands each step's loop
(``withItems``/``withParam``/``withSequence``), runs the items (``_run_item``: ``when``, arguments, the
template, its exit hook) and publishes ``steps.<name>.…`` to the scope of the groups after it.  A
succeeded group of an earlier run is reused whole.  ``_run_item`` is shared with DAG tasks.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .hooks import HookRunner
from .nodes import FAILED as _FAILED
from .nodes import NodeBook
from .outputs import lookup_artifact as _lookup_artifact
from .scope import (
    Scope,
    StepError,
    aggregated_vars,
    as_param_text,
    expand_items,
    item_display,
    item_variables,
    node_outputs_vars,
)

__all__ = ["StepsRunner"]


class StepsRunner(HookRunner, NodeBook):
    """Steps templates and the expanded items of steps and tasks (a mixin of ``Execution``)."""

    if TYPE_CHECKING:  # provided by the other mixins of Execution
        async def invoke(self, ref: dict, args: dict, name: str, display: str, parent: Any,
                         boundary: str | None, scope: Scope, entry: bool = False) -> dict: ...
        def _composite_outputs(self, tmpl: dict, scope: Scope, where: str) -> dict | None: ...

    def _step_args(self, step: dict, scope: Scope, where: str) -> dict:
        args = step.get("arguments") or {}
        params = []
        for p in args.get("parameters") or []:
            entry = {"name": p["name"]}
            if "value" in p:
                entry["value"] = scope.render(as_param_text(p["value"]), f"{where}: arguments.parameters.{p['name']}")
            elif "default" in (p.get("valueFrom") or {}):
                entry["value"] = as_param_text(p["valueFrom"]["default"])
            params.append(entry)
        arts = []
        for a in args.get("artifacts") or []:
            field = f"{where}: arguments.artifacts.{a['name']}"
            if "from" in a:
                entry = dict(_lookup_artifact(scope, a["from"], field))
                entry.update(scope.render_obj({k: v for k, v in a.items() if k not in ("name", "from")}, field))
            elif "fromExpression" in a:
                value = scope.eval_expr(a["fromExpression"], field)
                if not isinstance(value, dict):
                    raise StepError(f"{field}: fromExpression did not give an artifact")
                entry = dict(value)
            else:
                entry = scope.render_obj({k: v for k, v in a.items()}, field)
            entry["name"] = a["name"]
            entry.pop("path", None)
            entry.pop("globalName", None)
            arts.append(entry)
        return {"parameters": params, "artifacts": arts}

    async def _run_item(self, step: dict, item_vars: dict, name: str, display: str, parent: Any,
                        boundary: str, scope: Scope, slots: asyncio.Semaphore | None, where_kind: str,
                        fail_fast: dict | None = None) -> dict:
        """One (expanded) step or task: ``when``, arguments, the template, its exit hook.  ``fail_fast``
        (a steps template's ``failFast: true``) is shared by its items: once one failed, items that had
        not started yet do not start (Argo's checkParallelism); they are recorded as Omitted."""
        sscope = scope.child(item_vars)
        where = f"workflow {self.name!r}, {where_kind} {display!r}"
        reused = self.reuse(name, parent)
        if reused is not None:
            return reused
        try:
            if "when" in step and not sscope.eval_when(str(step["when"]), f"{where}: when"):
                node = self.open_node(name, display, "Skipped", step.get("template"), parent, boundary)
                msg = f"when '{sscope.render(str(step['when']), where)}' evaluated false"
                self.plan_one_node(step, looped=False)
                return self.close_node(node, "Skipped", message=msg, durable=True)
            args = self._step_args(step, sscope, where)
        except StepError as e:
            node = self.open_node(name, display, "Skipped", step.get("template"), parent, boundary)
            self.plan_one_node(step, looped=False)
            return self.close_node(node, "Error", message=str(e), durable=True)
        if slots is not None:
            async with slots:
                if fail_fast is not None and fail_fast.get("failed"):
                    node = self.open_node(name, display, "Skipped", step.get("template"), parent, boundary)
                    return self.close_node(node, "Omitted", durable=True, message=(
                        f"not started: {fail_fast['failed']!r} failed and the template has failFast enabled"))
                node = await self._invoke_hooked(step, args, name, display, parent, boundary, sscope, where_kind,
                                                 where)
        else:
            node = await self._invoke_hooked(step, args, name, display, parent, boundary, sscope, where_kind, where)
        if fail_fast is not None and node["phase"] in _FAILED and not self._continues(step, node["phase"]):
            fail_fast.setdefault("failed", display)
        hook = (step.get("hooks") or {}).get("exit") or ({"template": step["onExit"]} if step.get("onExit") else None)
        if hook:
            prefix = "tasks" if where_kind == "task" else "steps"
            ex_scope = sscope.child({**node_outputs_vars(f"{prefix}.{step['name']}", node),
                                     f"{prefix}.status": node["phase"]})
            ex_name = f"{name}.onExit"
            try:
                hook_args = self._step_args(hook, ex_scope, f"{where}: hooks.exit")
            except StepError as e:
                enode = self.open_node(ex_name, f"{display}.onExit", "Pod", hook.get("template"), parent, boundary)
                self.close_node(enode, "Error", message=str(e), durable=True)
                return node
            await self.invoke(hook, hook_args, ex_name, f"{display}.onExit", parent, boundary, ex_scope)
        return node

    async def _invoke_hooked(self, step: dict, args: dict, name: str, display: str, parent: Any,
                             boundary: str, sscope: Scope, where_kind: str, where: str) -> dict:
        """``invoke`` the step, with its lifecycle hooks other than ``exit`` (``hooks``): evaluated when its
        node starts and when it ends; the step is done when the hooks it started are."""
        hooks = self.lifecycle_hooks(step)
        if not hooks:
            return await self.invoke(step, args, name, display, parent, boundary, sscope)
        prefix = f"{'tasks' if where_kind == 'task' else 'steps'}.{step['name']}"
        fired: dict[str, asyncio.Task] = {}
        task = asyncio.ensure_future(self.invoke(step, args, name, display, parent, boundary, sscope))
        task._dflow_wf = self.name  # type: ignore[attr-defined]
        try:
            await asyncio.sleep(0)  # the step's node is opened before its first wait
            started = self.nodes.get(self.node_id(name))
            if started is not None and not task.done() and started.get("phase") == "Running":
                self.fire_hooks(hooks, fired, sscope.child({f"{prefix}.status": "Running"}), started, boundary, where)
            node = await task
        except asyncio.CancelledError:
            task.cancel()
            for t in fired.values():
                t.cancel()
            raise
        self.fire_hooks(hooks, fired, sscope.child(node_outputs_vars(prefix, node)), node, boundary, where)
        await self.hooks_done(fired)
        return node

    def _expand(self, step: dict, scope: Scope, where: str) -> list[tuple[dict, str]]:
        items = expand_items(step, scope, where)
        if items is None:
            return [({}, "")]
        return [(item_variables(item), item_display(i, item)) for i, item in enumerate(items)]

    @staticmethod
    def _continues(step: dict, phase: str) -> bool:
        cont = step.get("continueOn") or {}
        return (phase == "Failed" and bool(cont.get("failed"))) or (phase == "Error" and bool(cont.get("error")))

    async def _run_steps(self, tmpl: dict, node: dict, scope: Scope, where: str) -> tuple:
        slots = asyncio.Semaphore(int(tmpl["parallelism"])) if tmpl.get("parallelism") else None
        fail_fast: dict | None = {} if tmpl.get("failFast") is True else None
        previous: Any = node
        last_group_nodes: list[dict] = []
        for i, group in enumerate(tmpl["steps"] or []):
            await self.gate.wait()
            scope.values.update(self.global_vars)
            gname = f"{node['name']}[{i}]"
            gnode = self.reuse(gname, previous) or self.open_node(gname, f"[{i}]", "StepGroup", None, previous,
                                                                   node["id"])
            if gnode["phase"] == "Succeeded":
                children = [self.nodes[c] for c in gnode.get("children", []) if c in self.nodes]
                self._steps_scope_from_group(group, gnode, scope)
                previous, last_group_nodes = children or gnode, children
                continue
            jobs = []
            for step in group:
                swhere = f"{where} / {step.get('name')}"
                expansions: list[tuple[dict, str]] | StepError
                try:
                    expansions = self._expand(step, scope, swhere)
                except StepError as e:
                    expansions = e
                looped = any(k in step for k in ("withItems", "withParam", "withSequence"))
                if isinstance(expansions, StepError) or not expansions:
                    self.plan_one_node(step, looped)
                    sname = f"{gname}.{step['name']}"
                    snode = self.open_node(sname, step["name"], "Skipped", step.get("template"), gnode, node["id"])
                    msg = str(expansions) if isinstance(expansions, StepError) else "Skipped, empty params"
                    phase = "Error" if isinstance(expansions, StepError) else "Skipped"
                    self.close_node(snode, phase, message=msg)
                    jobs.append((step, False, [asyncio.sleep(0, snode)]))
                    continue
                if looped:
                    self.plan_fanout(f"{gname}.{step['name']}", step, len(expansions))
                coros = [self._run_item(step, ivars, f"{gname}.{step['name']}{suffix}", f"{step['name']}{suffix}",
                                        gnode, node["id"], scope, slots, "step", fail_fast)
                         for ivars, suffix in expansions]
                jobs.append((step, looped, coros))
            results = await asyncio.gather(*[asyncio.gather(*coros) for _, _, coros in jobs])
            failed = None
            group_nodes: list[dict] = []
            for (step, looped, _), nodes in zip(jobs, results):
                group_nodes.extend(nodes)
                prefix = f"steps.{step['name']}"
                if looped:
                    scope.values.update(aggregated_vars(prefix, nodes))
                    scope.values[f"{prefix}.status"] = _aggregate_phase(nodes)
                else:
                    scope.values.update(node_outputs_vars(prefix, nodes[0]))
                for n in nodes:
                    if n["phase"] in _FAILED and not self._continues(step, n["phase"]) and failed is None:
                        failed = n
            if failed is not None:
                self.close_node(gnode, "Failed", message=f"child '{failed['displayName']}' failed")
                return "Failed", None, f"child '{failed['displayName']}' failed"
            self.close_node(gnode, "Succeeded")
            previous, last_group_nodes = group_nodes or gnode, group_nodes
        node["outboundNodes"] = [n["id"] for n in last_group_nodes]
        return "Succeeded", self._composite_outputs(tmpl, scope, where), ""

    def _steps_scope_from_group(self, group: list, gnode: dict, scope: Scope) -> None:
        children = [self.nodes[c] for c in gnode.get("children", []) if c in self.nodes]
        for step in group:
            mine = [c for c in children if c["displayName"] == step["name"]
                    or c["displayName"].startswith(step["name"] + "(")]
            prefix = f"steps.{step['name']}"
            if any(k in step for k in ("withItems", "withParam", "withSequence")):
                scope.values.update(aggregated_vars(prefix, mine))
            elif mine:
                scope.values.update(node_outputs_vars(prefix, mine[0]))


def _aggregate_phase(nodes: list[dict]) -> str:
    if any(n["phase"] in _FAILED for n in nodes):
        return "Failed"
    return "Succeeded"


