"""Kubernetes-style selectors and Argo's ``fields`` projection, as the Argo Server applies them.

- label selectors (``listOptions.labelSelector``): ``k=v``, ``k==v``, ``k!=v``, ``k``, ``!k``,
  ``k in (a,b)``, ``k notin (a,b)``, joined by commas (all must hold);
- field selectors (``listOptions.fieldSelector``, a retry's ``nodeFieldSelector``): ``path=v``,
  ``path==v``, ``path!=v`` joined by commas, ``path`` a dotted path into the object;
- ``fields``: a comma-separated list of dotted paths to keep (``metadata,items.status.phase``), or,
  when the first starts with ``-``, paths to drop.

Malformed selectors raise ``SelectorError`` (the server answers 400).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

__all__ = ["SelectorError", "label_matcher", "field_matcher", "project_fields"]

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_SET_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s+\((?P<values>[^()]*)\)\s*$")
_EQ_RE = re.compile(rf"^\s*(?P<key>{_KEY})\s*(?P<op>==|=|!=)\s*(?P<value>[-A-Za-z0-9_.]*)\s*$")
_EXISTS_RE = re.compile(rf"^\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*$")


class SelectorError(ValueError):
    """A label or field selector that does not parse."""


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return [t for t in terms if t.strip()]


Matcher = Callable[[dict[str, Any]], bool]


def _label_test(op: str, key: str, values: frozenset[str]) -> Matcher:
    """One term of a label selector: ``op`` is in (``==``: one value), notin (``!=``), exists or !exists."""
    if op in ("in", "=="):
        return lambda labels: any(labels.get(key) == v for v in values)
    if op in ("notin", "!="):
        return lambda labels: all(labels.get(key) != v for v in values)
    if op == "!exists":
        return lambda labels: key not in labels
    return lambda labels: key in labels


def label_matcher(selector: str | None) -> Matcher:
    """A predicate over a labels dict for a Kubernetes label selector (``None``/empty: match all)."""
    tests: list[Matcher] = []
    for term in _split_terms(selector or ""):
        if m := _SET_RE.match(term):
            values = frozenset(v.strip() for v in m["values"].split(",") if v.strip())
            tests.append(_label_test(m["op"], m["key"], values))
        elif m := _EQ_RE.match(term):
            tests.append(_label_test("!=" if m["op"] == "!=" else "==", m["key"], frozenset([m["value"]])))
        elif m := _EXISTS_RE.match(term):
            tests.append(_label_test("!exists" if m["neg"] else "exists", m["key"], frozenset()))
        else:
            raise SelectorError(f"label selector term {term.strip()!r} does not parse: use k=v, k!=v, k, !k, "
                                "k in (a,b) or k notin (a,b)")
    return lambda labels: all(t(labels or {}) for t in tests)


def _lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _field_test(path: str, equal: bool, value: str) -> Matcher:
    """One term of a field selector: the string at ``path`` (empty when missing) is (not) ``value``."""
    return lambda obj: (str(_lookup(obj, path) or "") == value) == equal


def field_matcher(selector: str | None) -> Matcher:
    """A predicate over an object for a field selector (``metadata.name=x,status.phase!=Failed``)."""
    tests: list[Matcher] = []
    for term in _split_terms(selector or ""):
        m = re.match(r"^\s*(?P<path>[A-Za-z0-9_.]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^,]*?)\s*$", term)
        if not m:
            raise SelectorError(f"field selector term {term.strip()!r} does not parse: use field=value or "
                                "field!=value")
        tests.append(_field_test(m["path"], m["op"] != "!=", m["value"]))
    return lambda obj: all(t(obj) for t in tests)


def _keep(obj: Any, parts: list[str]) -> Any:
    """The part of ``obj`` under the dotted path ``parts`` (lists are mapped item by item)."""
    if not parts:
        return copy.deepcopy(obj)
    if isinstance(obj, list):
        return [_keep(item, parts) for item in obj]
    if not isinstance(obj, dict) or parts[0] not in obj:
        return {}
    return {parts[0]: _keep(obj[parts[0]], parts[1:])}


def _merge(into: dict[str, Any], part: Any) -> None:
    for k, v in part.items():
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        elif isinstance(v, list) and isinstance(into.get(k), list):
            for mine, theirs in zip(into[k], v):
                if isinstance(mine, dict) and isinstance(theirs, dict):
                    _merge(mine, theirs)
        else:
            into[k] = v


def _drop(obj: Any, parts: list[str]) -> None:
    if isinstance(obj, list):
        for item in obj:
            _drop(item, parts)
        return
    if not isinstance(obj, dict) or parts[0] not in obj:
        return
    if len(parts) == 1:
        del obj[parts[0]]
    else:
        _drop(obj[parts[0]], parts[1:])


def project_fields(obj: dict[str, Any], fields: str | None) -> dict[str, Any]:
    """Apply Argo's ``fields`` parameter to a response object."""
    paths = [p.strip() for p in (fields or "").split(",") if p.strip()]
    if not paths:
        return obj
    if paths[0].startswith("-"):
        kept = copy.deepcopy(obj)
        for p in paths:
            _drop(kept, p.lstrip("-").split("."))
        return kept
    out: dict[str, Any] = {}
    for p in paths:
        part = _keep(obj, p.split("."))
        if isinstance(part, dict):
            _merge(out, part)
    return out
