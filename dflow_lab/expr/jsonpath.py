"""JSONPath queries for Argo's ``jsonpath(json, path)`` expression function.

Covers the forms of github.com/evilmonkeyinc/jsonpath that workflows use: ``$``, ``.key``,
``['key']``, ``[n]`` (negative from the end), ``[*]``/``.*``, unions ``[0,2]``/``['a','b']``, ranges
``[start:end:step]``, recursive descent ``..key``, ``.length``, and filters ``[?(@.age > 42 && @.name
== 'x')]``. A definite path returns one value; a wildcard, union, range, filter or recursive descent
returns an array. Map members are visited in key order.
"""

from __future__ import annotations

import re
from typing import Any

from dflow_lab.expr.errors import EvalFailure
from dflow_lab.expr.gofmt import go_equal, is_number

_FILTER_TOKEN = re.compile(r"""\s*(?:(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<op>==|!=|<=|>=|&&|\|\||[<>!()+\-*/%])|(?P<path>[@$](?:\.[A-Za-z_][\w-]*|\[[^\]]*\])*)
    |(?P<word>true|false|null))""", re.X)


def _fail(path: str, msg: str) -> EvalFailure:
    return EvalFailure(f"jsonpath {path!r}: {msg}")


class _Path:
    def __init__(self, path: str) -> None:
        self.path = path
        self.i = 0

    def parse(self) -> list[tuple[str, Any]]:
        p = self.path.strip()
        if not p.startswith("$"):
            raise _fail(self.path, "a query must start with $")
        self.path, self.i = p, 1
        segments: list[tuple[str, Any]] = []
        while self.i < len(p):
            if p.startswith("..", self.i):
                self.i += 2
                if self.i < len(p) and p[self.i] == "[":
                    segments.append(("recursive", None))
                    continue
                segments.append(("recursive", None))
                segments.append(self.dotted())
            elif p[self.i] == ".":
                self.i += 1
                segments.append(self.dotted())
            elif p[self.i] == "[":
                segments.append(self.bracket())
            else:
                raise _fail(self.path, f"unexpected {p[self.i]!r} at {self.i}")
        return segments

    def dotted(self) -> tuple[str, Any]:
        p = self.path
        if self.i < len(p) and p[self.i] == "*":
            self.i += 1
            return ("wildcard", None)
        m = re.compile(r"[^.\[\]]+").match(p, self.i)
        if not m:
            raise _fail(p, f"expected a key at {self.i}")
        self.i = m.end()
        return ("key", m.group())

    def bracket(self) -> tuple[str, Any]:
        p = self.path
        end = _closing(p, self.i)
        if end < 0:
            raise _fail(p, "unclosed [")
        body = p[self.i + 1:end].strip()
        self.i = end + 1
        if body == "*":
            return ("wildcard", None)
        if body.startswith("?(") and body.endswith(")"):
            return ("filter", _Filter(body[2:-1], p).parse())
        parts = _split_top(body, ",")
        if len(parts) == 1 and ":" in body and not body.startswith(("'", '"')):
            bounds = [b.strip() for b in body.split(":")]
            if len(bounds) > 3:
                raise _fail(p, f"bad range [{body}]")
            try:
                nums = [int(b) if b else None for b in bounds] + [None] * (3 - len(bounds))
            except ValueError:
                raise _fail(p, f"bad range [{body}]") from None
            return ("range", nums)
        items: list[Any] = []
        for part in parts:
            part = part.strip()
            if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
                items.append(part[1:-1])
            else:
                try:
                    items.append(int(part))
                except ValueError:
                    raise _fail(p, f"bad subscript [{body}]") from None
        return ("union", items) if len(items) > 1 else ("index", items[0])


def _closing(p: str, start: int) -> int:
    depth, quote = 0, ""
    for j in range(start, len(p)):
        ch = p[j]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return j
    return -1


