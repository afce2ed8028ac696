"""The expr-lang parser: tokens to an AST of :class:`Node` (precedence and forms as expr-lang v1.17)."""

from __future__ import annotations

from typing import Any

from dflow_lab.expr.errors import MAX_DEPTH, EvalFailure
from dflow_lab.expr.lexer import BRACKET, EOF, IDENT, NUMBER, OPERATOR, STRING, Tok, is_alphabetic, lex

# operator -> (precedence, right-associative)
_BINARY: dict[str, tuple[int, bool]] = {
    "|": (0, False), "or": (10, False), "||": (10, False), "and": (15, False), "&&": (15, False),
    "==": (20, False), "!=": (20, False), "<": (20, False), ">": (20, False), ">=": (20, False),
    "<=": (20, False), "in": (20, False), "matches": (20, False), "contains": (20, False),
    "startsWith": (20, False), "endsWith": (20, False), "..": (25, False), "+": (30, False),
    "-": (30, False), "*": (60, False), "/": (60, False), "%": (60, False), "**": (100, True),
    "^": (100, True), "??": (500, False),
}
_UNARY = {"not": 50, "!": 50, "-": 90, "+": 90}
_CHAINED_COMPARISONS = {"<", ">", "<=", ">="}
_NEGATABLE = {"in", "matches", "contains", "startsWith", "endsWith"}

#: builtins whose arguments are (collection, closure[, extra]); True marks an optional closure
PREDICATES: dict[str, tuple[str, ...]] = {
    "all": ("expr", "closure"), "none": ("expr", "closure"), "any": ("expr", "closure"),
    "one": ("expr", "closure"), "filter": ("expr", "closure"), "map": ("expr", "closure"),
    "count": ("expr", "closure?"), "sum": ("expr", "closure?"), "find": ("expr", "closure"),
    "findIndex": ("expr", "closure"), "findLast": ("expr", "closure"), "findLastIndex": ("expr", "closure"),
    "groupBy": ("expr", "closure"), "sortBy": ("expr", "closure", "expr?"),
    "reduce": ("expr", "closure", "expr?"),
}


class Node:
    """One AST node: ``kind`` plus up to three operands ``a``, ``b``, ``c``; ``pos`` is the source offset."""

    __slots__ = ("kind", "a", "b", "c", "pos")

    def __init__(self, kind: str, a: Any = None, b: Any = None, c: Any = None, pos: int = 0) -> None:
        self.kind, self.a, self.b, self.c, self.pos = kind, a, b, c, pos

    def __repr__(self) -> str:
        return f"Node({self.kind}, {self.a!r}, {self.b!r}, {self.c!r})"


