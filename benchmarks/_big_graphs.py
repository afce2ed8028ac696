"""Graph documents (the ``.dflow.json`` format of docs/graph-format.md) of many distinct tasks for the visual
benchmarks and the browser tests: no saved layout unless asked, deterministic (a fixed seed).

- ``layered(n, width, extra)``: a DAG of ``n`` tasks in layers of ``width``; each task after the first layer takes
  ``x`` from one task of the layer before (a data edge) and ``extra`` tasks get a control dependency on a task
  two layers back; five shell templates shared by the tasks.
- ``fan(n)``: one ``split`` task, ``n`` tasks fed by it, one ``join`` task depending on all of them.

Limits: names are ``t<i>``; sizes are bounded by the caller (the benchmarks use up to 10,000 tasks).
"""

from __future__ import annotations

import random


def _templates() -> dict:
    out = {}
    for k in range(5):
        out[f"work{k}"] = {"kind": "shell", "image": "alpine:3", "script": f"echo {k} {{{{inputs.parameters.x}}}}",
                           "inputs": {"parameters": {"x": {"type": "int"}}},
                           "outputs": {"parameters": {"y": {"type": "int", "value_from_path": "/tmp/y"}}}}
    return out


def layered(n: int, width: int = 50, extra: int | None = None, seed: int = 18) -> dict:
    """A DAG of ``n`` tasks in ``ceil(n / width)`` layers (about ``n + extra - width`` edges)."""
    rng = random.Random(seed)
    extra = round(n * 0.096) if extra is None else extra
    nodes, edges = [], []
    for i in range(n):
        layer = i // width
        node = {"name": f"t{i}", "template": f"work{i % 5}"}
        if layer == 0:
            node["parameters"] = {"x": i}
        else:
            lo, hi = (layer - 1) * width, min(layer * width, n)
            edges.append({"kind": "parameter", "source": {"node": f"t{rng.randrange(lo, hi)}", "port": "y"},
                          "target": {"node": f"t{i}", "port": "x"}})
        nodes.append(node)
    for i in rng.sample(range(2 * width, n), min(extra, max(n - 2 * width, 0))):
        layer = i // width
        src = rng.randrange((layer - 2) * width, (layer - 1) * width)
        edges.append({"kind": "control", "source": {"node": f"t{src}"}, "target": {"node": f"t{i}"}})
    return {"version": 1, "name": f"layered-{n}", "entrypoint": "main",
            "templates": {"main": {"kind": "dag", "nodes": nodes, "edges": edges}, **_templates()}}


def fan(n: int) -> dict:
    """A fan-out/fan-in of ``n`` distinct tasks between a ``split`` and a ``join`` task."""
    nodes = [{"name": "split", "template": "work0", "parameters": {"x": 0}}]
    edges = []
    for i in range(n):
        nodes.append({"name": f"t{i}", "template": f"work{i % 5}"})
        edges.append({"kind": "parameter", "source": {"node": "split", "port": "y"},
                      "target": {"node": f"t{i}", "port": "x"}})
        edges.append({"kind": "control", "source": {"node": f"t{i}"}, "target": {"node": "join"}})
    nodes.append({"name": "join", "template": "work1", "parameters": {"x": 0}})
    return {"version": 1, "name": f"fan-{n}", "entrypoint": "main",
            "templates": {"main": {"kind": "dag", "nodes": nodes, "edges": edges}, **_templates()}}


def live(n: int, width: int = 100) -> dict:
    """A run of ``n`` trivial Python OP tasks (``Noop`` of tests/lab/liveops/dflow_lab_liveops.py, which must be
    importable where the run runs) in layers of ``width``, each after one task of the layer before (control
    edges): the live monitor benchmark's and browser test's workflow."""
    from dflow_lab_liveops import Noop

    from dflow_lab.graph.convert import to_graph
    from dflow_lab.python import PythonOPTemplate

    noop = to_graph(PythonOPTemplate(Noop))
    noop.pop("name", None)
    nodes = [{"name": f"t{i}", "template": "noop"} for i in range(n)]
    edges = [{"kind": "control", "source": {"node": f"t{i - width}"}, "target": {"node": f"t{i}"}}
             for i in range(width, n)]
    return {"version": 1, "name": f"live-{n}", "entrypoint": "main",
            "templates": {"main": {"kind": "dag", "nodes": nodes, "edges": edges},
                          "noop": noop}}
