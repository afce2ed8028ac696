"""Tasks: steps of a DAG (``dflow.task``), with dependencies inferred from data flow."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Union

from .io import ArgoVar, OutputArtifact, OutputParameter
from .op_template import OPTemplate
from .step import Step

_TASK_REF_RE = re.compile(r"tasks(?:\.([a-zA-Z0-9][-a-zA-Z0-9]*)|\[['\"]([^'\"]+)['\"]\])")


def task_refs(text: str) -> List[str]:
    """Names of the tasks a string references (``{{tasks.a.…}}`` or ``tasks['a']`` in expressions)."""
    return [a or b for a, b in _TASK_REF_RE.findall(text)]


class Task(Step):
    """A task of a DAG.

    Its dependencies are inferred from what it consumes (other tasks' outputs in parameters,
    artifacts, ``when`` and ``with_param``); ``dependencies=`` adds more on top: tasks, task names,
    or Argo ``depends`` terms such as ``"a.Failed"``.
    """

    _scope_word = "tasks"

    def __init__(
        self,
        name: str,
        template: OPTemplate,
        dependencies: Optional[List[Union[Task, str]]] = None,
        **kwargs: Any,
    ) -> None:
        self.dependencies: List[Union[Task, str]] = []
        self._legacy_dependencies = False
        super().__init__(name=name, template=template, **kwargs)
        for dep in dependencies or []:
            self._add_dependency(dep)
        if self.check_step is not None:
            self.check_step.dependencies = [
                "%s.Succeeded || %s.Failed || %s.Errored" % (self.name, self.name, self.name)
            ]

    def _add_dependency(self, dep: Union[Task, str]) -> None:
        if isinstance(dep, Task):
            if all(d is not dep for d in self.dependencies):
                self.dependencies.append(dep)
        elif dep not in self.dependencies:
            self.dependencies.append(str(dep))

    def _infer(self, value: Any) -> None:
        if isinstance(value, (OutputParameter, OutputArtifact)) and isinstance(value.step, Task):
            if value.step is not self:
                self._add_dependency(value.step)
        elif isinstance(value, dict):
            for v in value.values():
                self._infer(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                self._infer(v)
        elif isinstance(value, ArgoVar):
            for attr in ("param", "_then", "_else", "start", "end", "step"):
                sub = getattr(value, attr, None)
                if sub is not None and sub is not value:
                    self._infer(sub)
            if hasattr(value, "kwargs"):
                self._infer(list(value.kwargs.values()))

    def set_parameters(self, parameters: Dict[str, Any]) -> None:
        super().set_parameters(parameters)
        for v in parameters.values():
            self._infer(v)

    def set_artifacts(self, artifacts: Dict[str, Any]) -> None:
        super().set_artifacts(artifacts)
        for v in artifacts.values():
            self._infer(v)

    def dependency_names(self) -> List[str]:
        """The names of the tasks this task waits for (explicit, inferred and from strings)."""
        names: List[str] = []
        for dep in self.dependencies:
            name = dep.name if isinstance(dep, Task) else re.split(r"[.\s|&()]", dep.strip("() "), maxsplit=1)[0]
            if name and name not in names:
                names.append(name)
        return names

    def _depends_terms(self, string_refs: List[str]) -> List[str]:
        terms: List[str] = []
        covered = set()
        for dep in self.dependencies:
            if isinstance(dep, Task):
                target = dep.check_step if dep.check_step is not None else dep
                if dep.continue_on_failed or dep.continue_on_error:
                    t = target.name
                    terms.append(f"({t}.Succeeded || {t}.Failed || {t}.Errored)")
                else:
                    terms.append(f"({target.name}.Succeeded)")
                covered.add(dep.name)
            else:
                terms.append(f"({dep})")
                covered.add(re.split(r"[.\s|&()]", dep.strip("() "), maxsplit=1)[0])
        for name in string_refs:
            if name not in covered and name != self.name:
                terms.append(f"({name}.Succeeded)")
                covered.add(name)
        return terms

    def convert_to_argo(self, context: Any = None) -> Dict[str, Any]:
        d = super().convert_to_argo(context)
        refs: List[str] = []
        for key in ("arguments", "when", "withParam", "withSequence"):
            if key in d:
                for name in task_refs(str(d[key])):
                    if name not in refs:
                        refs.append(name)
        if self._legacy_dependencies:
            deps = [dep.name if isinstance(dep, Task) else dep for dep in self.dependencies]
            for name in refs:
                if name not in deps and name != self.name:
                    deps.append(name)
            if deps:
                d["dependencies"] = deps
        else:
            terms = self._depends_terms(refs)
            if terms:
                d["depends"] = " && ".join(terms)
        return d
