"""The JSON Schema of the graph format (version 1), shipped as ``schema.json`` beside this module."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

GRAPH_VERSION = 1


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """Return the graph JSON Schema as a dict (read once)."""
    return json.loads(resources.files(__package__).joinpath("schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def schema_validator() -> Any:
    """A compiled Draft 2020-12 validator for the graph schema."""
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema())
