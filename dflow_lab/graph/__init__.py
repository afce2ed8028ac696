"""Graph JSON/YAML: the versioned document of a workflow (see docs/graph-format.md).

``validate(graph)`` lists every problem of a graph; ``from_pydflow`` imports pydflow's graph JSON;
``graph_to_networkx`` views a template as a ``networkx.DiGraph``. Model ⇄ graph conversion lives in
:mod:`dflow_lab.graph.convert` (``Workflow.to_graph()``/``Workflow.from_graph()`` call it).
"""

from .issues import CODES, WARNINGS, GraphValidationError, Issue
from .pydflow import from_pydflow, is_pydflow_graph
from .schema import GRAPH_VERSION, load_schema, schema_validator
from .validate import validate
from .view import graph_to_networkx

__all__ = [
    "CODES",
    "GRAPH_VERSION",
    "GraphValidationError",
    "WARNINGS",
    "Issue",
    "from_pydflow",
    "graph_to_networkx",
    "is_pydflow_graph",
    "load_schema",
    "schema_validator",
    "validate",
]
