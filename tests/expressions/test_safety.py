"""Values are data, never code; evaluation is bounded; the evaluator never calls Python's eval/exec/compile."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import dflow_lab.expr as expr_pkg
from dflow_lab.expr.errors import MAX_DEPTH, MAX_ITEMS, MAX_SOURCE, MAX_STEPS, MAX_STRING
from dflow_lab.expr.evaluate import ExpressionError, eval_expr, eval_when, render_template, tags_in

HOSTILE = [
    "__import__('os').system('touch /tmp/pwned')",
    "'; import os; os.system('id'); '",
    '"{{inputs.parameters.secret}}"',
    "{{=1+1}}",
    "a\\b\\\\c\\",
    "line1\nline2\r\n\ttab",
    "${HOME} $(id) `id`",
    "\u2028\x00\x1b[31m",
    "{{",
    "}}",
    "[1, 2]",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_values_are_inert_in_templates(value: str) -> None:
    variables = {"inputs.parameters.v": value, "inputs.parameters.secret": "s3cr3t"}
    assert render_template("<{{inputs.parameters.v}}>", variables) == f"<{value}>"
    assert render_template("{{=inputs.parameters.v}}", variables) == value
    assert render_template("{{=inputs.parameters.v + '!'}}", variables) == value + "!"
    assert render_template("{{=len(inputs.parameters.v)}}", variables) == str(len(value))


@pytest.mark.parametrize("value", HOSTILE)
def test_values_are_inert_in_expressions(value: str) -> None:
    env = {"v": value, "m": {"k": value}}
    assert eval_expr("v", env) == value
    assert eval_expr("m.k == v", env) is True
    assert eval_expr("toJson(v)", env).startswith('"')
    assert eval_expr("v matches '^'", env) is True


def test_python_syntax_is_not_executed() -> None:
    marker = Path("/tmp/dflow_lab_expr_pwned")
    marker.unlink(missing_ok=True)
    for text in (
        f"__import__('os').system('touch {marker}')",
        f"eval(\"__import__('os').system('touch {marker}')\")",
        f"exec(\"open('{marker}', 'w')\")",
        "open('/etc/passwd').read()",
        "lambda: 1",
        "[x for x in (1, 2)]",
    ):
        with pytest.raises(ExpressionError):
            eval_expr(text, {})
        with pytest.raises(ExpressionError):
            eval_when(text)
    assert not marker.exists()


@pytest.mark.parametrize(
    "expr",
    ["v.__class__", "v.__class__.__mro__", "m.__dict__", "m.keys", "m.__class__.__subclasses__", "m.get"],
)
def test_python_attributes_are_not_reachable(expr: str) -> None:
    env = {"v": "text", "m": {"k": 1}}
    try:
        result = eval_expr(expr, env)
    except ExpressionError:
        return
    assert result is None  # a map member that is not a key is nil, never a Python attribute


def test_methods_of_python_objects_cannot_be_called() -> None:
    env = {"m": {"k": 1}, "s": "abc"}
    for expr in ("m.keys()", "m.items()", "s.upper()", "m.__init__()", "sprig.__class__()"):
        with pytest.raises(ExpressionError):
            eval_expr(expr, env)


def test_a_when_with_a_quote_from_a_value_is_an_error_not_code() -> None:
    substituted = render_template("{{steps.a.outputs.result}} == ok", {"steps.a.outputs.result": "it's"})
    with pytest.raises(ExpressionError, match="Unclosed string literal"):
        eval_when(substituted)


@pytest.mark.parametrize(
    "expr, cause",
    [
        (f"1..{MAX_ITEMS + 10}", "range would produce"),
        ("repeat('ab', 1000001)", "memory budget exceeded"),
        (f"repeat('{'x' * 100}', 1000000)", "repeat would produce a string"),
        (f"sprig.repeat({MAX_STRING}, 'ab')", "repeat would produce a string"),
        (f"sprig.untilStep(0, {MAX_ITEMS * 10}, 1)", "untilStep would produce"),
        (f"sprig.until({MAX_ITEMS + 1})", "untilStep would produce"),
        ("reduce(1..64, #acc + #acc, 'abcdefgh')", "would produce a string"),
        ("map(1..5000, map(1..5000, #))", f"limit of {MAX_STEPS} operations"),
        ("count(1..600000, true) + count(1..600000, true)", "operations"),
        ("map(1..200000, # in 1..200000)", "operations"),
        ("map(1..100, sprig.has(#, sprig.until(900000)))", "operations"),
        ("(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5), "nests deeper"),
        ("-" * (MAX_DEPTH * 3) + "1", "nests deeper"),
        ("1" + " + 1" * (MAX_SOURCE // 3), "longer than"),
        ("sprig.join('', sprig.until(10)) + repeat('x', 100) | split('') | join('')", None),
    ],
)
def test_evaluation_is_bounded(expr: str, cause: str | None) -> None:
    if cause is None:
        assert isinstance(eval_expr(expr, {}), str)
        return
    with pytest.raises(ExpressionError) as info:
        eval_expr(expr, {})
    assert cause in str(info.value)


def test_when_is_bounded() -> None:
    with pytest.raises(ExpressionError, match="nest"):
        eval_when("(" * (MAX_DEPTH + 5) + "true" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(ExpressionError, match="nest"):
        eval_when("!(" * (MAX_DEPTH + 5) + "true" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(ExpressionError, match="longer than"):
        eval_when("true" + " && true" * MAX_SOURCE)


def test_regular_expressions_run_in_linear_time() -> None:
    """A catastrophic-backtracking pattern finishes (RE2) and gives Go's answer."""
    text = "a" * 5000 + "!"
    assert eval_expr("v matches '^(a+)+$'", {"v": text}) is False
    assert eval_when(f"'{text}' =~ \"^(a|aa)+$\"") is False
    with pytest.raises(ExpressionError, match="error parsing regexp"):
        eval_expr("'a' matches '(?=a)'", {})  # lookahead is not RE2 (nor Go)


