"""Variable scopes of the local engine: what ``{{…}}`` tags resolve to inside a template.

A scope holds flat variables, as in Argo's controller: ``"inputs.parameters.x" -> "1"``,
``"steps.a.outputs.parameters.y" -> "…"``, ``"item" -> "…"``.  Artifact entries
(``"steps.a.outputs.artifacts.z"``) hold the artifact dict and are used by ``from``, never rendered into
text.  A step's scope is a child of its template's (a chain, never a copy).  Rendering goes through the
safe evaluator in ``dflow_lab.expr.evaluate``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from dflow_lab.bounds import max_items
from dflow_lab.expr.evaluate import ExpressionError, eval_expr, eval_when, nest_variables, render_template

from ..bounds import cut_text

__all__ = [
    "Scope",
    "StepError",
    "aggregate_values",
    "item_display",
    "item_variables",
    "expand_items",
    "node_outputs_vars",
]


class StepError(Exception):
    """A step fails because of its input (a bad expression, a missing value): names step and field."""


class _TextView(Mapping):
    """The text (``str``) values of a scope chain, looked up through the chain without copying it."""

    __slots__ = ("_scope",)

    def __init__(self, scope: Scope):
        self._scope = scope

    def __getitem__(self, key: str) -> str:
        value = self._scope.get(key, _MISSING)
        if not isinstance(value, str):
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(self._scope.get(key, _MISSING), str)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return (k for k, v in self._scope.flat().items() if isinstance(v, str))

    def __len__(self) -> int:
        return sum(1 for _ in self)


_MISSING = object()


class Scope:
    """A variable scope: its own ``values`` over an optional parent scope; ``render`` substitutes into text.

    A child scope (``child``) does not copy its parent: lookups go up the chain, so opening a step's
    scope inside a DAG of 10,000 finished tasks costs the same as inside an empty one.  A child sees
    what its parent gains later (a DAG task only reads the tasks it depends on, which finished before
    it started).
    """

    __slots__ = ("values", "parent")

    def __init__(self, values: dict[str, Any] | None = None, parent: Scope | None = None):
        self.values: dict[str, Any] = dict(values or {})
        self.parent = parent

    def child(self, extra: dict[str, Any] | None = None) -> Scope:
        """A scope over this one, with ``extra`` on top."""
        return Scope(extra, self)

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key`` in the nearest scope of the chain that has it."""
        scope: Scope | None = self
        while scope is not None:
            value = scope.values.get(key, _MISSING)
            if value is not _MISSING:
                return value
            scope = scope.parent
        return default

    def flat(self) -> dict[str, Any]:
        """Every variable of the chain in one dict (nearest wins): a copy, for expressions only."""
        layers = []
        scope: Scope | None = self
        while scope is not None:
            layers.append(scope.values)
            scope = scope.parent
        out: dict[str, Any] = {}
        for layer in reversed(layers):
            out.update(layer)
        return out

    def text_values(self) -> Mapping[str, str]:
        """The text values of the chain, as a read-only view (no copy)."""
        return _TextView(self)

    def env(self) -> dict[str, Any]:
        """The scope as nested dicts, for expressions (``inputs.parameters.x`` → ``env["inputs"]…``)."""
        return nest_variables(self.flat())

    def render(self, text: str, where: str, strict: bool = True) -> str:
        """Substitute ``{{…}}`` tags in ``text``; ``where`` names the step and field for errors."""
        if "{{" not in text:
            return text

        try:
            return render_template(text, self.text_values(), strict=strict)
        except ExpressionError as e:
            raise StepError(f"{where}: {e}") from None

    def render_obj(self, obj: Any, where: str, strict: bool = True) -> Any:
        """Render every string inside a JSON-like object."""
        if isinstance(obj, str):
            return self.render(obj, where, strict)
        if isinstance(obj, list):
            return [self.render_obj(v, where, strict) for v in obj]
        if isinstance(obj, dict):
            return {k: self.render_obj(v, f"{where}.{k}", strict) for k, v in obj.items()}
        return obj

    def eval_when(self, expr: str, where: str) -> bool:
        """Evaluate a ``when`` condition after substituting tags."""
        text = self.render(expr, where)
        try:
            return bool(eval_when(text))
        except ExpressionError as e:
            raise StepError(f"{where}: when {text!r}: {e}") from None

    def eval_expr(self, expr: str, where: str) -> Any:
        """Evaluate an expr-lang expression (``valueFrom.expression``, ``fromExpression``)."""
        try:
            return eval_expr(expr, self.env())
        except ExpressionError as e:
            raise StepError(f"{where}: expression {expr!r}: {e}") from None


