"""The expr-lang interpreter: walks a parsed AST over an environment of plain values.

Nothing here compiles or executes Python from the expression: identifiers are looked up in the
environment dict, operators are Python functions with Go semantics, and the only callables are the
builtins and the functions the environment holds (Argo's and sprig's, written in Python).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from dflow_lab.expr.builtins import BUILTINS, UNSUPPORTED_BUILTINS, sort_key, to_int
from dflow_lab.expr.errors import Budget, EvalFailure, check_items, check_string
from dflow_lab.expr.gofmt import go_equal, go_sprint, go_type, is_number, wrap_int
from dflow_lab.expr.parser import PREDICATES, Node
from dflow_lab.expr.regex import regex_search

BUILTIN_NAMES = frozenset(BUILTINS) | frozenset(PREDICATES) | UNSUPPORTED_BUILTINS


class _NilChain(Exception):
    """A ``?.`` met nil: the enclosing chain evaluates to nil."""


def fetch(obj: Any, key: Any) -> Any:
    """expr's member/index access: map keys (missing → nil), array/string indexes (negative from the end)."""
    if isinstance(obj, dict):
        if not isinstance(key, str):
            raise EvalFailure(f"cannot fetch {go_sprint(key)} from {go_type(obj)}: the key is a {go_type(key)}")
        return obj.get(key)
    if isinstance(obj, (list, str)):
        if isinstance(key, bool) or not is_number(key):
            raise EvalFailure(f"cannot fetch {go_sprint(key)} from {go_type(obj)}")
        seq = obj.encode() if isinstance(obj, str) else obj
        i = to_int(key)
        j = i + len(seq) if i < 0 else i
        if not 0 <= j < len(seq):
            raise EvalFailure(f"index out of range: {i} (array length is {len(seq)})")
        return seq[j]
    raise EvalFailure(f"cannot fetch {go_sprint(key)} from {go_type(obj)}")


def _slice(obj: Any, lower: Any, upper: Any) -> Any:
    if not isinstance(obj, (list, str)):
        raise EvalFailure(f"cannot slice {go_type(obj)}")
    seq = obj.encode() if isinstance(obj, str) else obj
    n = len(seq)
    a = 0 if lower is None else to_int(lower)
    b = n if upper is None else to_int(upper)
    a = max(a + n if a < 0 else a, 0)
    b = min(max(b + n if b < 0 else b, 0), n)
    a = min(a, b)
    part = seq[a:b]
    return part.decode("utf-8", "replace") if isinstance(part, bytes) else part


def _mismatch(op: str, a: Any, b: Any) -> EvalFailure:
    return EvalFailure(f"invalid operation: {go_type(a)} {op} {go_type(b)}")


def _arith(op: str, a: Any, b: Any) -> Any:
    if not (is_number(a) and is_number(b)):
        if op == "+" and isinstance(a, str) and isinstance(b, str):
            check_string(len(a) + len(b), "+")
            return a + b
        raise _mismatch(op, a, b)
    if op == "/":
        fa, fb = float(a), float(b)
        if fb == 0:
            return math.nan if fa == 0 or math.isnan(fa) else math.copysign(math.inf, fa) * math.copysign(1, fb)
        return fa / fb
    if op in ("**", "^"):
        try:
            return math.pow(float(a), float(b))
        except OverflowError:
            return math.inf
        except ValueError:
            return math.nan
    if op == "%":
        if type(a) is not int or type(b) is not int:
            raise _mismatch(op, a, b)
        if b == 0:
            raise EvalFailure("integer divide by zero")
        return wrap_int(int(math.fmod(a, b)) if abs(a) < 2**52 and abs(b) < 2**52 else a - b * int(a / b))
    both_int = type(a) is int and type(b) is int
    result = a + b if op == "+" else a - b if op == "-" else a * b
    return wrap_int(result) if both_int else float(result)


def _compare(op: str, a: Any, b: Any) -> bool:
    if not ((is_number(a) and is_number(b)) or (isinstance(a, str) and isinstance(b, str))):
        raise _mismatch(op, a, b)
    if op == "<":
        return bool(a < b)
    if op == ">":
        return bool(a > b)
    if op == "<=":
        return bool(a <= b)
    return bool(a >= b)


