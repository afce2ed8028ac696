"""Go value semantics for the evaluators: how Go prints (``fmt %v``), JSON-encodes (``encoding/json``),
compares and converts the values an expression works with.

Values are plain Python: ``None`` (nil), ``bool``, ``int`` (Go int64, wrapped on overflow), ``float``
(float64), ``str``, ``list`` ([]interface{}), ``dict`` with ``str`` keys (map[string]interface{}).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any

from dflow_lab.expr.errors import EvalFailure
from dflow_lab.expr.gotime import go_time_json, go_time_string

_INT64_MIN = -(1 << 63)
_INT64_SPAN = 1 << 64


def wrap_int(n: int) -> int:
    """Wrap an integer to Go's int64 range, as Go arithmetic does on overflow."""
    if _INT64_MIN <= n < -_INT64_MIN:
        return n
    return (n - _INT64_MIN) % _INT64_SPAN + _INT64_MIN


def is_number(v: Any) -> bool:
    return type(v) is int or type(v) is float


def go_type(v: Any) -> str:
    """The Go type name of a value, as Go's ``%T`` prints it."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "bool"
    if type(v) is int:
        return "int"
    if type(v) is float:
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if isinstance(v, datetime):
        return "time.Time"
    if callable(v):
        return "func"
    return type(v).__name__


def _digits(f: float) -> tuple[str, int]:
    """Shortest round-trip decimal digits of a finite non-zero |f| and its decimal point position
    (``123.4`` gives ``("1234", 3)``, ``0.05`` gives ``("5", -1)``)."""
    _sign, digit_tuple, exponent = Decimal(repr(abs(f))).as_tuple()
    raw = "".join(map(str, digit_tuple))
    digits = raw.rstrip("0") or "0"
    point = len(raw) + int(exponent)
    lead = len(digits) - len(digits.lstrip("0"))
    return digits.lstrip("0") or "0", point - lead


def _fmt_e(neg: bool, ds: str, dp: int, min_exp_digits: int) -> str:
    mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
    exp = dp - 1
    es = str(abs(exp)).rjust(min_exp_digits, "0")
    return ("-" if neg else "") + mant + "e" + ("-" if exp < 0 else "+") + es


def _fmt_f(neg: bool, ds: str, dp: int) -> str:
    if dp <= 0:
        s = "0." + "0" * (-dp) + ds
    elif dp >= len(ds):
        s = ds + "0" * (dp - len(ds))
    else:
        s = ds[:dp] + "." + ds[dp:]
    return ("-" if neg else "") + s


def _special(f: float) -> str | None:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    return None


def format_float_v(f: float) -> str:
    """A float64 as Go's ``fmt.Sprint`` prints it (``%v``: shortest ``%g``, so 1e+06 and 1e-05)."""
    special = _special(f)
    if special is not None:
        return special
    ds, dp = _digits(f)
    exp = dp - 1
    if exp < -4 or exp >= 6:
        return _fmt_e(f < 0, ds, dp, 2)
    return _fmt_f(f < 0, ds, dp)


def format_float_json(f: float) -> str:
    """A float64 as Go's ``encoding/json`` writes it."""
    if math.isnan(f) or math.isinf(f):
        raise EvalFailure(f"json: unsupported value: {_special(f)}")
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    ds, dp = _digits(f)
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        s = _fmt_e(f < 0, ds, dp, 2)
        head, _, tail = s.partition("e")
        sign, digits = tail[0], tail[1:]
        if sign == "-" and len(digits) == 2 and digits[0] == "0":
            digits = digits[1]
        return head + "e" + sign + digits
    return _fmt_f(f < 0, ds, dp)


def go_sprint(v: Any) -> str:
    """A value as Go's ``fmt.Sprint`` (``%v``) prints it."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if type(v) is int:
        return str(v)
    if type(v) is float:
        return format_float_v(v)
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "[" + " ".join(go_sprint(x) for x in v) + "]"
    if isinstance(v, dict):
        return "map[" + " ".join(f"{go_sprint(k)}:{go_sprint(v[k])}" for k in sorted(v, key=go_sprint)) + "]"
    if isinstance(v, datetime):
        return go_time_string(v)
    return str(v)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _json_string(s: str, escape_html: bool) -> str:
    out = ['"']
    for ch in s:
        esc = _JSON_ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch < " " or ch in "\u2028\u2029" or (escape_html and ch in "<>&"):
            out.append(f"\\u{ord(ch):04x}")
        elif "\ud800" <= ch <= "\udfff":
            out.append("\\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_json(v: Any, indent: str | None = None, escape_html: bool = True) -> str:
    """A value as Go's ``json.Marshal`` (or ``json.MarshalIndent(v, "", indent)``) encodes it."""
    parts: list[str] = []
    _encode(v, parts, indent, escape_html, 0)
    return "".join(parts)


