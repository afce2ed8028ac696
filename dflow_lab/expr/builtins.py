"""expr-lang's builtin functions that take plain values (``len``, ``int``, ``string``, ``split``, ``toJSON``…).

The builtins that take a predicate (``map``, ``filter``, ``all``…) live with the interpreter, which
evaluates their closures. Every function raises :class:`EvalFailure` on bad input, as expr's panics do.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Any, Callable

from dflow_lab.expr.errors import EvalFailure, check_items, check_string
from dflow_lab.expr.gofmt import (
    go_json,
    go_sprint,
    go_type,
    hash_key,
    is_number,
    parse_go_float,
    parse_go_int,
    wrap_int,
)


def want_str(name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise EvalFailure(f"invalid argument for {name} (type {go_type(v)}, want string)")
    return v


def want_list(name: str, v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise EvalFailure(f"invalid argument for {name} (type {go_type(v)}, want array)")
    return v


def want_int(name: str, v: Any) -> int:
    if type(v) is not int:
        raise EvalFailure(f"invalid argument for {name} (type {go_type(v)}, want int)")
    return v


def to_int(v: Any) -> int:
    """expr's ``int()``: ints as is, floats truncated, decimal strings parsed."""
    if type(v) is int:
        return v
    if type(v) is float:
        if math.isnan(v) or math.isinf(v):
            return -(1 << 63)
        return wrap_int(int(v))
    if isinstance(v, str):
        n = parse_go_int(v)
        if n is None:
            raise EvalFailure(f"invalid operation: int({v})")
        return n
    raise EvalFailure(f"invalid operation: int({go_type(v)})")


def to_float(v: Any) -> float:
    """expr's ``float()``: numbers converted, strings parsed as Go's ``strconv.ParseFloat``."""
    if is_number(v):
        return float(v)
    if isinstance(v, str):
        f = parse_go_float(v)
        if f is None:
            raise EvalFailure(f"invalid operation: float({v})")
        return f
    raise EvalFailure(f"invalid operation: float({go_type(v)})")


def from_json(text: Any) -> Any:
    """Go's ``json.Unmarshal`` into ``interface{}``: every number becomes a float64."""
    try:
        return json.loads(text, parse_int=float, parse_constant=_reject_constant)
    except (ValueError, TypeError) as exc:
        raise EvalFailure(f"invalid JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name!r} looking for beginning of value")


def _len(v: Any) -> int:
    if isinstance(v, (list, dict, str)):
        return len(v)
    raise EvalFailure(f"invalid argument for len (type {go_type(v)})")


def _abs(v: Any) -> Any:
    if is_number(v):
        return wrap_int(abs(v)) if type(v) is int else abs(v)
    raise EvalFailure(f"invalid argument for abs (type {go_type(v)})")


def _rounding(name: str, fn: Callable[[float], float]) -> Callable[[Any], Any]:
    def op(v: Any) -> Any:
        if type(v) is int:
            return float(v)
        if type(v) is float:
            return v if math.isnan(v) or math.isinf(v) else float(fn(v))
        raise EvalFailure(f"invalid argument for {name} (type {go_type(v)})")
    return op


def _round_half_away(f: float) -> float:
    return math.copysign(math.floor(abs(f) + 0.5), f)


def _trim(s: Any, chars: Any = None) -> str:
    text = want_str("trim", s)
    return text.strip() if chars is None else text.strip(want_str("trim", chars))


def _trim_prefix(s: Any, prefix: Any = " ") -> str:
    text, start = want_str("trimPrefix", s), want_str("trimPrefix", prefix)
    return text[len(start):] if start and text.startswith(start) else text


def _trim_suffix(s: Any, suffix: Any = " ") -> str:
    text, end = want_str("trimSuffix", s), want_str("trimSuffix", suffix)
    return text[:-len(end)] if end and text.endswith(end) else text


def go_split(s: str, sep: str, n: int = -1, after: bool = False) -> list[str]:
    """Go's ``strings.SplitN``/``SplitAfterN``."""
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if 0 < n < len(chars):
            chars = chars[:n - 1] + ["".join(chars[n - 1:])]
        return chars
    parts = s.split(sep) if n < 0 else s.split(sep, n - 1)
    if after:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    check_items(len(parts), "split")
    return parts


