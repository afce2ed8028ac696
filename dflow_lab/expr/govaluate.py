"""``when:`` conditions, evaluated as Argo does: govaluate (Knetic/govaluate) syntax, where every bare
word (govaluate's *variable*) is turned into a string, so ``heads == heads`` is ``"heads" == "heads"``.

The tags were already substituted by the engine. Argo parses the text, converts each VARIABLE token to a
STRING token, checks the token sequence again and evaluates with no parameters; this module reproduces
that pipeline token for token: the lexer, the token-transition table, the precompiled ``=~`` patterns,
the operator precedence (left-associative, ternary ``?``/``:``/``??`` on the lowest level), the type
checks and their messages. Values are float64 numbers, strings, bools, and arrays built with ``,``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from dflow_lab.expr.errors import MAX_DEPTH, MAX_SOURCE, Budget, EvalFailure
from dflow_lab.expr.gofmt import go_deep_equal, go_sprint, wrap_int
from dflow_lab.expr.regex import compile_regex

# token kinds
PREFIX, NUMERIC, BOOLEAN, STRING, PATTERN, TIME, VARIABLE = (
    "PREFIX", "NUMERIC", "BOOLEAN", "STRING", "PATTERN", "TIME", "VARIABLE")
SEPARATOR, ACCESSOR, COMPARATOR, LOGICALOP, MODIFIER = "SEPARATOR", "ACCESSOR", "COMPARATOR", "LOGICALOP", "MODIFIER"
CLAUSE, CLAUSE_CLOSE, TERNARY, UNKNOWN = "CLAUSE", "CLAUSE_CLOSE", "TERNARY", "UNKNOWN"

_PREFIX_SYMBOLS = {"-", "!", "~"}
_MODIFIER_SYMBOLS = {"+", "-", "*", "/", "%", "**", "&", "|", "^", ">>", "<<"}
_LOGICAL_SYMBOLS = {"&&", "||"}
_COMPARATOR_SYMBOLS = {"==", "!=", ">", ">=", "<", "<=", "=~", "!~", "in"}
_TERNARY_SYMBOLS = {"?", ":", "??"}

_VALUE_KINDS = (NUMERIC, BOOLEAN, VARIABLE, PATTERN, ACCESSOR, STRING, TIME)
# kind -> (may end the expression, kinds that may follow)
_STATES: dict[str, tuple[bool, frozenset[str]]] = {
    UNKNOWN: (False, frozenset({PREFIX, *_VALUE_KINDS, "FUNCTION", CLAUSE})),
    CLAUSE: (False, frozenset({PREFIX, *_VALUE_KINDS, "FUNCTION", CLAUSE, CLAUSE_CLOSE})),
    CLAUSE_CLOSE: (True, frozenset({COMPARATOR, MODIFIER, NUMERIC, BOOLEAN, VARIABLE, STRING, PATTERN, TIME,
                                    CLAUSE, CLAUSE_CLOSE, LOGICALOP, TERNARY, SEPARATOR})),
    NUMERIC: (True, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    BOOLEAN: (True, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    STRING: (True, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    TIME: (True, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR})),
    PATTERN: (True, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, SEPARATOR})),
    VARIABLE: (True, frozenset({MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    MODIFIER: (False, frozenset({PREFIX, NUMERIC, VARIABLE, "FUNCTION", ACCESSOR, STRING, BOOLEAN, CLAUSE,
                                 CLAUSE_CLOSE})),
    COMPARATOR: (False, frozenset({PREFIX, *_VALUE_KINDS, "FUNCTION", CLAUSE, CLAUSE_CLOSE})),
    LOGICALOP: (False, frozenset({PREFIX, NUMERIC, BOOLEAN, VARIABLE, "FUNCTION", ACCESSOR, STRING, TIME, CLAUSE,
                                  CLAUSE_CLOSE})),
    PREFIX: (False, frozenset({NUMERIC, BOOLEAN, VARIABLE, "FUNCTION", ACCESSOR, CLAUSE, CLAUSE_CLOSE})),
    TERNARY: (False, frozenset({PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, "FUNCTION", ACCESSOR, CLAUSE,
                                SEPARATOR})),
    ACCESSOR: (True, frozenset({CLAUSE, MODIFIER, COMPARATOR, LOGICALOP, CLAUSE_CLOSE, TERNARY, SEPARATOR})),
    SEPARATOR: (False, frozenset({PREFIX, NUMERIC, BOOLEAN, STRING, TIME, VARIABLE, "FUNCTION", ACCESSOR, CLAUSE})),
}


@dataclass
class Token:
    kind: str
    value: Any
    pos: int


class _Stream:
    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def can_read(self) -> bool:
        return self.pos < len(self.text)

    def read(self) -> str:
        ch = self.text[self.pos]
        self.pos += 1
        return ch

    def rewind(self, n: int) -> None:
        self.pos -= n


def _read_until_false(s: _Stream, include_ws: bool, break_ws: bool, cond: Callable[[str], bool]) -> tuple[str, bool]:
    buf: list[str] = []
    conditioned = False
    while s.can_read():
        ch = s.read()
        if ch == "\\":  # a backslash escapes anything
            if s.can_read():
                buf.append(s.read())
            continue
        if ch.isspace():
            if break_ws and buf:
                conditioned = True
                break
            if not include_ws:
                continue
        if cond(ch):
            buf.append(ch)
        else:
            conditioned = True
            s.rewind(1)
            break
    return "".join(buf), conditioned


def _read_token_until_false(s: _Stream, cond: Callable[[str], bool]) -> str:
    s.rewind(1)
    return _read_until_false(s, False, True, cond)[0]


def _is_numeric(ch: str) -> bool:
    return ch.isdecimal() or ch == "."


def _is_variable_name(ch: str) -> bool:
    return ch.isalpha() or ch.isdecimal() or ch == "_" or ch == "."


def _is_not_quote(ch: str) -> bool:
    return ch != "'" and ch != '"'


def _is_not_alphanumeric(ch: str) -> bool:
    return not (ch.isdecimal() or ch.isalpha() or ch in "()[]" or not _is_not_quote(ch))


def _read_token(s: _Stream, prev_kind: str) -> Token | None:
    while s.can_read():
        ch = s.read()
        if ch.isspace():
            continue
        start = s.pos - 1
        if _is_numeric(ch):
            if ch == "0" and s.can_read():
                nxt = s.read()
                if nxt == "x" and s.can_read():
                    digits, _ = _read_until_false(s, False, True, lambda c: c in "0123456789abcdefABCDEF")
                    try:
                        return Token(NUMERIC, float(int(digits, 16)), start)
                    except ValueError:
                        raise EvalFailure(f"Unable to parse hex value '{digits}' to uint64", start) from None
                s.rewind(1)
            text = _read_token_until_false(s, _is_numeric)
            try:
                if text.count(".") > 1 or text == ".":
                    raise ValueError
                return Token(NUMERIC, float(text), start)
            except ValueError:
                raise EvalFailure(f"Unable to parse numeric value '{text}' to float64", start) from None
        if ch == ",":
            return Token(SEPARATOR, ",", start)
        if ch == "[":
            text, completed = _read_until_false(s, True, False, lambda c: c != "]")
            if not completed:
                raise EvalFailure("Unclosed parameter bracket", start)
            s.rewind(-1)
            return Token(VARIABLE, text, start)
        if ch.isalpha():
            text = _read_token_until_false(s, _is_variable_name)
            if text == "true":
                return Token(BOOLEAN, True, start)
            if text == "false":
                return Token(BOOLEAN, False, start)
            if text in ("in", "IN"):
                return Token(COMPARATOR, "in", start)
            if "." in text[1:]:
                if text.endswith("."):
                    raise EvalFailure(f"Hanging accessor on token '{text}'", start)
                parts = text.split(".")
                for part in parts[1:]:
                    first = part[:1]
                    if first.upper() != first:
                        raise EvalFailure(f"Unable to access unexported field '{part}' in token '{text}'", start)
                return Token(ACCESSOR, parts, start)
            return Token(VARIABLE, text, start)
        if not _is_not_quote(ch):
            text, completed = _read_until_false(s, True, False, _is_not_quote)
            if not completed:
                raise EvalFailure("Unclosed string literal", start)
            s.rewind(-1)
            when = _try_parse_time(text)
            if when is not None:
                return Token(TIME, when, start)
            return Token(STRING, text, start)
        if ch == "(":
            return Token(CLAUSE, "(", start)
        if ch == ")":
            return Token(CLAUSE_CLOSE, ")", start)
        text = _read_token_until_false(s, _is_not_alphanumeric)
        if PREFIX in _STATES[prev_kind][1] and text in _PREFIX_SYMBOLS:
            return Token(PREFIX, text, start)
        if text in _MODIFIER_SYMBOLS:
            return Token(MODIFIER, text, start)
        if text in _LOGICAL_SYMBOLS:
            return Token(LOGICALOP, text, start)
        if text in _COMPARATOR_SYMBOLS:
            return Token(COMPARATOR, text, start)
        if text in _TERNARY_SYMBOLS:
            return Token(TERNARY, text, start)
        raise EvalFailure(f"Invalid token: '{text}'", start)
    return None


def _lex(text: str) -> list[Token]:
    s = _Stream(text)
    tokens: list[Token] = []
    kind = UNKNOWN
    while s.can_read():
        tok = _read_token(s, kind)
        if tok is None:
            break
        kind = tok.kind
        tokens.append(tok)
    return tokens


def _check_balance(tokens: list[Token]) -> None:
    depth = 0
    for tok in tokens:
        if tok.kind == CLAUSE:
            depth += 1
            if depth > MAX_DEPTH:
                raise EvalFailure(f"parentheses nest deeper than {MAX_DEPTH}", tok.pos)
        elif tok.kind == CLAUSE_CLOSE:
            depth -= 1
        if depth < 0:
            break
    if depth != 0:
        raise EvalFailure("Unbalanced parenthesis")


def _shown(tok: Token | None) -> str:
    if tok is None:
        return "<nil>"
    if tok.kind == ACCESSOR:
        return "[" + " ".join(tok.value) + "]"
    if tok.kind == PATTERN:
        return str(tok.value.pattern)
    return go_sprint(tok.value)


def _check_syntax(tokens: list[Token]) -> None:
    kind, last = UNKNOWN, None
    for tok in tokens:
        if tok.kind not in _STATES[kind][1]:
            if last is not None and last.kind == VARIABLE and tok.kind == CLAUSE:
                raise EvalFailure(f"Undefined function {last.value}", last.pos)
            raise EvalFailure(f"Cannot transition token types from {kind} [{_shown(last)}] to "
                              f"{tok.kind} [{_shown(tok)}]", tok.pos)
        kind, last = tok.kind, tok
    if not _STATES[kind][0]:
        raise EvalFailure("Unexpected end of expression")


def _optimize(tokens: list[Token]) -> None:
    """Precompile the constant right-hand side of ``=~``/``!~`` into a PATTERN token."""
    for i, tok in enumerate(tokens[:-1]):
        if tok.kind == COMPARATOR and tok.value in ("=~", "!~") and tokens[i + 1].kind == STRING:
            nxt = tokens[i + 1]
            tokens[i + 1] = Token(PATTERN, compile_regex(nxt.value), nxt.pos)


# --- planning: a tree of (symbol, left, right) stages ------------------------------------------------

@dataclass
class _Stage:
    symbol: str
    left: Any = None
    right: Any = None
    value: Any = None  # literal value, or accessor parts


_LEVELS: list[tuple[str, frozenset[str]]] = [
    (SEPARATOR, frozenset({","})),
    (TERNARY, frozenset(_TERNARY_SYMBOLS)),
    (LOGICALOP, frozenset({"||"})),
    (LOGICALOP, frozenset({"&&"})),
    (COMPARATOR, frozenset(_COMPARATOR_SYMBOLS)),
    (MODIFIER, frozenset({"&", "|", "^"})),
    (MODIFIER, frozenset({"<<", ">>"})),
    (MODIFIER, frozenset({"+", "-"})),
    (MODIFIER, frozenset({"*", "/", "%"})),
    (MODIFIER, frozenset({"**"})),
]


class _Planner:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def plan(self, level: int = 0) -> _Stage | None:
        if level == len(_LEVELS):
            return self.value()
        kind, symbols = _LEVELS[level]
        left = self.plan(level + 1)
        while True:
            tok = self.peek()
            if tok is None or tok.kind != kind or tok.value not in symbols:
                return left
            self.i += 1
            right = self.plan(level + 1)
            left = _Stage(tok.value, left, right)

    def value(self) -> _Stage | None:
        tok = self.peek()
        if tok is None:
            return None
        self.i += 1
        if tok.kind == CLAUSE:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise EvalFailure(f"expression nests deeper than {MAX_DEPTH}", tok.pos)
            inner = self.plan(0)
            self.depth -= 1
            self.i += 1  # the CLAUSE_CLOSE (balance was checked)
            return _Stage("NOOP", None, inner)
        if tok.kind == CLAUSE_CLOSE:
            self.i -= 1
            return None
        if tok.kind == PREFIX:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise EvalFailure(f"expression nests deeper than {MAX_DEPTH}", tok.pos)
            operand = self.value()
            self.depth -= 1
            return _Stage("prefix" + tok.value, None, operand)  # one of _UNARY_SYMBOLS
        if tok.kind == ACCESSOR:
            args = None
            nxt = self.peek()
            if nxt is not None and nxt.kind == CLAUSE:
                args = self.plan(0)
            return _Stage("ACCESS", None, args, tok.value)
        if tok.kind in (NUMERIC, STRING, PATTERN, BOOLEAN, TIME):
            return _Stage("VALUE", value=tok.value)
        raise EvalFailure(f"Unable to plan token kind: '{tok.kind}', value: '{_shown(tok)}'", tok.pos)


# --- evaluation -------------------------------------------------------------------------------------

_LOGICAL_FMT = "Value '{}' cannot be used with the logical operator '{}', it is not a bool"
_MODIFIER_FMT = "Value '{}' cannot be used with the modifier '{}', it is not a number"
_COMPARATOR_FMT = "Value '{}' cannot be used with the comparator '{}', it is not a number"
_TERNARY_FMT = "Value '{}' cannot be used with the ternary operator '{}', it is not a bool"
_PREFIX_FMT = "Value '{}' cannot be used with the prefix '{}'"

def _is_float(v: Any) -> bool:
    return type(v) is float


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _show(v: Any) -> str:
    return v.pattern if hasattr(v, "pattern") and not isinstance(v, str) else go_sprint(v)


def _require(check: Callable[[Any], bool], v: Any, fmt: str, symbol: str) -> None:
    if not check(v):
        raise EvalFailure(fmt.format(_show(v), symbol))


def _to_i64(f: float) -> int:
    if math.isnan(f) or math.isinf(f):
        return _INT64_MIN_VALUE
    return wrap_int(int(f))


_INT64_MIN_VALUE = -(1 << 63)
_MASK64 = (1 << 64) - 1


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf
    except ValueError:
        return math.nan


def _div(a: float, b: float) -> float:
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1, b)
    return a / b


def _binary(symbol: str, left: Any, right: Any) -> Any:
    if symbol in ("&&", "||"):
        _require(_is_bool, left, _LOGICAL_FMT, symbol)
        _require(_is_bool, right, _LOGICAL_FMT, symbol)
        return (left and right) if symbol == "&&" else (left or right)
    if symbol in ("==", "!="):
        equal = go_deep_equal(left, right)
        return equal if symbol == "==" else not equal
    if symbol in (">", "<", ">=", "<="):
        if not ((_is_float(left) and _is_float(right)) or (_is_str(left) and _is_str(right))):
            raise EvalFailure(_COMPARATOR_FMT.format(_show(left), symbol))
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[symbol]
    if symbol in ("=~", "!~"):
        _require(_is_str, left, _COMPARATOR_FMT, symbol)
        _require(lambda v: _is_str(v) or hasattr(v, "search"), right, _COMPARATOR_FMT, symbol)
        pattern = compile_regex(right) if isinstance(right, str) else right
        found = pattern.search(left) is not None
        return found if symbol == "=~" else not found
    if symbol == "in":
        _require(lambda v: isinstance(v, list), right, _COMPARATOR_FMT, symbol)
        return any(go_deep_equal(left, x) for x in right)
    if symbol == "+":
        if _is_float(left) and _is_float(right):
            return left + right
        if not (_is_str(left) or _is_str(right)):
            raise EvalFailure(_MODIFIER_FMT.format(_show(left), symbol))
        return go_sprint(left) + go_sprint(right)
    _require(_is_float, left, _MODIFIER_FMT, symbol)
    _require(_is_float, right, _MODIFIER_FMT, symbol)
    if symbol == "-":
        return left - right
    if symbol == "*":
        return left * right
    if symbol == "/":
        return _div(left, right)
    if symbol == "%":
        return math.nan if right == 0 or math.isinf(left) else math.fmod(left, right)
    if symbol == "**":
        return _pow(left, right)
    a, b = _to_i64(left), _to_i64(right)
    if symbol == "&":
        return float(a & b)
    if symbol == "|":
        return float(a | b)
    if symbol == "^":
        return float(a ^ b)
    ua, ub = a & _MASK64, b & _MASK64
    if symbol == "<<":
        return float((ua << ub) & _MASK64) if ub < 64 else 0.0
    return float(ua >> ub) if ub < 64 else 0.0  # ">>"


_UNARY_SYMBOLS = frozenset({"VALUE", "NOOP", "ACCESS", "prefix-", "prefix!", "prefix~"})


def _evaluate(stage: _Stage | None, budget: Budget) -> Any:
    """Evaluate a stage tree; a long left-associative chain (``a, b, c, …`` or ``1 + 2 + …``) is walked
    iteratively, so its length is not limited by Python's recursion depth."""
    spine: list[_Stage] = []
    while stage is not None and stage.symbol not in _UNARY_SYMBOLS:
        spine.append(stage)
        stage = stage.left
    value = _evaluate_unary(stage, budget)
    for binary in reversed(spine):
        value = _apply(binary, value, budget)
    return value


