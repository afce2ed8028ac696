"""Graph JSON/YAML: the versioned document of a workflow (see docs/graph-format.md)."""

from .schema import GRAPH_VERSION, load_schema, schema_validator

__all__ = ["GRAPH_VERSION", "load_schema", "schema_validator"]
