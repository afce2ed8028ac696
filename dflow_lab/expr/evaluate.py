"""The safe expression evaluator: Argo's ``when:`` conditions and ``{{…}}``/``{{=…}}`` templates.

Expressions are parsed into an AST and walked by an interpreter; nothing is ever passed to Python's
``eval``/``exec``/``compile``, so a value that came from a step's output is data, never code. Each
distinct expression is parsed once (LRU caches), and every evaluation is bounded in work, collection
size and string size.

- :func:`eval_when` — a ``when`` condition (govaluate, as Argo v4 evaluates it) after tag substitution.
- :func:`eval_expr` — an expr-lang expression over a nested environment plus Argo's functions
  (``asInt``, ``asFloat``, ``jsonpath``, ``toJson``, ``sprig.*``).
- :func:`render_template` — substitute ``{{name}}`` and ``{{=expr}}`` tags in a text.
- :func:`tags_in` — the variables a text's tags read (for dependency analysis).
"""

from __future__ import annotations

from collections import ChainMap
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterator, Mapping, MutableMapping, cast

from dflow_lab.expr.errors import Budget, EvalFailure, ExpressionError, UnresolvedVariableError
from dflow_lab.expr.gofmt import go_json, go_sprint
from dflow_lab.expr.gotime import go_time_json
from dflow_lab.expr.govaluate import compile_when, run_when
from dflow_lab.expr.interp import BUILTIN_NAMES, Interpreter
from dflow_lab.expr.lexer import lex
from dflow_lab.expr.parser import Node, parse
from dflow_lab.expr.sprig import argo_functions

__all__ = [
    "ExpressionError",
    "UnresolvedVariableError",
    "eval_when",
    "eval_expr",
    "render_template",
    "tags_in",
    "nest_variables",
    "expression_references",
    "go_string",
]

_FUNCTIONS: dict[str, Any] = argo_functions()
# Argo leaves an expression unresolved (instead of resolving it to nil) while these are not yet known.
_LATE_VARIABLES = ("item", "retries", "lastRetry.exitCode", "lastRetry.status", "lastRetry.duration",
                   "lastRetry.message", "workflow.status", "workflow.failures")


@lru_cache(maxsize=4096)
def _when_program(text: str) -> Any:
    return compile_when(text)


@lru_cache(maxsize=4096)
def _expr_program(text: str) -> Node:
    return parse(text, BUILTIN_NAMES)


def eval_when(expr: str) -> bool:
    """Evaluate a ``when`` condition whose tags were already substituted.

    Bare words are strings, as in Argo: ``heads == heads`` is true, ``"{{x}}" == "a"`` compares
    strings, ``5 > 3 && true``, ``a =~ "^a"``, ``!(x < 2)``, ``x in ('a', 'b')``, ``c ? a : b``
    and ``??`` work as govaluate defines them. An empty condition is true.
    """
    if expr.strip() == "":
        return True
    try:
        return run_when(_when_program(expr))
    except EvalFailure as exc:
        raise ExpressionError(expr, exc.cause, exc.position) from None


def eval_expr(expr: str, env: Mapping[str, Any]) -> Any:
    """Evaluate an expr-lang expression over ``env`` (a nested dict) and Argo's functions.

    Returns plain values: None, bool, int, float, str, list or dict (a timezone-aware ``datetime`` from
    sprig's ``now``). Raises :class:`ExpressionError` naming the expression, the cause and the position.
    """
    try:
        program = _expr_program(expr.strip())
        # the interpreter only reads its environment: ChainMap asks for mutable maps, this one is never written
        return Interpreter(ChainMap(_FUNCTIONS, cast("MutableMapping[str, Any]", env)), Budget()).run(program)
    except EvalFailure as exc:
        raise ExpressionError(expr, exc.cause, exc.position) from None


