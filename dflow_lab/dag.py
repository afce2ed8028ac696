"""DAG templates: tasks run as soon as their dependencies are done (``dflow.dag``)."""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Optional, Union

from .context_syntax import ContextBlock
from .errors import CapabilityNotAvailable, WorkflowTypeError, WorkflowValueError
from .io import Inputs, Outputs
from .op_template import OPTemplate
from .task import Task

_DEPENDS_NAME_RE = re.compile(r"(?<![.\w-])([a-zA-Z0-9][-a-zA-Z0-9]*)(?=\.|\s|\)|$)")
_RESULTS = {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}


def depends_names(task: Dict[str, Any]) -> List[str]:
    """The task names a compiled DAG task waits for (from ``depends`` or ``dependencies``)."""
    names: List[str] = list(task.get("dependencies") or [])
    for m in _DEPENDS_NAME_RE.findall(task.get("depends") or ""):
        if m not in _RESULTS and m not in names:
            names.append(m)
    return names


class DAG(ContextBlock, OPTemplate):
    """A DAG template.

    Args:
        name: the name of the template
        inputs / outputs: its inputs and outputs (outputs usually take values from its tasks)
        tasks: the tasks
        memoize_key: memoize the whole template under this key
        annotations: annotations for the template
        parallelism: at most this many pods of this template run at once
    """

    _default_name = "dag"

    def __init__(
        self,
        name: Optional[str] = None,
        inputs: Optional[Inputs] = None,
        outputs: Optional[Outputs] = None,
        tasks: Optional[List[Task]] = None,
        memoize_key: Optional[str] = None,
        annotations: Optional[Dict[str, str]] = None,
        parallelism: Optional[int] = None,
    ) -> None:
        super().__init__(name=name, inputs=inputs, outputs=outputs, memoize_key=memoize_key, annotations=annotations)
        self.tasks: List[Task] = []
        self.parallelism = parallelism
        self._by_name: Dict[str, Task] = {}
        for t in tasks or []:
            self.add(t)

    def __iter__(self) -> Iterator[Task]:
        return iter(self.tasks)

    def add(self, task: Union[Task, List[Task]]) -> None:
        """Add a task or a list of tasks."""
        for t in task if isinstance(task, (list, tuple)) else [task]:
            if not isinstance(t, Task):
                raise WorkflowTypeError(
                    f"DAG {self.name!r} takes Task objects, got {type(t).__name__} (use Task, not Step, in a DAG)",
                    template=self.name,
                )
            if t.name in self._by_name:
                raise WorkflowValueError(
                    "duplicate task name in this DAG; task names must be unique", template=self.name, step=t.name
                )
            if getattr(t, "prepare_step", None) is not None and t.prepare_step.name not in self._by_name:
                self.add(t.prepare_step)  # dflow's init-artifact task of a sliced task
            self._by_name[t.name] = t
            self._take_parallelism(t)
            self.tasks.append(t)
            if t.check_step is not None:
                self.add(t.check_step)

    def add_slices(self, slices: Any, layer: int = 0) -> None:
        for t in self.tasks:
            getattr(t.template, "add_slices", lambda *a, **k: None)(slices, layer=layer + 1)

    def copy(self) -> DAG:
        new = super().copy()
        new.tasks = list(self.tasks)
        new._by_name = dict(self._by_name)
        return new

    def check_acyclic(self, deps: Optional[Dict[str, List[str]]] = None) -> None:
        """Raise a clear error naming the tasks of a dependency cycle, or of a missing dependency."""
        if deps is None:
            deps = {t.name: t.dependency_names() for t in self.tasks}
        for name, names in deps.items():
            for n in names:
                if n not in self._by_name:
                    raise WorkflowValueError(
                        f"depends on task {n!r}, which is not in DAG {self.name!r}",
                        template=self.name,
                        step=name,
                        field="dependencies",
                    )
        state: Dict[str, int] = {}
        for root in deps:
            if state.get(root):
                continue
            stack = [(root, iter(deps[root]))]
            path = [root]
            state[root] = 1
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                    path.pop()
                elif state.get(nxt) == 1:
                    cycle = path[path.index(nxt):] + [nxt]
                    raise WorkflowValueError(
                        "dependency cycle: " + " -> ".join(cycle), template=self.name, step=nxt, field="dependencies"
                    )
                elif not state.get(nxt):
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, iter(deps[nxt])))

    def convert_to_argo(self, memoize_prefix=None, memoize_configmap="dflow", context=None) -> Dict[str, Any]:
        # lazy: model ⇄ compile loop: argo.compile imports this module
        from .argo.compile import check_scope_references

        d = self._base_argo()
        names = set(self._by_name)
        tasks = []
        deps: Dict[str, List[str]] = {}
        for t in self.tasks:
            c = t.convert_to_argo(context)
            check_scope_references(self, t.name, c, names, "tasks")
            deps[t.name] = depends_names(c)
            tasks.append(c)
        self.check_acyclic(deps)
        d["dag"] = {"tasks": tasks}
        if self.parallelism is not None:
            d["parallelism"] = self.parallelism
        check_scope_references(self, None, d.get("outputs", {}), names, "tasks")
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any], templates: Dict[str, OPTemplate]) -> DAG:
        # lazy: model ⇄ compile loop: argo.parse imports this module (DAG.from_dict delegates)
        from .argo.parse import template_from_dict

        return template_from_dict(d, templates)

    def run(self, workflow_id=None, context=None):
        raise CapabilityNotAvailable("DAG.run", "running a template outside a workflow (submit a Workflow)")
