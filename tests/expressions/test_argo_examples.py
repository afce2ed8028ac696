"""Every expression and condition in Argo's own example workflows (../shared/argo/examples) parses."""

from __future__ import annotations

import re

import pytest
import yaml

from dflow_lab.expr import evaluate as expressions
from tests.conftest import EXAMPLES_DIR

from .walk import strings_in

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml")) if EXAMPLES_DIR.is_dir() else []
EXPR_FIELDS = {"expression", "fromExpression"}


def _placeholders(text: str, value: str) -> str:
    """Substitute simple tags with a placeholder, as the engine substitutes real values."""
    return re.sub(r"\{\{(?!=)[^}]*\}\}", value, text)


def _collect():
    found = {"expr": [], "when": []}
    for path in EXAMPLES:
        for doc in yaml.safe_load_all(path.read_text()):
            for where, text in strings_in(doc or {}):
                field = where[-1] if where else ""
                for piece, tag in expressions._split_tags(text):
                    if tag is not None and piece.startswith("="):
                        found["expr"].append((path.name, piece[1:]))
                if field in EXPR_FIELDS:
                    found["expr"].append((path.name, _placeholders(text, "true")))
                elif field == "when" and "{{=" not in text:
                    found["when"].append((path.name, _placeholders(text, "1")))
    return found


FOUND = _collect() if EXAMPLES else {"expr": [], "when": []}


@pytest.mark.skipif(not EXAMPLES, reason="Argo's examples are not beside the repository")
def test_examples_hold_expressions_and_conditions() -> None:
    assert len(FOUND["expr"]) >= 25
    assert len(FOUND["when"]) >= 20


@pytest.mark.parametrize("example, expr", FOUND["expr"], ids=[f"{e}:{i}" for i, (e, _) in enumerate(FOUND["expr"])])
def test_every_example_expression_parses(example: str, expr: str) -> None:
    assert expressions._expr_program(expr.strip()) is not None


@pytest.mark.parametrize("example, when", FOUND["when"], ids=[f"{e}:{i}" for i, (e, _) in enumerate(FOUND["when"])])
def test_every_example_condition_parses(example: str, when: str) -> None:
    assert expressions._when_program(when) is not None
