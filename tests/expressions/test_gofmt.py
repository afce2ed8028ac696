"""Go's printing of values (fmt %v and encoding/json), which decides the text of every rendered result."""

from __future__ import annotations

import math

import pytest

from dflow_lab.expr.errors import ExpressionError
from dflow_lab.expr.evaluate import render_template
from dflow_lab.expr.gofmt import format_float_json, format_float_v, go_json, go_sprint


@pytest.mark.parametrize(
    "value, v, json_text",
    [
        (1.0, "1", "1"), (0.5, "0.5", "0.5"), (-2.5, "-2.5", "-2.5"), (100.0, "100", "100"),
        (123456.0, "123456", "123456"), (1e6, "1e+06", "1000000"), (123456789.0, "1.23456789e+08", "123456789"),
        (1e20, "1e+20", "100000000000000000000"), (1e21, "1e+21", "1e+21"), (0.0001, "0.0001", "0.0001"),
        (1e-5, "1e-05", "0.00001"), (1e-7, "1e-07", "1e-7"), (0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"),
        (-0.0, "-0", "-0"), (5e-324, "5e-324", "5e-324"),
    ],
)
def test_float_formats(value: float, v: str, json_text: str) -> None:
    assert format_float_v(value) == v
    assert format_float_json(value) == json_text


def test_special_floats() -> None:
    assert format_float_v(math.inf) == "+Inf" and format_float_v(-math.inf) == "-Inf"
    assert format_float_v(math.nan) == "NaN"
    with pytest.raises(ExpressionError, match="json: unsupported value: NaN"):
        render_template("{{=0.0 / 0}}", {})


def test_sprint_and_json_of_collections() -> None:
    value = {"b": [1, 2.5, "x", None, True], "a": {"c": []}}
    assert go_sprint(value) == "map[a:map[c:[]] b:[1 2.5 x <nil> true]]"
    assert go_json(value) == '{"a":{"c":[]},"b":[1,2.5,"x",null,true]}'
    assert go_json("tab\there \"q\" <b> & \u2028 \x01") == '"tab\\there \\"q\\" \\u003cb\\u003e \\u0026 \\u2028 \\u0001"'
    assert go_json("<b>", escape_html=False) == '"<b>"'
    assert go_json({"a": [1]}, indent="  ") == '{\n  "a": [\n    1\n  ]\n}'
