"""Notebook widgets: ``WorkflowCanvas`` (the graph editor) and ``WorkflowMonitor`` (a run, live)."""

from .canvas import WorkflowCanvas
from .monitor import WorkflowMonitor

__all__ = ["WorkflowCanvas", "WorkflowMonitor"]