def _split_top(body: str, sep: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    for ch in body:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == sep:
            parts.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    parts.append("".join(buf))
    return parts


def _children(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [node[k] for k in sorted(node)]
    if isinstance(node, list):
        return list(node)
    return []


def _select_key(node: Any, key: str, path: str, strict: bool) -> list[Any]:
    if isinstance(node, dict):
        if key in node:
            return [node[key]]
        if key == "length":
            return [len(node)]
    elif isinstance(node, (list, str)) and key == "length":
        return [len(node)]
    if strict:
        raise _fail(path, f"key {key!r} not found")
    return []


def _select_index(node: Any, index: Any, path: str, strict: bool) -> list[Any]:
    if isinstance(index, str):
        return _select_key(node, index, path, strict)
    seq: Any = node
    if isinstance(node, dict):
        seq = [node[k] for k in sorted(node)]
    if isinstance(seq, (list, str)):
        j = index + len(seq) if index < 0 else index
        if 0 <= j < len(seq):
            return [seq[j]]
        if strict:
            raise _fail(path, f"index [{index}] out of range")
        return []
    if strict:
        raise _fail(path, f"cannot index a {type(node).__name__}")
    return []


def _descendants(node: Any) -> list[Any]:
    out = [node]
    for child in _children(node):
        out.extend(_descendants(child))
    return out


def query(path: str, data: Any) -> Any:
    """Run a JSONPath query on decoded JSON data."""
    segments = _Path(path).parse()
    nodes, multi = [data], False
    for kind, arg in segments:
        strict = not multi
        out: list[Any] = []
        if kind == "key":
            for n in nodes:
                out.extend(_select_key(n, arg, path, strict))
        elif kind == "index":
            for n in nodes:
                out.extend(_select_index(n, arg, path, strict))
        elif kind == "union":
            multi = True
            for n in nodes:
                for item in arg:
                    out.extend(_select_index(n, item, path, False))
        elif kind == "wildcard":
            multi = True
            for n in nodes:
                out.extend(_children(n))
        elif kind == "range":
            multi = True
            start, end, step = arg
            for n in nodes:
                if isinstance(n, (list, str)):
                    picked = n[slice(start, end, abs(step) if step else None)]
                    out.extend(reversed(picked) if step is not None and step < 0 else picked)
        elif kind == "filter":
            multi = True
            for n in nodes:
                out.extend(c for c in _children(n) if _truthy(arg.evaluate(c, data)))
        elif kind == "recursive":
            multi = True
            for n in nodes:
                out.extend(_descendants(n))
        nodes = out
    if multi:
        return nodes
    return nodes[0]


def _truthy(v: Any) -> bool:
    return v is True


class _Filter:
    """A filter expression: paths from @ (the element) or $ (the root), literals, comparisons, && || !."""

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path = text, path
        self.toks: list[tuple[str, Any]] = []
        self.i = 0

    def parse(self) -> _Filter:
        pos = 0
        text = self.text
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _FILTER_TOKEN.match(text, pos)
            if not m:
                raise _fail(self.path, f"cannot parse filter {text!r} at {pos}")
            pos = m.end()
            kind = m.lastgroup or ""
            value: Any = m.group(kind)
            if kind == "num":
                value = float(value)
            elif kind == "str":
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            elif kind == "word":
                kind, value = "lit", {"true": True, "false": False, "null": None}[value]
            self.toks.append((kind, value))
        self.tree = self.expr_or()
        if self.i != len(self.toks):
            raise _fail(self.path, f"unexpected {self.toks[self.i][1]!r} in filter {text!r}")
        return self

    def peek(self) -> tuple[str, Any] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take_op(self, *ops: str) -> str | None:
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in ops:
            self.i += 1
            return str(tok[1])
        return None

    def expr_or(self) -> Any:
        left = self.expr_and()
        while self.take_op("||"):
            left = ("||", left, self.expr_and())
        return left

    def expr_and(self) -> Any:
        left = self.expr_cmp()
        while self.take_op("&&"):
            left = ("&&", left, self.expr_cmp())
        return left

    def expr_cmp(self) -> Any:
        left = self.expr_add()
        op = self.take_op("==", "!=", "<", "<=", ">", ">=")
        return (op, left, self.expr_add()) if op else left

    def expr_add(self) -> Any:
        left = self.expr_mul()
        while op := self.take_op("+", "-"):
            left = (op, left, self.expr_mul())
        return left

    def expr_mul(self) -> Any:
        left = self.expr_unary()
        while op := self.take_op("*", "/", "%"):
            left = (op, left, self.expr_unary())
        return left

    def expr_unary(self) -> Any:
        if self.take_op("!"):
            return ("!", self.expr_unary(), None)
        if self.take_op("("):
            inner = self.expr_or()
            if not self.take_op(")"):
                raise _fail(self.path, f"unclosed ( in filter {self.text!r}")
            return inner
        tok = self.peek()
        if tok is None:
            raise _fail(self.path, f"filter {self.text!r} ends early")
        self.i += 1
        if tok[0] == "path":
            return ("path", tok[1], None)
        if tok[0] in ("num", "str", "lit"):
            return ("lit", tok[1], None)
        raise _fail(self.path, f"unexpected {tok[1]!r} in filter {self.text!r}")

    def evaluate(self, current: Any, root: Any, node: Any = None) -> Any:
        op, a, b = node if node is not None else self.tree
        if op == "lit":
            return a
        if op == "path":
            try:
                found = query("$" + a[1:], current if a[0] == "@" else root)
            except EvalFailure:
                return None
            return found
        if op == "!":
            return not _truthy(self.evaluate(current, root, a))
        if op == "&&":
            return _truthy(self.evaluate(current, root, a)) and _truthy(self.evaluate(current, root, b))
        if op == "||":
            return _truthy(self.evaluate(current, root, a)) or _truthy(self.evaluate(current, root, b))
        left, right = self.evaluate(current, root, a), self.evaluate(current, root, b)
        if op == "==":
            return go_equal(left, right)
        if op == "!=":
            return not go_equal(left, right)
        if op in ("<", "<=", ">", ">="):
            if not ((is_number(left) and is_number(right)) or (isinstance(left, str) and isinstance(right, str))):
                return False
            return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        if not (is_number(left) and is_number(right)):
            return None
        if op in ("/", "%") and right == 0:
            return None
        return {"+": left + right, "-": left - right, "*": left * right, "/": left / right,
                "%": left % right}[op]
