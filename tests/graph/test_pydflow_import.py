"""Importing pydflow's graph JSON (fixtures written by pydflow 1.8's ``to_graph_json``)."""

from __future__ import annotations

import copy
import json
import random

import pytest

from dflow_lab.graph import GraphValidationError, from_pydflow, is_pydflow_graph, validate

from .helpers import json_paths, load_fixture

FIXTURES = ["pydflow_steps.json", "pydflow_dag.json", "pydflow_nested.json"]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_import_as_valid_graphs(name):
    source = load_fixture(name)
    assert is_pydflow_graph(source)
    graph = from_pydflow(source)
    assert graph["version"] == 1 and validate(graph) == []
    text = json.dumps(graph)
    assert "py/object" not in text and "secret_key" not in text and "def execute" not in text


def test_dag_fixture_edges():
    graph = from_pydflow(load_fixture("pydflow_dag.json"))
    main = graph["templates"]["diamond"]
    edges = {(e["kind"], e["source"]["node"], e["target"]["node"], e["target"].get("port") or e["target"].get("option"))
             for e in main["edges"]}
    assert edges == {
        ("parameter", "@inputs", "a", "msg"), ("artifact", "a", "b", "src"), ("control", "a", "c", None),
        ("parameter", "c", "d", "with_param"), ("control", "b", "e", None), ("control", "d", "e", None),
        ("parameter", "b", "@outputs", "count"), ("artifact", "a", "@outputs", "text"),
    }
    a = next(n for n in main["nodes"] if n["name"] == "a")
    assert "parameters" not in a  # pydflow's copy of the template default (num=2) is left out
    dup = graph["templates"][a["template"]]
    assert dup["op"] == "fixture_ops:Duplicate"
    assert dup["inputs"] == {"artifacts": {"foo": {"type": "pathlib.Path", "optional": True}},
                             "parameters": {"msg": {"type": "str"}, "num": {"type": "int", "default": 2}}}


def test_not_a_pydflow_graph(example_graph):
    assert not is_pydflow_graph(example_graph)
    with pytest.raises(GraphValidationError, match="not a pydflow graph"):
        from_pydflow(example_graph)


def test_malformed_pydflow_graphs_are_reported_not_crashed():
    rng = random.Random(11)
    junk = [None, 0, "", "x", [], {}, True, {"py/object": "x"}, [[{}]], "{{steps.a.outputs.parameters.x}}"]
    bases = [load_fixture(n) for n in FIXTURES]

    for _ in range(200):
        g = copy.deepcopy(rng.choice(bases))
        for path in rng.sample([p for p in json_paths(g) if p], 2):
            target = g
            try:
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = copy.deepcopy(rng.choice(junk))
            except (KeyError, IndexError, TypeError):
                continue
        if not is_pydflow_graph(g):
            continue
        try:
            validate(from_pydflow(g))
        except GraphValidationError as e:
            assert e.issues and all(i.code in ("schema", "unsafe-value") for i in e.issues)
