"""A ``networkx.DiGraph`` view of a graph: the steps/tasks of a template, with data and control edges."""

from __future__ import annotations

import heapq
from typing import Any, Iterator, Mapping, NamedTuple

import networkx as nx

from .refs import find_refs

PSEUDO_INPUTS = "@inputs"
PSEUDO_OUTPUTS = "@outputs"
PSEUDO_NODES = (PSEUDO_INPUTS, PSEUDO_OUTPUTS)


class Link(NamedTuple):
    """A dependency between two nodes of one template.

    ``kind`` is ``parameter``/``artifact``/``control`` for an edge, ``reference`` for a ``{{…}}``
    reference written in a node field (``field`` says which: ``when``, ``with_param``, ``parameters.x``).
    """

    source: str
    target: str
    kind: str
    source_port: str | None = None
    target_port: str | None = None
    field: str | None = None


def _as_dict(value: Any) -> Mapping:
    return value if isinstance(value, dict) else {}


def node_strings(node: Mapping) -> list[tuple[str, str]]:
    """The string fields of a node that may hold ``{{…}}`` references: ``when``, ``with_param``,
    parameter literals and ``with_sequence`` fields, as ``(field, text)``."""
    out = []
    for key in ("when", "with_param"):
        value = node.get(key)
        if value.__class__ is str:
            out.append((key, value))
    params = node.get("parameters")
    if params.__class__ is dict:
        out.extend((f"parameters.{name}", value) for name, value in params.items() if value.__class__ is str)
    seq = node.get("with_sequence")
    if seq.__class__ is dict:
        out.extend((f"with_sequence.{key}", value) for key, value in seq.items() if value.__class__ is str)
    return out


def template_links(template: Mapping) -> Iterator[Link]:
    """Every node-to-node dependency of a steps/dag template: its edges between nodes, then the
    references its nodes' fields make to other nodes (edges to or from ``@inputs``/``@outputs`` are not
    node-to-node and are left out)."""
    for edge in template.get("edges") or ():
        if not isinstance(edge, dict):
            continue
        src, dst = _as_dict(edge.get("source")), _as_dict(edge.get("target"))
        s, t = src.get("node"), dst.get("node")
        if not isinstance(s, str) or not isinstance(t, str) or s in PSEUDO_NODES or t in PSEUDO_NODES:
            continue
        yield Link(s, t, str(edge.get("kind")), src.get("port"), dst.get("port") or dst.get("option"))
    for node in template.get("nodes") or ():
        if not isinstance(node, dict) or not isinstance(node.get("name"), str):
            continue
        for field, text in node_strings(node):
            for ref in find_refs(text):
                if ref.node is not None:
                    yield Link(ref.node, node["name"], "reference", ref.port, None, field)


def build_order(template: Mapping) -> tuple[list, list]:
    """The nodes of a steps/dag template in an order where each comes after the nodes it uses (steps by
    stage; ties in document order), and the nodes left over because they sit on or after a cycle."""
    nodes = [n for n in template.get("nodes") or () if isinstance(n, dict) and isinstance(n.get("name"), str)]
    index = {n["name"]: i for i, n in enumerate(nodes)}
    if template.get("kind") == "steps":
        return sorted(nodes, key=lambda n: (n.get("stage", 0), index[n["name"]])), []
    preds: dict[str, set] = {name: set() for name in index}
    succs: dict[str, list] = {name: [] for name in index}
    for lk in template_links(template):
        if lk.source in index and lk.target in index and lk.source not in preds[lk.target]:
            preds[lk.target].add(lk.source)
            succs[lk.source].append(lk.target)
    waiting = {name: len(p) for name, p in preds.items()}
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = nodes[heapq.heappop(ready)]
        order.append(node)
        for nxt in succs[node["name"]]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                heapq.heappush(ready, index[nxt])
    done = {n["name"] for n in order}
    return order, [n for n in nodes if n["name"] not in done]


def construction_order(template: Mapping) -> list:
    """The nodes of a (valid) steps/dag template in an order where each comes after the nodes whose
    objects it needs (the sources of its edges); document order otherwise. Steps go by stage."""
    nodes = [n for n in template.get("nodes") or ()]
    if template.get("kind") == "steps":
        index = {n["name"]: i for i, n in enumerate(nodes)}
        return sorted(nodes, key=lambda n: (n.get("stage", 0), index[n["name"]]))
    by_name = {n["name"]: n for n in nodes}
    sources: dict[str, list] = {}
    for edge in template.get("edges") or ():
        s, t = edge["source"]["node"], edge["target"]["node"]
        if s in by_name and t in by_name:
            sources.setdefault(t, []).append(s)
    order: list = []
    done: set = set()
    for node in nodes:
        if node["name"] in done:
            continue
        stack = [(node["name"], iter(sources.get(node["name"], ())))]
        on_path = {node["name"]}
        while stack:
            name, pending = stack[-1]
            nxt = next((x for x in pending if x not in done), None)
            if nxt is None:
                done.add(name)
                order.append(by_name[name])
                on_path.discard(name)
                stack.pop()
            elif nxt in on_path:
                raise ValueError(f"template has a cycle through node {nxt!r}: validate the graph first")
            else:
                stack.append((nxt, iter(sources.get(nxt, ()))))
                on_path.add(nxt)
    return order


def graph_to_networkx(graph: Mapping, template: str | None = None) -> nx.DiGraph:
    """The nodes of one steps/dag template (the entrypoint by default) as a ``DiGraph``.

    Node attributes: ``template`` (the template the node runs), ``kind`` (that template's kind),
    ``stage`` (steps only). Edge attributes: ``kind`` (``data`` when any parameter/artifact edge or
    reference joins the two nodes, else ``control``) and ``links``, the list of
    ``(kind, source_port, target_port)`` behind it. In a steps template each stage is ordered after the
    previous one by control edges where no data edge does it already.
    """
    templates = _as_dict(graph.get("templates"))
    name = template if template is not None else graph.get("entrypoint")
    tmpl = _as_dict(templates.get(name))
    if tmpl.get("kind") not in ("steps", "dag"):
        raise ValueError(f"template {name!r} is not a steps or dag template of graph {graph.get('name')!r}")
    g = nx.DiGraph(name=graph.get("name"), template=name, kind=tmpl["kind"])
    stages: dict[int, list[str]] = {}
    for node in tmpl.get("nodes") or ():
        target = _as_dict(templates.get(node.get("template")))
        attrs = {"template": node.get("template"), "kind": target.get("kind")}
        if tmpl["kind"] == "steps":
            attrs["stage"] = node.get("stage", 0)
            stages.setdefault(attrs["stage"], []).append(node["name"])
        g.add_node(node["name"], **attrs)
    for link in template_links(tmpl):
        if link.source not in g or link.target not in g:
            continue
        data = link.kind != "control"
        if g.has_edge(link.source, link.target):
            attrs = g.edges[link.source, link.target]
            attrs["links"].append((link.kind, link.source_port, link.target_port))
            if data:
                attrs["kind"] = "data"
        else:
            g.add_edge(link.source, link.target, kind="data" if data else "control",
                       links=[(link.kind, link.source_port, link.target_port)])
    order = sorted(stages)
    for prev, cur in zip(order, order[1:]):
        for s in stages[prev]:
            for t in stages[cur]:
                if not g.has_edge(s, t):
                    g.add_edge(s, t, kind="control", links=[("stage", None, None)])
    return g
