"""Steps templates: stages run one after another, the steps of a stage in parallel (``dflow.steps``)."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Union

from .context_syntax import ContextBlock
from .errors import CapabilityNotAvailable, WorkflowTypeError, WorkflowValueError
from .io import Inputs, Outputs
from .op_template import OPTemplate
from .step import Step


class Steps(ContextBlock, OPTemplate):
    """A Steps template.

    Args:
        name: the name of the template
        inputs / outputs: its inputs and outputs (outputs usually take values from its steps)
        steps: a list of stages; a stage is a step or a list of parallel steps
        memoize_key: memoize the whole template under this key
        annotations: annotations for the template
        parallelism: at most this many pods of this template run at once
    """

    _default_name = "steps"

    def __init__(
        self,
        name: Optional[str] = None,
        inputs: Optional[Inputs] = None,
        outputs: Optional[Outputs] = None,
        steps: Optional[List[Union[Step, List[Step]]]] = None,
        memoize_key: Optional[str] = None,
        annotations: Optional[Dict[str, str]] = None,
        parallelism: Optional[int] = None,
    ) -> None:
        super().__init__(name=name, inputs=inputs, outputs=outputs, memoize_key=memoize_key, annotations=annotations)
        self.steps: List[List[Step]] = []
        self.parallelism = parallelism
        self._names: set = set()
        for s in steps or []:
            self.add(s)

    def __iter__(self) -> Iterator[Union[Step, List[Step]]]:
        return iter(self.steps)

    def all_steps(self) -> List[Step]:
        return [s for stage in self.steps for s in stage]

    def add(self, step: Union[Step, List[Step]]) -> None:
        """Add a stage: one step, or a list of steps that run in parallel."""
        stage = list(step) if isinstance(step, (list, tuple)) else [step]
        for s in stage:
            if not isinstance(s, Step):
                raise WorkflowTypeError(f"Steps {self.name!r} takes Step objects, got {type(s).__name__}", template=self.name)
            if s.name in self._names or any(x.name == s.name for x in stage if x is not s):
                raise WorkflowValueError(
                    "duplicate step name in this Steps template; step names must be unique",
                    template=self.name,
                    step=s.name,
                )
        prepares = [s.prepare_step for s in stage if getattr(s, "prepare_step", None) is not None]
        if prepares:  # dflow's init-artifact steps of sliced steps run in the stage before
            for p in prepares:
                self._names.add(p.name)
            self.steps.append(prepares)
        for s in stage:
            self._names.add(s.name)
            self._take_parallelism(s)
        self.steps.append(stage)
        checks = [s.check_step for s in stage if s.check_step is not None]
        if checks:
            for c in checks:
                self._names.add(c.name)
            self.steps.append(checks)

    def add_slices(self, slices: Any, layer: int = 0) -> None:
        for s in self.all_steps():
            getattr(s.template, "add_slices", lambda *a, **k: None)(slices, layer=layer + 1)

    def copy(self) -> Steps:
        new = super().copy()
        new.steps = [list(stage) for stage in self.steps]
        new._names = set(self._names)
        return new

    def convert_to_argo(self, memoize_prefix=None, memoize_configmap="dflow", context=None) -> Dict[str, Any]:
        # lazy: model ⇄ compile loop: argo.compile imports this module
        from .argo.compile import check_scope_references

        d = self._base_argo()
        earlier: set = set()
        stages = []
        for stage in self.steps:
            compiled = []
            for s in stage:
                c = s.convert_to_argo(context)
                check_scope_references(self, s.name, c, earlier, "steps")
                compiled.append(c)
            stages.append(compiled)
            earlier.update(s.name for s in stage)
        d["steps"] = stages
        if self.parallelism is not None:
            d["parallelism"] = self.parallelism
        check_scope_references(self, None, d.get("outputs", {}), earlier, "steps")
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any], templates: Dict[str, OPTemplate]) -> Steps:
        # lazy: model ⇄ compile loop: argo.parse imports this module (Steps.from_dict delegates)
        from .argo.parse import template_from_dict

        return template_from_dict(d, templates)

    def run(self, workflow_id=None, context=None):
        raise CapabilityNotAvailable("Steps.run", "running a template outside a workflow (submit a Workflow)")
