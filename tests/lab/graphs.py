"""Graph documents the lab tests edit, validate and run."""

from __future__ import annotations

import copy
from typing import Any


def table_graph(palette: list[dict[str, Any]], name: str = "squares", n: int = 4) -> dict[str, Any]:
    """make-table → summarize, built from the palette's entries as the canvas builds it."""
    templates = {e["name"]: copy.deepcopy(e["template"]) for e in palette if e["name"] in ("make-table", "summarize")}
    templates["main"] = {
        "kind": "dag",
        "nodes": [
            {"name": "make", "template": "make-table", "parameters": {"n": n}},
            {"name": "sum", "template": "summarize"},
        ],
        "edges": [
            {"kind": "artifact", "source": {"node": "make", "port": "table"}, "target": {"node": "sum", "port": "table"}},
        ],
    }
    return {"version": 1, "name": name, "entrypoint": "main", "templates": templates}