def _split(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return go_split(want_str("split", s), want_str("split", sep), want_int("split", n))


def _split_after(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return go_split(want_str("splitAfter", s), want_str("splitAfter", sep), want_int("splitAfter", n), after=True)


def go_replace(s: str, old: str, new: str, n: int = -1) -> str:
    """Go's ``strings.Replace`` (all when ``n`` < 0), with the evaluator's size limit."""
    if old == "":
        pieces = list(s)
        limit = len(pieces) + 1 if n < 0 else min(n, len(pieces) + 1)
        out = "".join(new + p if i < limit else p for i, p in enumerate(pieces))
        out += new if limit > len(pieces) else ""
    else:
        out = s.replace(old, new, n)
    check_string(len(out), "replace")
    return out


def _replace(s: Any, old: Any, new: Any, n: Any = -1) -> str:
    return go_replace(want_str("replace", s), want_str("replace", old), want_str("replace", new),
                      want_int("replace", n))


def go_repeat(s: str, n: int) -> str:
    """Go's ``strings.Repeat`` with the evaluator's size limit."""
    if n < 0:
        raise EvalFailure("strings: negative Repeat count")
    check_string(len(s) * n, "repeat")
    return s * n


def _repeat(s: Any, n: Any) -> str:
    n = want_int("repeat", n)
    if n < 0:
        raise EvalFailure(f"invalid argument for repeat (expected positive integer, got {n})")
    if n > 1_000_000:
        raise EvalFailure("memory budget exceeded")
    return go_repeat(want_str("repeat", s), n)


def _join(items: Any, sep: Any = "") -> str:
    strings = [want_str("join", x) for x in want_list("join", items)]
    out = want_str("join", sep).join(strings)
    check_string(len(out), "join")
    return out


def _index_of(s: Any, sub: Any) -> int:
    return want_str("indexOf", s).encode().find(want_str("indexOf", sub).encode())


def _last_index_of(s: Any, sub: Any) -> int:
    return want_str("lastIndexOf", s).encode().rfind(want_str("lastIndexOf", sub).encode())


def _numbers(name: str, args: tuple[Any, ...] | list[Any], depth: int = 0) -> list[Any]:
    """The numbers of the arguments, arrays flattened (as expr's aggregate builtins read them)."""
    if depth > 100:
        raise EvalFailure(f"{name}: arrays nest too deeply")
    values: list[Any] = []
    for v in args:
        if isinstance(v, list):
            values.extend(_numbers(name, v, depth + 1))
        elif is_number(v):
            values.append(v)
        else:
            raise EvalFailure(f"invalid argument for {name} (type {go_type(v)})")
    return values


def _min_max(name: str, pick: Callable[..., Any]) -> Callable[..., Any]:
    def op(*args: Any) -> Any:
        if len(args) == 1 and not isinstance(args[0], list) and not is_number(args[0]):
            return args[0]
        values = _numbers(name, args)
        return pick(values) if values else None
    return op


def _mean(*args: Any) -> float:
    values = _numbers("mean", args)
    return math.fsum(map(float, values)) / len(values) if values else 0.0


def _median(*args: Any) -> float:
    values = sorted(map(float, _numbers("median", args)))
    mid = len(values) // 2
    if not values:
        return 0.0
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _to_base64(s: Any) -> str:
    return base64.b64encode(want_str("toBase64", s).encode()).decode()


def _from_base64(s: Any) -> str:
    try:
        return base64.b64decode(want_str("fromBase64", s), validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        raise EvalFailure("illegal base64 data") from None


def _get(v: Any, key: Any) -> Any:
    """expr's ``get``: like indexing, but nil instead of an error."""
    if isinstance(v, dict):
        return v.get(key) if isinstance(key, str) else None
    if isinstance(v, (list, str)) and is_number(key) and not isinstance(key, bool):
        seq = v.encode() if isinstance(v, str) else v
        i = to_int(key)
        i = i + len(seq) if i < 0 else i
        return seq[i] if 0 <= i < len(seq) else None
    return None


def _first(v: Any) -> Any:
    return _get(v, 0)


def _last(v: Any) -> Any:
    return _get(v, -1)


def _keys(v: Any) -> list[Any]:
    if not isinstance(v, dict):
        raise EvalFailure(f"cannot get keys from {go_type(v)}")
    return list(v)


def _values(v: Any) -> list[Any]:
    if not isinstance(v, dict):
        raise EvalFailure(f"cannot get values from {go_type(v)}")
    return list(v.values())


def _to_pairs(v: Any) -> list[Any]:
    if not isinstance(v, dict):
        raise EvalFailure(f"cannot transform {go_type(v)} to pairs")
    return [[k, x] for k, x in v.items()]


def _from_pairs(v: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in want_list("fromPairs", v):
        if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
            raise EvalFailure("invalid argument for fromPairs: want [string, value] pairs")
        out[pair[0]] = pair[1]
    return out


def _type(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "bool"
    return {int: "int", float: "float", str: "string", list: "array", dict: "map"}.get(type(v), "func")


def _take(v: Any, n: Any) -> list[Any]:
    return want_list("take", v)[:max(want_int("take", n), 0)]


def _reverse(v: Any) -> list[Any]:
    return list(reversed(want_list("reverse", v)))


def uniq(values: list[Any], numbers_by_value: bool) -> list[Any]:
    """The values without repeats, first occurrences kept (linear time)."""
    seen: set[Any] = set()
    out: list[Any] = []
    for x in values:
        key = hash_key(x, numbers_by_value)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


def _uniq(v: Any) -> list[Any]:
    return uniq(want_list("uniq", v), numbers_by_value=True)


def sort_key(name: str, values: list[Any]) -> Callable[[Any], Any]:
    if all(is_number(x) for x in values):
        return lambda x: x
    if all(isinstance(x, str) for x in values):
        return lambda x: x
    raise EvalFailure(f"invalid argument for {name}: cannot sort mixed or unordered values")


def _sort(v: Any, order: Any = "asc") -> list[Any]:
    values = want_list("sort", v)
    if order not in ("asc", "desc"):
        raise EvalFailure(f"unknown order {go_sprint(order)}, use asc or desc")
    return sorted(values, key=sort_key("sort", values), reverse=order == "desc")


def _concat(*arrays: Any) -> list[Any]:
    out: list[Any] = []
    for a in arrays:
        out.extend(want_list("concat", a))
    check_items(len(out), "concat")
    return out


def _flatten(v: Any) -> list[Any]:
    out: list[Any] = []

    def walk(x: Any) -> None:
        for y in x:
            if isinstance(y, list):
                walk(y)
            else:
                out.append(y)
    walk(want_list("flatten", v))
    return out


def _bits(name: str, fn: Callable[..., int]) -> Callable[..., int]:
    def op(*args: Any) -> int:
        return wrap_int(fn(*(want_int(name, a) for a in args)))
    return op


def _shift_left(a: int, b: int) -> int:
    if b < 0:
        raise EvalFailure("invalid operation: negative shift count")
    return a << b if b < 64 else 0


def _shift_right(a: int, b: int) -> int:
    if b < 0:
        raise EvalFailure("invalid operation: negative shift count")
    return a >> min(b, 63)


def _ushift_right(a: int, b: int) -> int:
    if b < 0:
        raise EvalFailure("invalid operation: negative shift count")
    return ((a & ((1 << 64) - 1)) >> b) if b < 64 else 0


def _to_json(v: Any) -> str:
    return go_json(v, indent="  ")


def _string(v: Any) -> str:
    return go_sprint(v)


def _has_prefix(s: Any, p: Any) -> bool:
    return want_str("hasPrefix", s).startswith(want_str("hasPrefix", p))


def _has_suffix(s: Any, p: Any) -> bool:
    return want_str("hasSuffix", s).endswith(want_str("hasSuffix", p))


#: name -> (function, least arguments, most arguments; -1 for variadic)
BUILTINS: dict[str, tuple[Callable[..., Any], int, int]] = {
    "len": (_len, 1, 1),
    "abs": (_abs, 1, 1),
    "ceil": (_rounding("ceil", math.ceil), 1, 1),
    "floor": (_rounding("floor", math.floor), 1, 1),
    "round": (_rounding("round", _round_half_away), 1, 1),
    "int": (to_int, 1, 1),
    "float": (to_float, 1, 1),
    "string": (_string, 1, 1),
    "trim": (_trim, 1, 2),
    "trimPrefix": (_trim_prefix, 1, 2),
    "trimSuffix": (_trim_suffix, 1, 2),
    "upper": (lambda s: want_str("upper", s).upper(), 1, 1),
    "lower": (lambda s: want_str("lower", s).lower(), 1, 1),
    "split": (_split, 2, 3),
    "splitAfter": (_split_after, 2, 3),
    "replace": (_replace, 3, 4),
    "repeat": (_repeat, 2, 2),
    "join": (_join, 1, 2),
    "indexOf": (_index_of, 2, 2),
    "lastIndexOf": (_last_index_of, 2, 2),
    "hasPrefix": (_has_prefix, 2, 2),
    "hasSuffix": (_has_suffix, 2, 2),
    "max": (_min_max("max", max), 1, -1),
    "min": (_min_max("min", min), 1, -1),
    "mean": (_mean, 1, -1),
    "median": (_median, 1, -1),
    "toJSON": (_to_json, 1, 1),
    "fromJSON": (lambda s: from_json(want_str("fromJSON", s)), 1, 1),
    "toBase64": (_to_base64, 1, 1),
    "fromBase64": (_from_base64, 1, 1),
    "first": (_first, 1, 1),
    "last": (_last, 1, 1),
    "get": (_get, 2, 2),
    "keys": (_keys, 1, 1),
    "values": (_values, 1, 1),
    "toPairs": (_to_pairs, 1, 1),
    "fromPairs": (_from_pairs, 1, 1),
    "type": (_type, 1, 1),
    "take": (_take, 2, 2),
    "reverse": (_reverse, 1, 1),
    "uniq": (_uniq, 1, 1),
    "sort": (_sort, 1, 2),
    "concat": (_concat, 1, -1),
    "flatten": (_flatten, 1, 1),
    "bitand": (_bits("bitand", lambda a, b: a & b), 2, 2),
    "bitor": (_bits("bitor", lambda a, b: a | b), 2, 2),
    "bitxor": (_bits("bitxor", lambda a, b: a ^ b), 2, 2),
    "bitnand": (_bits("bitnand", lambda a, b: a & ~b), 2, 2),
    "bitnot": (_bits("bitnot", lambda a: ~a), 1, 1),
    "bitshl": (_bits("bitshl", _shift_left), 2, 2),
    "bitshr": (_bits("bitshr", _shift_right), 2, 2),
    "bitushr": (_bits("bitushr", _ushift_right), 2, 2),
}

#: expr-lang builtins this evaluator does not provide: time of day, time zones and durations.
UNSUPPORTED_BUILTINS = frozenset({"now", "date", "duration", "timezone"})
