"""Bounded loading of untrusted documents (issue 12): YAML alias bombs and deep nesting are refused with a
clear error before anything is built — through the loader, ``Workflow.from_yaml``/``from_graph_*``,
``validate``, ``dflow-lab lint``/``run``/``codegen`` and the lab's document parser."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc

import pytest
import yaml

from dflow_lab.config import config
from dflow_lab.graph import validate
from dflow_lab.workflow import Workflow
from dflow_lab.yamlsafe import DocumentBoundError, check_depth, load_json, load_yaml


def alias_bomb(levels: int = 9) -> str:
    """About 1 KB of YAML whose aliases expand to 10**levels strings (a "billion laughs")."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def bomb_manifest() -> str:
    """A runnable Workflow manifest carrying the bomb in a field nothing checks."""
    return ("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: bomb\n  annotations:\n"
            "    note: hi\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n    script:\n"
            "      image: alpine:3\n      command: [sh]\n      source: echo hi\n"
            "    metadata:\n      labels:\n        x: y\n" + "x-bomb:\n" +
            "".join("  " + line + "\n" for line in alias_bomb().splitlines()))


def test_alias_bomb_is_refused_without_building_it():
    text = alias_bomb()
    assert len(text) < 2000
    tracemalloc.start()
    try:
        with pytest.raises(DocumentBoundError, match=r"aliases expand to more than 100,000 nodes.*yaml_max_alias_nodes"):
            load_yaml(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 ** 2  # the scan builds nothing: well under the 10**9 nodes' gigabytes


def test_aliases_within_the_bound_load():
    assert load_yaml("a: &x [1, 2]\nb: *x\nc: *x\n") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}
    text = alias_bomb(4)  # 10,000 nodes: allowed by default, refused below that
    assert len(load_yaml(text)["l3"]) == 10
    with pytest.raises(DocumentBoundError):
        load_yaml(text, max_alias_nodes=5_000)
    old = config.get("yaml_max_alias_nodes")
    config["yaml_max_alias_nodes"] = 100
    try:
        with pytest.raises(DocumentBoundError, match="yaml_max_alias_nodes"):
            load_yaml(text)
    finally:
        config["yaml_max_alias_nodes"] = old


def test_recursive_aliases_and_unsafe_tags_are_refused():
    with pytest.raises(DocumentBoundError, match="contains it"):
        load_yaml("a: &a [1, *a]\n")
    with pytest.raises(yaml.YAMLError):
        load_yaml("x: !!python/object/apply:os.system ['touch PWNED']\n")


def test_the_model_and_the_lab_use_the_bounded_loader():
    from dflow_lab.graph.convert import load_graph
    from dflow_lab.jupyter.documents import DocumentError, parse

    with pytest.raises(DocumentBoundError):
        Workflow.from_yaml(bomb_manifest())
    with pytest.raises(DocumentBoundError):
        load_graph("version: 1\n" + alias_bomb(), "yaml")
    with pytest.raises(DocumentError, match="aliases expand"):
        parse(alias_bomb(), "bomb.dflow.yaml")


@pytest.mark.parametrize("command", ["lint", "run", "codegen"])
def test_the_cli_refuses_an_alias_bomb(command, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb_manifest())
    out = subprocess.run([sys.executable, "-m", "dflow_lab.main", command, str(path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode != 0, out.stdout
    assert "aliases expand to more than" in out.stdout + out.stderr, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / ".dflow-lab").exists() or not any((tmp_path / ".dflow-lab").rglob("*bomb*"))


# -- nesting depth -----------------------------------------------------------------------------------
def deep_layout_graph(depth: int = 4000) -> str:
    """A valid graph whose layout nests ``depth`` objects (as text: ``json.dumps`` itself would recurse)."""
    head = ('{"version": 1, "name": "deep", "entrypoint": "main", "templates": {"main": {"kind": "dag", '
            '"nodes": [{"name": "a", "template": "echo"}], "edges": []}, "echo": {"kind": "shell", '
            '"image": "alpine:3", "script": "echo hi"}}, "layout": {"templates": {"main": ')
    return head + '{"x": ' * depth + "{}" + "}" * depth + "}}}"


def test_deep_json_is_refused_before_parsing():
    text = deep_layout_graph()
    with pytest.raises(DocumentBoundError, match=r"nested deeper than 100 levels.*document_max_depth"):
        load_json(text)
    with pytest.raises(DocumentBoundError):
        Workflow.from_graph_json(text)
    assert load_json(deep_layout_graph(96))["name"] == "deep"  # 100 levels: the bound itself is fine


def test_deep_graph_object_gets_an_issue():
    """A graph handed over as an object (the canvas, a request) is measured iteratively by validate."""
    graph = json.loads(deep_layout_graph(96))
    inner = graph["layout"]["templates"]["main"]
    for _ in range(96):
        inner = inner["x"]
    for _ in range(3000):  # deeper than json.loads itself could go
        inner["x"] = {}
        inner = inner["x"]
    (issue,) = validate(graph)
    assert issue.code == "too-deep" and "document_max_depth" in issue.message
    cyclic: dict = {"a": []}
    cyclic["a"].append(cyclic)
    with pytest.raises(DocumentBoundError):
        check_depth(cyclic)


def test_deep_yaml_is_refused_not_a_crash(tmp_path):
    """libyaml builds nested flow collections recursively in C: 50,000 levels crash the process (SIGSEGV).
    The scan refuses them first; run in a subprocess so a regression fails this test, not the session."""
    path = tmp_path / "deep.yaml"
    path.write_text("[" * 50_000 + "]" * 50_000)
    out = subprocess.run([sys.executable, "-m", "dflow_lab.main", "lint", str(path)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, (out.returncode, out.stdout, out.stderr[-2000:])
    assert "nested deeper than 100 levels" in out.stderr, out.stderr[-2000:]


def test_the_cli_reports_a_deep_graph(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(deep_layout_graph())
    for command in ("lint", "codegen"):
        out = subprocess.run([sys.executable, "-m", "dflow_lab.main", command, str(path)], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 1 and "nested deeper than 100 levels" in out.stderr, out.stderr[-2000:]
        assert "RecursionError" not in out.stderr


def test_the_api_server_refuses_a_deep_body(tmp_path):
    """``dflow-lab server``: a deeply nested JSON body is a 400 naming the bound, not a RecursionError."""
    import http.client

    from dflow_lab.apiserver import ArgoServer

    with ArgoServer(tmp_path, port=0) as server:
        host, port = server.url.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        body = '{"workflow": ' + '{"x": ' * 5000 + "{}" + "}" * 5000 + "}"
        conn.request("POST", "/api/v1/workflows/argo", body=body,
                     headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"})
        answer = conn.getresponse()
        text = answer.read().decode()
        conn.close()
    assert answer.status == 400, text
    assert "nested deeper than 100 levels" in text
