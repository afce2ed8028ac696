"""References between ports as they appear in strings: Argo tags and expr-lang accessors.

``{{inputs.parameters.x}}``, ``{{steps.a.outputs.artifacts.y}}``, ``{{tasks.a.outputs.parameters.y}}``
and their expression forms (``steps["a"].outputs.parameters["y"]``, ``inputs.parameters['x']``). The
graph turns whole-string references into edges; references inside larger strings (``when``,
expressions) stay text, and the validator and the networkx view read them from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

_NAME = r"[-a-zA-Z0-9_]+"
_Q = r"""["']"""

# {{inputs.parameters.x}} / {{steps.a.outputs.parameters.x}}
_TAG_BODY = (
    rf"(?:(?P<scope>steps|tasks)\.(?P<node>{_NAME})\.outputs|(?P<inp>inputs))"
    rf"\.(?P<kind>parameters|artifacts)\.(?P<port>{_NAME})"
)
# steps["a"].outputs.parameters["x"] / inputs.parameters['x']
_EXPR_BODY = (
    rf"(?:(?P<escope>steps|tasks)\[{_Q}(?P<enode>{_NAME}){_Q}\]\.outputs|(?P<einp>inputs))"
    rf"\.(?P<ekind>parameters|artifacts)\[{_Q}(?P<eport>{_NAME}){_Q}\]"
)
_WHOLE_TAG = re.compile(r"^\{\{\s*" + _TAG_BODY + r"\s*\}\}$")
_WHOLE_EXPR = re.compile(r"^\{\{=\s*" + _EXPR_BODY + r"\s*\}\}$")
_ANY_TAG = re.compile(r"\{\{\s*" + _TAG_BODY + r"\s*\}\}")
_ANY_EXPR = re.compile(r"(?<![\w.\]])" + _EXPR_BODY)


@dataclass(frozen=True)
class Ref:
    """A reference to a port: ``node`` is ``None`` for the enclosing template's inputs.

    ``scope`` is ``"steps"``, ``"tasks"`` or ``"inputs"``; ``kind`` is ``"parameters"``/``"artifacts"``.
    """

    scope: str
    node: str | None
    kind: str
    port: str

    def tag(self) -> str:
        """The Argo tag of this reference."""
        if self.node is None:
            return f"{{{{inputs.{self.kind}.{self.port}}}}}"
        return f"{{{{{self.scope}.{self.node}.outputs.{self.kind}.{self.port}}}}}"


def _from_match(m: re.Match, expr: bool) -> Ref:
    g = m.groupdict()
    p = "e" if expr else ""
    if g[p + "inp"]:
        return Ref("inputs", None, g[p + "kind"], g[p + "port"])
    return Ref(g[p + "scope"], g[p + "node"], g[p + "kind"], g[p + "port"])


def parse_ref(value: object) -> Ref | None:
    """The reference a whole string is (a tag or a ``{{=…}}`` accessor), else ``None``."""
    if not isinstance(value, str) or not value.startswith("{{"):
        return None
    m = _WHOLE_TAG.match(value)
    if m:
        return _from_match(m, False)
    m = _WHOLE_EXPR.match(value)
    if m:
        return _from_match(m, True)
    return None


def find_refs(text: object) -> Iterator[Ref]:
    """Every reference embedded in a string (tags and expression accessors)."""
    if not isinstance(text, str) or ("{{" not in text and "[" not in text):
        return
    for m in _ANY_TAG.finditer(text):
        yield _from_match(m, False)
    if "{{=" in text:
        for m in _ANY_EXPR.finditer(text):
            yield _from_match(m, True)
