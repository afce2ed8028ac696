"""The canvas palette: the templates of a workflow, and Python OPs found in modules the user names."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any, Iterable

from ..graph.convert import to_graph
from ..python import OP, PythonOPTemplate


def template_name(cls: type) -> str:
    """A template name for an OP class: ``PrepareInputs`` → ``prepare-inputs``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", cls.__name__).replace("_", "-").lower().strip("-") or "op"


def workflow_entries(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """Palette entries for the templates of a graph (the entrypoint excluded: it is the canvas itself)."""
    return [
        {"name": name, "source": "workflow", "template": template}
        for name, template in sorted((graph.get("templates") or {}).items())
        if name != graph.get("entrypoint")
    ]


def _defined_at(cls: type) -> dict[str, Any]:
    """``{"file": absolute path, "line": n}`` of a class's definition (empty when it has no source file)."""
    try:
        file = inspect.getsourcefile(cls)
        line = inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return {}
    return {"file": str(Path(file).resolve()), "line": line} if file else {}


def op_entries(modules: Iterable[str]) -> list[dict[str, Any]]:
    """Palette entries for every OP class defined in each module of ``modules`` (import paths).

    A module that cannot be imported is an error naming it; a module without OPs gives no entries. Each
    entry says where its OP is defined (``file``, absolute, and ``line``) when it has a source file.
    """
    entries: list[dict[str, Any]] = []
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as e:
            raise ImportError(f"WorkflowCanvas(ops=[...]): cannot import module {module_name!r}: {e}") from e
        for _, cls in sorted(inspect.getmembers(module, inspect.isclass), key=lambda m: m[0]):
            if not issubclass(cls, OP) or cls is OP or cls.__module__ != module.__name__:
                continue
            if inspect.isabstract(cls):
                continue
            template = to_graph(PythonOPTemplate(cls))
            template.pop("name", None)  # the palette entry names it; the graph keys templates by name
            entries.append({"name": template_name(cls), "source": module_name, "template": template,
                            **_defined_at(cls)})
    return entries
