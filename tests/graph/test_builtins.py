"""The built-in palette templates (dflow_lab.graph.builtins): valid graph templates that run on the local
engine as they are, and that gen_code writes as ShellOPTemplate / PythonScriptOPTemplate / ContainerOPTemplate."""

from __future__ import annotations

from dflow_lab.code_gen import gen_code
from dflow_lab.graph.builtins import BUILTIN_GROUPS, builtin_entries
from dflow_lab.graph.validate import validate
from dflow_lab.workflow import Workflow


def _graph(entries, edges=()):
    templates = {e["name"]: e["template"] for e in entries}
    nodes = [{"name": e["name"], "template": e["name"]} for e in entries]
    return {"version": 1, "name": "built-ins", "entrypoint": "main",
            "templates": {"main": {"kind": "dag", "nodes": nodes, "edges": list(edges)}, **templates}}


def test_every_group_has_entries_and_every_template_is_valid():
    entries = builtin_entries()
    assert [g for g in BUILTIN_GROUPS if any(e["source"] == g for e in entries)] == list(BUILTIN_GROUPS)
    names = [e["name"] for e in entries]
    assert names[:3] == ["shell", "python-script", "container"] and len(set(names)) == len(names)
    assert {"check-num-success", "check-success-ratio"} <= set(names)
    plain = [e for e in entries if e["source"] != "dflow utility OPs"]
    assert validate(_graph(plain)) == []
    entries[0]["template"]["script"] = "changed"  # callers get copies
    assert builtin_entries()[0]["template"]["script"] != "changed"


def test_gen_code_writes_the_idiomatic_classes():
    code = gen_code(_graph([e for e in builtin_entries() if e["source"] != "dflow utility OPs"]))
    assert "ShellOPTemplate(" in code and "PythonScriptOPTemplate(" in code and "ContainerOPTemplate(" in code
    assert "command=['python3']" not in code and 'command=["python3"]' not in code  # the class implies it
    namespace: dict = {}
    exec(compile(code, "<generated>", "exec"), namespace)  # noqa: S102 - our own generated code
    assert namespace["wf"].to_graph()["templates"]["python-script"]["command"] == ["python3"]


def test_shell_into_python_script_runs_green(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    by_name = {e["name"]: e for e in builtin_entries()}
    graph = _graph([by_name["shell"], by_name["python-script"]], [
        {"kind": "parameter", "source": {"node": "shell", "port": "greeting"},
         "target": {"node": "python-script", "port": "text"}}])
    wf = Workflow.from_graph(graph)
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    (step,) = wf.query_step(name="python-script")
    assert step.outputs.parameters["length"].value == len("hello, world")
