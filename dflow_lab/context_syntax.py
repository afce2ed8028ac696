"""The context used by ``with``-style range syntax (``dflow.context_syntax``)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, List


class Range_Context:  # noqa: N801 - dflow's name
    """Local context for range: tracks whether code runs inside a range block and its loop variable."""

    def __init__(self) -> None:
        self._in_context = False
        self._names: List[str] = []

    @property
    def in_context(self) -> bool:
        """Whether it is in the context environment or not."""
        return self._in_context

    def to_in_context(self) -> None:
        """Switch to be in context environment."""
        self._in_context = True
        self._names.append("dflow_range_%d" % len(self._names))

    def to_out_context(self) -> None:
        """Switch to be not in context environment."""
        if self._names:
            self._names.pop()
        self._in_context = bool(self._names)

    def get_current_range_param_name(self) -> str:
        if not self._names:
            raise RuntimeError("not inside a range context")
        return self._names[-1]


class _Context:
    """dflow's global context: inside ``with Workflow(...)``/``with Steps(...)``/``with DAG(...)``, each new
    Step/Task (and each call of an ``OP.function``) is added to that workflow or template."""

    def __init__(self) -> None:
        self._in_context = False
        self.current_workflow: Any = None
        self._paused = 0

    @property
    def in_context(self) -> bool:
        """Whether code runs inside a ``with`` block (and new steps are not being made internally)."""
        return self._in_context and not self._paused

    @in_context.setter
    def in_context(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise ValueError(f"in_context takes a bool, got {type(value).__name__}")
        self._in_context = value
        if not value:
            self.current_workflow = None

    def enter(self, target: Any) -> None:
        if self._in_context:
            raise RuntimeError(
                f"already inside a `with` block for {self.current_workflow!r}; blocks do not nest"
            )
        self._in_context = True
        self.current_workflow = target

    def exit(self) -> None:
        self.in_context = False

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Steps made inside this block (by dflow-lab itself) are not added to the current workflow."""
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def register(self, step: Any) -> None:
        """Add a newly made step to the workflow/template of the current ``with`` block, if any."""
        if self.in_context:
            self.current_workflow.add(step)


GLOBAL_CONTEXT = _Context()


class ContextBlock:
    """``with template:`` — Steps and DAG templates collect the steps/tasks made inside the block."""

    def __enter__(self) -> Any:
        GLOBAL_CONTEXT.enter(self)
        return self

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        GLOBAL_CONTEXT.exit()
