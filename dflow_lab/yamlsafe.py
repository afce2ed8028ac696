"""Loading untrusted documents: one YAML loader and one JSON loader, both bounded.

Every YAML or JSON text dflow-lab reads from a user — Argo manifests (``dflow-lab run``/``lint``,
``Workflow.from_yaml``), graph documents (``Workflow.from_graph_json/_yaml``, ``dflow-lab codegen``),
files opened in the JupyterLab extension — goes through :func:`load_yaml` or :func:`load_json`.

- YAML is read with PyYAML's *safe* loader only (libyaml's ``CSafeLoader`` when built): plain data, never
  Python objects. Before anything is built, the text's event stream is scanned once, iteratively, and the
  document is refused (:class:`DocumentBoundError`) when

  - its aliases expand to more than ``config["yaml_max_alias_nodes"]`` nodes (``DFLOW_YAML_MAX_ALIAS_NODES``,
    default 100,000): each ``*alias`` counts the nodes of the value it stands for, nested aliases
    included, so a "billion laughs" bomb of a few KB is refused after reading it once, without building
    anything; an alias to a node that contains it (a recursive document) is refused too;
  - its collections nest deeper than ``config["document_max_depth"]`` (``DFLOW_DOCUMENT_MAX_DEPTH``,
    default 100). libyaml builds nested collections recursively in C: a 100 KB ``[[[[…]]]]`` crashes the
    process with a segmentation fault, which the scan prevents.

- JSON text is scanned for its nesting depth (iteratively, strings skipped) before ``json.loads``; the
  same depth bound applies. :func:`check_depth` measures an already parsed object (a graph sent by the
  canvas or a request) the same way, without recursion.

The module imports nothing of the model (the bounds are read through :mod:`dflow_lab.bounds`).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, Iterator, Optional

import yaml

from .bounds import document_max_depth, yaml_max_alias_nodes

__all__ = ["DocumentBoundError", "load_yaml", "load_json", "load_document", "check_depth", "YAMLError"]

try:  # libyaml when available: an order of magnitude faster on big manifests
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

YAMLError = yaml.YAMLError


class DocumentBoundError(ValueError):
    """A document that asks for more than a bound allows (alias expansion, nesting depth)."""


def _bounds(max_alias_nodes: Optional[int], max_depth: Optional[int]) -> tuple[int, int]:
    return (yaml_max_alias_nodes() if max_alias_nodes is None else max_alias_nodes,
            document_max_depth() if max_depth is None else max_depth)


def _too_deep(source: str, max_depth: int) -> DocumentBoundError:
    return DocumentBoundError(
        f"{source}: nested deeper than {max_depth:,} levels, the bound config['document_max_depth'] "
        "(DFLOW_DOCUMENT_MAX_DEPTH); flatten the document, or raise the bound if it is trusted")


def _events(text: str, source: str, depth_bound: int) -> Iterator[yaml.Event]:
    """The parser's events. libyaml (PyYAML >= 6.0.4) has a nesting limit of its own, which its scanner
    may reach while reading ahead, before the events reach ``depth_bound``: that is the same refusal."""
    try:
        yield from yaml.parse(text, Loader=_Loader)
    except yaml.YAMLError as e:
        if "maximum nesting depth" not in str(e):
            raise
        if depth_bound < 1000:  # the scanner read ahead past the bound
            raise _too_deep(source, depth_bound) from None
        raise DocumentBoundError(f"{source}: nested deeper than the YAML parser's own limit ({e}); flatten "
                                 "the document") from None


def scan_yaml(text: str, max_alias_nodes: Optional[int] = None, max_depth: Optional[int] = None,
              source: str = "<document>") -> None:
    """Raise :class:`DocumentBoundError` if the YAML ``text`` exceeds the alias or depth bound (one
    iterative pass over its events; nothing is built)."""
    alias_bound, depth_bound = _bounds(max_alias_nodes, max_depth)
    sizes: dict[str, int] = {}  # anchor -> nodes of its value, aliases inside it expanded
    stack: list[list] = [[None, 0]]  # open collections: [anchor, nodes so far]
    expanded = 0
    for event in _events(text, source, depth_bound):
        kind = type(event)
        if kind is yaml.ScalarEvent:
            stack[-1][1] += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            stack.append([event.anchor, 1])
            if len(stack) - 1 > depth_bound:
                raise _too_deep(source, depth_bound)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            anchor, n = stack.pop()
            stack[-1][1] += n
            if anchor is not None:
                sizes[anchor] = n
        elif kind is yaml.AliasEvent:
            n = sizes.get(event.anchor)
            if n is None:  # undefined, or an ancestor's anchor: the value would contain itself
                if any(entry[0] == event.anchor for entry in stack):
                    raise DocumentBoundError(f"{source}: alias *{event.anchor} refers to a node that contains it "
                                             "(a recursive document cannot be loaded)")
                continue  # an undefined alias: the loader reports it
            expanded += n
            stack[-1][1] += n
            if expanded > alias_bound:
                raise DocumentBoundError(
                    f"{source}: its aliases expand to more than {alias_bound:,} nodes (at alias "
                    f"*{event.anchor}, {getattr(event.start_mark, 'line', -1) + 1}:"
                    f"{getattr(event.start_mark, 'column', -1) + 1}), the bound config['yaml_max_alias_nodes'] "
                    "(DFLOW_YAML_MAX_ALIAS_NODES): an alias bomb, or a document to write without aliases")


def load_yaml(text: str | bytes, *, source: str = "<document>", max_alias_nodes: Optional[int] = None,
              max_depth: Optional[int] = None) -> Any:
    """The plain data of one YAML document (safe loader; bounded as the module docstring says).
    Raises :class:`DocumentBoundError` or ``yaml.YAMLError``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    scan_yaml(text, max_alias_nodes, max_depth, source)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - the safe loader (CSafeLoader/SafeLoader)


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """The nesting depth of JSON ``text``: strings removed, then the running count of brackets (no
    recursion, no Python loop per character)."""
    brackets = _JSON_BRACKET.findall(_JSON_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def load_json(text: str | bytes, *, source: str = "<document>", max_depth: Optional[int] = None,
              **kwargs: Any) -> Any:
    """``json.loads(text)`` after checking the nesting depth (:class:`DocumentBoundError`)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    _, depth_bound = _bounds(0, max_depth)
    if json_depth(text) > depth_bound:
        raise _too_deep(source, depth_bound)
    return json.loads(text, **kwargs)


def load_document(text: str | bytes, fmt: str = "yaml", *, source: str = "<document>") -> Any:
    """A JSON (``fmt="json"``) or YAML document's data, bounded."""
    if fmt == "json":
        return load_json(text, source=source)
    if fmt == "yaml":
        return load_yaml(text, source=source)
    raise ValueError(f"unknown document format {fmt!r} (json or yaml)")


def check_depth(obj: Any, max_depth: Optional[int] = None, source: str = "<document>") -> None:
    """Raise :class:`DocumentBoundError` if the dicts/lists of ``obj`` nest deeper than the bound (walked
    iteratively, never past the bound: a container that contains itself is refused as too deep)."""
    _, depth_bound = _bounds(0, max_depth)
    todo: list[tuple[Any, int]] = [(obj, 0)]
    while todo:
        value, depth = todo.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, (list, tuple)):
            children = value
        else:
            continue
        if depth + 1 > depth_bound:
            raise _too_deep(source, depth_bound)
        todo.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))
