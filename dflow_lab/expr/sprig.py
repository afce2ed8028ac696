"""The functions Argo puts in an expression's environment: ``asInt``, ``asFloat``, ``jsonpath``, ``toJson``
and the sprig library (Masterminds/sprig v3 ``GenericFuncMap``) under ``sprig.``.

Each function checks its argument types the way Go's reflection-based call would (a ``string`` parameter
refuses an int), converts numbers with sprig's lenient ``toInt64``/``toFloat64``, and returns Go-shaped
values (sprig's ints are int64, ``splitList`` gives strings, ``get`` gives "" for a missing key).
Random, crypto-key, network, semver and date-parsing helpers are not provided: calling one is an error
that names it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import posixpath
import re
import zlib
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dflow_lab.expr.builtins import from_json, go_repeat, go_replace, go_split, to_float, to_int, uniq
from dflow_lab.expr.errors import EvalFailure, check_items, check_string
from dflow_lab.expr.gofmt import go_deep_equal, go_json, go_sprint, go_type, is_number, wrap_int
from dflow_lab.expr.gotime import go_format, now_utc
from dflow_lab.expr.jsonpath import query as jsonpath_query
from dflow_lab.expr.regex import compile_regex

_ZERO = {"str": "", "int": 0, "float": 0.0, "bool": False}
_KIND_NAMES = {"str": "string", "int": "int", "float": "float64", "bool": "bool"}


def _check(name: str, kind: str, i: int, v: Any) -> Any:
    if v is None:
        return _ZERO.get(kind)
    ok = {"str": isinstance(v, str), "int": type(v) is int, "float": type(v) is float,
          "bool": isinstance(v, bool)}.get(kind, True)
    if not ok:
        raise EvalFailure(f"{name}: argument {i + 1} is a {go_type(v)}, want {_KIND_NAMES[kind]}")
    return v


def gofunc(name: str, *kinds: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap ``fn`` with Go-call argument checks: kinds are str/int/float/bool/any, a leading ``*`` is variadic."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        variadic = bool(kinds) and kinds[-1].startswith("*")
        fixed = kinds[:-1] if variadic else kinds

        def call(*args: Any) -> Any:
            if len(args) < len(fixed) or (not variadic and len(args) > len(fixed)):
                want = f"at least {len(fixed)}" if variadic else str(len(fixed))
                raise EvalFailure(f"{name}: takes {want} arguments, got {len(args)}")
            checked = [_check(name, k, i, a) for i, (k, a) in enumerate(zip(fixed, args))]
            if variadic:
                rest_kind = kinds[-1][1:]
                checked += [_check(name, rest_kind, len(fixed) + i, a) for i, a in enumerate(args[len(fixed):])]
            return fn(*checked)

        call.__name__ = name
        call.__doc__ = fn.__doc__
        return call

    return wrap


# --- Go conversions sprig relies on (spf13/cast) ---------------------------------------------------

def _parse_int_base0(s: str) -> int | None:
    """``strconv.ParseInt(s, 0, 64)``: sign, then 0x/0o/0b/leading-0 octal or decimal digits."""
    sign = -1 if s.startswith("-") else 1
    body = s[1:] if s[:1] in "+-" else s
    low = body.lower()
    base, digits = 10, body
    if low.startswith(("0x", "0o", "0b")):
        base, digits = {"x": 16, "o": 8, "b": 2}[low[1]], body[2:].replace("_", "")
    elif len(body) > 1 and body.startswith("0"):
        base, digits = 8, body[1:].replace("_", "")
    if not digits or not digits.isascii() or not digits.isalnum():
        return None
    try:
        n = sign * int(digits, base)
    except ValueError:
        return None
    return n if -(1 << 63) <= n < (1 << 63) else None


def to_int64(v: Any) -> int:
    """sprig's ``toInt64`` (cast.ToInt64): numbers truncated, strings parsed, anything else 0."""
    if isinstance(v, bool):
        return int(v)
    if type(v) is int:
        return v
    if type(v) is float:
        return to_int(v)
    if isinstance(v, str):
        s = re.sub(r"\.0*$", "", v) if "." in v else v
        n = _parse_int_base0(s)
        return 0 if n is None else n
    return 0


