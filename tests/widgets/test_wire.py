"""The ``graph`` trait's wire form (``dflow_lab/widgets/_wire.py``): a large graph goes to the browser as one binary
buffer of its UTF-8 JSON and comes back as the same dict; small graphs and the browser's own edits stay JSON.
The browser's half (decoding the buffer) is js/test/wire.test.ts; tests/widgets/test_browser_large.py and
test_browser_monitor.py draw large and small graphs through it."""

from __future__ import annotations

import copy
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks._big_graphs import layered
from dflow_lab.widgets._wire import BINARY_OVER, graph_from_json, graph_to_json
from dflow_lab.widgets.base import GraphWidget


def sent(widget):
    """Record the comm messages (and their buffers) the widget sends."""
    messages: list[tuple[dict, list]] = []
    widget._send = lambda msg, buffers=None: messages.append((msg, list(buffers or [])))
    return messages


def test_a_large_graph_is_sent_as_one_binary_buffer_and_decodes_to_the_same_dict():
    graph = layered(1000)
    graph["name"] = "wide-é→✓"  # non-ASCII travels as UTF-8
    widget = GraphWidget(graph=graph)
    messages = sent(widget)
    widget.send_state("graph")
    (msg, buffers), = messages
    assert msg["method"] == "update" and msg["buffer_paths"] == [["graph"]] and "graph" not in msg["state"]
    (buffer,) = buffers
    assert len(buffer) > BINARY_OVER
    assert json.loads(bytes(buffer).decode("utf-8")) == graph
    assert widget.graph is graph  # Python keeps the dict
    widget.close()


def test_a_small_graph_stays_json():
    graph = layered(20)
    widget = GraphWidget(graph=graph)
    messages = sent(widget)
    widget.send_state("graph")
    (msg, buffers), = messages
    assert msg["state"]["graph"] == graph and buffers == [] and msg["buffer_paths"] == []
    widget.close()


def test_an_edit_from_the_browser_is_not_sent_back_and_bytes_from_it_are_a_dict():
    graph = layered(1000)
    widget = GraphWidget(graph=graph)
    messages = sent(widget)
    edited = copy.deepcopy(graph)
    edited["layout"] = {"nodes": {"t0": {"x": 1.5, "y": 2}}}
    widget.set_state({"graph": edited})  # as the browser's update arrives
    assert widget.graph == edited
    assert not any(m.get("method") == "update" for m, _ in messages)  # no echo of the whole graph as bytes
    assert all(not buffers for _, buffers in messages)
    widget.set_state({"graph": memoryview(json.dumps(graph).encode())})  # a binary form is read too
    assert widget.graph == graph and isinstance(widget.graph, dict)
    with pytest.raises(ValueError, match="not UTF-8 JSON"):
        graph_from_json(b"\xff{")
    widget.close()


def test_values_that_are_not_strict_json_keep_the_old_path():
    big = {"templates": {}, "pad": "x" * (BINARY_OVER + 1)}
    assert isinstance(graph_to_json(big), memoryview)
    for odd in ({**big, "v": math.nan}, {**big, "s": "\ud800"}, {**big, "o": object()}):
        assert graph_to_json(odd) is odd


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6), st.integers(0, 2))
def test_round_trip(doc, pad):
    doc = {**doc, "pad": "é" * (pad * BINARY_OVER // 2)}  # below and above the threshold
    wire = graph_to_json(doc)
    size = len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())
    assert isinstance(wire, memoryview if size > BINARY_OVER else dict)
    assert graph_from_json(bytes(wire) if isinstance(wire, memoryview) else wire) == doc
