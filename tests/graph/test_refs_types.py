"""Reference parsing and type compatibility (the validator's building blocks)."""

from __future__ import annotations

import pytest

from dflow_lab.graph.refs import Ref, find_refs, parse_ref
from dflow_lab.graph.types import literal_fits, parse_type, types_compatible


@pytest.mark.parametrize("text, ref", [
    ("{{inputs.parameters.x}}", Ref("inputs", None, "parameters", "x")),
    ("{{ inputs.artifacts.in_1 }}", Ref("inputs", None, "artifacts", "in_1")),
    ("{{steps.a-1.outputs.parameters.y}}", Ref("steps", "a-1", "parameters", "y")),
    ("{{tasks.b.outputs.artifacts.z}}", Ref("tasks", "b", "artifacts", "z")),
    ("{{=tasks['c'].outputs.parameters['items']}}", Ref("tasks", "c", "parameters", "items")),
    ('{{=steps["d"].outputs.artifacts["f"]}}', Ref("steps", "d", "artifacts", "f")),
    ("{{=inputs.parameters['n']}}", Ref("inputs", None, "parameters", "n")),
])
def test_whole_references(text, ref):
    assert parse_ref(text) == ref
    assert parse_ref(ref.tag()) == ref


@pytest.mark.parametrize("text", ["{{item}}", "x {{inputs.parameters.x}}", "{{steps.a.outputs.result}}",
                                  "{{=toJson(sprig.untilStep(0, 3, 1))}}", 3, None, "inputs.parameters.x"])
def test_not_references(text):
    assert parse_ref(text) is None


def test_embedded_references():
    text = "{{tasks.b.outputs.parameters.count}} > 0 && {{inputs.parameters.n}} < 3"
    assert list(find_refs(text)) == [Ref("tasks", "b", "parameters", "count"), Ref("inputs", None, "parameters", "n")]
    expr = "{{=tasks['a'].outputs.parameters['x'] + asInt(steps[\"s\"].outputs.parameters[\"y\"])}}"
    assert list(find_refs(expr)) == [Ref("tasks", "a", "parameters", "x"), Ref("steps", "s", "parameters", "y")]
    assert list(find_refs("no references here")) == []


@pytest.mark.parametrize("src, dst, ok", [
    ("int", "int", True), ("int", "float", True), ("float", "int", False), ("str", "int", False),
    (None, "int", True), ("int", None, True), ("typing.Any", "dict", True),
    ("typing.List[int]", "List[int]", True), ("typing.List[int]", "typing.List[str]", False),
    ("typing.List", "typing.List[int]", True), ("list", "typing.List[int]", True),
    ("typing.Dict[str, int]", "dict", True), ("typing.Optional[int]", "int", True),
    ("int", "typing.Union[str, int]", True), ("pathlib.Path", "str", True), ("mod.A", "mod.B", False),
])
def test_type_compatibility(src, dst, ok):
    assert types_compatible(src, dst) is ok


def test_parse_type():
    assert parse_type("typing.Dict[str, typing.List[int]]") == ("dict", (("str", ()), ("list", (("int", ()),))))
    assert parse_type(None) == ("", ())


@pytest.mark.parametrize("value, type_name, ok", [
    (3, "int", True), (True, "int", False), (3, "float", True), ("3", "int", True), ("three", "int", False),
    ("{{item}}", "int", True), ([1, 2], "typing.List[int]", True), ({"a": 1}, "list", False),
    (None, "typing.Optional[int]", True), ("x", "mymod.Thing", True), (1.5, "str", False),
])
def test_literal_fits(value, type_name, ok):
    assert literal_fits(value, type_name) is ok
