"""The canvas's "New Python OP…" writer (dflow_lab.python.newop): names and types checked before anything is
written, the function appended to a module beside the document (created with its imports), the module as
written parses and offers the OP, a name already defined and a body that does not parse are refused."""

from __future__ import annotations

import ast
import sys

import pytest

from dflow_lab.errors import WorkflowValueError
from dflow_lab.python.discovery import folder_entries
from dflow_lab.python.newop import render_function_op, write_function_op


def test_rendered_function_op():
    code = render_function_op("scale", [{"name": "x", "type": "float"}, {"name": "data", "type": "artifact"}],
                              [{"name": "y", "type": "float"}], 'return {"y": 2 * x}')
    assert code == ('@OP.function\ndef scale(x: float, data: Artifact(Path)) -> {"y": float}:\n'
                    '    return {"y": 2 * x}\n')
    assert "return {\"out\": Path(\"out\")}" in render_function_op("f", [], [{"name": "out", "type": "artifact"}])


@pytest.mark.parametrize("name, inputs, outputs, body, field", [
    ("class", [], [], None, "name"),
    ("f", [{"name": "import", "type": "int"}], [], None, "inputs"),
    ("f", [{"name": "x", "type": "os.system"}], [], None, "inputs"),
    ("f", [{"name": "x", "type": "int"}, {"name": "x", "type": "int"}], [], None, "inputs"),
    ("f", [{"name": "x", "type": "int"}], [{"name": "x", "type": "int"}], None, "outputs"),
    ("f", [], [], "x" * 100_001, "body"),
    ("f", [{"name": "x"}] * 65, [], None, "inputs"),
])
def test_bad_forms_are_refused_before_anything_is_written(tmp_path, name, inputs, outputs, body, field):
    with pytest.raises(WorkflowValueError) as e:
        write_function_op(tmp_path, "ops", name, inputs, outputs, body)
    assert f"field {field!r}" in str(e.value)
    assert not (tmp_path / "ops.py").exists()


def test_written_module_offers_the_op_and_refuses_clashes(tmp_path):
    (tmp_path / "proj").mkdir()
    folder = tmp_path / "proj"
    first = write_function_op(folder, "newops_a1", "double", [{"name": "x", "type": "int"}],
                              [{"name": "y", "type": "int"}], 'return {"y": 2 * x}')
    second = write_function_op(folder, "newops_a1", "loud", [{"name": "msg", "type": "str"}],
                               [{"name": "out", "type": "str"}], 'return {"out": msg.upper()}')
    text = (folder / "newops_a1.py").read_text()
    ast.parse(text)
    lines = text.split("\n")
    assert lines[first["line"] - 1] == "@OP.function" and lines[first["line"]].startswith("def double(")
    assert lines[second["line"]].startswith("def loud(")
    assert text.count("from dflow_lab.python import") == 1
    try:
        entries, errors = folder_entries(folder, tmp_path)
        assert errors == []
        assert {e["name"]: e["line"] for e in entries} == {"double": first["line"], "loud": second["line"]}
    finally:
        sys.modules.pop("newops_a1", None)
    with pytest.raises(WorkflowValueError, match="already defines 'double'"):
        write_function_op(folder, "newops_a1", "double", [], [])
    with pytest.raises(WorkflowValueError, match="does not parse"):
        write_function_op(folder, "newops_a1", "broken", [], [], "return {")
    assert (folder / "newops_a1.py").read_text() == text  # nothing written by a refusal
