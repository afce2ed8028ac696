"""Model ⇄ graph: the functions the model's ``to_graph``/``convert_to_graph``/``from_graph`` methods call.

- ``to_graph(obj)``: a Workflow → the whole document; a template → its standalone form (with
  ``name``); a Step/Task → ``{"node", "edges"}``; Inputs/Outputs → ``{"parameters", "artifacts"}``;
  a port → its entry.
- ``workflow_from_graph``, ``template_from_graph``, ``step_from_graph``, ``io_from_graph``: back.
- ``to_networkx(workflow)``: the entrypoint's steps/tasks as a ``networkx.DiGraph``.
"""

from __future__ import annotations

from typing import Any, Optional

import networkx as nx

from ..io import InputArtifact, InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs
from ..op_template import OPTemplate
from ..step import Step
from ..workflow import Workflow
from ..yamlsafe import load_json, load_yaml
from .build import io_from_graph, step_from_graph, template_from_graph, workflow_from_graph
from .bulk import bulk
from .export import (
    input_artifact,
    input_parameter,
    io_group,
    output_artifact,
    output_parameter,
    step_to_graph,
    template_to_graph,
    workflow_to_graph,
)
from .view import graph_to_networkx

__all__ = ["to_graph", "to_networkx", "workflow_from_graph", "template_from_graph", "step_from_graph",
           "io_from_graph", "load_graph"]


def to_graph(obj: Any, lossy: bool = False) -> dict[str, Any]:
    """The graph form of a model object (see the module docstring). ``lossy=True`` (workflows): leave
    out what a graph cannot carry instead of raising, listing it in ``layout["omitted"]`` — a graph to
    display (a run's monitor), not to rebuild from."""
    if isinstance(obj, Workflow):
        return workflow_to_graph(obj, lossy)
    if isinstance(obj, OPTemplate):
        return template_to_graph(obj)
    if isinstance(obj, Step):
        return step_to_graph(obj)
    where = {"field": getattr(obj, "name", None)} if getattr(obj, "name", None) else {}
    if isinstance(obj, Inputs):
        return io_group(obj, "inputs", where)
    if isinstance(obj, Outputs):
        return io_group(obj, "outputs", where)
    for cls, writer in ((InputParameter, input_parameter), (InputArtifact, input_artifact),
                        (OutputParameter, output_parameter), (OutputArtifact, output_artifact)):
        if isinstance(obj, cls):
            return writer(obj, where)
    raise TypeError(f"cannot convert a {type(obj).__name__} to a graph")


def to_networkx(workflow: Any, template: Optional[str] = None) -> nx.DiGraph:
    """The steps/tasks of the workflow's entrypoint (or of ``template``) with data and control edges."""
    return graph_to_networkx(to_graph(workflow), template)


@bulk
def load_graph(text: str | bytes, fmt: str = "json", **kwargs: Any) -> Any:
    """Parse a graph document (``fmt`` ``"json"`` or ``"yaml"``) with the collector paused: a large graph
    parses several times faster (``Workflow.from_graph_json/_yaml`` can use it). The text is untrusted:
    it goes through the bounded loaders of :mod:`dflow_lab.yamlsafe` (nesting depth, YAML aliases)."""
    if fmt == "json":
        return load_json(text, source="graph document", **kwargs)
    if fmt == "yaml":
        return load_yaml(text, source="graph document")
    raise ValueError(f"unknown graph format {fmt!r} (json or yaml)")
