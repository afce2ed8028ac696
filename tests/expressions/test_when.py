"""``when`` conditions: govaluate as Argo v4 evaluates them (bare words are strings)."""

from __future__ import annotations

import pytest

from dflow_lab.expr.evaluate import ExpressionError, eval_when


@pytest.mark.parametrize(
    "condition, expected",
    [
        # bare words: Argo turns govaluate variables into strings
        ("heads == heads", True),
        ("heads == tails", False),
        ("Succeeded != Succeeded", False),
        ("Failed != Succeeded", True),
        ("YES == YES", True),
        ("[my var] == 'my var'", True),
        # quoted strings, as after "{{x}}" == "a" was substituted
        ('"a" == "a"', True),
        ("'a' == \"a\"", True),
        ('"it\\"s" == "it\\"s"', True),
        # numbers are float64; comparisons, arithmetic, precedence, left associativity
        ("5 > 3 && true", True),
        ("5 < 10", True),
        ("1 == 1.0", True),
        ("1 + 2 * 3 == 7", True),
        ("10 - 4 - 3 == 3", True),
        ("2 ** 3 ** 2 == 64", True),
        ("-2 ** 2 == 4", True),
        ("7 % 3 == 1", True),
        ("1 / 4 == 0.25", True),
        ("0x10 == 16", True),
        ("3 != 1 && 3 != 2", True),
        ("1 != 1 && 1 != 2", False),
        # strings compare lexically, + concatenates when either side is a string
        ('"b" > "a"', True),
        ('"10" < "9"', True),
        ('"a" + 1 == "a1"', True),
        # regular expressions (RE2, unanchored)
        ('heads =~ "^hea"', True),
        ("heads =~ hea", True),
        ("tails =~ hea", False),
        ('heads !~ "^t"', True),
        # negation and clauses
        ("!(1 < 2)", False),
        ("!false", True),
        ("(heads == heads && tails == heads) || (tails == tails)", True),
        ("( heads == heads &&\n  tails == tails\n) ||\n( tails == heads )", True),
        # in over a clause list
        ("x in ('a', 'x')", True),
        ("b in ('a', 'x')", False),
        ("2 in (1, 2, 3)", True),
        # ternary and coalesce
        ("true ? true : false", True),
        ("false ? false : true", True),
        ("1 > 2 ? false : true", True),
        # bitwise
        ("1 | 2 == 3", True),
        ("6 & 3 == 2", True),
        ("1 << 3 == 8", True),
        ("~0 == -1", True),
        # booleans and dates (govaluate reads date strings as times)
        ("true", True),
        ("true == true", True),
        ("false || false", False),
        ('"2020-01-01" < "2021-01-01"', True),
        ('"2021-06-01T10:00:00Z" == "2021-06-01T12:00:00+02:00"', True),
        ("", True),
    ],
)
def test_when(condition: str, expected: bool) -> None:
    assert eval_when(condition) is expected


@pytest.mark.parametrize(
    "condition, message",
    [
        # a lower-case dotted bare word is an unexported accessor to govaluate
        ("foo.bar == 1", "Unable to access unexported field 'bar' in token 'foo.bar'"),
        ("1.2.3 == 1", "Unable to parse numeric value '1.2.3' to float64"),
        ("it's == 1", "Unclosed string literal"),
        ("1 => 2", "Invalid token: '=>' (hint: try wrapping the affected expression in quotes"),
        ("(1 == 1", "Unbalanced parenthesis"),
        ("1 ==", "Unexpected end of expression"),
        # '!' may not precede a (converted) string
        ("!heads", "Cannot transition token types from PREFIX [!] to STRING [heads]"),
        ("my-name == my-name", "Value 'my' cannot be used with the modifier '-', it is not a number"),
        ("5 > a", "Value '5' cannot be used with the comparator '>', it is not a number"),
        ("1 && true", "Value '1' cannot be used with the logical operator '&&', it is not a bool"),
        ("x in ('a')", "Value 'a' cannot be used with the comparator 'in'"),
        ("foo(1)", "Undefined function foo"),
        ("v1.2 == v1.2", "No parameter 'v1' found."),
        ('x =~ "("', "error parsing regexp"),
        ("heads", "Expected boolean evaluation. Got heads"),
        ("1 + 1", "Expected boolean evaluation. Got 2"),
    ],
)
def test_when_errors_name_expression_and_cause(condition: str, message: str) -> None:
    with pytest.raises(ExpressionError) as info:
        eval_when(condition)
    assert message in str(info.value)
    assert repr(condition) in str(info.value)
    assert info.value.expression == condition


def test_when_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        eval_when("1 ==")


def test_argo_example_conditions_after_substitution() -> None:
    """The conditions of Argo's coinflip / conditionals / dag-conditional examples, substituted."""
    for result, heads_runs in (("heads", True), ("tails", False)):
        assert eval_when(f"{result} == heads") is heads_runs
        assert eval_when(f"{result} == tails") is (not heads_runs)
        assert eval_when(f"{result} =~ hea") is heads_runs
    assert eval_when("true == true") is True  # "{{inputs.parameters.should-print}} == true"
    assert eval_when("false == true") is False
    assert eval_when("Succeeded == Succeeded") is True  # "{{workflow.status}} == Succeeded"
    assert eval_when("Failed != Succeeded") is True
    complex_condition = "( heads == heads && tails == tails ) || ( tails == tails && tails == tails )"
    assert eval_when(complex_condition) is True
    assert eval_when("5 < 10") is True  # "{{steps.iterate-counter.outputs.result}} < {{inputs.parameters.limit}}"
    assert eval_when("10 < 10") is False
