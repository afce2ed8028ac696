"""Compatibility of the type names recorded on ports (``int``, ``typing.List[int]``, ``pathlib.Path``…).

Works on the strings alone, so a graph is checked without importing anything. Unknown types
(absent, ``None``, ``Any``, ``object``) are compatible with everything.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

_UNKNOWN = {"", "any", "object", "none", "typevar"}
_ALIASES = {
    "list": "list", "sequence": "list", "mutablesequence": "list", "iterable": "list", "collection": "list",
    "tuple": "list", "set": "set", "frozenset": "set", "dict": "dict", "mapping": "dict",
    "mutablemapping": "dict", "path": "path", "pathlib.path": "path", "posixpath": "path",
}


def _split_args(text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        depth += ch == "["
        depth -= ch == "]"
        cur.append(ch)
    if cur:
        parts.append("".join(cur).strip())
    return parts


@lru_cache(maxsize=1024)
def parse_type(name: str | None) -> tuple[str, tuple]:
    """``("list", (("int", ()),))`` for ``typing.List[int]``; ``("", ())`` for an unknown type."""
    if not name:
        return "", ()
    text = str(name).strip()
    for prefix in ("typing.", "builtins.", "collections.abc."):
        text = text.replace(prefix, "")
    if text.startswith("<class '") and text.endswith("'>"):
        text = text[8:-2]
    head, _, rest = text.partition("[")
    base = head.strip().lower()
    base = _ALIASES.get(base, base)
    args = tuple(parse_type(a) for a in _split_args(rest[:-1])) if rest.endswith("]") else ()
    return base, args


def _compatible(src: tuple, dst: tuple) -> bool:
    sb, sargs = src
    db, dargs = dst
    if sb in _UNKNOWN or db in _UNKNOWN:
        return True
    if sb in ("optional", "union"):
        return any(_compatible(a, dst) for a in sargs) if sargs else True
    if db in ("optional", "union"):
        return any(_compatible(src, a) for a in dargs) if dargs else True
    if sb == db:
        if not sargs or not dargs or len(sargs) != len(dargs):
            return True
        return all(_compatible(a, b) for a, b in zip(sargs, dargs))
    return (sb, db) in {("int", "float"), ("bool", "int"), ("str", "path"), ("path", "str")}


def types_compatible(src: str | None, dst: str | None) -> bool:
    """Whether a value of type ``src`` may feed a port of type ``dst``."""
    return _compatible(parse_type(src), parse_type(dst))


_JSON_KINDS = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list,),
               "dict": (dict,), "set": (list,)}


def literal_fits(value: Any, type_name: str | None) -> bool:
    """Whether a literal JSON value fits a declared type; strings carrying ``{{…}}`` always fit."""
    base, _ = parse_type(type_name)
    if base in ("optional", "union"):
        return value is None or any(literal_fits(value, _unparse(a)) for a in parse_type(type_name)[1])
    kinds = _JSON_KINDS.get(base)
    if kinds is None or (isinstance(value, str) and "{{" in value):
        return True
    if isinstance(value, bool) and base in ("int", "float"):
        return False
    if isinstance(value, str) and base != "str":  # a JSON text of the value is accepted too
        try:
            return literal_fits(json.loads(value), type_name)
        except ValueError:
            return False
    return isinstance(value, kinds)


def _unparse(t: tuple) -> str:
    base, args = t
    return base + ("[" + ", ".join(_unparse(a) for a in args) + "]" if args else "")
