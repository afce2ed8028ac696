"""expr-lang: literals, operators, member access, predicates and builtins, with Go's value semantics."""

from __future__ import annotations

import math

import pytest

from dflow_lab.expr.evaluate import ExpressionError, eval_expr

ENV = {
    "inputs": {"parameters": {"x": "3", "name": "world", "should-print": "true", "list": "[1, 2, 3]"}},
    "steps": {"flip-coin": {"outputs": {"result": "heads"}}, "a": {"outputs": {"result": "7"}}},
    "tasks": {"t": {"outputs": {"parameters": {"y": "2.5"}}}},
    "item": {"a": 1, "b": "x"},
    "xs": [1, 2, 3, 4],
    "people": [{"name": "a", "age": 30}, {"name": "b", "age": 40}],
    "nothing": None,
}


def ev(expr: str):
    return eval_expr(expr, ENV)


@pytest.mark.parametrize(
    "expr, expected",
    [
        # literals
        ("1", 1), ("1.5", 1.5), ("1e3", 1000.0), ("0x1F", 31), ("0o17", 15), ("0b101", 5), ("1_000", 1000),
        (".5", 0.5), ('"a\\tb"', "a\tb"), ("'single'", "single"), ("`raw\\n`", "raw\\n"), ('"\\u00e9"', "é"),
        ("true", True), ("false", False), ("nil", None),
        ("[1, 'a', [true]]", [1, "a", [True]]), ("{a: 1, 'b': 2, (\"c\" + \"d\"): 3}", {"a": 1, "b": 2, "cd": 3}),
        ("[1, 2,]", [1, 2]),
        # arithmetic: ints stay ints, / is always float, ** and ^ are float
        ("1 + 2", 3), ("7 - 10", -3), ("3 * 4", 12), ("7 / 2", 3.5), ("6 / 3", 2.0), ("7 % 3", 1), ("-7 % 3", -1),
        ("2 ** 10", 1024.0), ("2 ^ 3", 8.0), ("2 ** 3 ** 2", 512.0), ("1 + 2.5", 3.5), ("-(1 + 2)", -3),
        ("+3", 3), ("9223372036854775807 + 1", -9223372036854775808),
        ('"a" + "b"', "ab"),
        # comparison, including chained comparisons
        ("1 < 2", True), ("2 <= 2", True), ("3 > 2.5", True), ('"a" < "b"', True), ("1 == 1.0", True),
        ('1 == "1"', False), ("[1, 2] == [1, 2]", True), ("{a: 1} != {a: 2}", True), ("nil == nil", True),
        ("1 < 2 < 3", True), ("1 < 3 < 2", False),
        # logic
        ("true && false", False), ("true and true", True), ("false || true", True), ("false or false", False),
        ("!true", False), ("not false", True), ("false && nothing.x", False), ("true || nothing.x", True),
        # membership and string operators
        ("2 in [1, 2]", True), ("5 in xs", False), ('"a" in {a: 1}', True), ('"z" not in {a: 1}', True),
        ('"hello" matches "^h.l"', True), ('"hello" not matches "^x"', True), ('"hello" contains "ell"', True),
        ('"hello" startsWith "he"', True), ('"hello" endsWith "lo"', True), ('"hello" not contains "z"', True),
        # ranges, members, indexes, slices
        ("1..4", [1, 2, 3, 4]), ("3..1", []), ("xs[0]", 1), ("xs[-1]", 4), ("xs[1:3]", [2, 3]), ("xs[:2]", [1, 2]),
        ("xs[2:]", [3, 4]), ("xs[-2:]", [3, 4]), ('"hello"[1:3]', "el"), ("item.a", 1), ("item['b']", "x"),
        ("inputs.parameters['should-print']", "true"), ('inputs.parameters["x"]', "3"),
        ("steps['flip-coin'].outputs.result", "heads"), ("inputs.parameters.missing", None),
        # nil-safe access and coalescing
        ("nothing?.x", None), ("nothing?.x.y.z", None), ("nothing?.[0]", None), ("nothing ?? 'd'", "d"),
        ("inputs.parameters.missing ?? 'default'", "default"), ("item.a ?? 2", 1),
        # conditional forms
        ("true ? 1 : 2", 1), ("1 > 2 ? 'a' : 'b'", "b"), ("false ? 1 : true ? 2 : 3", 2),
        ("if 1 < 2 { 'yes' } else { 'no' }", "yes"), ("if false { 1 } else if true { 2 } else { 3 }", 2),
        # let and pipes
        ("let y = 2; y * y", 4), ("xs | filter(# > 2) | map(# * 10)", [30, 40]),
        # comments
        ("1 + /* two */ 2 // three", 3),
    ],
)
def test_operators(expr: str, expected) -> None:
    result = ev(expr)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("map(xs, # * 2)", [2, 4, 6, 8]),
        ("map(xs, {# * 2})", [2, 4, 6, 8]),
        ("map(xs, #index)", [0, 1, 2, 3]),
        ("filter(xs, # % 2 == 0)", [2, 4]),
        ("filter(people, .age > 35)", [{"name": "b", "age": 40}]),
        ("map(people, .name)", ["a", "b"]),
        ("map(filter(people, .age > 35), #.name)", ["b"]),
        ("all(xs, # > 0)", True), ("any(xs, # > 3)", True), ("none(xs, # > 4)", True), ("one(xs, # == 2)", True),
        ("count(xs, # > 1)", 3), ("count([true, false, true])", 2),
        ("sum(xs)", 10), ("sum([1, 2.5])", 3.5), ("sum(xs, # * 2)", 20),
        ("find(xs, # > 2)", 3), ("findIndex(xs, # > 2)", 2), ("findLast(xs, # < 3)", 2),
        ("findLastIndex(xs, # < 3)", 1), ("find(xs, # > 9)", None),
        ("reduce(xs, #acc + #)", 10), ("reduce(xs, #acc + #, 5)", 15),
        ("groupBy(people, .age > 35 ? 'old' : 'young')", {"young": [{"name": "a", "age": 30}],
                                                         "old": [{"name": "b", "age": 40}]}),
        ("sortBy(people, .age, 'desc')", [{"name": "b", "age": 40}, {"name": "a", "age": 30}]),
        ("map(1..3, map(1..#, #))", [[1], [1, 2], [1, 2, 3]]),
        ("map([[1, 2], [3]], sum(#))", [3, 3]),
    ],
)
def test_predicates(expr: str, expected) -> None:
    assert ev(expr) == expected


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("len(xs)", 4), ('len("héllo")', 5), ("len({a: 1})", 1),
        ("abs(-2)", 2), ("abs(-2.5)", 2.5), ("ceil(1.2)", 2.0), ("floor(1.8)", 1.0), ("round(2.5)", 3.0),
        ("round(-2.5)", -3.0),
        ('int("42")', 42), ("int(3.9)", 3), ("int(-3.9)", -3), ('float("1.5")', 1.5), ("float(2)", 2.0),
        ("string(1)", "1"), ("string(1.0)", "1"), ("string(0.5)", "0.5"), ("string(1000000.0)", "1e+06"),
        ("string(true)", "true"), ("string(nil)", "<nil>"), ("string([1, 'a'])", "[1 a]"),
        ("string({b: 2, a: 1})", "map[a:1 b:2]"),
        ('trim("  a  ")', "a"), ('trim("xxaxx", "x")', "a"), ('trimPrefix("prefix-a", "prefix-")', "a"),
        ('trimSuffix("a.txt", ".txt")', "a"), ('upper("a")', "A"), ('lower("A")', "a"),
        ('split("a,b,c", ",")', ["a", "b", "c"]), ('split("a,b,c", ",", 2)', ["a", "b,c"]),
        ('splitAfter("a,b", ",")', ["a,", "b"]), ('replace("aaa", "a", "b")', "bbb"), ('repeat("ab", 3)', "ababab"),
        ('join(["a", "b"], "-")', "a-b"), ('join(["a", "b"])', "ab"), ('indexOf("hello", "l")', 2),
        ('lastIndexOf("hello", "l")', 3), ('hasPrefix("hello", "he")', True), ('hasSuffix("hello", "lo")', True),
        ("max(1, 5, 3)", 5), ("min([4, 2, 8])", 2), ("max(1, 2.5)", 2.5), ("mean([1, 2, 3, 4])", 2.5),
        ("median([3, 1, 2])", 2.0), ("max([1, [7, 2]], 3)", 7), ("min([])", None), ("mean([])", 0.0),
        ("median([1, 2, 3, 4])", 2.5), ('replace("aaa", "a", "b", 2)', "bba"), ('replace("ab", "", "-")', "-a-b-"),
        ("first(1)", None), ("take(xs, 10)", [1, 2, 3, 4]),
        ("toJSON({b: [1, 2], a: 'x'})", '{\n  "a": "x",\n  "b": [\n    1,\n    2\n  ]\n}'),
        ("toJSON([])", "[]"), ('fromJSON("{\\"a\\": [1, 2.5]}")', {"a": [1.0, 2.5]}),
        ('toBase64("hi")', "aGk="), ('fromBase64("aGk=")', "hi"),
        ("first(xs)", 1), ("last(xs)", 4), ("first([])", None), ("get(xs, 10)", None), ("get(item, 'a')", 1),
        ("keys({a: 1})", ["a"]), ("values({a: 1})", [1]), ("toPairs({a: 1})", [["a", 1]]),
        ("fromPairs([['a', 1]])", {"a": 1}), ("type(1)", "int"), ("type(1.5)", "float"), ("type('a')", "string"),
        ("type([])", "array"), ("type({})", "map"), ("type(nil)", "nil"), ("type(true)", "bool"),
        ("take(xs, 2)", [1, 2]), ("reverse(xs)", [4, 3, 2, 1]), ("uniq([1, 1, 2])", [1, 2]),
        ("sort([3, 1, 2])", [1, 2, 3]), ("sort(['b', 'a'], 'desc')", ["b", "a"]), ("concat([1], [2, 3])", [1, 2, 3]),
        ("flatten([1, [2, [3]]])", [1, 2, 3]),
        ("bitand(6, 3)", 2), ("bitor(4, 1)", 5), ("bitxor(5, 1)", 4), ("bitnot(0)", -1), ("bitshl(1, 4)", 16),
        ("bitshr(16, 2)", 4), ("bitnand(7, 2)", 5), ("bitushr(-1, 60)", 15),
    ],
)
def test_builtins(expr: str, expected) -> None:
    result = ev(expr)
    assert result == expected
    assert type(result) is type(expected)


