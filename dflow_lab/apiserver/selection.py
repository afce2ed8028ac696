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
    terms, depth, current = [], 0, []
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


def label_matcher(selector: str | None) -> Callable[[dict], bool]:
    """A predicate over a labels dict for a Kubernetes label selector (``None``/empty: match all)."""
    tests: list[Callable[[dict], bool]] = []
    for term in _split_terms(selector or ""):
        if m := _SET_RE.match(term):
            key, values = m["key"], {v.strip() for v in m["values"].split(",") if v.strip()}
            if m["op"] == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif m := _EQ_RE.match(term):
            key, value = m["key"], m["value"]
            if m["op"] == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif m := _EXISTS_RE.match(term):
            key = m["key"]
            if m["neg"]:
                tests.append(lambda labels, k=key: k not in labels)
            else:
                tests.append(lambda labels, k=key: k in labels)
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


def field_matcher(selector: str | None) -> Callable[[dict], bool]:
    """A predicate over an object for a field selector (``metadata.name=x,status.phase!=Failed``)."""
    tests: list[Callable[[dict], bool]] = []
    for term in _split_terms(selector or ""):
        m = re.match(r"^\s*(?P<path>[A-Za-z0-9_.]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^,]*?)\s*$", term)
        if not m:
            raise SelectorError(f"field selector term {term.strip()!r} does not parse: use field=value or "
                                "field!=value")
        path, op, value = m["path"], m["op"], m["value"]
        if op == "!=":
            tests.append(lambda o, p=path, v=value: str(_lookup(o, p) or "") != v)
        else:
            tests.append(lambda o, p=path, v=value: str(_lookup(o, p) or "") == v)
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


def _merge(into: dict, part: Any) -> None:
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


def project_fields(obj: dict, fields: str | None) -> dict:
    """Apply Argo's ``fields`` parameter to a response object."""
    paths = [p.strip() for p in (fields or "").split(",") if p.strip()]
    if not paths:
        return obj
    if paths[0].startswith("-"):
        out = copy.deepcopy(obj)
        for p in paths:
            _drop(out, p.lstrip("-").split("."))
        return out
    out: dict = {}
    for p in paths:
        part = _keep(obj, p.split("."))
        if isinstance(part, dict):
            _merge(out, part)
    return out
