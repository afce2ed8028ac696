"""``WorkflowMonitor``: a run drawn as its graph, each node coloured by phase, updated live."""

from __future__ import annotations

from typing import Any

from ..graph.convert import to_graph
from ..workflow import Workflow
from .base import GraphWidget


class WorkflowMonitor(GraphWidget):
    """Watch a run in a notebook: ``WorkflowMonitor(wf)``, ``wf.watch()`` or ``WorkflowMonitor(id="…")``.

    Nodes take the colour of their phase (Pending, Running, Succeeded, Failed, Error, Skipped, Omitted);
    fan-outs show their progress ("37/100 succeeded, 2 failed"); clicking a step shows its inputs, outputs
    (artifact previews), logs, key, duration and error, with retry/stop/resubmit where they apply.
    Updates come from the engine's event stream (``events()`` long-poll), one message per change batch.
    """

    def __init__(self, workflow: Any = None, *, id: str | None = None, height: int = 640, **kwargs: Any) -> None:
        if workflow is None:
            if not id:
                raise ValueError("WorkflowMonitor needs a submitted Workflow or id='<workflow name>'")
            backend = Workflow(id=id)._backend()
            name = id
            graph = Workflow.from_dict(backend.get(name)).to_graph()  # the graph of the run's manifest
        else:
            name = id or workflow.id
            if not name:
                raise ValueError(
                    f"WorkflowMonitor: workflow {workflow.name!r} has not been submitted: call submit() first")
            backend = workflow._backend()

            # lossy: a monitor draws the run; what a graph cannot carry (executors, hooks) is only listed
            graph = to_graph(workflow, lossy=True)
        super().__init__(view="monitor", graph=graph, height=height, **kwargs)
        self.follow(backend, name)
