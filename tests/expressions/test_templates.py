"""render_template and tags_in: Argo's {{tag}} and {{=expr}} substitution."""

from __future__ import annotations

import pytest

from dflow_lab.expr import evaluate as expressions
from dflow_lab.expr.evaluate import (
    ExpressionError,
    UnresolvedVariableError,
    eval_expr,
    expression_references,
    go_string,
    nest_variables,
    render_template,
    tags_in,
)

VARS = {
    "inputs.parameters.x": "3",
    "inputs.parameters.msg": "hello world",
    "inputs.parameters": '[{"name": "x", "value": "3"}]',
    "steps.gen.outputs.result": "[1, 2, 3]",
    "steps.gen.outputs.parameters.cfg": '{"a": {"b": 2}}',
    "workflow.name": "wf-1",
    "item": "7",
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{{inputs.parameters.x}}", "3"),
        ("a {{ inputs.parameters.x }} b", "a 3 b"),
        ("{{workflow.name}}-{{item}}", "wf-1-7"),
        ("{{inputs.parameters.msg}}", "hello world"),
        ("no tags", "no tags"),
        ("", ""),
        ("unterminated {{ tag", "unterminated {{ tag"),
        ("{{=asInt(inputs.parameters.x) + 1}}", "4"),
        ("{{= asInt(inputs.parameters.x) * 10 }}", "30"),
        ("{{=asFloat(inputs.parameters.x) / 2}}", "1.5"),
        ("{{=asFloat(inputs.parameters.x) * 2}}", "6"),
        ("{{=1000000.0}}", "1000000"),
        ("{{=1 > 0}}", "true"),
        ("{{=sprig.fromJson(steps.gen.outputs.result)}}", "[1,2,3]"),
        ("{{=steps.gen.outputs.result}}", "[1, 2, 3]"),
        ("{{=sprig.fromJson(steps.gen.outputs.parameters.cfg).a}}", '{"b":2}'),
        ("{{=['<a>', 'b&c']}}", '["\\u003ca\\u003e","b\\u0026c"]'),
        ("{{='<a>'}}", "<a>"),
        ("{{=inputs.parameters['x'] + '!'}}", "3!"),
        ("{{=item}}", "7"),
        ("{{=workflow.name}}/{{=upper(inputs.parameters.msg)}}", "wf-1/HELLO WORLD"),
        ("{{ {{item}}", "{{ 7"),
    ],
)
def test_render(text: str, expected: str) -> None:
    assert render_template(text, VARS) == expected


def test_substituted_values_are_not_scanned_again() -> None:
    variables = {"a": "{{b}}", "b": "secret", "c": "{{=1+1}}"}
    assert render_template("{{a}} {{c}}", variables) == "{{b}} {{=1+1}}"
    assert render_template("{{=a + c}}", variables) == "{{b}}{{=1+1}}"


def test_unknown_variable_strict_and_lenient() -> None:
    with pytest.raises(UnresolvedVariableError) as info:
        render_template("echo {{inputs.parameters.missing}}", VARS)
    assert info.value.name == "inputs.parameters.missing"
    assert "echo {{inputs.parameters.missing}}" in str(info.value)
    assert isinstance(info.value, ExpressionError)
    assert render_template("a {{ nope }} {{=nope + 1}} {{=1+1}}", VARS, strict=False) == "a {{ nope }} {{=nope + 1}} 2"


def test_expression_errors_name_the_expression_and_the_text() -> None:
    with pytest.raises(ExpressionError) as info:
        render_template("value: {{=asInt(inputs.parameters.msg)}}", VARS)
    message = str(info.value)
    assert "asInt(inputs.parameters.msg)" in message and "value: {{=" in message
    assert "invalid operation: int(hello world)" in message


def test_nil_result_is_an_error_or_left_unresolved() -> None:
    with pytest.raises(ExpressionError, match="nil"):
        render_template("{{=inputs.parameters.nope}}", VARS)
    assert render_template("{{=inputs.parameters.nope}}", VARS, strict=False) == "{{=inputs.parameters.nope}}"


def test_late_variables_stay_unresolved_when_lenient() -> None:
    """As Argo, an expression reading item/retries/lastRetry/workflow.status waits until they are known."""
    variables = {"workflow.name": "w"}
    text = "{{=workflow.status == 'Succeeded'}} {{=item}} {{=sprig.int(retries) + 1}} {{=workflow.name}}"
    assert render_template(text, variables, strict=False) == (
        "{{=workflow.status == 'Succeeded'}} {{=item}} {{=sprig.int(retries) + 1}} w")
    known = {"workflow.status": "Succeeded", "item": "1", "retries": "2", "workflow.name": "w"}
    assert render_template(text, known, strict=False) == "true 1 3 w"


def test_explicit_env() -> None:
    env = {"item": {"a": 1, "b": [1, 2]}, "inputs": {"parameters": {"x": "5"}}}
    assert render_template("{{=item.a + asInt(inputs.parameters.x)}} {{=item.b}}", {}, env) == "6 [1,2]"


def test_nest_variables() -> None:
    nested = nest_variables(VARS)
    assert nested["inputs"]["parameters"] == {"x": "3", "msg": "hello world"}  # the parent key is dropped
    assert nested["steps"]["gen"]["outputs"]["result"] == "[1, 2, 3]"  # JSON stays a string
    assert nested["item"] == "7"
    assert nest_variables({"a.b": "1", "a": "2", "a.c.d": "3"}) == {"a": {"b": "1", "c": {"d": "3"}}}


def test_tags_in() -> None:
    text = ("{{inputs.parameters.x}} {{ workflow.name }} {{=asInt(steps['gen-1'].outputs.result) + "
            "len(sprig.fromJson(tasks.t.outputs.parameters.y))}} {{=map(item, #.a)}} {{inputs.parameters.x}} "
            "{{=let v = inputs.parameters.z; v + v}}")
    assert tags_in(text) == ["inputs.parameters.x", "workflow.name", "steps.gen-1.outputs.result",
                             "tasks.t.outputs.parameters.y", "item", "inputs.parameters.z"]
    assert tags_in("no tags {{ unterminated") == []


def test_expression_references() -> None:
    assert expression_references("steps.a.outputs.parameters[inputs.parameters.k] ?? workflow.name") == [
        "steps.a.outputs.parameters", "inputs.parameters.k", "workflow.name"]
    assert expression_references("sprig.add(1, retries)") == ["retries"]
    with pytest.raises(ExpressionError):
        expression_references("1 +")


def test_each_distinct_expression_is_parsed_once() -> None:
    expressions._expr_program.cache_clear()
    for i in range(50):
        assert render_template("{{=asInt(item) * 2}}", {"item": str(i)}) == str(2 * i)
    info = expressions._expr_program.cache_info()
    assert info.misses == 1 and info.hits == 49
    expressions._when_program.cache_clear()
    for _ in range(20):
        expressions.eval_when("heads == heads")
    assert expressions._when_program.cache_info().misses == 1


def test_go_string_prints_values_as_go_does() -> None:
    assert go_string(eval_expr("[1, 'a', 2.5]", {})) == "[1 a 2.5]"
    assert go_string(eval_expr("{b: true, a: nil}", {})) == "map[a:<nil> b:true]"
    assert go_string(eval_expr("asFloat('3')", {})) == "3"
    assert go_string(1e6) == "1e+06"
    assert go_string("text") == "text"