def _evaluate_unary(stage: _Stage | None, budget: Budget) -> Any:
    if stage is None:
        return None
    budget.spend()
    sym = stage.symbol
    if sym == "VALUE":
        return stage.value
    if sym == "NOOP":
        return _evaluate(stage.right, budget)
    if sym == "ACCESS":
        _evaluate(stage.right, budget)
        raise EvalFailure(f"No parameter '{stage.value[0]}' found.")
    right = _evaluate(stage.right, budget)
    op = sym[len("prefix"):]
    if op == "!":
        _require(_is_bool, right, _PREFIX_FMT, "!")
        return not right
    _require(_is_float, right, _PREFIX_FMT, op)
    return -right if op == "-" else float(~_to_i64(right))


def _apply(stage: _Stage, left: Any, budget: Budget) -> Any:
    """Apply a binary stage to its already evaluated left operand (short-circuiting as govaluate does)."""
    budget.spend()
    sym = stage.symbol
    if sym == "&&" and left is False:
        return False
    if sym == "||" and left is True:
        return True
    if sym == "??":
        return left if left is not None else _evaluate(stage.right, budget)
    if sym == "?":
        _require(_is_bool, left, _TERNARY_FMT, "?")
        return _evaluate(stage.right, budget) if left else None
    if sym == ":":
        return left if left is not None else _evaluate(stage.right, budget)
    right = _evaluate(stage.right, budget)
    if sym == ",":
        if isinstance(left, list):
            left.append(right)
            return left
        return [left, right]
    return _binary(sym, left, right)