class Parser:
    def __init__(self, src: str, builtins: frozenset[str]) -> None:
        self.toks = lex(src)
        self.i = 0
        self.depth = 0  # predicate (closure) depth, where # and . pointers are allowed
        self.nesting = 0
        self.builtins = builtins

    @property
    def cur(self) -> Tok:
        return self.toks[self.i]

    def next(self) -> None:
        if self.i < len(self.toks) - 1:
            self.i += 1

    def error(self, msg: str, tok: Tok | None = None) -> EvalFailure:
        tok = tok or self.cur
        return EvalFailure(msg, tok.pos)

    def unexpected(self, tok: Tok | None = None) -> EvalFailure:
        tok = tok or self.cur
        return self.error(f"unexpected token {tok}", tok)

    def expect(self, kind: str, value: str | None = None) -> None:
        if not self.cur.is_(kind, value):
            raise self.unexpected()
        self.next()

    def parse(self) -> Node:
        node = self.expression(0)
        if self.cur.kind != EOF:
            raise self.unexpected()
        return node

    def expression(self, precedence: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.error(f"expression nests deeper than {MAX_DEPTH}")
        try:
            return self._expression(precedence)
        finally:
            self.nesting -= 1

    def _expression(self, precedence: int) -> Node:
        if precedence == 0 and self.cur.is_(OPERATOR, "let"):
            return self.let()
        if precedence == 0 and self.cur.is_(OPERATOR, "if"):
            return self.if_else()
        left = self.primary()
        prev = ""
        while self.cur.kind == OPERATOR:
            op_tok = self.cur
            negate = op_tok.value == "not"
            if negate:
                save = self.i
                self.next()
                if self.cur.kind == OPERATOR and self.cur.value in _NEGATABLE:
                    if _BINARY[self.cur.value][0] >= precedence:
                        op_tok = self.cur
                    else:
                        self.i = save
                        break
                else:
                    raise self.unexpected()
            info = _BINARY.get(op_tok.value)
            if info is None or info[0] < precedence:
                break
            prec, right_assoc = info
            self.next()
            if op_tok.value == "|":
                name = self.cur
                self.expect(IDENT)
                left = self.call(name, [left])
            elif prev == "??" and op_tok.value != "??":
                raise self.error(f"Operator ({op_tok.value}) and coalesce expressions (??) cannot be mixed. "
                                 "Wrap either by parentheses.", op_tok)
            elif op_tok.value in _CHAINED_COMPARISONS:
                left = self.comparison(left, op_tok, prec)
            else:
                right = self.expression(prec if right_assoc else prec + 1)
                left = Node("binary", op_tok.value, left, right, pos=op_tok.pos)
                if negate:
                    left = Node("unary", "not", left, pos=op_tok.pos)
            prev = op_tok.value
        if precedence == 0:
            left = self.conditional(left)
        return left

    def comparison(self, left: Node, op_tok: Tok, prec: int) -> Node:
        root: Node | None = None
        while True:
            right = self.expression(prec + 1)
            cmp = Node("binary", op_tok.value, left, right, pos=op_tok.pos)
            root = cmp if root is None else Node("binary", "&&", root, cmp, pos=op_tok.pos)
            left = right
            op_tok = self.cur
            if not (op_tok.kind == OPERATOR and op_tok.value in _CHAINED_COMPARISONS):
                return root
            self.next()

    def conditional(self, node: Node) -> Node:
        while self.cur.is_(OPERATOR, "?"):
            pos = self.cur.pos
            self.next()
            if self.cur.is_(OPERATOR, ":"):
                self.next()
                a, b = node, self.expression(0)
            else:
                a = self.expression(0)
                self.expect(OPERATOR, ":")
                b = self.expression(0)
            node = Node("cond", node, a, b, pos=pos)
        return node

    def let(self) -> Node:
        pos = self.cur.pos
        self.next()
        name = self.cur
        self.expect(IDENT)
        self.expect(OPERATOR, "=")
        value = self.expression(0)
        self.expect(OPERATOR, ";")
        body = self.expression(0)
        return Node("let", name.value, value, body, pos=pos)

    def if_else(self) -> Node:
        pos = self.cur.pos
        self.next()
        cond = self.expression(0)
        self.expect(BRACKET, "{")
        a = self.expression(0)
        self.expect(BRACKET, "}")
        self.expect(OPERATOR, "else")
        if self.cur.is_(OPERATOR, "if"):
            b = self.if_else()
        else:
            self.expect(BRACKET, "{")
            b = self.expression(0)
            self.expect(BRACKET, "}")
        return Node("cond", cond, a, b, pos=pos)

    def primary(self) -> Node:
        tok = self.cur
        if tok.kind == OPERATOR and tok.value in _UNARY:
            self.next()
            operand = self.expression(_UNARY[tok.value])
            return self.postfix(Node("unary", tok.value, operand, pos=tok.pos))
        if tok.is_(BRACKET, "("):
            self.next()
            inner = self.expression(0)
            self.expect(BRACKET, ")")
            return self.postfix(inner)
        if tok.kind == OPERATOR and tok.value in ("#", "."):
            if self.depth == 0:
                raise self.error("cannot use pointer accessor outside predicate", tok)
            name = ""
            if tok.value == "#":
                self.next()
                if self.cur.kind == IDENT:
                    name = self.cur.value
                    self.next()
            return self.postfix(Node("pointer", name, pos=tok.pos))
        return self.secondary()

    def secondary(self) -> Node:
        tok = self.cur
        if tok.kind == IDENT:
            self.next()
            if tok.value in ("true", "false"):
                return Node("const", tok.value == "true", pos=tok.pos)
            if tok.value == "nil":
                return Node("const", None, pos=tok.pos)
            if self.cur.is_(BRACKET, "("):
                node = self.call(tok, [])
            else:
                node = Node("ident", tok.value, pos=tok.pos)
        elif tok.kind == NUMBER:
            self.next()
            node = Node("const", _number(tok), pos=tok.pos)
        elif tok.kind == STRING:
            self.next()
            node = Node("const", tok.value, pos=tok.pos)
        elif tok.is_(BRACKET, "["):
            node = self.array()
        elif tok.is_(BRACKET, "{"):
            node = self.map_literal()
        else:
            raise self.unexpected(tok)
        return self.postfix(node)

    def call(self, name: Tok, args: list[Node]) -> Node:
        spec = PREDICATES.get(name.value)
        if spec is not None:
            self.expect(BRACKET, "(")
            for i, kind in enumerate(spec[len(args):]):
                optional = kind.endswith("?")
                if self.cur.is_(BRACKET, ")"):
                    if optional:
                        break
                    raise self.error(f"expected at least {len(spec)} arguments")
                if i > 0:
                    self.expect(OPERATOR, ",")
                args.append(self.closure() if kind.startswith("closure") else self.expression(0))
            if self.cur.is_(OPERATOR, ","):
                self.next()
            self.expect(BRACKET, ")")
            return Node("builtin", name.value, args, pos=name.pos)
        args = self.arguments(args)
        if name.value in self.builtins:
            return Node("builtin", name.value, args, pos=name.pos)
        return Node("call", Node("ident", name.value, pos=name.pos), args, pos=name.pos)

    def arguments(self, args: list[Node]) -> list[Node]:
        offset = len(args)
        self.expect(BRACKET, "(")
        while not self.cur.is_(BRACKET, ")"):
            if len(args) > offset:
                self.expect(OPERATOR, ",")
                if self.cur.is_(BRACKET, ")"):
                    break
            args.append(self.expression(0))
        self.expect(BRACKET, ")")
        return args

    def closure(self) -> Node:
        braced = self.cur.is_(BRACKET, "{")
        if braced:
            self.next()
        self.depth += 1
        node = self.expression(0)
        self.depth -= 1
        if braced:
            self.expect(BRACKET, "}")
        return Node("closure", node, pos=node.pos)

    def array(self) -> Node:
        pos = self.cur.pos
        self.expect(BRACKET, "[")
        items: list[Node] = []
        while not self.cur.is_(BRACKET, "]"):
            if items:
                self.expect(OPERATOR, ",")
                if self.cur.is_(BRACKET, "]"):
                    break
            items.append(self.expression(0))
        self.expect(BRACKET, "]")
        return Node("array", items, pos=pos)

    def map_literal(self) -> Node:
        pos = self.cur.pos
        self.expect(BRACKET, "{")
        pairs: list[tuple[Node, Node]] = []
        while not self.cur.is_(BRACKET, "}"):
            if pairs:
                self.expect(OPERATOR, ",")
                if self.cur.is_(BRACKET, "}"):
                    break
            tok = self.cur
            if tok.kind in (NUMBER, STRING, IDENT) or (tok.kind == OPERATOR and _is_word(tok.value)):
                key = Node("const", tok.value, pos=tok.pos)
                self.next()
            elif tok.is_(BRACKET, "("):
                key = self.expression(0)
            else:
                raise self.error("a map key must be a quoted string, a number, a identifier, or an expression "
                                 f"enclosed in parentheses (unexpected token {tok})", tok)
            self.expect(OPERATOR, ":")
            pairs.append((key, self.expression(0)))
        self.expect(BRACKET, "}")
        return Node("map", pairs, pos=pos)

    def postfix(self, node: Node) -> Node:
        """Member, index, slice and method-call suffixes; a chain holding ``?.`` is wrapped in a
        ``chain`` node, where a nil met by ``?.`` makes the whole chain nil."""
        chained = False
        while True:
            tok = self.cur
            if tok.kind == OPERATOR and tok.value in (".", "?."):
                optional = tok.value == "?."
                chained = chained or optional
                self.next()
                if optional and self.cur.is_(BRACKET, "["):
                    node = self.index(node, optional=True)
                    continue
                prop = self.cur
                if not (prop.kind == IDENT or (prop.kind == OPERATOR and _is_word(prop.value))):
                    raise self.error("expected name", prop)
                self.next()
                member = Node("member", node, Node("const", prop.value, pos=prop.pos), optional, pos=prop.pos)
                if self.cur.is_(BRACKET, "("):
                    node = Node("call", member, self.arguments([]), pos=prop.pos)
                else:
                    node = member
            elif tok.is_(BRACKET, "["):
                node = self.index(node, optional=False)
            else:
                return Node("chain", node, pos=node.pos) if chained else node

    def index(self, node: Node, optional: bool) -> Node:
        pos = self.cur.pos
        self.expect(BRACKET, "[")
        if self.cur.is_(OPERATOR, ":"):
            self.next()
            upper = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return Node("slice", node, None, upper, pos=pos)
        lower = self.expression(0)
        if self.cur.is_(OPERATOR, ":"):
            self.next()
            upper = None if self.cur.is_(BRACKET, "]") else self.expression(0)
            self.expect(BRACKET, "]")
            return Node("slice", node, lower, upper, pos=pos)
        self.expect(BRACKET, "]")
        return Node("member", node, lower, optional, pos=pos)


def _is_word(value: str) -> bool:
    return bool(value) and is_alphabetic(value[0])


def _number(tok: Tok) -> int | float:
    text = tok.value.replace("_", "")
    low = text.lower()
    try:
        if low.startswith(("0x", "0o", "0b")):
            value = int(text, 0)
        elif "." in low or "e" in low:
            return float(text)
        else:
            value = int(text, 10)
    except ValueError:
        raise EvalFailure(f"invalid number {tok.value!r}", tok.pos) from None
    if value >= 1 << 63:
        raise EvalFailure(f"integer {tok.value} overflows int", tok.pos)
    return value


def parse(src: str, builtins: frozenset[str]) -> Node:
    """Parse an expr-lang expression; ``builtins`` are the names called as builtins, not env functions."""
    return Parser(src, builtins).parse()
