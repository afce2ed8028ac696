"""The planned size of a run: how many leaf steps a manifest will record, known from the start.

Monitors show progress as "k/N" with N the planned total, not the steps created so far (a fan-out with
``parallelism`` creates its items a few at a time, so counting created nodes read "121/121" a tenth of
the way through a 1,000-item run).  ``Planner.template(name)`` counts the leaf nodes (pods, suspend,
HTTP… — what ``runview.status.workflow_progress`` counts) one call of a template records:

- a leaf template is 1; a steps template the sum over its steps, a DAG template over its tasks (its
  ``target`` narrows them when it is literal);
- a step or task is ``items × (its template + its exit hook)``; ``items`` is the length of a literal
  ``withItems`` or ``withSequence``, and 1 while it is not known (``withParam``, a templated
  ``withSequence``): the run corrects the plan when the loop expands (``Execution.replan``), and when a
  step is skipped (``when``), omitted or has an empty loop (it records one node instead of its plan);
- a ``templateRef`` and a template already being counted (recursion) count as 1;
- the workflow's exit handler adds its own count.

Limits: the plan of a resumed run is made again from the manifest (reused groups do not correct it), a
recursive template counts as one step until it runs, and steps never reached (a failed group stops the
ones after it) stay in the plan: monitors show them as "not run" once the run has ended.  Counting is
bounded by the manifest's size (each template is counted once, then remembered).
"""

from __future__ import annotations

from typing import Any

from .depends import DependsError, parse_depends

__all__ = ["Planner", "static_items"]

def static_items(step: dict) -> int | None:
    """The number of items of a literal loop (``None``: no loop or not known before it runs)."""
    if isinstance(step.get("withItems"), list):
        return len(step["withItems"])
    seq = step.get("withSequence")
    if isinstance(seq, dict) and not any("{{" in str(v) for v in seq.values()):
        try:
            if "count" in seq:
                return max(int(seq["count"]), 0)
            if "end" in seq:
                return abs(int(seq["end"]) - int(seq.get("start", 0))) + 1
        except (TypeError, ValueError):
            return None
    return None


def _looped(step: dict) -> bool:
    return any(k in step for k in ("withItems", "withParam", "withSequence"))


class Planner:
    """Counts of a manifest's templates (memoized)."""

    def __init__(self, templates: dict[str, dict]):
        self.templates = templates
        self._counts: dict[str, int] = {}
        self._counting: set[str] = set()

    def template(self, name: str | None) -> int:
        """Leaf nodes one call of template ``name`` records (1 for an unknown, referenced or recursive one)."""
        if not name or name not in self.templates or name in self._counting:
            return 1
        if name in self._counts:
            return self._counts[name]
        tmpl = self.templates[name]
        self._counting.add(name)
        try:
            if "steps" in tmpl:
                count = sum(self.step(s) for group in tmpl.get("steps") or [] for s in (group or [])
                            if isinstance(s, dict))
            elif "dag" in tmpl:
                tasks = [t for t in (tmpl.get("dag") or {}).get("tasks") or [] if isinstance(t, dict)]
                count = sum(self.step(t) for t in _targeted(tasks, (tmpl.get("dag") or {}).get("target")))
            else:
                count = 1
        finally:
            self._counting.discard(name)
        self._counts[name] = count
        return count

    def one(self, step: dict) -> int:
        """Leaf nodes of one item of a step or task: its template and its exit hook."""
        count = 1 if "templateRef" in step else self.template(step.get("template"))
        hook = (step.get("hooks") or {}).get("exit") or ({"template": step["onExit"]} if step.get("onExit") else None)
        if isinstance(hook, dict):
            count += self.template(hook.get("template"))
        return count

    def step(self, step: dict) -> int:
        """Leaf nodes a step or task is planned to record (its loop at its literal size, else 1 item)."""
        items = static_items(step) if _looped(step) else 1
        return (1 if items is None else items) * self.one(step)

    def planned_items(self, step: dict) -> int:
        """How many items the plan assumed for a looped step (1 when its size was not known)."""
        items = static_items(step)
        return 1 if items is None else items

    def workflow(self, spec: dict[str, Any]) -> int:
        """The plan of a whole run: the entrypoint and the exit handler."""
        total = self.template(spec.get("entrypoint"))
        handler = spec.get("onExit") or ((spec.get("hooks") or {}).get("exit") or {}).get("template")
        if handler:
            total += self.template(handler)
        return total


def _targeted(tasks: list[dict], target: Any) -> list[dict]:
    """The tasks a literal ``target`` needs (every task when there is none or it is templated)."""
    if not target or "{{" in str(target):
        return tasks
    by_name = {t.get("name"): t for t in tasks}
    wanted: set[str] = set()
    stack = str(target).replace(",", " ").split()
    while stack:
        name = stack.pop()
        if name in wanted or name not in by_name:
            continue
        wanted.add(name)
        task = by_name[name]
        deps = list(task.get("dependencies") or [])
        if task.get("depends"):
            try:
                deps += list(parse_depends(str(task["depends"])).tasks())
            except DependsError:  # the run reports it
                pass
        stack.extend(d for d in deps if d in by_name)
    return [t for t in tasks if t.get("name") in wanted]
