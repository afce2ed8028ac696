"""Contexts: objects that render every template of a workflow (``dflow.context``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Context(ABC):
    """Render each template of a workflow (``Workflow(context=…)``) into the one that runs."""

    @abstractmethod
    def render(self, template: Any) -> Any:
        """Render the original template and return a new template."""