def to_float64(v: Any) -> float:
    """sprig's ``toFloat64`` (cast.ToFloat64): numbers converted, strings parsed, anything else 0."""
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if is_number(v):
        return float(v)
    if isinstance(v, str):
        try:
            return to_float(v)
        except EvalFailure:
            return 0.0
    return 0.0


def strval(v: Any) -> str:
    return v if isinstance(v, str) else go_sprint(v)


def strslice(v: Any) -> list[str]:
    if isinstance(v, list):
        return [strval(x) for x in v if x is not None]
    return [] if v is None else [strval(v)]


def empty(v: Any) -> bool:
    """sprig's ``empty``: nil, "", 0, false and empty collections are empty."""
    if v is None:
        return True
    if isinstance(v, (str, list, dict)):
        return len(v) == 0
    if isinstance(v, bool):
        return not v
    if is_number(v):
        return bool(v == 0)
    return False


def _list_arg(name: str, v: Any) -> list[Any]:
    if not isinstance(v, list):
        raise EvalFailure(f"Cannot find {name} on type {go_type(v)}")
    return v


def _go_quote(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                        "\v": "\\v"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable() and ch != " ":
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_trunc_div(a: int, b: int) -> int:
    if b == 0:
        raise EvalFailure("integer divide by zero")
    q = abs(a) // abs(b)
    return wrap_int(q if (a >= 0) == (b >= 0) else -q)


def _go_base(p: str) -> str:
    if p == "":
        return "."
    p = p.rstrip("/")
    return "/" if p == "" else p.rsplit("/", 1)[-1]


def _go_dir(p: str) -> str:
    head = p[:p.rfind("/") + 1]
    return _go_clean(head)


def _go_clean(p: str) -> str:
    if p == "":
        return "."
    cleaned = posixpath.normpath(p)
    return "/" if cleaned.startswith("//") and cleaned.strip("/") == "" else cleaned.replace("//", "/")


def _go_ext(p: str) -> str:
    base = p.rsplit("/", 1)[-1]
    i = base.rfind(".")
    return base[i:] if i >= 0 else ""


def _regex_template(repl: str) -> str:
    """Go's ``$1``/``${name}`` replacement template as an RE2 (Python-style) one."""
    out, i = [], 0
    while i < len(repl):
        ch = repl[i]
        if ch == "\\":
            out.append("\\\\")
            i += 1
        elif ch == "$" and i + 1 < len(repl):
            if repl[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            m = re.compile(r"\{(\w+)\}|(\w+)").match(repl, i + 1)
            if not m:
                out.append("$")
                i += 1
                continue
            out.append(f"\\g<{m.group(1) or m.group(2)}>")
            i = m.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _duration(seconds: Any) -> str:
    """Go's ``time.Duration.String`` for a number of seconds."""
    total_ns = to_int64(seconds) * 1_000_000_000 if not isinstance(seconds, str) else to_int64(seconds) * 10**9
    if total_ns == 0:
        return "0s"
    sign = "-" if total_ns < 0 else ""
    ns = abs(total_ns)
    hours, rem = divmod(ns, 3600 * 10**9)
    minutes, rem = divmod(rem, 60 * 10**9)
    secs = rem / 10**9
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _until_step(start: int, stop: int, step: int) -> list[Any]:
    if stop < start:
        if step >= 0:
            return []
        n = (start - stop + (-step) - 1) // (-step)
    else:
        if step <= 0:
            return []
        n = (stop - start + step - 1) // step
    check_items(n, "untilStep")
    return list(range(start, stop, step))


def _seq(*params: int) -> str:
    if len(params) == 0:
        return ""
    if len(params) == 1:
        start, step, end = 1, 1, params[0]
    elif len(params) == 2:
        start, end = params
        step = 1 if end >= start else -1
    elif len(params) == 3:
        start, step, end = params
    else:
        return ""
    if step == 0 or (end > start and step < 0) or (end < start and step > 0):
        return ""
    values = _until_step(start, end + (1 if step > 0 else -1), step)
    return " ".join(map(str, values))


def _dig(*args: Any) -> Any:
    if len(args) < 3 or not isinstance(args[-1], dict):
        raise EvalFailure("dig: takes keys, a default and a dict")
    *keys, default, d = args
    cur: Any = d
    for k in keys:
        if not isinstance(cur, dict) or strval(k) not in cur:
            return default
        cur = cur[strval(k)]
    return cur


def _dict(*pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        out[strval(pairs[i])] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


def _round(a: Any, places: int, *on: float) -> float:
    round_on = on[0] if on else 0.5
    pow10 = math.pow(10, places)
    digit = pow10 * to_float64(a)
    frac = math.modf(digit)[0]
    return (math.ceil(digit) if frac >= round_on else math.floor(digit)) / pow10


def _regex_find_all(regex: str, s: str, n: int) -> list[Any]:
    found = [m.group(0) for m in compile_regex(regex).finditer(s)]
    return found if n < 0 else found[:n]


def _regex_split(regex: str, s: str, n: int) -> list[Any]:
    if n == 0:
        return []
    parts: list[Any] = compile_regex(regex).split(s, maxsplit=0 if n < 0 else n - 1)
    return parts


def _b64dec(v: str) -> str:
    try:
        return base64.b64decode(v, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        return f"illegal base64 data: {exc}"


def _b32dec(v: str) -> str:
    try:
        return base64.b32decode(v).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as exc:
        return f"illegal base32 data: {exc}"


def _to_json(v: Any) -> str:
    try:
        return go_json(v)
    except EvalFailure:
        return ""


def _kind_of(v: Any) -> str:
    return {"[]interface {}": "slice", "map[string]interface {}": "map", "<nil>": "invalid",
            "func": "func"}.get(go_type(v), go_type(v))


def _limited(name: str, fn: Callable[..., str]) -> Callable[..., str]:
    def call(*args: Any) -> str:
        out = fn(*args)
        check_string(len(out), name)
        return out
    return call


def _min_max(name: str, pick: Callable[..., int]) -> Callable[..., int]:
    def op(a: Any, *rest: Any) -> int:
        return pick([to_int64(a), *(to_int64(b) for b in rest)])
    return gofunc(name, "any", "*any")(op)


def _min_max_f(name: str, pick: Callable[..., float]) -> Callable[..., float]:
    def op(a: Any, *rest: Any) -> float:
        return pick([to_float64(a), *(to_float64(b) for b in rest)])
    return gofunc(name, "any", "*any")(op)


def _first(v: Any) -> Any:
    v = _list_arg("first", v)
    return v[0] if v else None


def _last(v: Any) -> Any:
    v = _list_arg("last", v)
    return v[-1] if v else None


def _uniq(v: Any) -> list[Any]:
    return uniq(_list_arg("uniq", v), numbers_by_value=False)


def _chunk(size: int, v: Any) -> list[Any]:
    v = _list_arg("chunk", v)
    if size <= 0:
        raise EvalFailure("chunk: size must be positive")
    return [v[i:i + size] for i in range(0, len(v), size)]


def _slice(value: Any, *idx: Any) -> list[Any]:
    v: list[Any] = _list_arg("slice", value)
    lo = to_int64(idx[0]) if idx else 0
    hi = to_int64(idx[1]) if len(idx) > 1 else len(v)
    if not 0 <= lo <= hi <= len(v):
        raise EvalFailure(f"slice: bounds [{lo}:{hi}] out of range for length {len(v)}")
    return v[lo:hi]


def _split_map(sep: str, orig: str, n: int = -1) -> dict[str, Any]:
    return {f"_{i}": part for i, part in enumerate(go_split(orig, sep, n))}


def _substr(start: int, end: int, s: str) -> str:
    if start < 0:
        return s[:end]
    if end < 0 or end > len(s):
        return s[start:]
    return s[start:end]


def _trunc(c: int, s: str) -> str:
    if c >= 0 and len(s) > c:
        return s[:c]
    if c < 0 and len(s) + c > 0:
        return s[len(s) + c:]
    return s


def _title(s: str) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), s)


def _indent(spaces: int, v: str) -> str:
    pad = " " * spaces
    return pad + v.replace("\n", "\n" + pad)


def _sprig_functions() -> dict[str, Callable[..., Any]]:
    f: dict[str, Callable[..., Any]] = {}

    def add(name: str, *kinds: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def reg(fn: Callable[..., Any]) -> Callable[..., Any]:
            f[name] = gofunc(name, *kinds)(fn)
            return fn
        return reg

    # numbers
    add("add", "*any")(lambda *xs: wrap_int(sum(to_int64(x) for x in xs)))
    add("add1", "any")(lambda x: wrap_int(to_int64(x) + 1))
    add("sub", "any", "any")(lambda a, b: wrap_int(to_int64(a) - to_int64(b)))
    add("mul", "any", "*any")(lambda a, *xs: wrap_int(math.prod([to_int64(a), *map(to_int64, xs)])))
    add("div", "any", "any")(lambda a, b: _go_trunc_div(to_int64(a), to_int64(b)))
    add("mod", "any", "any")(lambda a, b: wrap_int(to_int64(a) - to_int64(b) * _go_trunc_div(to_int64(a),
                                                                                                to_int64(b))))
    f["max"] = f["biggest"] = _min_max("max", max)
    f["min"] = _min_max("min", min)
    f["maxf"] = _min_max_f("maxf", max)
    f["minf"] = _min_max_f("minf", min)
    add("addf", "*any")(lambda *xs: math.fsum(map(to_float64, xs)))
    add("add1f", "any")(lambda x: to_float64(x) + 1)
    add("subf", "any", "*any")(lambda a, *xs: to_float64(a) - math.fsum(map(to_float64, xs)))
    add("mulf", "any", "*any")(lambda a, *xs: math.prod([to_float64(a), *map(to_float64, xs)]))
    add("divf", "any", "*any")(_divf)
    add("floor", "any")(lambda a: math.floor(to_float64(a)) * 1.0)
    add("ceil", "any")(lambda a: math.ceil(to_float64(a)) * 1.0)
    add("round", "any", "int", "*float")(_round)
    add("int", "any")(to_int64)
    add("int64", "any")(to_int64)
    add("float64", "any")(to_float64)
    add("atoi", "str")(lambda s: _atoi(s))
    add("toDecimal", "any")(_to_decimal)
    add("until", "int")(lambda n: _until_step(0, n, 1 if n >= 0 else -1))
    add("untilStep", "int", "int", "int")(_until_step)
    add("seq", "*int")(_seq)
    # strings
    add("toString", "any")(strval)
    add("toStrings", "any")(strslice)
    add("trim", "str")(lambda s: s.strip())
    add("trimAll", "str", "str")(lambda cut, s: s.strip(cut))
    add("trimSuffix", "str", "str")(lambda suf, s: s[:-len(suf)] if suf and s.endswith(suf) else s)
    add("trimPrefix", "str", "str")(lambda pre, s: s[len(pre):] if pre and s.startswith(pre) else s)
    add("upper", "str")(str.upper)
    add("lower", "str")(str.lower)
    add("title", "str")(_title)
    add("untitle", "str")(lambda s: re.sub(r"(^|\s)(\w)", lambda m: m.group(1) + m.group(2).lower(), s))
    add("nospace", "str")(lambda s: "".join(s.split()))
    add("substr", "int", "int", "str")(_substr)
    add("trunc", "int", "str")(_trunc)
    add("repeat", "int", "str")(lambda n, s: go_repeat(s, n))
    add("contains", "str", "str")(lambda sub, s: sub in s)
    add("hasPrefix", "str", "str")(lambda pre, s: s.startswith(pre))
    add("hasSuffix", "str", "str")(lambda suf, s: s.endswith(suf))
    add("quote", "*any")(lambda *xs: " ".join(_go_quote(strval(x)) for x in xs if x is not None))
    add("squote", "*any")(lambda *xs: " ".join(f"'{strval(x)}'" for x in xs if x is not None))
    add("cat", "*any")(lambda *xs: " ".join(go_sprint(x) for x in xs if x is not None))
    f["indent"] = gofunc("indent", "int", "str")(_limited("indent", _indent))
    f["nindent"] = gofunc("nindent", "int", "str")(_limited("nindent", lambda n, v: "\n" + _indent(n, v)))
    add("replace", "str", "str", "str")(lambda old, new, src: go_replace(src, old, new))
    add("plural", "str", "str", "int")(lambda one, many, n: one if n == 1 else many)
    add("split", "str", "str")(_split_map)
    add("splitn", "str", "int", "str")(lambda sep, n, orig: _split_map(sep, orig, n))
    add("splitList", "str", "str")(lambda sep, orig: go_split(orig, sep))
    add("join", "str", "any")(lambda sep, v: _join(sep, v))
    add("sortAlpha", "any")(lambda v: sorted(strslice(v)))
    # defaults, logic, reflection
    add("default", "any", "*any")(lambda d, *given: d if not given or empty(given[0]) else given[0])
    add("empty", "any")(empty)
    add("coalesce", "*any")(lambda *xs: next((x for x in xs if not empty(x)), None))
    add("all", "*any")(lambda *xs: all(not empty(x) for x in xs))
    add("any", "*any")(lambda *xs: any(not empty(x) for x in xs))
    add("ternary", "any", "any", "bool")(lambda vt, vf, cond: vt if cond else vf)
    add("typeOf", "any")(go_type)
    add("typeIs", "str", "any")(lambda t, v: go_type(v) == t)
    add("kindOf", "any")(_kind_of)
    add("kindIs", "str", "any")(lambda k, v: _kind_of(v) == k)
    add("deepEqual", "any", "any")(go_deep_equal)
    # JSON and encodings
    add("fromJson", "str")(lambda s: _or_none(from_json, s))
    add("mustFromJson", "str")(from_json)
    add("toJson", "any")(_to_json)
    add("mustToJson", "any")(go_json)
    add("toPrettyJson", "any")(lambda v: go_json(v, indent="  "))
    add("toRawJson", "any")(lambda v: go_json(v, escape_html=False))
    add("b64enc", "str")(lambda s: base64.b64encode(s.encode()).decode())
    add("b64dec", "str")(_b64dec)
    add("b32enc", "str")(lambda s: base64.b32encode(s.encode()).decode())
    add("b32dec", "str")(_b32dec)
    add("sha1sum", "str")(lambda s: hashlib.sha1(s.encode()).hexdigest())
    add("sha256sum", "str")(lambda s: hashlib.sha256(s.encode()).hexdigest())
    add("sha512sum", "str")(lambda s: hashlib.sha512(s.encode()).hexdigest())
    add("adler32sum", "str")(lambda s: str(zlib.adler32(s.encode())))
    # regular expressions (RE2, like Go's regexp)
    add("regexMatch", "str", "str")(lambda rx, s: _or_false(lambda: compile_regex(rx).search(s) is not None))
    add("mustRegexMatch", "str", "str")(lambda rx, s: compile_regex(rx).search(s) is not None)
    add("regexFindAll", "str", "str", "int")(_regex_find_all)
    add("regexFind", "str", "str")(lambda rx, s: (lambda m: m.group(0) if m else "")(compile_regex(rx).search(s)))
    add("regexReplaceAll", "str", "str", "str")(lambda rx, s, r: compile_regex(rx).sub(_regex_template(r), s))
    add("regexReplaceAllLiteral", "str", "str", "str")(
        lambda rx, s, r: compile_regex(rx).sub(r.replace("\\", "\\\\"), s))
    add("regexSplit", "str", "str", "int")(_regex_split)
    add("regexQuoteMeta", "str")(lambda s: re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", s))
    # lists
    add("list", "*any")(lambda *xs: list(xs))
    add("tuple", "*any")(lambda *xs: list(xs))
    add("first", "any")(_first)
    add("last", "any")(_last)
    add("rest", "any")(lambda v: _list_arg("rest", v)[1:])
    add("initial", "any")(lambda v: _list_arg("initial", v)[:-1])
    add("append", "any", "any")(lambda v, x: [*_list_arg("append", v), x])
    f["push"] = f["append"]
    add("prepend", "any", "any")(lambda v, x: [x, *_list_arg("prepend", v)])
    add("concat", "*any")(lambda *vs: [x for v in vs for x in _list_arg("concat", v)])
    add("reverse", "any")(lambda v: list(reversed(_list_arg("reverse", v))))
    add("uniq", "any")(_uniq)
    add("without", "any", "*any")(lambda v, *omit: [x for x in _list_arg("without", v)
                                                     if not any(go_deep_equal(x, o) for o in omit)])
    add("has", "any", "any")(lambda needle, v: any(go_deep_equal(needle, x) for x in _list_arg("has", v)))
    add("compact", "any")(lambda v: [x for x in _list_arg("compact", v) if not empty(x)])
    add("slice", "any", "*any")(_slice)
    add("chunk", "int", "any")(_chunk)
    # dicts
    add("dict", "*any")(_dict)
    add("get", "any", "str")(lambda d, k: _dict_arg("get", d).get(k, ""))
    add("set", "any", "str", "any")(lambda d, k, v: {**_dict_arg("set", d), k: v})
    add("unset", "any", "str")(lambda d, k: {x: v for x, v in _dict_arg("unset", d).items() if x != k})
    add("hasKey", "any", "str")(lambda d, k: k in _dict_arg("hasKey", d))
    add("keys", "*any")(lambda *ds: [k for d in ds for k in _dict_arg("keys", d)])
    add("values", "any")(lambda d: list(_dict_arg("values", d).values()))
    add("pick", "any", "*str")(lambda d, *ks: {k: v for k, v in _dict_arg("pick", d).items() if k in ks})
    add("omit", "any", "*str")(lambda d, *ks: {k: v for k, v in _dict_arg("omit", d).items() if k not in ks})
    add("pluck", "str", "*any")(lambda k, *ds: [_dict_arg("pluck", d)[k] for d in ds if k in d])
    add("dig", "*any")(_dig)
    # paths and durations
    add("base", "str")(_go_base)
    add("dir", "str")(_go_dir)
    add("clean", "str")(_go_clean)
    add("ext", "str")(_go_ext)
    add("isAbs", "str")(lambda p: p.startswith("/"))
    add("duration", "any")(_duration)
    # dates: a time value, or unix seconds; anything else means now (as sprig does)
    add("now")(now_utc)
    add("date", "str", "any")(lambda fmt, when: go_format(_as_time(when, "UTC"), fmt))
    f["date_in_zone"] = f["dateInZone"] = gofunc("dateInZone", "str", "any", "str")(
        lambda fmt, when, zone: go_format(_as_time(when, zone), fmt))
    add("htmlDate", "any")(lambda when: go_format(_as_time(when, "UTC"), "2006-01-02"))
    add("htmlDateInZone", "any", "str")(lambda when, zone: go_format(_as_time(when, zone), "2006-01-02"))
    add("unixEpoch", "any")(lambda when: str(int(_as_time(when, "UTC").timestamp())))
    return f


def _as_time(when: Any, zone: str) -> datetime:
    """sprig's ``dateInZone`` input: a time, or unix seconds; any other value is the current time."""
    if isinstance(when, datetime):
        moment = when
    elif type(when) is int:
        moment = datetime.fromtimestamp(when, timezone.utc)
    else:
        moment = now_utc()
    try:
        tz: Any = timezone.utc if zone in ("UTC", "Local", "") else ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = timezone.utc
    return moment.astimezone(tz)


def _divf(a: Any, *xs: Any) -> float:
    out = to_float64(a)
    for x in xs:
        d = to_float64(x)
        if d == 0:
            raise EvalFailure("divf: division by zero")
        out /= d
    return out


def _atoi(s: str) -> int:
    body = s[1:] if s[:1] in "+-" else s
    if not body or not body.isascii() or not body.isdigit():
        return 0
    n = int(s)
    return n if -(1 << 63) <= n < (1 << 63) else 0


def _join(sep: str, v: Any) -> str:
    out = sep.join(strslice(v))
    check_string(len(out), "join")
    return out


def _or_none(fn: Callable[[Any], Any], arg: Any) -> Any:
    try:
        return fn(arg)
    except EvalFailure:
        return None


def _or_false(fn: Callable[[], bool]) -> bool:
    try:
        return fn()
    except EvalFailure:
        return False


def _dict_arg(name: str, d: Any) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise EvalFailure(f"{name}: argument 1 is a {go_type(d)}, want map[string]interface {{}}")
    return d


def _to_decimal(v: Any) -> int:
    """sprig's ``toDecimal``: the value's text read as an octal number, else 0."""
    text = strval(v)
    body = text[1:] if text[:1] in "+-" else text
    if not body or any(c not in "01234567" for c in body):
        return 0
    return wrap_int(int(text, 8))


#: sprig functions this evaluator does not provide (time of day, randomness, keys, network…).
SPRIG_UNSUPPORTED = frozenset({
    "dateModify", "date_modify", "mustDateModify", "ago", "toDate", "mustToDate", "durationRound", "randAlpha", "randAlphaNum",
    "randAscii", "randNumeric", "randBytes", "randInt", "shuffle", "uuidv4", "genPrivateKey", "derivePassword",
    "buildCustomCert", "genCA", "genCAWithKey", "genSelfSignedCert", "genSelfSignedCertWithKey", "genSignedCert",
    "genSignedCertWithKey", "encryptAES", "decryptAES", "semver", "semverCompare", "getHostByName", "urlParse",
    "urlJoin", "abbrev", "abbrevboth", "wrap", "wrapWith", "initials", "swapcase", "camelcase", "snakecase",
    "kebabcase", "osBase", "osDir", "osClean", "osExt", "osIsAbs", "bcrypt", "htpasswd",
})


def _unsupported(name: str) -> Callable[..., Any]:
    def call(*_args: Any) -> Any:
        raise EvalFailure(f"sprig.{name} is not supported by dflow-lab's expression evaluator")
    call.__name__ = name
    return call


SPRIG: dict[str, Callable[..., Any]] = {**{n: _unsupported(n) for n in SPRIG_UNSUPPORTED}, **_sprig_functions()}


@gofunc("jsonpath", "str", "str")
def jsonpath(json_text: str, path: str) -> Any:
    """Argo's ``jsonpath(json, path)``: decode ``json`` (numbers become float64) and query it."""
    return jsonpath_query(path, from_json(json_text))


@gofunc("toJson", "any")
def to_json(value: Any) -> str:
    """Argo's ``toJson(v)``: compact JSON as Go's ``json.Marshal`` writes it."""
    return go_json(value)


def argo_functions() -> dict[str, Any]:
    """The names Argo adds to every expression's environment."""
    return {
        "asInt": gofunc("asInt", "any")(to_int),
        "asFloat": gofunc("asFloat", "any")(to_float),
        "jsonpath": jsonpath,
        "toJson": to_json,
        "sprig": dict(SPRIG),
    }
