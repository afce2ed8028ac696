"""Lifecycle hooks other than ``exit``: Argo's ``hooks`` with an ``expression``, at workflow and step level.

Argo (workflow/controller/hooks.go) evaluates each hook's ``expression`` on every reconciliation and runs
the hook's template the first time it is true, once, as node ``<parent>.hooks.<name>`` (a child of the
step's node, or of the workflow's root node); a step is not complete until its hooks are.  The local
engine has no reconciliation loop; it evaluates the expressions at the state changes they can observe:

- a step's or task's hooks when its node starts (``steps.<name>.status`` / ``tasks.<name>.status`` is
  ``Running``) and when it ends (its final phase), with its outputs in scope; the step is done when its
  hooks are;
- the workflow's hooks (``spec.hooks``) when it starts (``workflow.status`` is ``Running``) and when its
  entrypoint ends (the phase it ends with), before the exit handler.

A hook's template may be any template (an ``http`` one calls a server on the loopback, as ``http``
templates do).  A hook whose expression fails to evaluate, or that has none, is an Error node naming the
hook.  Limits: a condition that is true only between those two moments (``workflow.duration > 5``)
is not seen; hooks are evaluated in name order.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .nodes import NodeBook
from .scope import Scope, StepError

__all__ = ["HookRunner"]


class HookRunner(NodeBook):
    """Expression-triggered lifecycle hooks (a mixin of ``Execution``)."""

    if TYPE_CHECKING:  # provided by the other mixins of Execution
        async def invoke(self, ref: dict, args: dict, name: str, display: str, parent: Any,
                         boundary: str | None, scope: Scope, entry: bool = False) -> dict: ...
        def _step_args(self, step: dict, scope: Scope, where: str) -> dict: ...

    @staticmethod
    def lifecycle_hooks(owner: dict) -> list[tuple[str, dict]]:
        """The hooks of a step, task or workflow spec other than ``exit``, in name order."""
        hooks = owner.get("hooks") or {}
        return [(k, v) for k, v in sorted(hooks.items()) if k != "exit" and isinstance(v, dict)]

    def fire_hooks(self, hooks: list[tuple[str, dict]], fired: dict[str, asyncio.Task], scope: Scope,
                   parent: dict, boundary: str | None, where: str) -> None:
        """Start (as tasks in ``fired``) the hooks not started yet whose expression is true in ``scope``."""
        for hook_name, hook in hooks:
            if hook_name in fired:
                continue
            name = f"{parent['name']}.hooks.{hook_name}"
            display = f"{parent['displayName']}.hooks.{hook_name}"
            hwhere = f"{where}: hooks.{hook_name}"
            try:
                expression = hook.get("expression")
                if not expression:
                    raise StepError(f"{hwhere}: a lifecycle hook other than 'exit' needs an expression")
                if not scope.eval_expr(str(expression), f"{hwhere}.expression"):
                    continue
                args = self._step_args(hook, scope, hwhere)
            except StepError as e:
                node = self.open_node(name, display, "Pod", hook.get("template"), parent, boundary)
                self.close_node(node, "Error", message=str(e), durable=True)
                fired[hook_name] = asyncio.ensure_future(asyncio.sleep(0, node))
                continue
            task = asyncio.ensure_future(self.invoke(hook, args, name, display, parent, boundary, scope))
            task._dflow_wf = self.name  # type: ignore[attr-defined]
            fired[hook_name] = task

    @staticmethod
    async def hooks_done(fired: dict[str, asyncio.Task]) -> list[dict]:
        """Wait for the started hooks; their nodes."""
        if not fired:
            return []
        return list(await asyncio.gather(*fired.values()))
