"""Palette discovery for the lab: Python OPs from modules the user configures and from installed packages
that declare a ``dflow_lab.ops`` entry point, each with its sign (the template's typed ports).

An entry point's value is a module (``pkg.ops``: every OP defined there) or one OP class
(``pkg.ops:MyOP``). A module or entry point that fails to load is reported beside the entries instead of
hiding the rest. Configured modules are re-imported on each discovery, so OPs edited since show up.
"""

from __future__ import annotations

import importlib
import sys
from importlib.metadata import entry_points
from typing import Any, Iterable

from ..widgets.palette import op_entries, template_name

ENTRY_POINT_GROUP = "dflow_lab.ops"


def _module_entries(module: str) -> list[dict[str, Any]]:
    """The OPs of ``module``, imported here first so that a failure says what the lab was looking for."""
    try:
        importlib.import_module(module)
    except Exception as e:
        raise ImportError(f"cannot import OP module {module!r}: {type(e).__name__}: {e}") from e
    return op_entries([module])


def _entry_point_entries(value: str) -> list[dict[str, Any]]:
    module, _, attr = value.partition(":")
    entries = _module_entries(module.strip())
    if not attr:
        return entries
    obj: Any = importlib.import_module(module.strip())
    for part in attr.strip().split("."):
        obj = getattr(obj, part)
    wanted = template_name(obj)
    found = [e for e in entries if e["name"] == wanted]
    if not found:
        raise TypeError(f"{value} is not an OP class defined in {module.strip()}")
    return found


def discover(modules: Iterable[str]) -> dict[str, Any]:
    """``{"entries": [...], "errors": [{"source", "message"}]}`` for ``modules`` and the entry points."""
    entries: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(found: list[dict[str, Any]], source: str) -> None:
        for entry in found:
            op = entry["template"].get("op", entry["name"])
            if (op, entry["name"]) in seen:
                continue
            seen.add((op, entry["name"]))
            # a graph template has no "name" key (the graph names it); the palette entry carries the name
            template = {k: v for k, v in entry["template"].items() if k != "name"}
            entries.append({**entry, "template": template, "source": source})

    for module in modules:
        try:
            if module in sys.modules:  # the user's own modules: pick up OPs edited since the last look
                importlib.reload(sys.modules[module])
            add(_module_entries(module), module)
        except Exception as e:  # report it and keep the other modules
            errors.append({"source": module, "message": str(e)})
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value)):
        source = f"{ep.dist.name if ep.dist else '?'} ({ep.name})"
        try:
            add(_entry_point_entries(ep.value), source)
        except Exception as e:
            errors.append({"source": source, "message": str(e)})
    return {"entries": entries, "errors": errors}
