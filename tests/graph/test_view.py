"""Node orders and the networkx view of a graph document."""

from __future__ import annotations

import pytest

from dflow_lab.graph import graph_to_networkx
from dflow_lab.graph.view import build_order, construction_order


def control(s: str, t: str) -> dict:
    return {"kind": "control", "source": {"node": s}, "target": {"node": t}}


def dag(names: str, *edges: dict) -> dict:
    return {"kind": "dag", "nodes": [{"name": n, "template": "t"} for n in names], "edges": list(edges)}


def test_construction_order_puts_sources_first():
    t = dag("dcba", control("b", "d"), control("c", "d"), control("b", "c"), control("a", "b"))
    assert [n["name"] for n in construction_order(t)] == ["a", "b", "c", "d"]
    t["edges"].append(control("d", "a"))
    with pytest.raises(ValueError, match="cycle"):
        construction_order(t)


def test_build_order_keeps_document_order_and_reports_cycles():
    t = dag("xyz", control("z", "x"))
    order, left = build_order(t)
    assert [n["name"] for n in order] == ["y", "z", "x"] and left == []
    t["nodes"][1]["when"] = "{{tasks.x.outputs.parameters.p}} == 1"  # y waits for x by reference
    t["edges"].append(control("y", "z"))
    order, left = build_order(t)
    assert order == [] and [n["name"] for n in left] == ["x", "y", "z"]


def test_graph_to_networkx_of_a_document(example_graph):
    g = graph_to_networkx(example_graph)
    assert list(g.nodes(data="template")) == [("prepare", "prepare"), ("score", "score")]
    assert g.edges["prepare", "score"] == {"kind": "data", "links": [("artifact", "structures", "structures")]}
    with pytest.raises(ValueError, match="not a steps or dag template"):
        graph_to_networkx(example_graph, "score")
