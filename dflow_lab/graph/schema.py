"""The JSON Schema of the graph format (version 1), shipped as ``schema.json`` beside this module."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

import fastjsonschema

GRAPH_VERSION = 1


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """Return the graph JSON Schema as a dict (read once)."""
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def schema_validator() -> Any:
    """A Draft 2020-12 validator for the graph schema (``iter_errors`` lists every error)."""
    # lazy: jsonschema (the slow path that lists every error) is loaded only when the fast check fails
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema())


@lru_cache(maxsize=1)
def _compiled() -> Callable[[Any], Any]:
    return fastjsonschema.compile(load_schema())


def conforms(graph: Any) -> bool:
    """Whether ``graph`` matches the schema: the fast compiled check (a large graph is checked in a
    fraction of jsonschema's time); ``schema_validator().iter_errors`` then says what is wrong."""
    try:
        _compiled()(graph)
    except fastjsonschema.JsonSchemaException:
        return False
    return True
