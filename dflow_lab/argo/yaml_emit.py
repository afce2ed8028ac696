"""A fast block-style YAML emitter for manifests (plain data: dicts, lists, str, int, float, bool, None).

PyYAML's representer builds a node graph in Python and is the slowest part of compiling a large
workflow. Manifests are plain JSON-like data, so they are written directly: strings are plain when
that is unambiguous, literal blocks (``|``) when they are multi-line scripts, and JSON double-quoted
(a subset of YAML's double-quoted style) otherwise. ``yaml.safe_load`` reads back exactly the input
(tested on every manifest the tests build and on adversarial strings).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, List

_PLAIN_RE = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./+-]*(?: [A-Za-z0-9_./+-]+)*\Z")
_RESERVED = {
    "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL",
}
_BLOCK_UNSAFE_RE = re.compile(r"[^\n\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[ \t]\n|[ \t]$|\ufeff")
# JSON's escapes are valid in YAML's double-quoted style; YAML also wants these escaped
_UNPRINTABLE_RE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


def _scalar_str(s: str) -> str:
    if _PLAIN_RE.match(s) and s not in _RESERVED:
        return s
    text = json.dumps(s, ensure_ascii=False)
    if _UNPRINTABLE_RE.search(text):
        text = _UNPRINTABLE_RE.sub(lambda m: "\\u%04x" % ord(m.group()), text)
    return text


def _block(s: str, indent: str) -> str | None:
    """``s`` as a literal block scalar, or None when a block cannot carry it exactly."""
    if "\n" not in s or s.startswith((" ", "\n")) or _BLOCK_UNSAFE_RE.search(s):
        return None
    if s.endswith("\n\n"):
        return None
    head = "|" if s.endswith("\n") else "|-"
    body = s[:-1] if s.endswith("\n") else s
    pad = indent + "  "
    lines = [pad + line if line else "" for line in body.split("\n")]
    return head + "\n" + "\n".join(lines)


def _scalar(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        return repr(v)
    raise TypeError(f"cannot write {type(v).__name__} to YAML")


def _emit(v: Any, indent: str, out: List[str], sort_keys: bool) -> None:
    """Append the lines of a dict or list value (already on its own lines) at ``indent``."""
    if isinstance(v, dict):
        keys = sorted(v) if sort_keys else list(v)
        for k in keys:
            item = v[k]
            key = _scalar_str(str(k))
            if isinstance(item, dict) and item:
                out.append(f"{indent}{key}:")
                _emit(item, indent + "  ", out, sort_keys)
            elif isinstance(item, list) and item:
                out.append(f"{indent}{key}:")
                _emit(item, indent, out, sort_keys)
            else:
                out.append(f"{indent}{key}: {_inline(item, indent)}")
    else:
        for item in v:
            if isinstance(item, dict) and item:
                sub: List[str] = []
                _emit(item, indent + "  ", sub, sort_keys)
                sub[0] = indent + "- " + sub[0][len(indent) + 2:]
                out.extend(sub)
            elif isinstance(item, list) and item:
                sub = []
                _emit(item, indent + "  ", sub, sort_keys)
                sub[0] = indent + "- " + sub[0][len(indent) + 2:]
                out.extend(sub)
            else:
                out.append(f"{indent}- {_inline(item, indent + '  ')}")


def _inline(v: Any, indent: str) -> str:
    if isinstance(v, str):
        block = _block(v, indent)
        return block if block is not None else _scalar_str(v)
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return _scalar(v)


def emit_yaml(data: Any, sort_keys: bool = True) -> str:
    """Block-style YAML text of plain data; ``yaml.safe_load`` of the result equals ``data``."""
    if isinstance(data, (dict, list)) and data:
        out: List[str] = []
        _emit(data, "", out, sort_keys)
        return "\n".join(out) + "\n"
    return _inline(data, "") + "\n"
