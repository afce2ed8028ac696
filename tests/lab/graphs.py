"""Graph documents the lab tests edit, validate and run."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any


def flaky_graph(marker: Path) -> dict[str, Any]:
    """first → second, where second fails (exit 3) until the file ``marker`` exists: a step to retry."""
    return {"version": 1, "name": "flaky", "entrypoint": "main", "templates": {
        "ok": {"kind": "shell", "script": "echo fine\n"},
        "gate": {"kind": "shell", "script": f"test -f {marker} || {{ echo not yet; exit 3; }}\necho through\n"},
        "main": {"kind": "dag", "nodes": [{"name": "first", "template": "ok"}, {"name": "second", "template": "gate"}],
                 "edges": [{"kind": "control", "source": {"node": "first"}, "target": {"node": "second"}}]}}}


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