# --- time literals: govaluate turns date-like strings into unix seconds -------------------------------

_TZ = r"(Z|[+-]\d{2}:?\d{2})"
_TIME_FORMATS = [
    re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})"),  # RFC 3339
    re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})"),
    re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})"),
    re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})()([+-]\d{2}:\d{2})"),
    re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2})()()()" + _TZ),
    re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})()()" + _TZ),
    re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?" + _TZ),
]
_KITCHEN = re.compile(r"(\d{1,2}):(\d{2})(AM|PM)")
_UNIX_YEAR0 = -62167219200  # 0000-01-01T00:00:00Z


def _try_parse_time(text: str) -> float | None:
    m = _KITCHEN.fullmatch(text)
    if m:
        hour, minute = int(m[1]), int(m[2])
        if not 1 <= hour <= 12 or minute > 59:
            return None
        hour = hour % 12 + (12 if m[3] == "PM" else 0)
        return float(_UNIX_YEAR0 + hour * 3600 + minute * 60)
    for fmt in _TIME_FORMATS:
        m = fmt.fullmatch(text)
        if not m:
            continue
        groups = [g or "" for g in m.groups()] + [""] * (8 - len(m.groups()))
        y, mo, d, h, mi, sec, _frac, tz = groups[:8]
        try:
            offset = timedelta(0)
            if tz and tz != "Z":
                digits = tz[1:].replace(":", "")
                offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                offset = -offset if tz[0] == "-" else offset
            stamp = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0),
                             tzinfo=timezone(offset))
        except ValueError:
            return None
        return float(int(stamp.timestamp()))
    return None


