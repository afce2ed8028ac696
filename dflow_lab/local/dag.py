"""DAG templates of a run: tasks start as their ``depends``/``dependencies`` allow.

``DagRunner._run_dag`` parses every task's dependencies (``depends`` logic or a ``dependencies`` list),
checks them for unknown tasks and cycles, narrows to ``target``, then starts each task once the tasks it
depends on have finished: a task whose condition is false is Omitted (also while failing fast, as
Argo evaluates the dependents of a failed task); ``failFast`` stops starting new tasks after an
unhandled failure.  Looped tasks run as a TaskGroup (``_run_task``).
"""

from __future__ import annotations

import asyncio
import heapq
from typing import TYPE_CHECKING, Any

from dflow_lab.expr.evaluate import tags_in

from .depends import Depends, DependsError, find_cycle, from_dependencies, parse_depends
from .nodes import FAILED as _FAILED
from .nodes import NodeBook
from .scope import Scope, StepError, aggregated_vars, node_outputs_vars

__all__ = ["DagRunner"]


class DagRunner(NodeBook):
    """DAG templates (a mixin of ``Execution``)."""

    if TYPE_CHECKING:  # provided by the other mixins of Execution
        async def _run_item(self, step: dict, item_vars: dict, name: str, display: str, parent: Any,
                            boundary: str, scope: Scope, slots: asyncio.Semaphore | None,
                            where_kind: str) -> dict: ...
        def _expand(self, step: dict, scope: Scope, where: str) -> list[tuple[dict, str]]: ...
        @staticmethod
        def _continues(step: dict, phase: str) -> bool: ...
        def _composite_outputs(self, tmpl: dict, scope: Scope, where: str) -> dict | None: ...

    async def _run_dag(self, tmpl: dict, node: dict, scope: Scope, where: str) -> tuple:
        dag = tmpl["dag"] or {}
        tasks = {t["name"]: t for t in dag.get("tasks") or []}
        deps: dict[str, Depends | None] = {}
        try:
            for name, t in tasks.items():
                if "depends" in t:
                    deps[name] = parse_depends(str(t["depends"]))
                else:
                    deps[name] = from_dependencies(list(t.get("dependencies") or []))
                for needed in (parsed.tasks() if (parsed := deps[name]) else ()):
                    if needed not in tasks:
                        raise StepError(f"{where}: task {name!r} depends on unknown task {needed!r}")
        except DependsError as e:
            raise StepError(f"{where}: {e}") from None
        _check_acyclic(deps, where)
        targets = dag.get("target")
        if targets:
            wanted = set()
            stack = [t.strip() for t in scope.render(str(targets), where).replace(",", " ").split()]
            while stack:
                t = stack.pop()
                if t not in tasks:
                    raise StepError(f"{where}: target {t!r} is not a task")
                if t not in wanted:
                    wanted.add(t)
                    stack.extend(parsed.tasks() if (parsed := deps[t]) else ())
            tasks = {k: v for k, v in tasks.items() if k in wanted}
        fail_fast = dag.get("failFast", True)
        needs = {name: frozenset(parsed.tasks()) if (parsed := deps[name]) else frozenset[str]() for name in tasks}
        handled: set[str] = set()
        for d in deps.values():
            if d:
                handled |= d.handled_failures()
        # Ready queue with in-degree counts: a task is started once every task it names has finished,
        # so each completion costs what its dependents cost, whatever the size of the DAG.
        dependents: dict[str, list[str]] = {name: [] for name in tasks}
        waiting: dict[str, int] = {}
        ready: list[str] = []
        for name, need in needs.items():
            for x in need:
                dependents[x].append(name)
            waiting[name] = len(need)
            if not need:
                ready.append(name)
        heapq.heapify(ready)
        slots = asyncio.Semaphore(int(tmpl["parallelism"])) if tmpl.get("parallelism") else None
        results: dict[str, dict] = {}
        task_nodes: dict[str, dict] = {}
        running: dict[asyncio.Future, str] = {}
        finished: asyncio.Queue[asyncio.Future] = asyncio.Queue()
        failed: dict | None = None

        def finish(name: str, tnode: dict, children: list[dict] | None) -> None:
            task_nodes[name] = tnode
            results[name] = {"phase": "Daemoned" if tnode.get("daemoned") else tnode["phase"],
                             "children_phases": [c["phase"] for c in children] if children is not None
                             else [tnode["phase"]],
                             "continue_failed": self._continues(tasks[name], "Failed"),
                             "continue_error": self._continues(tasks[name], "Error")}
            for m in dependents[name]:
                waiting[m] -= 1
                if waiting[m] == 0:
                    heapq.heappush(ready, m)

        while ready or running:
            await self.gate.wait()
            if ready and not (failed is not None and fail_fast):
                scope.values.update(self.global_vars)
            while ready:
                name = heapq.heappop(ready)
                d = deps[name]
                parents = [task_nodes[x] for x in sorted(needs[name])] if d else [node]
                # a task whose condition is false is Omitted even while failing fast (as Argo does: the
                # dependents of a failed task are evaluated before the DAG is marked failed)
                if d is not None and not d.evaluate(results):
                    tname = f"{node['name']}.{name}"
                    onode = self.open_node(tname, name, "Skipped", tasks[name].get("template"), parents, node["id"])
                    msg = f"omitted: depends condition not met ({d.text})"
                    self.plan_one_node(tasks[name], _looped(tasks[name]))
                    self.close_node(onode, "Omitted", message=msg)
                    finish(name, onode, None)
                    continue
                if failed is not None and fail_fast:  # ready, but not started: the DAG is failing fast
                    continue
                t = asyncio.ensure_future(self._run_task(tasks[name], node, parents, scope, slots, where))
                t._dflow_wf = self.name  # type: ignore[attr-defined]
                t.add_done_callback(finished.put_nowait)
                running[t] = name
            if not running:
                break
            done = [await finished.get()]
            while not finished.empty():
                done.append(finished.get_nowait())
            for t in done:
                name = running.pop(t)
                tnode, children = t.result()
                prefix = f"tasks.{name}"
                if children is not None:
                    scope.values.update(aggregated_vars(prefix, children))
                    scope.values[f"{prefix}.status"] = tnode["phase"]
                else:
                    scope.values.update(node_outputs_vars(prefix, tnode))
                finish(name, tnode, children)
                if (tnode["phase"] in _FAILED and not self._continues(tasks[name], tnode["phase"])
                        and name not in handled and failed is None):
                    failed = tnode
        depended: set[str] = set()
        for need in needs.values():
            depended |= need
        node["outboundNodes"] = [task_nodes[n]["id"] for n in tasks if n not in depended and n in task_nodes]
        if failed is not None:
            return "Failed", None, f"child '{failed['displayName']}' failed"
        return "Succeeded", self._composite_outputs(tmpl, scope, where), ""

    async def _run_task(self, task: dict, dag_node: dict, parents: list[dict], scope: Scope,
                        slots: asyncio.Semaphore | None, where: str) -> tuple[dict, list[dict] | None]:
        name = f"{dag_node['name']}.{task['name']}"
        twhere = f"{where} / {task['name']}"
        looped = any(k in task for k in ("withItems", "withParam", "withSequence"))
        if not looped:
            node = await self._run_item(task, {}, name, task["name"], parents, dag_node["id"], scope, slots, "task")
            return node, None
        group = self.reuse(name, parents)
        if group is not None:
            return group, [self.nodes[c] for c in group.get("children", []) if c in self.nodes]
        group = self.open_node(name, task["name"], "TaskGroup", task.get("template"), parents, dag_node["id"])
        try:
            if "when" in task and not any(k.startswith("item") for k in _tags(str(task["when"]))) \
                    and not scope.eval_when(str(task["when"]), f"{twhere}: when"):
                group["type"] = "Skipped"
                self.plan_one_node(task, looped=True)
                self.close_node(group, "Skipped", message=f"when '{task['when']}' evaluated false")
                return group, []
            expansions = self._expand(task, scope, twhere)
        except StepError as e:
            self.plan_one_node(task, looped=True)
            group["type"] = "Skipped"  # Argo records a loop that cannot expand as a Skipped node in Error
            return self.close_node(group, "Error", message=str(e), durable=True), []
        if not expansions:
            self.plan_one_node(task, looped=True)
            group["type"] = "Skipped"
            self.close_node(group, "Skipped", message="Skipped, empty params")
            return group, []
        self.plan_fanout(name, task, len(expansions))
        children = await asyncio.gather(*[
            self._run_item(task, ivars, f"{name}{suffix}", f"{task['name']}{suffix}", group, dag_node["id"],
                           scope, slots, "task")
            for ivars, suffix in expansions])
        bad = [c for c in children if c["phase"] in _FAILED and not self._continues(task, c["phase"])]
        if bad:
            self.close_node(group, "Failed", message=f"child '{bad[0]['displayName']}' failed", durable=True)
        else:
            self.close_node(group, "Succeeded", durable=True)
        return group, list(children)


def _looped(task: dict) -> bool:
    return any(k in task for k in ("withItems", "withParam", "withSequence"))


def _tags(text: str) -> list[str]:
    return [t.strip() for t in tags_in(text)]


def _check_acyclic(deps: dict[str, Depends | None], where: str) -> None:
    """Raise naming one cycle if the dependencies have any (:func:`~.depends.find_cycle`, which
    ``check_manifest`` — and so ``dflow-lab lint`` — runs before anything is stored)."""
    cycle = find_cycle(deps)
    if cycle:
        raise StepError(f"{where}: dependency cycle {' -> '.join(cycle)}")
