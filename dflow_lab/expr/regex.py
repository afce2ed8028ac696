"""Regular expressions with Go's ``regexp`` semantics: RE2 syntax, linear-time matching (no backtracking,
so a pattern that came from a step's output cannot make evaluation run away)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

from dflow_lab.expr.errors import EvalFailure

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


@lru_cache(maxsize=512)
def _compile(pattern: str) -> Any:
    return re2.compile(pattern, _OPTIONS)


def compile_regex(pattern: str) -> Any:
    """Compile ``pattern`` (cached); a bad pattern raises an evaluation failure naming it."""
    try:
        return _compile(pattern)
    except re2.error as exc:
        cause = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise EvalFailure(f"error parsing regexp {pattern!r}: {cause}") from None


def regex_search(pattern: str, text: str) -> bool:
    """Go's ``regexp.MatchString``: does ``pattern`` match anywhere in ``text``."""
    return compile_regex(pattern).search(text) is not None