def test_float_division_by_zero_is_infinite_as_in_go() -> None:
    assert ev("1 / 0") == math.inf
    assert math.isnan(ev("0 / 0"))


@pytest.mark.parametrize(
    "expr, cause",
    [
        ("1 +", "unexpected token EOF"),
        ("(1 + 2", "unexpected token EOF"),
        ("1 2", "unexpected token Number"),
        ("'unterminated", "literal not terminated"),
        ("1 @ 2", "unrecognized character"),
        ("undefinedName + 1", "unknown name undefinedName"),
        ('1 + "a"', "invalid operation: int + string"),
        ('"a" * 2', "invalid operation: string * int"),
        ("1.5 % 2", "invalid operation: float64 % int"),
        ("1 % 0", "integer divide by zero"),
        ("xs[10]", "index out of range: 10 (array length is 4)"),
        ("nothing.x", "cannot fetch x from <nil>"),
        ("inputs.parameters.x.y", "cannot fetch y from string"),
        ('int("1.5")', "invalid operation: int(1.5)"),
        ('float("abc")', "invalid operation: float(abc)"),
        ("len(1)", "invalid argument for len (type int)"),
        ("repeat('a', -1)", "invalid argument for repeat (expected positive integer, got -1)"),
        ("keys([1])", "cannot get keys from []interface {}"),
        ("max(1, 'a')", "invalid argument for max (type string)"),
        ("1 && true", "expected bool"),
        ("1 ? 2 : 3", "non-bool value used as condition"),
        ("# > 1", "cannot use pointer accessor outside predicate"),
        ("map(xs)", "expected at least 2 arguments"),
        ("len()", "not enough arguments to call len"),
        ("a ?? b + 1", "cannot be mixed"),
        ("'a' matches '('", "error parsing regexp"),
        ("filter(xs, # + 1)", "predicate of filter must return bool"),
        ("nofunc(1)", "unknown name nofunc"),
        ("item.a(1)", "is not a function"),
        ('fromJSON("{")', "invalid JSON"),
        ("99999999999999999999", "overflows int"),
    ],
)
def test_errors_name_expression_cause_and_position(expr: str, cause: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(expr)
    assert cause in str(info.value)
    assert repr(expr) in str(info.value)
    assert info.value.expression == expr
    assert info.value.position is not None


def test_error_position_points_at_the_failing_part() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("1 + 2 + undefinedName")
    assert info.value.position == 8
