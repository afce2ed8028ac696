"""Python OPs found without configuration (dflow_lab.python.discovery): .py files of a folder that define
OP subclasses or @OP.function are imported with that folder on the path for the import only; errors name
the file and line; a file that would hide another module is refused; edits are picked up; a graph that
uses such an OP runs on the local engine without PYTHONPATH."""

from __future__ import annotations

import sys
import uuid

import pytest

from dflow_lab.python.discovery import DiscoveryError, defines_ops, discover, import_file, importable

FUNCTION_OP = '''
from dflow_lab.python import OP


@OP.function
def {name}(x: int) -> {{"y": int}}:
    return {{"y": 2 * x}}
'''

CLASS_OP = '''
from dflow_lab.python import OP, OPIO, OPIOSign


class {name}(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({{"msg": str}})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({{"loud": str}})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({{"loud": op_in["msg"].upper()}})
'''


@pytest.fixture
def folder(tmp_path):
    """A folder of its own, and module names of their own (sys.modules is shared by the tests)."""
    tag = uuid.uuid4().hex[:8]
    d = tmp_path / "proj"
    d.mkdir()
    yield d, tag
    for name in [m for m in sys.modules if tag in m]:
        del sys.modules[name]


def test_the_look_parses_and_never_runs():
    assert defines_ops("from dflow_lab.python import OP\nclass A(OP):\n    pass\n")
    assert defines_ops("import dflow_lab.python as p\nclass A(p.OP):\n    pass\n")
    assert defines_ops(FUNCTION_OP.format(name="f"))
    assert defines_ops("from dflow_lab.python import OP\n@OP.function(image='x')\ndef f(a: int) -> {'b': int}:\n  ...\n")
    assert not defines_ops("raise SystemExit('never run')\nclass A:\n    pass\n")
    with pytest.raises(DiscoveryError) as e:
        defines_ops("class A(OP):\n  def f(:\n", "bad.py")
    assert e.value.line == 2 and "bad.py, line 2" in str(e.value)


def test_a_folder_offers_its_ops_with_their_place_and_signs(folder):
    d, tag = folder
    (d / f"fops_{tag}.py").write_text(FUNCTION_OP.format(name="double"))
    (d / f"cops_{tag}.py").write_text(CLASS_OP.format(name="LoudMessage"))
    (d / f"plain_{tag}.py").write_text("raise RuntimeError('a file without OPs is never imported')\n")
    found = discover(folders=[d], root=d.parent, entry_point_group="dflow_lab.ops.none")
    assert found["errors"] == []
    by_name = {e["name"]: e for e in found["entries"]}
    assert set(by_name) == {"double", "loud-message"}
    double = by_name["double"]
    assert double["source"] == f"proj/fops_{tag}.py" and double["file"] == f"proj/fops_{tag}.py"
    assert double["line"] == 5  # the decorator's line, where the definition starts
    assert double["template"]["op"] == f"fops_{tag}:double"
    assert double["template"]["inputs"]["parameters"]["x"] == {"type": "int"}
    assert double["template"]["outputs"]["parameters"]["y"] == {"type": "int"}
    assert by_name["loud-message"]["template"]["op"] == f"cops_{tag}:LoudMessage"
    assert f"plain_{tag}" not in sys.modules
    assert str(d) not in sys.path  # on the path for the import only


def test_an_import_error_is_the_entry_of_its_file_with_the_line(folder):
    d, tag = folder
    (d / f"good_{tag}.py").write_text(FUNCTION_OP.format(name="double"))
    (d / f"broken_{tag}.py").write_text(
        "from dflow_lab.python import OP\n\nimport no_such_module_xyz\n\n\nclass A(OP):\n    pass\n")
    (d / f"syntax_{tag}.py").write_text("from dflow_lab.python import OP\nclass A(OP):\n    def f(:\n")
    found = discover(folders=[d], root=d, entry_point_group="dflow_lab.ops.none")
    assert [e["name"] for e in found["entries"]] == ["double"]  # the others do not hide it
    errors = {e["source"]: e for e in found["errors"]}
    broken = errors[f"broken_{tag}.py"]
    assert broken["line"] == 3 and broken["file"] == f"broken_{tag}.py"
    assert "ModuleNotFoundError" in broken["message"] and "no_such_module_xyz" in broken["message"]
    assert errors[f"syntax_{tag}.py"]["line"] == 3


def test_a_file_that_would_hide_another_module_is_refused(folder):
    d, _ = folder
    (d / "json.py").write_text(FUNCTION_OP.format(name="double"))
    found = discover(folders=[d], root=d, entry_point_group="dflow_lab.ops.none")
    assert found["entries"] == []
    (error,) = found["errors"]
    assert error["source"] == "json.py" and "rename json.py" in error["message"]
    import json

    assert hasattr(json, "dumps")  # the standard module is untouched


def test_an_edited_file_is_imported_again(folder):
    d, tag = folder
    f = d / f"live_{tag}.py"
    f.write_text(FUNCTION_OP.format(name="first"))
    names = lambda: [e["name"] for e in discover(folders=[d], root=d, entry_point_group="x")["entries"]]  # noqa: E731
    assert names() == ["first"]
    f.write_text(FUNCTION_OP.format(name="first") + FUNCTION_OP.format(name="second"))
    assert names() == ["first", "second"]
    with pytest.raises(DiscoveryError, match="not a Python module name"):
        import_file(d / "not-a-name.py")


def test_a_graph_of_ops_next_to_its_document_runs_without_pythonpath(folder, tmp_path, monkeypatch):
    from dflow_lab.workflow import Workflow

    d, tag = folder
    (d / f"runops_{tag}.py").write_text(FUNCTION_OP.format(name="double"))
    entry = discover(folders=[d], root=d, entry_point_group="x")["entries"][0]
    del sys.modules[f"runops_{tag}"]  # a fresh server: the module is not imported yet
    graph = {"version": 1, "name": "near", "entrypoint": "main", "templates": {
        "main": {"kind": "dag", "nodes": [{"name": "a", "template": "double", "parameters": {"x": 21}}]},
        "double": entry["template"]}}
    monkeypatch.chdir(tmp_path)
    importable(graph, [d])
    wf = Workflow.from_graph(graph)
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    (step,) = wf.query_step(name="a")
    assert step.outputs.parameters["y"].value == 42
