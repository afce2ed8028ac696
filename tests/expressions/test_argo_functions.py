"""The functions Argo adds to expressions: asInt, asFloat, jsonpath, toJson and sprig.*."""

from __future__ import annotations

import pytest

from dflow_lab.expr.evaluate import ExpressionError, eval_expr, render_template

CONFIG = ('{"employees": [{"name": "Baris", "age":43},{"name": "Mo", "age": 42}, '
          '{"name": "Jai", "age" :44}], "a": 1, "b": "two", "c": [1, 2]}')
ENV = {"workflow": {"parameters": {"config": CONFIG, "json": '[{"value": "true"}]'}},
       "inputs": {"parameters": {"n": "3", "f": "2.5", "list": "[1, 2, 3]", "names": '["a", "b"]'}}}


def ev(expr: str):
    return eval_expr(expr, ENV)


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("asInt(inputs.parameters.n)", 3), ("asInt('-7')", -7), ("asInt(2.9)", 2), ("asInt(5)", 5),
        ("asFloat(inputs.parameters.f)", 2.5), ("asFloat('3')", 3.0), ("asFloat('1e3')", 1000.0), ("asFloat(2)", 2.0),
        ("asInt(inputs.parameters.n) * 10", 30), ("asFloat(inputs.parameters.n) / 2", 1.5),
        ("toJson([1, 'a', {b: nil}])", '[1,"a",{"b":null}]'), ("toJson('x<y')", '"x\\u003cy"'),
        ("toJson(1.0)", "1"), ("toJson(1e21)", "1e+21"), ("toJson({b: 1, a: 2})", '{"a":2,"b":1}'),
        ("jsonpath(workflow.parameters.config, '$.a')", 1.0),
        ("jsonpath(workflow.parameters.config, '$.b')", "two"),
        ("jsonpath(workflow.parameters.config, '$.c')", [1.0, 2.0]),
        ("jsonpath(workflow.parameters.config, '$.c[1]')", 2.0),
        ("jsonpath(workflow.parameters.config, '$.c[-1]')", 2.0),
        ("jsonpath(workflow.parameters.config, '$.employees[*].name')", ["Baris", "Mo", "Jai"]),
        ("jsonpath(workflow.parameters.config, '$.employees[0:1]')", [{"name": "Baris", "age": 43.0}]),
        ("jsonpath(workflow.parameters.config, '$.employees[?(@.name==\"Baris\")].age')", [43.0]),
        ("jsonpath(workflow.parameters.config, '$.employees[?(@.age>42 && @.age<44)].age')", [43.0]),
        ("jsonpath(workflow.parameters.config, '$.employees[0,2].name')", ["Baris", "Jai"]),
        ("jsonpath(workflow.parameters.config, \"$['employees'][1]['name']\")", "Mo"),
        ("jsonpath(workflow.parameters.config, '$..age')", [43.0, 42.0, 44.0]),
        ("jsonpath(workflow.parameters.config, '$.employees.length')", 3),
        ("jsonpath(inputs.parameters.list, '$')", [1.0, 2.0, 3.0]),
        ("jsonpath(inputs.parameters.list, '$')[1]", 2.0),
        ("jsonpath(workflow.parameters.json, '$[0].value') == 'true'", True),
    ],
)
def test_argo_functions(expr: str, expected) -> None:
    result = ev(expr)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "expr, expected",
    [
        # numbers: sprig's ints are int64, its conversions are lenient (bad text is 0)
        ("sprig.add(1, 2, '3')", 6), ("sprig.add1(1)", 2), ("sprig.sub(5, 7)", -2), ("sprig.mul(2, 3, 4)", 24),
        ("sprig.div(7, 2)", 3), ("sprig.div(-7, 2)", -3), ("sprig.mod(7, 3)", 1), ("sprig.max(1, 5, '3')", 5),
        ("sprig.min(4, 2.9)", 2), ("sprig.biggest(1, 2)", 2), ("sprig.maxf(1, 2.5)", 2.5), ("sprig.minf(1, 2.5)", 1.0),
        ("sprig.addf(1.5, 1)", 2.5), ("sprig.subf(5, 1.5)", 3.5), ("sprig.mulf(1.5, 2)", 3.0), ("sprig.divf(5, 2)", 2.5),
        ("sprig.floor(1.7)", 1.0), ("sprig.ceil(1.2)", 2.0), ("sprig.round(1.2345, 2)", 1.23),
        ("sprig.int('42')", 42), ("sprig.int('4.0')", 4), ("sprig.int('abc')", 0), ("sprig.int(3.9)", 3),
        ("sprig.int('0x1f')", 31), ("sprig.int64('7')", 7), ("sprig.float64('2.5')", 2.5), ("sprig.float64('x')", 0.0),
        ("sprig.atoi('12')", 12), ("sprig.atoi('x')", 0), ("sprig.atoi(inputs.parameters.n)", 3),
        ("sprig.toDecimal('0777')", 511),
        ("sprig.until(3)", [0, 1, 2]), ("sprig.until(-2)", [0, -1]), ("sprig.untilStep(0, 10, 3)", [0, 3, 6, 9]),
        ("sprig.untilStep(5, 0, -2)", [5, 3, 1]), ("sprig.untilStep(0, 3, 0)", []), ("sprig.seq(3)", "1 2 3"),
        ("sprig.seq(2, 5)", "2 3 4 5"), ("sprig.seq(0, 2, 6)", "0 2 4 6"),
        # strings
        ("sprig.trim('  a ')", "a"), ("sprig.trimAll('$', '$5$')", "5"), ("sprig.trimSuffix('.txt', 'a.txt')", "a"),
        ("sprig.trimPrefix('v', 'v1')", "1"), ("sprig.upper('a')", "A"), ("sprig.lower('A')", "a"),
        ("sprig.title('hello world')", "Hello World"), ("sprig.substr(1, 3, 'hello')", "el"),
        ("sprig.trunc(2, 'hello')", "he"), ("sprig.trunc(-2, 'hello')", "lo"), ("sprig.repeat(3, 'a')", "aaa"),
        ("sprig.nospace('a b  c')", "abc"), ("sprig.contains('ell', 'hello')", True),
        ("sprig.hasPrefix('he', 'hello')", True), ("sprig.hasSuffix('lo', 'hello')", True),
        ("sprig.replace('a', 'b', 'banana')", "bbnbnb"), ("sprig.quote('a', 'b\"c')", '"a" "b\\"c"'),
        ("sprig.squote('a')", "'a'"), ("sprig.cat('a', 1, nil, true)", "a 1 true"),
        ("sprig.indent(2, 'a\\nb')", "  a\n  b"), ("sprig.nindent(2, 'a')", "\n  a"),
        ("sprig.plural('one', 'many', 2)", "many"), ("sprig.toString(1.5)", "1.5"),
        ("sprig.splitList(',', 'a,b,c')", ["a", "b", "c"]), ("sprig.split('$', 'a$b')", {"_0": "a", "_1": "b"}),
        ("sprig.splitn('$', 2, 'a$b$c')", {"_0": "a", "_1": "b$c"}), ("sprig.join('-', ['a', 1, nil])", "a-1"),
        ("sprig.sortAlpha(['b', 'a'])", ["a", "b"]),
        # defaults and logic
        ("sprig.default('d', '')", "d"), ("sprig.default('d', 'x')", "x"), ("sprig.default('d')", "d"),
        ("sprig.default('d', 0)", "d"), ("sprig.empty('')", True), ("sprig.empty([])", True), ("sprig.empty(0)", True),
        ("sprig.empty('a')", False), ("sprig.coalesce('', nil, 'x')", "x"), ("sprig.all(1, 'a')", True),
        ("sprig.any(0, '')", False), ("sprig.ternary('y', 'n', true)", "y"), ("sprig.ternary('y', 'n', false)", "n"),
        ("sprig.typeOf(1.5)", "float64"), ("sprig.typeOf([])", "[]interface {}"), ("sprig.kindOf({})", "map"),
        ("sprig.typeIs('string', 'a')", True), ("sprig.kindIs('slice', [1])", True), ("sprig.deepEqual([1], [1])", True),
        # JSON and encodings
        ("sprig.fromJson(inputs.parameters.list)", [1.0, 2.0, 3.0]), ("sprig.fromJson('{')", None),
        ("len(sprig.fromJson(inputs.parameters.names))", 2), ("sprig.toJson({a: [1]})", '{"a":[1]}'),
        ("sprig.toPrettyJson({a: 1})", '{\n  "a": 1\n}'), ("sprig.toRawJson('<')", '"<"'), ("sprig.toJson('<')", '"\\u003c"'),
        ("sprig.b64enc('hello')", "aGVsbG8="), ("sprig.b64dec('aGVsbG8=')", "hello"), ("sprig.b32enc('hi')", "NBUQ===="),
        ("sprig.b32dec('NBUQ====')", "hi"),
        ("sprig.sha256sum('hello world')", "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"),
        ("sprig.sha1sum('a')", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"), ("sprig.adler32sum('a')", "6422626"),
        # regular expressions
        ("sprig.regexMatch('^[a-z]+$', 'abc')", True), ("sprig.regexMatch('(', 'abc')", False),
        ("sprig.regexFindAll('[0-9]', 'a1b2c3', 2)", ["1", "2"]), ("sprig.regexFind('[0-9]+', 'ab123c')", "123"),
        ("sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"),
        ("sprig.regexReplaceAllLiteral('a(x*)b', '-ab-', '${1}')", "-${1}-"),
        ("sprig.regexSplit('z+', 'pizza', -1)", ["pi", "a"]), ("sprig.regexQuoteMeta('1.5')", "1\\.5"),
        # lists
        ("sprig.list(1, 'a')", [1, "a"]), ("sprig.first([1, 2])", 1), ("sprig.last([1, 2])", 2),
        ("sprig.rest([1, 2, 3])", [2, 3]), ("sprig.initial([1, 2, 3])", [1, 2]), ("sprig.append([1], 2)", [1, 2]),
        ("sprig.prepend([1], 0)", [0, 1]), ("sprig.concat([1], [2])", [1, 2]), ("sprig.reverse([1, 2])", [2, 1]),
        ("sprig.uniq([1, 1, 2])", [1, 2]), ("sprig.without([1, 2, 3], 2)", [1, 3]), ("sprig.has(2, [1, 2])", True),
        ("sprig.compact([0, 1, '', 'a'])", [1, "a"]), ("sprig.slice([1, 2, 3], 1)", [2, 3]),
        ("sprig.chunk(2, [1, 2, 3])", [[1, 2], [3]]),
        # dicts
        ("sprig.dict('a', 1, 'b', 2)", {"a": 1, "b": 2}), ("sprig.get({a: 1}, 'a')", 1), ("sprig.get({a: 1}, 'z')", ""),
        ("sprig.set({a: 1}, 'b', 2)", {"a": 1, "b": 2}), ("sprig.unset({a: 1, b: 2}, 'a')", {"b": 2}),
        ("sprig.hasKey({a: 1}, 'a')", True), ("sprig.keys({a: 1})", ["a"]), ("sprig.values({a: 1})", [1]),
        ("sprig.pick({a: 1, b: 2}, 'a')", {"a": 1}), ("sprig.omit({a: 1, b: 2}, 'a')", {"b": 2}),
        ("sprig.pluck('a', {a: 1}, {b: 2})", [1]), ("sprig.dig('a', 'b', 'dflt', {a: {b: 'x'}})", "x"),
        ("sprig.dig('a', 'z', 'dflt', {a: {b: 'x'}})", "dflt"),
        # paths and durations
        ("sprig.base('/a/b.txt')", "b.txt"), ("sprig.dir('/a/b.txt')", "/a"), ("sprig.ext('b.tar.gz')", ".gz"),
        ("sprig.clean('a//b/../c')", "a/c"), ("sprig.isAbs('/a')", True), ("sprig.duration(95)", "1m35s"),
        ("sprig.duration(3600)", "1h0m0s"),
        # dates (Go reference layouts; an int is unix seconds)
        ("sprig.date('2006-01-02T15:04:05Z07:00', 1700000000)", "2023-11-14T22:13:20Z"),
        ("sprig.date('Mon Jan _2 3:04PM .000 MST', 1700000000)", "Tue Nov 14 10:13PM .000 UTC"),
        ("sprig.date('Monday, 02-January-06 15:04:05.999', 1700000000)", "Tuesday, 14-November-23 22:13:20"),
        ("sprig.dateInZone('2006-01-02 15:04 -07:00', 1700000000, 'Asia/Shanghai')", "2023-11-15 06:13 +08:00"),
        ("sprig.htmlDate(0)", "1970-01-01"), ("sprig.unixEpoch(12345)", "12345"),
    ],
)
def test_sprig(expr: str, expected) -> None:
    result = ev(expr)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "expr, cause",
    [
        ("sprig.atoi(3)", "atoi: argument 1 is a int, want string"),
        ("sprig.untilStep(0, 3.0, 1)", "untilStep: argument 2 is a float64, want int"),
        ("sprig.until()", "until: takes 1 arguments, got 0"),
        ("sprig.div(1, 0)", "integer divide by zero"),
        ("sprig.first(1)", "Cannot find first on type int"),
        ("sprig.nosuchfunc(1)", "function nosuchfunc is not defined"),
        ("sprig.env('HOME')", "function env is not defined"),
        ("sprig.toDate('2006-01-02', '2024-05-06')", "sprig.toDate is not supported"),
        ("sprig.randAlpha(3)", "sprig.randAlpha is not supported"),
        ("now()", "now() is not supported"),
        ("jsonpath('{', '$')", "invalid JSON"),
        ("jsonpath(workflow.parameters.config, '$.missing')", "key 'missing' not found"),
        ("jsonpath(1, '$')", "jsonpath: argument 1 is a int, want string"),
        ("asInt('1.5')", "invalid operation: int(1.5)"),
        ("asFloat('x')", "invalid operation: float(x)"),
        ("toJson(1 / 0)", "json: unsupported value: +Inf"),
    ],
)
def test_function_errors(expr: str, cause: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(expr)
    assert cause in str(info.value)


def test_sprig_set_does_not_change_the_callers_environment() -> None:
    env = {"d": {"a": 1}}
    assert eval_expr("sprig.set(d, 'b', 2)", env) == {"a": 1, "b": 2}
    assert env == {"d": {"a": 1}}


# --- Argo's example workflows, with the results Argo documents ------------------------------------

def test_expression_destructure_json_complex_example() -> None:
    variables = {"workflow.parameters.config": CONFIG}
    render = lambda t: render_template(t, variables)  # noqa: E731
    assert render("{{=jsonpath(workflow.parameters.config, '$.employees[?(@.name==\"Baris\")].age')}}") == "[43]"
    assert render("{{=jsonpath(workflow.parameters.config, '$.employees[?(@.age>42 && @.age<44)].age')}}") == "[43]"
    assert render("{{=jsonpath(workflow.parameters.config, '$.employees[0:1]')}}") == '[{"age":43,"name":"Baris"}]'
    assert render("{{=jsonpath(workflow.parameters.config, '$.employees[*].name')}}") == '["Baris","Mo","Jai"]'


def test_expression_reusing_verbose_snippets_example() -> None:
    variables = {"workflow.parameters.weather": '{"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="}'}
    week_temps = render_template("""{{=
                map([
                    jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')), '$.temps')
                  ], {
                    toJson({
                      avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5,
                      min: sprig.min(#[0], #[1], #[2], #[3], #[4]),
                      max: sprig.max(#[0], #[1], #[2], #[3], #[4])
                    })
                })[0]
              }}""", variables)
    assert week_temps == '{"avg":35.8,"max":57,"min":15}'
    scope = {"inputs.parameters.week-temps": week_temps}
    line = render_template("The week's average temperature was {{=jsonpath(inputs.parameters['week-temps'], '$.avg')}}"
                           " with a minimum of {{=jsonpath(inputs.parameters['week-temps'], '$.min')}} and a maximum"
                           " of {{=jsonpath(inputs.parameters['week-temps'], '$.max')}}.", scope)
    assert line == "The week's average temperature was 35.8 with a minimum of 15 and a maximum of 57."


def test_expression_tag_template_example() -> None:
    items = render_template("{{=toJson(filter([1, 3], {# > 1}))}}", {})
    assert items == "[3]"
    foo = render_template("{{=item}}", {"item": "3"})
    assert render_template("hello {{=asInt(inputs.parameters.foo) * 10}}", {"inputs.parameters.foo": foo}) == "hello 30"


def test_retry_conditional_example() -> None:
    expression = ("asInt(lastRetry.exitCode) > 1 && lastRetry.status != \"Error\" && asInt(lastRetry.duration) < 120 "
                  "&& (true == true || lastRetry.message matches 'imminent node shutdown|pod deleted')")
    last = {"exitCode": "2", "status": "Failed", "duration": "3", "message": ""}
    assert eval_expr(expression, {"lastRetry": last}) is True
    assert eval_expr(expression, {"lastRetry": {**last, "exitCode": "1"}}) is False
    assert eval_expr(expression, {"lastRetry": {**last, "status": "Error"}}) is False


def test_exit_handler_and_hook_expressions() -> None:
    steps = {"step2": {"status": "Running"}, "step-1": {"status": "Succeeded"}}
    assert eval_expr('steps.step2.status == "Running"', {"steps": steps}) is True
    assert eval_expr('steps["step-1"].status == "Succeeded"', {"steps": steps}) is True
    assert eval_expr('workflow.status == "Running"', {"workflow": {"status": "Succeeded"}}) is False


def test_conditional_parameters_example() -> None:
    env = {"steps": {"flip-coin": {"outputs": {"result": "tails"}}, "heads": {"outputs": {"result": "it was heads"}},
                     "tails": {"outputs": {"result": "it was tails"}}}}
    expr = "steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.result : steps.tails.outputs.result"
    assert eval_expr(expr, env) == "it was tails"


def test_fibonacci_conditional_parameter_example() -> None:
    expr = ("asInt(inputs.parameters.num) == 1? 1: asInt(inputs.parameters.num) == 2? 1: "
            "steps['fibonacci-helper'].outputs.parameters.result")
    helper = {"fibonacci-helper": {"outputs": {"parameters": {"result": "13"}}}}
    assert eval_expr(expr, {"inputs": {"parameters": {"num": "1"}}, "steps": helper}) == 1
    assert eval_expr(expr, {"inputs": {"parameters": {"num": "7"}}, "steps": helper}) == "13"


def test_sprig_date_of_a_non_time_is_now_as_in_sprig() -> None:
    """Argo's expression-tag-template example: sprig.date('2006', workflow.creationTimestamp), a string."""
    from datetime import datetime, timezone

    before = datetime.now(timezone.utc).year
    text = render_template("hello {{=asInt(inputs.parameters.foo) * 10}} @ {{=sprig.date('2006', "
                           "workflow.creationTimestamp)}}", {"inputs.parameters.foo": "3",
                                                             "workflow.creationTimestamp": "2021-01-01T00:00:00Z"})
    after = datetime.now(timezone.utc).year
    assert text in (f"hello 30 @ {before}", f"hello 30 @ {after}")
    now = eval_expr("sprig.now()", {})
    assert isinstance(now, datetime) and now.tzinfo is not None
    assert render_template("{{=sprig.now()}}", {}).startswith(str(before)[:3])