def _in(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    if isinstance(haystack, list):
        return any(go_equal(x, needle) for x in haystack)
    if isinstance(haystack, dict):
        return isinstance(needle, str) and needle in haystack
    raise EvalFailure(f'operator "in" not defined on {go_type(haystack)}')


def _strings(op: str, a: Any, b: Any) -> tuple[str, str]:
    if not (isinstance(a, str) and isinstance(b, str)):
        raise _mismatch(op, a, b)
    return a, b


def _range(a: Any, b: Any) -> list[Any]:
    if type(a) is not int or type(b) is not int:
        raise _mismatch("..", a, b)
    check_items(b - a + 1, "range")
    return list(range(a, b + 1))


def _binary_value(op: str, a: Any, b: Any) -> Any:
    if op == "==":
        return go_equal(a, b)
    if op == "!=":
        return not go_equal(a, b)
    if op in ("<", ">", "<=", ">="):
        return _compare(op, a, b)
    if op in ("+", "-", "*", "/", "%", "**", "^"):
        return _arith(op, a, b)
    if op == "in":
        return _in(a, b)
    if op == "..":
        return _range(a, b)
    if op == "matches":
        return regex_search(*reversed(_strings(op, a, b)))
    if op == "contains":
        s, sub = _strings(op, a, b)
        return sub in s
    if op == "startsWith":
        s, p = _strings(op, a, b)
        return s.startswith(p)
    if op == "endsWith":
        s, p = _strings(op, a, b)
        return s.endswith(p)
    raise EvalFailure(f"unknown operator {op}")


def _want_bool(v: Any, what: str) -> bool:
    if not isinstance(v, bool):
        raise EvalFailure(f"{what}: expected bool, got {go_type(v)}")
    return v


class Interpreter:
    """Evaluates one AST against ``env``; ``budget`` bounds the work."""

    def __init__(self, env: Mapping[str, Any], budget: Budget) -> None:
        self.env = env
        self.budget = budget
        self.frames: list[dict[str, Any]] = []
        self.lets: dict[str, Any] = {}

    def run(self, node: Node) -> Any:
        try:
            return self.eval(node)
        except RecursionError:
            raise EvalFailure("expression nests too deeply") from None

    def eval(self, node: Node) -> Any:
        self.budget.spend()
        try:
            return getattr(self, "_" + node.kind)(node)
        except EvalFailure as exc:
            if exc.position is None:
                exc.position = node.pos
            raise

    def _const(self, node: Node) -> Any:
        return node.a

    def _ident(self, node: Node) -> Any:
        name = node.a
        if name in self.lets:
            return self.lets[name]
        if name in self.env:
            return self.env[name]
        raise EvalFailure(f"unknown name {name}")

    def _pointer(self, node: Node) -> Any:
        frame = self.frames[-1]
        key = node.a or "#"
        if key not in frame:
            raise EvalFailure(f"unknown pointer #{node.a}")
        return frame[key]

    def _unary(self, node: Node) -> Any:
        v = self.eval(node.b)
        if node.a in ("not", "!"):
            return not _want_bool(v, f"invalid operation: {node.a} {go_type(v)}")
        if not is_number(v):
            raise EvalFailure(f"invalid operation: {node.a} {go_type(v)}")
        return (wrap_int(-v) if type(v) is int else -v) if node.a == "-" else v

    def _binary(self, node: Node) -> Any:
        """A left-associative chain (``a + b + c …``) is walked iteratively, not recursively."""
        spine: list[Node] = []
        while node.kind == "binary":
            spine.append(node)
            node = node.b
        value = self.eval(node)
        for binary in reversed(spine):
            self.budget.spend()
            try:
                value = self._apply(binary, value)
            except EvalFailure as exc:
                if exc.position is None:
                    exc.position = binary.pos
                raise
        return value

    def _apply(self, node: Node, left: Any) -> Any:
        op = node.a
        if op in ("&&", "and", "||", "or"):
            left = _want_bool(left, f"invalid operation: {op}")
            if (op in ("&&", "and")) != left:
                return left
            return _want_bool(self.eval(node.c), f"invalid operation: {op}")
        if op == "??":
            return left if left is not None else self.eval(node.c)
        right = self.eval(node.c)
        if op in ("in", "==", "!=", "+"):
            self._charge((left, right))
        return _binary_value(op, left, right)

    def _charge(self, values: Any) -> None:
        """Count the element-wise work a builtin or operator will do on its collection arguments."""
        for v in values:
            if isinstance(v, (list, dict)):
                self.budget.spend(len(v) // 10 + 1)
            elif isinstance(v, str):
                self.budget.spend(len(v) // 1000 + 1)

    def _member(self, node: Node) -> Any:
        obj = self.eval(node.a)
        if obj is None and node.c:
            raise _NilChain()
        return fetch(obj, self.eval(node.b))

    def _chain(self, node: Node) -> Any:
        try:
            return self.eval(node.a)
        except _NilChain:
            return None

    def _slice(self, node: Node) -> Any:
        obj = self.eval(node.a)
        lower = None if node.b is None else self.eval(node.b)
        upper = None if node.c is None else self.eval(node.c)
        return _slice(obj, lower, upper)

    def _cond(self, node: Node) -> Any:
        test = _want_bool(self.eval(node.a), "non-bool value used as condition")
        return self.eval(node.b if test else node.c)

    def _array(self, node: Node) -> list[Any]:
        self.budget.spend(len(node.a))
        return [self.eval(item) for item in node.a]

    def _map(self, node: Node) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.a:
            key = self.eval(key_node)
            if not isinstance(key, str):
                raise EvalFailure(f"a map key must be a string, not {go_type(key)}")
            out[key] = self.eval(value_node)
        return out

    def _let(self, node: Node) -> Any:
        value = self.eval(node.b)
        missing = object()
        saved = self.lets.get(node.a, missing)
        self.lets[node.a] = value
        try:
            return self.eval(node.c)
        finally:
            if saved is missing:
                del self.lets[node.a]
            else:
                self.lets[node.a] = saved

    def _call(self, node: Node) -> Any:
        callee = node.a
        if callee.kind == "ident":
            fn = self._ident(callee)
            name = callee.a
        else:  # a method: obj.name(...)
            obj = self.eval(callee.a)
            if obj is None and callee.c:
                raise _NilChain()
            name = str(callee.b.a)
            fn = fetch(obj, name) if isinstance(obj, dict) else None
            if fn is None:
                raise EvalFailure(f"function {name} is not defined on {go_type(obj)}")
        if not callable(fn):
            raise EvalFailure(f"{name} is not a function (type {go_type(fn)})")
        args = [self.eval(a) for a in node.b]
        self._charge(args)
        return fn(*args)

    def _builtin(self, node: Node) -> Any:
        name, args = node.a, node.b
        if name in PREDICATES:
            return self._predicate(name, args)
        if name in UNSUPPORTED_BUILTINS:
            raise EvalFailure(f"{name}() is not supported by dflow-lab's expression evaluator")
        fn, least, most = BUILTINS[name]
        if len(args) < least:
            raise EvalFailure(f"not enough arguments to call {name}")
        if most >= 0 and len(args) > most:
            raise EvalFailure(f"too many arguments to call {name}")
        values = [self.eval(a) for a in args]
        self._charge(values)
        return fn(*values)

    # --- predicates -----------------------------------------------------------------------------

    def _each(self, items: list[Any], closure: Node, acc: Any = None) -> Any:
        """Yield the closure's value for every element, with # / #index (and #acc) bound."""
        body = closure.a
        for i, item in enumerate(items):
            self.budget.spend()
            self.frames.append({"#": item, "index": i, "acc": acc})
            try:
                value = self.eval(body)
            finally:
                self.frames.pop()
            yield item, value

    def _predicate(self, name: str, args: list[Node]) -> Any:
        items = self.eval(args[0])
        if items is None and name in ("count", "sum"):
            items = []
        if isinstance(items, dict):
            items = list(items.values())
        if not isinstance(items, list):
            raise EvalFailure(f"cannot iterate over {go_type(items)} in {name}")
        closure = args[1] if len(args) > 1 else None
        return _PREDICATE_FUNCS[name](self, items, closure, args[2:])

    def _test(self, name: str, value: Any) -> bool:
        return _want_bool(value, f"predicate of {name} must return bool")

    def p_all(self, items: list[Any], closure: Node, _extra: list[Any]) -> bool:
        return all(self._test("all", v) for _, v in self._each(items, closure))

    def p_any(self, items: list[Any], closure: Node, _extra: list[Any]) -> bool:
        return any(self._test("any", v) for _, v in self._each(items, closure))

    def p_none(self, items: list[Any], closure: Node, _extra: list[Any]) -> bool:
        return not any(self._test("none", v) for _, v in self._each(items, closure))

    def p_one(self, items: list[Any], closure: Node, _extra: list[Any]) -> bool:
        return sum(1 for _, v in self._each(items, closure) if self._test("one", v)) == 1

    def p_filter(self, items: list[Any], closure: Node, _extra: list[Any]) -> list[Any]:
        return [item for item, v in self._each(items, closure) if self._test("filter", v)]

    def p_map(self, items: list[Any], closure: Node, _extra: list[Any]) -> list[Any]:
        return [v for _, v in self._each(items, closure)]

    def p_count(self, items: list[Any], closure: Node | None, _extra: list[Any]) -> int:
        if closure is None:
            return sum(1 for x in items if self._test("count", x))
        return sum(1 for _, v in self._each(items, closure) if self._test("count", v))

    def p_sum(self, items: list[Any], closure: Node | None, _extra: list[Any]) -> Any:
        values = items if closure is None else [v for _, v in self._each(items, closure)]
        total: Any = 0
        for v in values:
            total = _arith("+", total, v) if is_number(v) else _raise_sum(v)
        return total

    def p_find(self, items: list[Any], closure: Node, _extra: list[Any]) -> Any:
        return next((item for item, v in self._each(items, closure) if self._test("find", v)), None)

    def p_findIndex(self, items: list[Any], closure: Node, _extra: list[Any]) -> int:
        return next((i for i, (_, v) in enumerate(self._each(items, closure)) if self._test("findIndex", v)), -1)

    def p_findLast(self, items: list[Any], closure: Node, _extra: list[Any]) -> Any:
        found = [item for item, v in self._each(items, closure) if self._test("findLast", v)]
        return found[-1] if found else None

    def p_findLastIndex(self, items: list[Any], closure: Node, _extra: list[Any]) -> int:
        found = [i for i, (_, v) in enumerate(self._each(items, closure)) if self._test("findLastIndex", v)]
        return found[-1] if found else -1

    def p_groupBy(self, items: list[Any], closure: Node, _extra: list[Any]) -> dict[str, Any]:
        groups: dict[str, list[Any]] = {}
        for item, key in self._each(items, closure):
            groups.setdefault(key if isinstance(key, str) else go_sprint(key), []).append(item)
        return groups

    def p_sortBy(self, items: list[Any], closure: Node, extra: list[Any]) -> list[Any]:
        order = self.eval(extra[0]) if extra else "asc"
        if order not in ("asc", "desc"):
            raise EvalFailure(f"unknown order {go_sprint(order)}, use asc or desc")
        keyed = [(v, item) for item, v in self._each(items, closure)]
        key = sort_key("sortBy", [k for k, _ in keyed])
        keyed.sort(key=lambda pair: key(pair[0]), reverse=order == "desc")
        return [item for _, item in keyed]

    def p_reduce(self, items: list[Any], closure: Node, extra: list[Any]) -> Any:
        if extra:
            acc, rest, offset = self.eval(extra[0]), items, 0
        else:
            if not items:
                raise EvalFailure("reduce of empty array with no initial value")
            acc, rest, offset = items[0], items[1:], 1
        for i, item in enumerate(rest):
            self.budget.spend()
            self.frames.append({"#": item, "index": i + offset, "acc": acc})
            try:
                acc = self.eval(closure.a)
            finally:
                self.frames.pop()
        return acc


def _raise_sum(v: Any) -> Any:
    raise EvalFailure(f"invalid argument for sum (type {go_type(v)})")


_PREDICATE_FUNCS: dict[str, Callable[..., Any]] = {
    name: getattr(Interpreter, "p_" + name) for name in PREDICATES
}
