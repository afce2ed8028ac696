"""Validation issues of a graph: a stable code, a message and where (template, node, port, JSON path)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import WorkflowValueError

#: Every code ``validate`` may report, with what it means (docs/graph-format.md has the same table).
CODES: dict[str, str] = {
    "schema": "the document does not match the JSON Schema",
    "unsupported-version": "the graph version is not supported",
    "invalid-name": "a workflow, template, node or port name breaks the naming rules",
    "duplicate-node": "two nodes of a template share a name",
    "unknown-template": "the entrypoint or a node names a template that does not exist",
    "bad-entrypoint": "the entrypoint is not a steps/dag template",
    "dangling-reference": "an edge or a reference names a node that does not exist in the template",
    "unknown-port": "a literal, an edge or a node's slices names a port the template does not declare",
    "kind-mismatch": "a parameter connected to an artifact, or an edge kind that disagrees with its ports",
    "type-mismatch": "connected ports (or a literal and its port) have incompatible types",
    "missing-input": "a required input is neither given a literal nor fed by an edge",
    "duplicate-input": "an input port is fed twice",
    "cycle": "a cycle among the nodes of a dag template",
    "stage-order": "in a steps template, a reference to a node of the same or a later stage",
    "invalid-edge": "an edge that cannot exist",
    "invalid-field": "a field that does not fit its template or node",
    "unsafe-value": "a pickled Python object that is not plain data",
    "too-deep": "the document nests deeper than config['document_max_depth'] (checked before anything else)",
    "invalid-key": "a node's key breaks the rule of step keys (lowercase alphanumerics and '-')",
    "invalid-identifier": "an options/slices key that is not a safe Python identifier (it would become code)",
    "unknown-option": "an options/slices key that is not a keyword argument of the constructor it is given to",
}


#: Codes that do not stop a graph from loading: the model accepts such a workflow (a value is text to
#: Argo; types are checked when the step runs), so they are reported to the user, not enforced.
WARNINGS = frozenset({"type-mismatch"})


@dataclass(frozen=True)
class Issue:
    """One problem found in a graph."""

    code: str
    message: str
    template: str | None = None
    node: str | None = None
    port: str | None = None
    path: tuple = field(default=())

    @property
    def severity(self) -> str:
        """``"error"`` (the graph cannot become a workflow) or ``"warning"`` (it can, but will likely fail
        when it runs: see ``WARNINGS``)."""
        return "warning" if self.code in WARNINGS else "error"

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the canvas reads."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "template": self.template,
            "node": self.node,
            "port": self.port,
            "path": list(self.path),
        }

    def __str__(self) -> str:
        where = []
        if self.template is not None:
            where.append(f"template {self.template!r}")
        if self.node is not None:
            where.append(f"node {self.node!r}")
        if self.port is not None:
            where.append(f"port {self.port!r}")
        return f"[{self.code}] " + (", ".join(where) + ": " if where else "") + self.message


class GraphValidationError(WorkflowValueError):
    """A graph that cannot become a workflow; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[Issue], *, workflow: str | None = None) -> None:
        self.issues = list(issues)
        lines = "\n".join(f"  {issue}" for issue in self.issues)
        super().__init__(f"invalid graph ({len(self.issues)} problem(s)):\n{lines}", workflow=workflow)
