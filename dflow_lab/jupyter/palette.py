"""Palette discovery for the lab: the built-in templates, then Python OPs found without configuration
(``.py`` files next to the document and in the server's root, ``dflow_lab.ops`` entry points) and in the
modules the user configures, each with its sign (the template's typed ports).

The discovery itself (what is imported, how, and its limits) is ``dflow_lab.python.discovery``; a module
that fails to load is one error beside the entries (file, line, message) instead of hiding the rest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..graph.builtins import builtin_entries
from ..python.discovery import ENTRY_POINT_GROUP
from ..python.discovery import discover as discover_ops

__all__ = ["ENTRY_POINT_GROUP", "discover"]


def discover(modules: Iterable[str], folders: Iterable[Path] = (), root: Path | None = None) -> dict[str, Any]:
    """``{"entries": [...], "errors": [{"source", "message", "file"?, "line"?}]}``: built-ins first."""
    found = discover_ops(modules, folders, root)
    return {"entries": builtin_entries() + found["entries"], "errors": found["errors"]}
