"""Helpers of the graph tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def edges_as_set(graph: dict) -> dict:
    """The graph with each template's edges as a sorted list (edge order carries no meaning)."""
    g = copy.deepcopy(graph)
    for t in g.get("templates", {}).values():
        if "edges" in t:
            t["edges"] = sorted(t["edges"], key=lambda e: json.dumps(e, sort_keys=True))
    return g


def json_paths(obj: object, prefix: tuple = ()) -> list[tuple]:
    """The path of every value in a JSON document (keys and indexes), the root's ``()`` first."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += json_paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += json_paths(v, (*prefix, i))
    return out
