"""gen_code: graph → Python → graph, ruff-clean output, and hostile graphs (emitted as literals only)."""

from __future__ import annotations

import ast
import copy
import keyword
import re
import subprocess
import sys

import pytest

from dflow_lab import gen_code
from dflow_lab.code_gen import CodeGenerator, _Names
from dflow_lab.graph import GraphValidationError
from dflow_lab.workflow import Workflow

from .helpers import HERE, load_fixture
from .workflows import all_workflows, random_dag

REPO = HERE.parent.parent


def run(code: str) -> Workflow:
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)
    return namespace["wf"]


def ruff_clean(code: str, tmp_path, first_party: list[str]) -> None:
    """ruff with the project's rules, dflow_lab as the installed library and the OP modules as the
    user's own (as in a user's project)."""
    path = tmp_path / "generated.py"
    path.write_text(code)
    cmd = [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(REPO / "pyproject.toml"),
           "--config", "lint.isort.known-third-party = ['dflow_lab']",
           "--config", f"lint.isort.known-first-party = {first_party!r}", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr + "\n" + code


WORKFLOWS = {wf.name: wf for wf in all_workflows()}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_graph_code_graph(name, tmp_path):
    wf = WORKFLOWS[name]
    graph = wf.to_graph()
    code = gen_code(graph)
    rebuilt = run(code)
    assert rebuilt.to_graph() == graph
    assert rebuilt.to_dict() == wf.to_dict()
    ruff_clean(code, tmp_path, ["tests"])


def test_sliced_steps_are_written_as_the_user_wrote_them():
    """Sub-path and grouped slices come out as Slices(...) on the template; dflow's init-artifact steps,
    the group items and the sub-path wiring are not written (rebuilding the step adds them again)."""
    code = gen_code(WORKFLOWS["sliced"].to_graph())
    assert 'Slices(input_artifact=["foo"], output_parameter=["msg"], output_artifact=["bar"], sub_path=True)' in code
    assert 'group_size=2, pool_size=1)' in code
    assert "init-artifact" not in code and "dflow_group" not in code and "dflow_artifact_key" not in code


@pytest.mark.parametrize("seed", range(10, 20))
def test_random_dags(seed):
    wf = random_dag(seed, size=40)
    graph = wf.to_graph()
    rebuilt = run(gen_code(graph))
    assert rebuilt.to_graph() == graph
    assert Workflow.from_graph(graph).to_dict() == wf.to_dict()


@pytest.mark.parametrize("name", ["pydflow_steps.json", "pydflow_dag.json", "pydflow_nested.json"])
def test_pydflow_graphs(name, tmp_path):
    graph = Workflow.from_graph(load_fixture(name)).to_graph()
    code = gen_code(load_fixture(name))  # pydflow's own graph JSON is accepted too
    assert run(code).to_graph() == graph
    ruff_clean(code, tmp_path, ["fixture_ops"])


def test_idiomatic_shape():
    code = gen_code(WORKFLOWS["dag-mix"].to_graph())
    assert "from tests.graph.fixture_ops import Duplicate, Split, Square\n" in code
    assert 'square = PythonOPTemplate(Square, image="python:3.11", timeout=60)\nsquare.name = "square"\n' in code
    assert 'parameters={"msg": a_task.outputs.parameters["out"], "num": 3},' in code
    assert 'with_param=d_task.outputs.parameters["items"],' in code
    assert 'dependencies=[e_task, "b.Failed"],' in code
    assert 'main.outputs.artifacts["text"]._from = c_task.outputs.artifacts["bar"]' in code
    assert "wf.submit()" not in code
    assert CodeGenerator(WORKFLOWS["dag-mix"].to_graph()).generate() == code
    assert gen_code(WORKFLOWS["dag-mix"]) == code  # a Workflow is accepted too


def test_layout_is_carried(example_graph):
    for t in ("prepare", "score"):
        spec = example_graph["templates"][t]
        example_graph["templates"][t] = {"kind": "shell", "image": "alpine:3", "script": "true",
                                         "inputs": spec["inputs"], "outputs": spec["outputs"]}
    code = gen_code(example_graph)
    assert "wf.graph_layout = {" in code
    assert run(code).to_graph() == example_graph


HOSTILE = [
    "\"); import os; os.system('touch PWNED') #",
    "'''\nimport os\nos.system('touch PWNED')\n'''",
    "{{=sprig.env('HOME')}}\\\"; __import__('os').system('touch PWNED')",
    "\\N{LATIN SMALL LETTER A}\\x00 \x00 \u2028 \t end",
    "${HOME} `touch PWNED` $(touch PWNED)",
]


def hostile_graph() -> dict:
    """A valid graph whose strings (scripts, values, keys, expressions, layout) are code-like."""
    h = HOSTILE
    return {
        "version": 1, "name": "hostile", "entrypoint": "main",
        "labels": {h[0]: h[1]}, "annotations": {"note": h[2]}, "parameters": {"p": {h[3]: [h[4]]}},
        "templates": {
            "echo": {
                "kind": "shell", "image": h[0], "script": h[1] + h[2] + h[3],
                "inputs": {"parameters": {"msg": {"type": "str", "default": h[4], "description": h[0]},
                                          "anything": {"type": "__import__('os').system('touch PWNED')"}}},
                "outputs": {"parameters": {"out": {"value_from_path": h[2], "default": h[1]}}},
                "options": {"envs": {"X": h[0]}},
            },
            "main": {
                "kind": "dag",
                "nodes": [
                    {"name": "a", "template": "echo", "parameters": {"msg": h[0], "anything": {h[1]: h[2]}},
                     # a condition that parses (the validator checks `when` with govaluate), code-like inside
                     "when": "'" + h[2].replace("'", "") + "' == 'x'", "key": "k"},
                    {"name": "b", "template": "echo", "parameters": {"anything": h[4]}, "with_param": [h[1], 1]},
                ],
                "edges": [{"kind": "parameter", "source": {"node": "a", "port": "out"},
                           "target": {"node": "b", "port": "msg"}}],
            },
        },
        "layout": {"templates": {"main": {"comments": [{"id": h[0], "text": h[1]}]}}},
    }


def _constants(tree: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_hostile_strings_are_literals(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    graph = hostile_graph()
    code = gen_code(graph)
    tree = ast.parse(code)
    constants = _constants(tree)
    for text in HOSTILE:
        assert text in constants or any(text in c for c in constants)
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert calls <= {"ShellOPTemplate", "Inputs", "Outputs", "InputParameter", "OutputParameter", "Task",
                     "DAG", "Workflow", "main.add"}, calls
    imports = {(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert {m for m, _ in imports} == {"dflow_lab"}
    assert not any(isinstance(n, (ast.Import, ast.Lambda, ast.FunctionDef, ast.ClassDef)) for n in ast.walk(tree))
    rebuilt = run(code)
    assert not (tmp_path / "PWNED").exists()
    assert rebuilt.to_graph() == graph  # every string survives exactly
    ruff_clean(code, tmp_path, [])


@pytest.mark.parametrize("where", ["node", "template", "port", "workflow"])
def test_hostile_names_are_refused(where):
    graph = hostile_graph()
    bad = "a\"); import os; os.system('touch PWNED'); (\""
    if where == "node":
        graph["templates"]["main"]["nodes"][0]["name"] = bad
    elif where == "template":
        graph["templates"][bad] = graph["templates"].pop("echo")
    elif where == "port":
        graph["templates"]["echo"]["inputs"]["parameters"][bad] = {}
    else:
        graph["name"] = bad
    with pytest.raises(GraphValidationError) as err:
        gen_code(graph)
    assert "invalid-name" in {i.code for i in err.value.issues}


def test_hostile_op_paths_are_refused():
    graph = copy.deepcopy(load_fixture("pydflow_dag.json"))
    graph = Workflow.from_graph(graph).to_graph()
    square = next(name for name in graph["templates"] if name.startswith("square-"))  # pydflow's random suffix
    graph["templates"][square]["op"] = "os; os.system('x'):Square"
    with pytest.raises(GraphValidationError) as err:
        gen_code(graph)
    assert [i.code for i in err.value.issues] == ["invalid-field"]


def test_identifiers_are_sanitised():
    names = _Names()
    for raw in ["a\"); import os #", "class", "list", "9lives", "über-step", "", "__import__", "wf"]:
        ident = names.make(raw, "_task" if raw == "class" else "")
        assert re.fullmatch(r"[a-z_][a-z0-9_]*", ident), ident
        assert not keyword.iskeyword(ident) and ident not in ("list", "wf", "__import__")


def test_tuples_survive():
    """JSON has no tuples: a tuple given to a tuple-typed input comes back a tuple."""
    from typing import Tuple

    from dflow_lab import InputParameter, Inputs, ShellOPTemplate, Step, Steps

    t = ShellOPTemplate(name="t", script="true", inputs=Inputs(parameters={"pair": InputParameter(type=Tuple[int, str])}))
    steps = Steps("main")
    steps.add(Step("s", t, parameters={"pair": (1, "x")}))
    wf = Workflow("tuples", steps=steps)
    graph = wf.to_graph()
    assert graph["templates"]["main"]["nodes"][0]["parameters"] == {"pair": [1, "x"]}
    assert Workflow.from_graph(graph).to_dict() == wf.to_dict()
    code = gen_code(graph)
    assert '"pair": (1, "x")' in code
    assert run(code).to_dict() == wf.to_dict()