def test_no_eval_exec_or_compile_in_the_evaluator() -> None:
    forbidden = {"eval", "exec", "compile", "__import__", "execfile"}
    package = Path(expr_pkg.__file__).parent
    sources = sorted(package.glob("*.py"))
    assert len(sources) >= 10
    for path in sources:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in forbidden, f"{path.name}:{node.lineno} calls {node.func.id}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {"pickle", "marshal", "subprocess", "os", "importlib"} & set(names), path.name


def test_long_flat_chains_are_not_limited_by_recursion() -> None:
    """Long left-associative chains are walked iteratively: a 3000-way `in` list or a 5000-term sum."""
    choices = ", ".join(f"v{i}" for i in range(3000))
    assert eval_when(f"v2999 in ({choices})") is True
    assert eval_when(" + ".join(["1"] * 3000) + " == 3000") is True
    assert eval_expr(" + ".join(["1"] * 5000), {}) == 5000
    assert eval_expr(" && ".join(["true"] * 3000), {}) is True
    assert len(tags_in("{{=" + " + ".join(f"a.v{i}" for i in range(2000)) + "}}")) == 2000


def test_uniq_is_linear_and_keeps_go_equality() -> None:
    assert eval_expr("len(uniq(1..200000))", {}) == 200000
    assert eval_expr("len(sprig.uniq(sprig.until(200000)))", {}) == 200000
    assert eval_expr("uniq([1, 1.0, '1', [1], [1.0], [1]])", {}) == [1, "1", [1], [1.0]]
    assert eval_expr("sprig.uniq([1, 1.0, {a: [1]}, {a: [1]}])", {}) == [1, 1.0, {"a": [1]}]


def test_deeply_nested_values_fail_cleanly() -> None:
    with pytest.raises(ExpressionError, match="nests too deeply"):
        render_template("{{=reduce(1..5000, [#acc], 0)}}", {})
