"""Errors a user can hit while building or compiling a workflow.

Each names where the problem is (workflow, step or template, field) and says what to do. They
subclass ``ValueError``/``TypeError`` so that code catching the builtin kinds keeps working.
"""

from __future__ import annotations

from typing import Optional

from .bounds import cut_text


class WorkflowError(Exception):
    """Base of dflow-lab's user errors; carries the place it concerns."""

    def __init__(
        self,
        message: str,
        *,
        workflow: Optional[str] = None,
        step: Optional[str] = None,
        template: Optional[str] = None,
        field: Optional[str] = None,
    ) -> None:
        self.message = message
        self.workflow = workflow
        self.step = step
        self.template = template
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.workflow:
            where.append(f"workflow {self.workflow!r}")
        if self.template:
            where.append(f"template {self.template!r}")
        if self.step:
            where.append(f"step {self.step!r}")
        if self.field:
            where.append(f"field {self.field!r}")

        return cut_text((", ".join(where) + ": " if where else "") + self.message)

    def in_workflow(self, name: str) -> WorkflowError:
        """Record the workflow this error happened in (once known) and refresh the message."""
        if self.workflow is None:
            self.workflow = name
            self.args = (self._render(),)
        return self

    def __str__(self) -> str:
        return self._render()


class WorkflowValueError(WorkflowError, ValueError):
    """A bad name, an unknown or missing input, a bad reference, a cycle…"""


class WorkflowTypeError(WorkflowError, TypeError):
    """A value whose type does not match the declared type of the input it feeds."""


class CapabilityNotAvailable(NotImplementedError):
    """A member of the dflow API whose capability dflow-lab has not built yet."""

    def __init__(self, member: str, capability: str) -> None:
        super().__init__(
            f"{member} needs {capability}, which dflow-lab does not provide yet"
        )