# --- the public entry ---------------------------------------------------------------------------------

def compile_when(text: str) -> _Stage | None:
    """Parse a substituted ``when`` text as Argo does; raises EvalFailure with Argo's message."""
    if len(text) > MAX_SOURCE:
        raise EvalFailure(f"Invalid 'when' expression: longer than {MAX_SOURCE} characters")
    try:
        tokens = _lex(text)
        _check_balance(tokens)
        _check_syntax(tokens)
        _optimize(tokens)
    except EvalFailure as exc:
        hint = ' (hint: try wrapping the affected expression in quotes ("))' if "Invalid token" in exc.cause else ""
        raise EvalFailure(f"Invalid 'when' expression: {exc.cause}{hint}", exc.position) from None
    try:
        tokens = [Token(STRING, t.value, t.pos) if t.kind == VARIABLE else t for t in tokens]
        _check_balance(tokens)
        _check_syntax(tokens)
        _optimize(tokens)
        return _Planner(tokens).plan(0)
    except EvalFailure as exc:
        raise EvalFailure(f"Failed to parse 'when' expression: {exc.cause}", exc.position) from None


def run_when(stage: _Stage | None) -> bool:
    """Evaluate a compiled ``when``; its result must be a bool."""
    try:
        result = _evaluate(stage, Budget())
    except EvalFailure as exc:
        raise EvalFailure(f"Failed to evaluate 'when' expression: {exc.cause}", exc.position) from None
    except RecursionError:
        raise EvalFailure("Failed to evaluate 'when' expression: nested too deeply") from None
    if not isinstance(result, bool):
        raise EvalFailure(f"Expected boolean evaluation. Got {_show(result)}")
    return result