def _encode(v: Any, out: list[str], indent: str | None, escape_html: bool, level: int) -> None:
    if v is None:
        out.append("null")
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif type(v) is int:
        out.append(str(v))
    elif type(v) is float:
        out.append(format_float_json(v))
    elif isinstance(v, str):
        out.append(_json_string(v, escape_html))
    elif isinstance(v, datetime):
        out.append(_json_string(go_time_json(v), escape_html))
    elif isinstance(v, (list, tuple)):
        if not v:
            out.append("[]")
            return
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            if indent is not None:
                out.append("\n" + indent * (level + 1))
            _encode(x, out, indent, escape_html, level + 1)
        if indent is not None:
            out.append("\n" + indent * level)
        out.append("]")
    elif isinstance(v, dict):
        if not v:
            out.append("{}")
            return
        out.append("{")
        for i, k in enumerate(sorted(v, key=str)):
            if i:
                out.append(",")
            if indent is not None:
                out.append("\n" + indent * (level + 1))
            out.append(_json_string(str(k), escape_html))
            out.append(": " if indent is not None else ":")
            _encode(v[k], out, indent, escape_html, level + 1)
        if indent is not None:
            out.append("\n" + indent * level)
        out.append("}")
    else:
        raise EvalFailure(f"json: unsupported type: {go_type(v)}")


def hash_key(v: Any, numbers_by_value: bool = False) -> Any:
    """A hashable key such that equal keys mean ``go_deep_equal`` values (or ``go_equal`` at the top level
    when ``numbers_by_value``): lets ``uniq`` run in linear time."""
    if type(v) is int or type(v) is float:
        return ("num", v) if numbers_by_value else (go_type(v), v)
    if isinstance(v, list):
        return ("list", tuple(hash_key(x) for x in v))
    if isinstance(v, dict):
        return ("map", tuple(sorted((k, hash_key(x)) for k, x in v.items())))
    return (go_type(v), v)


def go_deep_equal(a: Any, b: Any) -> bool:
    """Go's ``reflect.DeepEqual`` on values: types must match exactly (1 and 1.0 differ)."""
    if go_type(a) != go_type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(go_deep_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(go_deep_equal(a[k], b[k]) for k in a)
    if type(a) is float:
        return bool(a == b)  # NaN != NaN, as in Go
    return bool(a == b)


def go_equal(a: Any, b: Any) -> bool:
    """expr-lang's ``==``: numbers compare by value across int/float, otherwise ``reflect.DeepEqual``."""
    if is_number(a) and is_number(b):
        return bool(a == b)
    return go_deep_equal(a, b)


def parse_go_int(s: str) -> int | None:
    """``strconv.Atoi``/``ParseInt(s, 10, 64)``: optional sign and decimal digits only, else None."""
    body = s[1:] if s[:1] in "+-" else s
    if not body or not body.isascii() or not body.isdigit():
        return None
    n = int(s)
    if not _INT64_MIN <= n < -_INT64_MIN:
        return None
    return n


def parse_go_float(s: str) -> float | None:
    """``strconv.ParseFloat(s, 64)`` for decimal, exponent and inf/nan forms, else None."""
    t = s.lower()
    body = t[1:] if t[:1] in "+-" else t
    if body in ("inf", "infinity"):
        return float(s[0] + "inf") if s[:1] in "+-" else math.inf
    if body == "nan":
        return math.nan
    if not body or "_" in body or not body.isascii():
        return None
    if body.startswith("0x"):
        try:
            return float.fromhex(t)
        except ValueError:
            return None
    allowed = set("0123456789.e+-")
    if not set(body) <= allowed or not (body[0].isdigit() or body[0] == "."):
        return None
    try:
        return float(t)
    except ValueError:
        return None