def as_param_text(value: Any) -> str:
    """A parameter value as text: strings as they are, everything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def aggregate_values(values: list[str]) -> str:
    """Argo's aggregation of a looped step's values: a JSON list, items decoded when all are JSON."""
    decoded = []
    for v in values:
        try:
            decoded.append(json.loads(v))
        except (TypeError, ValueError):
            return json.dumps(values)
    return json.dumps(decoded)


def too_many_items(count: int, where: str) -> str | None:
    """The refusal of a loop of ``count`` items when that is more than ``config["local_max_items"]``."""
    limit = max_items()
    if count <= limit:
        return None
    return (f"{where}: the loop expands to {count:,} items, more than the bound config['local_max_items'] = "
            f"{limit:,} (DFLOW_LOCAL_MAX_ITEMS); split the work into fewer, larger items or raise the bound")


def _bounded(count: int, where: str) -> None:
    refusal = too_many_items(count, where)
    if refusal:
        raise StepError(refusal)


def expand_items(step: dict, scope: Scope, where: str) -> list[Any] | None:
    """The items of ``withItems``/``withParam``/``withSequence`` (``None`` when the step has no loop).

    More than ``config["local_max_items"]`` items is a ``StepError`` raised before any item is built."""
    if "withItems" in step:
        items = step["withItems"]
        if not isinstance(items, list):
            raise StepError(f"{where}.withItems: expected a list, got {type(items).__name__}")
        _bounded(len(items), f"{where}.withItems")
        return [scope.render_obj(i, f"{where}.withItems") for i in items]
    if "withParam" in step:
        text = scope.render(str(step["withParam"]), f"{where}.withParam")
        try:
            items = json.loads(text)
        except ValueError:
            raise StepError(f"{where}.withParam: {text[:200]!r} is not a JSON list") from None
        if not isinstance(items, list):
            raise StepError(f"{where}.withParam: expected a JSON list, got {type(items).__name__}")
        _bounded(len(items), f"{where}.withParam")
        return items
    if "withSequence" in step:
        seq = scope.render_obj(step["withSequence"], f"{where}.withSequence")
        return _sequence(seq, f"{where}.withSequence")
    return None


def sequence_bounds(seq: Any, where: str) -> tuple[int, int, int]:
    """``(start, step, count)`` of a rendered ``withSequence`` (Argo's rules: ``count`` items from
    ``start``, or ``start`` to ``end`` inclusive, counting down when ``end < start``)."""
    if not isinstance(seq, dict):
        raise StepError(f"{where}: expected a map with start and count or end, got {type(seq).__name__}")
    try:
        start = int(seq.get("start", 0))
        if "count" in seq and "end" in seq:
            raise StepError(f"{where}: give count or end, not both")
        if "count" in seq:
            count = int(seq["count"])
            return start, 1, max(count, 0)
        if "end" in seq:
            end = int(seq["end"])
            return start, 1 if end >= start else -1, abs(end - start) + 1
        raise StepError(f"{where}: needs count or end")
    except ValueError as e:
        raise StepError(f"{where}: {cut_text(str(e), 300)}") from None


def _sequence(seq: dict, where: str) -> list[str]:
    start, step, count = sequence_bounds(seq, where)
    _bounded(count, where)
    numbers = range(start, start + step * count, step)
    fmt = seq.get("format")
    if fmt:
        try:  # Go's Sprintf verbs for one integer (%d, %02X, %x, %o) read the same in Python
            return [fmt % n for n in numbers]
        except (TypeError, ValueError) as e:
            raise StepError(f"{where}.format {fmt!r}: {e}") from None
    return [str(n) for n in numbers]


def item_variables(item: Any) -> dict[str, str]:
    """``item`` (and ``item.<key>`` for a map item) as scope variables."""
    out = {"item": as_param_text(item)}
    if isinstance(item, dict):
        for k, v in item.items():
            out[f"item.{k}"] = as_param_text(v)
    return out


def item_display(index: int, item: Any) -> str:
    """The ``(i:item)`` suffix Argo gives an expanded step's name."""
    if isinstance(item, dict):
        text = ",".join(f"{k}:{as_param_text(item[k])}" for k in sorted(item))
    elif isinstance(item, list):
        text = json.dumps(item)
    else:
        text = as_param_text(item)
    return f"({index}:{text})"


def node_outputs_vars(prefix: str, node: dict) -> dict[str, Any]:
    """Scope entries a finished child node exposes: ``<prefix>.outputs.parameters.x``, ``.result``, …"""
    out: dict[str, Any] = {
        f"{prefix}.id": node["id"],
        f"{prefix}.status": node.get("phase", ""),
        f"{prefix}.startedAt": node.get("startedAt") or "",
        f"{prefix}.finishedAt": node.get("finishedAt") or "",
    }
    if node.get("podIP"):  # a daemon's address (127.0.0.1 on the local engine)
        out[f"{prefix}.ip"] = node["podIP"]
    outputs = node.get("outputs") or {}
    for p in outputs.get("parameters") or []:
        if "value" in p:
            out[f"{prefix}.outputs.parameters.{p['name']}"] = p["value"]
    for a in outputs.get("artifacts") or []:
        out[f"{prefix}.outputs.artifacts.{a['name']}"] = a
    if "result" in outputs:
        out[f"{prefix}.outputs.result"] = outputs["result"]
    if "exitCode" in outputs:
        out[f"{prefix}.exitCode"] = outputs["exitCode"]
    return out


def aggregated_vars(prefix: str, nodes: list[dict]) -> dict[str, Any]:
    """Scope entries of a looped step: each output parameter and result as a JSON list (Argo's rules)."""
    out: dict[str, Any] = {}
    params: dict[str, list[str]] = {}
    maps: list[dict[str, str]] = []
    results: list[str] = []
    for node in nodes:
        outputs = node.get("outputs") or {}
        entry = {}
        for p in outputs.get("parameters") or []:
            if "value" in p:
                params.setdefault(p["name"], []).append(p["value"])
                entry[p["name"]] = p["value"]
        if entry:
            maps.append(entry)
        if "result" in outputs:
            results.append(outputs["result"])
    for name, values in params.items():
        out[f"{prefix}.outputs.parameters.{name}"] = aggregate_values(values)
    if maps:
        out[f"{prefix}.outputs.parameters"] = json.dumps(maps)
    if results:
        out[f"{prefix}.outputs.result"] = aggregate_values(results)
    return out
