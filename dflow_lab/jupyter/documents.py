"""Workflow files as the editor reads and writes them: graph JSON/YAML (``*.dflow.json``,
``*.dflow.yaml``) and Argo Workflow YAML (opened with "Open With → Workflow Editor", parsed into the model).

``parse`` turns a file's text into a graph document; ``dump`` turns a graph back into the file's format,
so saving an Argo YAML file writes Argo YAML again.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ..workflow import Workflow
from ..yamlsafe import DocumentBoundError, load_yaml

FORMATS = ("json", "yaml", "argo")


class DocumentError(ValueError):
    """A file that is not a workflow document of the format asked for."""


def _load(text: str, path: str) -> Any:
    try:
        return load_yaml(text, source=path) if text.strip() else None
    except DocumentBoundError as e:
        raise DocumentError(str(e)) from e
    except yaml.YAMLError as e:
        raise DocumentError(f"{path}: not valid YAML/JSON: {e}") from e


def is_argo(data: Any) -> bool:
    """Whether ``data`` is an Argo manifest (``apiVersion``/``kind``) rather than a graph document."""
    return isinstance(data, dict) and "apiVersion" in data and "kind" in data and "templates" not in data


def parse(text: str, path: str = "<document>") -> dict[str, Any]:
    """``{"graph": …, "format": "json"|"yaml"|"argo"}`` for the text of a workflow file."""
    data = _load(text, path)
    fmt = "json" if text.lstrip().startswith("{") else "yaml"
    if data is None:
        return {"graph": None, "format": fmt}
    if is_argo(data):
        if data.get("kind") not in ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"):
            raise DocumentError(f"{path}: an Argo {data.get('kind')!r} is not a workflow")

        spec_holder = data
        if data.get("kind") == "CronWorkflow":  # the workflow it starts
            spec_holder = {"metadata": data.get("metadata") or {},
                           "spec": (data.get("spec") or {}).get("workflowSpec") or {}}
        try:
            graph = Workflow.from_dict({**spec_holder, "kind": "Workflow"}).to_graph()
        except Exception as e:
            raise DocumentError(f"{path}: cannot read this Argo workflow: {e}") from e
        return {"graph": graph, "format": "argo"}
    if not isinstance(data, dict):
        raise DocumentError(f"{path}: a workflow document is a JSON/YAML object, not {type(data).__name__}")
    return {"graph": data, "format": fmt}


def dump(graph: dict[str, Any], fmt: str, path: str = "<document>") -> str:
    """The text of ``graph`` in format ``fmt`` (``json``, ``yaml`` or ``argo``)."""
    if fmt not in FORMATS:
        raise DocumentError(f"{path}: unknown format {fmt!r}; use one of {list(FORMATS)}")
    if not isinstance(graph, dict):
        raise DocumentError(f"{path}: the graph must be a JSON object")
    if fmt == "json":
        return json.dumps(graph, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(graph, sort_keys=False, allow_unicode=True)

    return Workflow.from_graph(graph).to_yaml()