def nest_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys to nested dicts, as Argo builds an expression's environment: ``{"a.b": "1"}`` becomes
    ``{"a": {"b": "1"}}``; a key that is the parent of another key (``inputs.parameters`` beside
    ``inputs.parameters.x``) is dropped in favour of the nested one. Values are kept as they are."""
    keys = sorted(variables)
    nested: dict[str, Any] = {}
    for i, key in enumerate(keys):
        if i + 1 < len(keys) and keys[i + 1].startswith(key + "."):
            continue
        node = nested
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        if not isinstance(node.get(leaf), dict):
            node[leaf] = variables[key]
    return nested


def _split_tags(text: str) -> Iterator[tuple[str, str | None]]:
    """Split like Argo's fasttemplate: ("text", None) pieces and (tag, "") for each ``{{tag}}``; an
    unterminated ``{{`` stays literal text."""
    pos = 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            break
        end = text.find("}}", start + 2)
        if end < 0:
            break
        if start > pos:
            yield text[pos:start], None
        yield text[start + 2:end], ""
        pos = end + 2
    if pos < len(text):
        yield text[pos:], None


def go_string(value: Any) -> str:
    """A value as Go's ``fmt.Sprint`` prints it (``[1 2]``, ``map[a:1]``, ``1e+06``): the text Argo stores for
    an output parameter's ``valueFrom.expression`` result."""
    try:
        return go_sprint(value)
    except RecursionError:
        raise ExpressionError(repr(type(value).__name__), "the value nests too deeply to print") from None


def _format_result(value: Any) -> str:
    """An expression's value as Argo writes it into a template: strings (and times) as text, others as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):  # JSON gives a string, which Argo writes without its quotes
        return go_time_json(value)
    try:
        return go_json(value)
    except RecursionError:
        raise EvalFailure("the value nests too deeply to write as JSON") from None


def _references_late_variable(expr: str, env: Mapping[str, Any]) -> bool:
    for name in _LATE_VARIABLES:
        if name not in expr:
            continue
        node: Any = env
        for part in name.split("."):
            if not isinstance(node, Mapping) or part not in node:
                node = _MISSING
                break
            node = node[part]
        if node is _MISSING and _has_token_sequence(expr, name):
            return True
    return False


_MISSING = object()


def _has_token_sequence(expr: str, name: str) -> bool:
    try:
        tokens = [t.value for t in lex(expr)]
    except EvalFailure:
        return False
    needle = [t.value for t in lex(name)][:-1]
    return any(tokens[i:i + len(needle)] == needle for i in range(len(tokens) - len(needle) + 1))


def render_template(text: str, variables: Mapping[str, str], env: Mapping[str, Any] | None = None,
                    *, strict: bool = True) -> str:
    """Replace ``{{a.b.c}}`` with ``variables["a.b.c"]`` and ``{{=expr}}`` with the expression's value.

    Whitespace inside the braces of a simple tag is ignored. An expression is evaluated over ``env``
    (default: :func:`nest_variables` of ``variables``, JSON values left as strings as in Argo); its
    value is written as a string as-is and as JSON otherwise (``2``, ``2.5``, ``true``, ``[1,2]``; a time
    as RFC 3339). A
    substituted value is never scanned again for tags. An unknown ``{{x}}``, or an expression that
    fails or gives nil, raises (:class:`UnresolvedVariableError` naming ``x`` for a simple tag) when
    ``strict``; otherwise the tag is left as written, as Argo does before all values are known.
    """
    out: list[str] = []
    nested: Mapping[str, Any] | None = env
    for piece, tag in _split_tags(text):
        if tag is None:
            out.append(piece)
            continue
        if piece.startswith("="):
            if nested is None:
                nested = nest_variables(variables)
            out.append(_render_expression(text, piece, nested, strict))
            continue
        name = piece.strip()
        if name in variables:
            value = variables[name]
            if not isinstance(value, str):
                raise ExpressionError(text, f"failed to resolve {{{{{name}}}}} to string: value is a "
                                            f"{type(value).__name__}")
            out.append(value)
            continue
        nested_at = piece.rfind("{{")
        if nested_at > 0 and piece[nested_at + 2:] in variables:
            out.append("{{" + piece[:nested_at] + str(variables[piece[nested_at + 2:]]))
            continue
        if strict:
            raise UnresolvedVariableError(text, name)
        out.append("{{" + piece + "}}")
    return "".join(out)


def _render_expression(text: str, piece: str, env: Mapping[str, Any], strict: bool) -> str:
    expr = piece[1:]
    if not strict and _references_late_variable(expr, env):
        return "{{" + piece + "}}"
    try:
        value = eval_expr(expr, env)
        if value is None:
            raise ExpressionError(expr, "the expression evaluated to nil")
        return _format_result(value)
    except ExpressionError as exc:
        if strict:
            raise ExpressionError(expr, f"in {text!r}: {exc.cause}", exc.position) from None
        return "{{" + piece + "}}"
    except EvalFailure as exc:
        if strict:
            raise ExpressionError(expr, f"in {text!r}: {exc.cause}") from None
        return "{{" + piece + "}}"


def expression_references(expr: str) -> list[str]:
    """The variable paths an expr-lang expression reads, e.g. ``steps['a'].outputs.result`` gives
    ``steps.a.outputs.result`` (a path stops at the first computed index). Function names, ``#``
    pointers and ``let`` names are not variables."""
    try:
        root = _expr_program(expr.strip())
    except EvalFailure as exc:
        raise ExpressionError(expr, exc.cause, exc.position) from None
    found: list[str] = []
    _collect(root, found, frozenset())
    return list(dict.fromkeys(found))


def _member_path(node: Node) -> tuple[Node, list[str]]:
    """The root of a member chain and the leading string properties from it."""
    props: list[str] = []
    while node.kind in ("member", "chain"):
        if node.kind == "chain":
            node = node.a
            continue
        key = node.b
        if key.kind == "const" and isinstance(key.a, str):
            props.insert(0, key.a)
        else:
            props = []
        node = node.a
    return node, props


def _collect(root: Node, found: list[str], bound: frozenset[str]) -> None:
    """Depth-first, left to right, with an explicit stack (long operator chains are deep trees)."""
    stack: list[tuple[Any, frozenset[str]]] = [(root, bound)]
    while stack:
        node, names = stack.pop()
        if isinstance(node, (list, tuple)):
            stack.extend((child, names) for child in reversed(node))
            continue
        if not isinstance(node, Node):
            continue
        if node.kind == "ident":
            if node.a not in names and node.a not in _FUNCTIONS:
                found.append(node.a)
            continue
        if node.kind == "member":
            root_node, props = _member_path(node)
            if root_node.kind == "ident" and root_node.a not in names and root_node.a not in _FUNCTIONS:
                found.append(".".join([root_node.a, *props]))
                stack.extend((index, names) for index in reversed(_computed_indexes(node)))
                continue
        if node.kind == "call" and node.a.kind == "ident":
            stack.append((node.b, names))
            continue
        if node.kind == "let":
            stack.append((node.c, names | {node.a}))
            stack.append((node.b, names))
            continue
        stack.extend((child, names) for child in (node.c, node.b, node.a))


def _computed_indexes(node: Node) -> list[Node]:
    """The computed indexes inside a member chain (``a[b.c]`` reads ``b.c`` too), outermost last."""
    indexes: list[Node] = []
    while node.kind in ("member", "chain"):
        if node.kind == "member" and not (node.b.kind == "const" and isinstance(node.b.a, str)):
            indexes.append(node.b)
        node = node.a
    return list(reversed(indexes))


def tags_in(text: str) -> list[str]:
    """The variables a text's tags reference, in order, without duplicates: ``{{a.b}}`` gives ``a.b``;
    ``{{=expr}}`` gives the paths the expression reads (see :func:`expression_references`). An
    expression that does not parse raises :class:`ExpressionError`."""
    found: list[str] = []
    for piece, tag in _split_tags(text):
        if tag is None:
            continue
        if piece.startswith("="):
            found.extend(expression_references(piece[1:]))
        else:
            found.append(piece.strip())
    return list(dict.fromkeys(found))
