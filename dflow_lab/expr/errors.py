"""Errors and evaluation limits shared by the ``when`` (govaluate) and ``{{=…}}`` (expr-lang) evaluators."""

from __future__ import annotations

#: The most operations (node evaluations plus produced collection elements) one evaluation may take.
MAX_STEPS = 1_000_000
#: The most elements a single produced collection (range, ``repeat``, ``untilStep``…) may hold.
MAX_ITEMS = 1_000_000
#: The longest string an expression may build (characters).
MAX_STRING = 10_000_000
#: The deepest nesting of parentheses/brackets/operators the parsers accept.
MAX_DEPTH = 200
#: The longest expression text the parsers accept (characters).
MAX_SOURCE = 100_000
#: How much of an expression an error message quotes.
_SHOWN = 300


class ExpressionError(ValueError):
    """An expression could not be parsed or evaluated; the message names the expression and the cause."""

    def __init__(self, expression: str, cause: str, position: int | None = None) -> None:
        self.expression = expression
        self.cause = cause
        self.position = position
        where = f" at position {position}" if position is not None else ""
        shown = expression if len(expression) <= _SHOWN else expression[:_SHOWN] + "…"
        super().__init__(f"expression {shown!r}: {cause}{where}")


class UnresolvedVariableError(ExpressionError):
    """A ``{{name}}`` tag names a variable that is not defined."""

    def __init__(self, expression: str, name: str) -> None:
        self.name = name
        super().__init__(expression, f"failed to resolve {{{{{name}}}}}: unknown variable {name!r}")


class EvalFailure(Exception):
    """Internal: a cause raised deep in an evaluator, turned into an ExpressionError at the API edge."""

    def __init__(self, cause: str, position: int | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        self.position = position


class Budget:
    """Counts the work of one evaluation and stops it past :data:`MAX_STEPS`."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps = 0

    def spend(self, n: int = 1) -> None:
        self.steps += n
        if self.steps > MAX_STEPS:
            raise EvalFailure(f"evaluation exceeds the limit of {MAX_STEPS} operations")


def check_items(n: int, what: str) -> None:
    """Refuse to build a collection of more than :data:`MAX_ITEMS` elements."""
    if n > MAX_ITEMS:
        raise EvalFailure(f"{what} would produce {n} elements, more than the limit of {MAX_ITEMS}")


def check_string(n: int, what: str) -> None:
    """Refuse to build a string longer than :data:`MAX_STRING` characters."""
    if n > MAX_STRING:
        raise EvalFailure(f"{what} would produce a string of {n} characters, more than the limit of {MAX_STRING}")
