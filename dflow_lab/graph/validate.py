"""``validate(graph)``: every problem of a graph at once, each an :class:`Issue` with a stable code."""

from __future__ import annotations

import re
from typing import Any, Mapping

import networkx as nx

from ..expr.errors import EvalFailure
from ..expr.govaluate import compile_when
from ..names import FIELD_NAME_RE, GENERATE_NAME_MAX, SUBDOMAIN_RE, check_name_base
from ..step import _TAG_RE, KEY_RE, KEY_RULE
from ..yamlsafe import DocumentBoundError, check_depth
from .bulk import bulk
from .issues import Issue
from .options import PORT_LEVEL, TEMPLATE_LEVEL, is_identifier, option_problem
from .pydflow import is_pydflow_graph
from .refs import Ref, find_refs, parse_ref
from .schema import GRAPH_VERSION, conforms, schema_validator
from .types import literal_fits, types_compatible
from .view import PSEUDO_INPUTS, PSEUDO_OUTPUTS, build_order, node_strings, template_links

NAME_RE = FIELD_NAME_RE  # Argo's rule of template/step/task names (dflow_lab/names.py)
PORT_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")
WORKFLOW_NAME_RE = SUBDOMAIN_RE  # the one rule of workflow names (dflow_lab/names.py)
OP_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_KINDS = {"parameter": "parameters", "artifact": "artifacts"}
_NAME_CHECKED_BY_US = {"pattern", "propertyNames"}


def _workflow_name_ok(name: str) -> bool:
    """The check ``Workflow(name=…)`` makes (the name starts the run's generated id)."""
    try:
        check_name_base(name, limit=GENERATE_NAME_MAX - 1)
    except ValueError:
        return False
    return True


def op_path_ok(op: str) -> bool:
    """Whether ``op`` is ``module:QualName`` made of safe identifiers (the module may be ``__main__``)."""
    if not OP_RE.match(op):
        return False
    module, _, qualname = op.partition(":")
    return (module == "__main__" or all(is_identifier(p) for p in module.split("."))) and \
        all(is_identifier(p) for p in qualname.split("."))


def _key_ok(key: str) -> bool:
    """The model's rule for a step key (``Step(key=…)``): what is left outside ``{{…}}`` references."""
    clean = _TAG_RE.sub("", key)
    return not clean or KEY_RE.match(clean.strip("-")) is not None


def _d(value: Any) -> Mapping:
    return value if isinstance(value, dict) else {}


def _ports(template: Mapping, direction: str, kind: str) -> Mapping:
    group = template.get(direction)
    ports = group.get(kind) if group.__class__ is dict else None
    return ports if ports.__class__ is dict else {}


_SLICED = {"input_parameter": ("inputs", "parameters"), "input_artifact": ("inputs", "artifacts"),
           "output_parameter": ("outputs", "parameters"), "output_artifact": ("outputs", "artifacts")}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _other(kind: str) -> str:
    return "artifacts" if kind == "parameters" else "parameters"


class _Validator:
    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.issues: list[Issue] = []

    def add(self, code: str, message: str, template: str | None = None, node: str | None = None,
            port: str | None = None, path: tuple = ()) -> None:
        self.issues.append(Issue(code, message, template, node, port, tuple(path)))

    # -- document level -------------------------------------------------------------------------
    def run(self) -> list[Issue]:
        g = self.graph
        if not isinstance(g, dict):
            self.add("schema", f"a graph is a JSON object, not {type(g).__name__}")
            return self.issues
        try:  # before anything recursive (the schema, the checks below) walks it
            check_depth(g, source=f"graph {g.get('name')!r}" if isinstance(g.get("name"), str) else "graph")
        except DocumentBoundError as e:
            self.add("too-deep", str(e))
            return self.issues
        if is_pydflow_graph(g):
            self.add("unsupported-version", "this is pydflow's graph format: import it with "
                     "dflow_lab.graph.from_pydflow(graph) (Workflow.from_graph does it for you)", path=("version",))
            return self.issues
        if g.get("version") != GRAPH_VERSION:
            self.add("unsupported-version",
                     f"graph version {g.get('version')!r} is not supported (this is version {GRAPH_VERSION})",
                     path=("version",))
        broken: set = set()  # templates whose structure is wrong: their contents are not checked further
        for err in () if conforms(g) else schema_validator().iter_errors(g):
            if err.validator in _NAME_CHECKED_BY_US or list(err.absolute_path) == ["version"]:
                continue
            path = tuple(err.absolute_path)
            self.add("schema", err.message, *self._where(path), path=path)
            if len(path) >= 2 and path[0] == "templates":
                broken.add(path[1])
        name = g.get("name")
        if isinstance(name, str) and not _workflow_name_ok(name):
            self.add("invalid-name", f"workflow name {name[:80]!r} must be a lowercase RFC 1123 subdomain "
                     f"(lowercase alphanumerics, '-' and '.') of at most {GENERATE_NAME_MAX - 1} characters",
                     path=("name",))
        for pname in _d(g.get("parameters")):
            self._port_name(pname, None, None, ("parameters", pname))
        templates = _d(g.get("templates"))
        for tname, tmpl in templates.items():
            if not NAME_RE.match(str(tname)):
                self.add("invalid-name", f"template name {tname!r} must consist of alphanumerics and '-', "
                         "starting with an alphanumeric", template=tname, path=("templates", tname))
            if isinstance(tmpl, dict):
                self._template_ports(tname, tmpl)
        self._entrypoint(templates)
        self._all_options(g, templates)
        for tname, tmpl in templates.items():
            if tname not in broken and isinstance(tmpl, dict) and tmpl.get("kind") in ("steps", "dag"):
                _TemplateCheck(self, templates, tname, tmpl, broken).run()
        return self.issues

    # -- keyword arguments: every options/slices key is an identifier the constructor takes -------
    def _options(self, level: str, opts: Any, path: tuple, template: str | None = None, node: str | None = None,
                 port: str | None = None, skip: tuple = ()) -> None:
        for key in _d(opts):
            if key in skip:
                continue
            problem = option_problem(level, key)
            if problem is not None:
                self.add(problem[0], problem[1], template=template, node=node, port=port, path=(*path, key))

    def _all_options(self, g: Mapping, templates: Mapping) -> None:
        self._options("workflow", g.get("options"), ("options",))
        for tname, tmpl in templates.items():
            if not isinstance(tmpl, dict):
                continue
            at = ("templates", tname)
            kind = tmpl.get("kind")
            level = TEMPLATE_LEVEL.get(kind) if isinstance(kind, str) else None
            opts = tmpl.get("options")
            if level is not None:
                self._options(level, opts, (*at, "options"), template=tname)
                if level == "python" and isinstance(_d(opts).get("slices"), dict):
                    self._options("slices", opts["slices"], (*at, "options", "slices"), template=tname)
            for (direction, kind), port_level in PORT_LEVEL.items():
                for pname, spec in _ports(tmpl, direction, kind).items():
                    self._options(port_level, _d(spec).get("options"), (*at, direction, kind, pname, "options"),
                                  template=tname, port=str(pname))
            nodes = tmpl.get("nodes")
            for i, node in enumerate(nodes if isinstance(nodes, list) else ()):
                if not isinstance(node, dict):
                    continue
                name = node.get("name") if isinstance(node.get("name"), str) else None
                steps = tmpl.get("kind") == "steps"
                self._options("step" if steps else "task", node.get("options"), (*at, "nodes", i, "options"),
                              template=tname, node=name, skip=("dependencies",) if steps else ())
                if isinstance(node.get("slices"), dict):
                    self._options("slices", node["slices"], (*at, "nodes", i, "slices"), template=tname, node=name)

    def _where(self, path: tuple) -> tuple:
        template = node = None
        if len(path) >= 2 and path[0] == "templates":
            template = path[1]
            if len(path) >= 4 and path[2] == "nodes" and isinstance(path[3], int):
                nodes = _d(_d(self.graph.get("templates")).get(template)).get("nodes")
                if isinstance(nodes, list) and path[3] < len(nodes) and isinstance(nodes[path[3]], dict):
                    node = nodes[path[3]].get("name")
        return template, node

    def _port_name(self, name: Any, template: str | None, node: str | None, path: tuple) -> None:
        if not isinstance(name, str) or not PORT_RE.match(name):
            self.add("invalid-name", f"parameter/artifact name {name!r} must consist of alphanumerics, '_' "
                     "and '-'", template=template, node=node, port=str(name), path=path)

    def _template_ports(self, tname: str, tmpl: Mapping) -> None:
        for direction in ("inputs", "outputs"):
            for kind in ("parameters", "artifacts"):
                for pname in _ports(tmpl, direction, kind):
                    self._port_name(pname, tname, None, ("templates", tname, direction, kind, pname))
        op = tmpl.get("op")
        if tmpl.get("kind") == "python" and isinstance(op, str) and not op_path_ok(op):
            self.add("invalid-field", f"op {op!r} must be an import path 'module:QualName' of identifiers (no "
                     "keywords, no dunder names but the module '__main__')", template=tname,
                     path=("templates", tname, "op"))

    def _entrypoint(self, templates: Mapping) -> None:
        g = self.graph
        entry = g.get("entrypoint")
        if not isinstance(entry, str):
            return
        if entry not in templates:
            self.add("unknown-template", f"entrypoint {entry!r} is not a template of the graph "
                     f"(templates: {', '.join(map(str, templates)) or 'none'})", path=("entrypoint",))
            return
        tmpl = _d(templates[entry])
        if tmpl.get("kind") not in ("steps", "dag"):
            self.add("bad-entrypoint", f"entrypoint {entry!r} is a {tmpl.get('kind')!r} template; the "
                     "entrypoint must be a steps or dag template", template=entry, path=("entrypoint",))
        args = _d(g.get("parameters"))
        for pname, spec in _ports(tmpl, "inputs", "parameters").items():
            if "default" not in _d(spec) and pname not in args:
                self.add("missing-input", f"input parameter {pname!r} of the entrypoint has no default; give "
                         "it a value in the workflow's parameters", template=entry, port=pname,
                         path=("parameters",))
        for aname, spec in _ports(tmpl, "inputs", "artifacts").items():
            spec = _d(spec)
            if not spec.get("optional") and "default" not in spec:
                self.add("missing-input", f"input artifact {aname!r} of the entrypoint has no default and is "
                         "not optional", template=entry, port=aname, path=("templates", entry, "inputs"))


class _TemplateCheck:
    """The checks inside one steps/dag template: nodes, literals, edges, references, order."""

    def __init__(self, v: _Validator, templates: Mapping, name: str, tmpl: Mapping, broken: set) -> None:
        self.v = v
        self.templates = templates
        self.broken = broken
        self.name = name
        self.tmpl = tmpl
        self.steps = tmpl.get("kind") == "steps"
        self.scope = "steps" if self.steps else "tasks"
        self.nodes: dict[str, Mapping] = {}
        self.index: dict[str, int] = {}
        self.fed: dict[tuple, list[str]] = {}
        self.targets: dict[str, Any] = {}
        edges = tmpl.get("edges")
        self.param_fed = {_d(e.get("target")).get("node") for e in (edges if isinstance(edges, list) else ())
                          if isinstance(e, dict) and _d(e.get("target")).get("option") == "with_param"}

    def add(self, code: str, message: str, node: str | None = None, port: str | None = None,
            path: tuple = ()) -> None:
        self.v.add(code, message, self.name, node, port, ("templates", self.name, *path))

    def node_template(self, node: str | None) -> Mapping | None:
        """The template a node runs (the enclosing one for ``@inputs``/``@outputs``); None if unknown."""
        if node is None or node == PSEUDO_INPUTS or node == PSEUDO_OUTPUTS:
            return self.tmpl
        found = self.targets.get(node, False)
        if found is False:
            spec = self.nodes.get(node)
            tref = spec.get("template") if spec is not None else None
            target = self.templates.get(tref) if isinstance(tref, str) and tref not in self.broken else None
            found = self.targets[node] = target if isinstance(target, dict) else None
        return found

    def run(self) -> None:
        nodes = self.tmpl.get("nodes") or []
        if not isinstance(nodes, list):
            return
        for i, node in enumerate(nodes):
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                self._node_identity(i, node)
        for name, node in self.nodes.items():
            self._node_fields(self.index[name], name, node)
        edges = self.tmpl.get("edges") or []
        for j, edge in enumerate(edges if isinstance(edges, list) else []):
            if isinstance(edge, dict):
                self._edge(j, edge)
        self._missing_inputs()
        self._order()

    # -- nodes ----------------------------------------------------------------------------------
    def _node_identity(self, i: int, node: Mapping) -> None:
        name = node["name"]
        path = ("nodes", i, "name")
        if name.startswith("@") or not NAME_RE.match(name):
            self.add("invalid-name", f"node name {name!r} must consist of alphanumerics and '-', starting with "
                     "an alphanumeric", node=name, path=path)
        if name in self.nodes:
            self.add("duplicate-node", f"node name {name!r} is used by more than one node", node=name, path=path)
            return
        self.nodes[name] = node
        self.index[name] = i

    def _node_fields(self, i: int, name: str, node: Mapping) -> None:
        tref = node.get("template")
        if isinstance(tref, str) and tref not in self.templates:
            self.add("unknown-template", f"node {name!r} runs template {tref!r}, which the graph does not define",
                     node=name, path=("nodes", i, "template"))
        key = node.get("key")
        if isinstance(key, str) and not _key_ok(key):
            self.add("invalid-key", f"node {name!r}: invalid key {key!r}: {KEY_RULE} ({{{{…}}}} references aside)",
                     node=name, path=("nodes", i, "key"))
        if self.steps and "stage" not in node:
            self.add("invalid-field", f"node {name!r} of steps template {self.name!r} needs a 'stage'",
                     node=name, path=("nodes", i))
        deps = _d(node.get("options")).get("dependencies")
        if deps is not None and (self.steps or not isinstance(deps, list) or
                                 not all(isinstance(d, str) for d in deps)):
            self.add("invalid-field", f"options.dependencies of node {name!r} must be a list of Argo depends "
                     "terms (text) in a dag template", node=name, path=("nodes", i, "options", "dependencies"))
        if not self.steps and "stage" in node:
            self.add("invalid-field", f"node {name!r} of dag template {self.name!r} cannot have a 'stage'; order "
                     "tasks with edges", node=name, path=("nodes", i, "stage"))
        target = self.node_template(name)
        for kind in ("parameters", "artifacts"):
            for pname, value in _d(node.get(kind)).items():
                self.v._port_name(pname, self.name, name, ("templates", self.name, "nodes", i, kind, pname))
                self._feed((name, pname), f"literal {kind[:-1]}")
                if target is None:
                    continue
                declared = _ports(target, "inputs", kind)
                if pname.startswith("dflow_"):  # dflow's internal inputs (e.g. dflow_group_items)
                    continue
                if pname not in declared:
                    if pname in _ports(target, "inputs", _other(kind)):
                        self.add("kind-mismatch", f"node {name!r} gives {pname!r} as a literal {kind[:-1]}, but "
                                 f"template {tref!r} declares it as an input {_other(kind)[:-1]}", node=name,
                                 port=pname, path=("nodes", i, kind, pname))
                    else:
                        self.add("unknown-port", f"node {name!r} sets {kind[:-1]} {pname!r}, which template "
                                 f"{tref!r} does not declare (inputs: {', '.join(declared) or 'none'})",
                                 node=name, port=pname, path=("nodes", i, kind, pname))
                elif kind == "parameters" and parse_ref(value) is None:
                    ptype = self.input_type(name, pname, _d(declared[pname]).get("type"))
                    if not literal_fits(value, ptype):
                        self.add("type-mismatch", f"node {name!r} gives {pname!r} the value {value!r}, which is "
                                 f"not a {ptype}", node=name, port=pname, path=("nodes", i, kind, pname))
        when = node.get("when")
        if isinstance(when, str) and when.strip():
            problem = when_problem(when)
            if problem:
                self.add("invalid-when", f"node {name!r}: {problem}", node=name, path=("nodes", i, "when"))
        if "with_param" in node and node["with_param"] is not None:
            self._feed((name, "@with_param"), "literal with_param")
        if isinstance(node.get("slices"), dict):
            self._slices(i, name, node["slices"], target, tref)
        for field, text in node_strings(node):
            for ref in find_refs(text):
                self._reference(i, name, field, ref)

    def _slices(self, i: int, name: str, slices: Mapping, target: Mapping | None, tref: Any) -> None:
        """A node's ``slices``: the ports it lists exist, and the sizes are ones the runtime can use."""
        path = ("nodes", i, "slices")
        for field, (direction, kind) in _SLICED.items():
            names = slices.get(field) or []
            if target is None or not isinstance(names, list):
                continue
            declared = _ports(target, direction, kind)
            for port in names:
                if port not in declared:
                    self.add("unknown-port", f"node {name!r} slices {field.replace('_', ' ')} {port!r}, which "
                             f"template {tref!r} does not declare (its {direction[:-1]} {kind}: "
                             f"{', '.join(declared) or 'none'})", node=name, port=port, path=(*path, field))
        group, pool = slices.get("group_size"), slices.get("pool_size")
        if group is not None and (not _is_int(group) or group < 1):
            self.add("invalid-field", f"node {name!r}: slices group_size must be a whole number of at least 1, "
                     f"not {group!r}", node=name, path=(*path, "group_size"))
        if pool is not None and (not _is_int(pool) or (pool < 1 and pool != -1)):
            self.add("invalid-field", f"node {name!r}: slices pool_size must be a whole number of at least 1, or "
                     f"-1 (one process per slice), not {pool!r}", node=name, path=(*path, "pool_size"))
        if slices.get("sub_path") is True and not slices.get("input_artifact"):
            self.add("invalid-field", f"node {name!r}: slices sub_path slices input artifacts by sub-path; name "
                     "them in input_artifact", node=name, path=(*path, "sub_path"))

    def _reference(self, i: int, name: str, field: str, ref: Ref) -> None:
        path = ("nodes", i, *field.split(".", 1))
        if ref.node is None:
            if ref.port not in _ports(self.tmpl, "inputs", ref.kind):
                self.add("unknown-port", f"node {name!r} field {field!r} refers to input {ref.kind[:-1]} "
                         f"{ref.port!r}, which template {self.name!r} does not declare", node=name,
                         port=ref.port, path=path)
            return
        if ref.scope != self.scope or ref.node not in self.nodes:
            self.add("dangling-reference", f"node {name!r} field {field!r} refers to {ref.tag()}, but "
                     f"{self.name!r} has no {self.scope[:-1]} named {ref.node!r}", node=name, path=path)
            return
        target = self.node_template(ref.node)
        if target is not None and ref.port not in _ports(target, "outputs", ref.kind):
            self.add("unknown-port", f"node {name!r} field {field!r} refers to output {ref.kind[:-1]} "
                     f"{ref.port!r} of node {ref.node!r}, which its template does not declare", node=name,
                     port=ref.port, path=path)

    def _feed(self, key: tuple, what: Any) -> None:
        """Record what feeds an input: a label, or ``("edge from", node, port)`` (formatted if reported)."""
        self.fed.setdefault(key, []).append(what)

    # -- edges ----------------------------------------------------------------------------------
    def _edge(self, j: int, edge: Mapping) -> None:
        kind = edge.get("kind")
        src, dst = _d(edge.get("source")), _d(edge.get("target"))
        s, t = src.get("node"), dst.get("node")
        path = ("edges", j)
        for end, label in ((s, "source"), (t, "target")):
            if isinstance(end, str) and end not in self.nodes and end not in (PSEUDO_INPUTS, PSEUDO_OUTPUTS):
                self.add("dangling-reference", f"edge {label} node {end!r} is not a node of {self.name!r}",
                         node=end, path=(*path, label))
                return
        if not isinstance(s, str) or not isinstance(t, str):
            return
        if t == PSEUDO_INPUTS or s == PSEUDO_OUTPUTS:
            self.add("invalid-edge", "'@inputs' is only a source and '@outputs' only a target", node=s,
                     path=path)
            return
        if kind == "control":
            self._control_edge(path, s, t, src, dst)
            return
        if kind not in _KINDS:
            return
        sport, tport, option = src.get("port"), dst.get("port"), dst.get("option")
        if sport is None or (tport is None) == (option is None):
            self.add("invalid-edge", f"a {kind} edge names a port at both ends (a target names a port or an "
                     "option, not both)", node=t, path=path)
            return
        if option is not None and (kind != "parameter" or t == PSEUDO_OUTPUTS):
            self.add("kind-mismatch", f"option {option!r} of node {t!r} is fed by parameters only", node=t,
                     path=path)
            return
        coll = _KINDS[kind]
        sdecl = self._port(s, "inputs" if s == PSEUDO_INPUTS else "outputs", coll, sport, path, "source")
        if option is not None:
            self._feed((t, "@with_param"), ("edge from", s, sport))
            return
        tdecl = self._port(t, "outputs" if t == PSEUDO_OUTPUTS else "inputs", coll, tport, path, "target")
        self._feed((t, tport), ("edge from", s, sport))
        if sdecl is not None and tdecl is not None and kind == "parameter":
            stype = self.output_type(s, sport, _d(sdecl).get("type"))
            ttype = self.input_type(t, tport, _d(tdecl).get("type"))
            if not types_compatible(stype, ttype):
                self.add("type-mismatch", f"edge {s}.{sport} ({stype}) -> {t}.{tport} ({ttype}): the types "
                         "are incompatible", node=t, port=tport, path=path)

    def fans_out(self, node: str) -> bool:
        spec = _d(self.nodes.get(node))
        return spec.get("with_param") is not None or spec.get("with_sequence") is not None or \
            node in self.param_fed

    def sliced(self, node: str, field: str, port: str | None) -> bool:
        """Whether the node's (or its Python OP template's) slices slice ``port``."""
        spec, target = self.nodes.get(node), self.node_template(node)
        for owner in (spec.get("slices") if spec else None,
                      (target.get("options") or {}).get("slices") if target else None):
            if isinstance(owner, dict) and port in (owner.get(field) or ()):
                return True
        return False

    def output_type(self, node: str, port: str, declared: str | None) -> str | None:
        """A node's output as its consumers see it: a list when the node fans out."""
        if declared is None or node in (PSEUDO_INPUTS, PSEUDO_OUTPUTS) or not self.fans_out(node):
            return declared
        return f"List[{declared}]"

    def input_type(self, node: str, port: str, declared: str | None) -> str | None:
        """What a node's input port accepts: a list of the declared type when the port is sliced."""
        if declared is None or not self.sliced(node, "input_parameter", port):
            return declared
        return f"List[{declared}]"

    def _control_edge(self, path: tuple, s: str, t: str, src: Mapping, dst: Mapping) -> None:
        if self.steps:
            self.add("invalid-edge", f"steps template {self.name!r} orders its nodes by stage; control edges "
                     "belong to dag templates", node=t, path=path)
        elif s in (PSEUDO_INPUTS, PSEUDO_OUTPUTS) or t in (PSEUDO_INPUTS, PSEUDO_OUTPUTS):
            self.add("invalid-edge", "a control edge joins two tasks, not '@inputs'/'@outputs'", node=t,
                     path=path)
        elif any(k in end for end in (src, dst) for k in ("port", "option")):
            self.add("invalid-edge", f"control edge {s} -> {t} names no ports", node=t, path=path)

    def _port(self, node: str, direction: str, coll: str, port: str, path: tuple, label: str) -> Any:
        owner = self.node_template(node)
        if owner is None:
            return None
        declared = _ports(owner, direction, coll)
        if port in declared:
            return declared[port]
        if direction == "inputs" and node not in (PSEUDO_INPUTS, PSEUDO_OUTPUTS) and port.startswith("dflow_"):
            return None  # dflow's internal inputs are not declared in graphs
        what = f"{direction[:-1]} {coll[:-1]} {port!r}"
        if port in _ports(owner, direction, _other(coll)):
            self.add("kind-mismatch", f"edge {label} {node}.{port} is an {direction[:-1]} {_other(coll)[:-1]}, "
                     f"not a {coll[:-1]}", node=node, port=port, path=(*path, label))
        else:
            self.add("unknown-port", f"edge {label} names {what} of {node!r}, which is not declared",
                     node=node, port=port, path=(*path, label))
        return None

    # -- coverage and order ---------------------------------------------------------------------
    def _missing_inputs(self) -> None:
        for (node, port), feeds in self.fed.items():
            if len(feeds) > 1:
                label = "with_param" if port == "@with_param" else repr(port)
                said = "; ".join(f if isinstance(f, str) else f"{f[0]} {f[1]}.{f[2]}" for f in feeds)
                self.add("duplicate-input", f"{label} of {node!r} is fed {len(feeds)} times ({said})",
                         node=node, port=None if port == "@with_param" else port,
                         path=("nodes", self.index[node]) if node in self.index else ())
        for name, node in self.nodes.items():
            target = self.node_template(name)
            if target is None:
                continue
            for kind in ("parameters", "artifacts"):
                for pname, spec in _ports(target, "inputs", kind).items():
                    spec = _d(spec)
                    if (name, pname) in self.fed or "default" in spec or spec.get("optional"):
                        continue
                    self.add("missing-input", f"node {name!r} does not give required input {kind[:-1]} "
                             f"{pname!r} of template {node.get('template')!r}: set a literal or connect an edge",
                             node=name, port=pname, path=("nodes", self.index[name]))
        for pname, spec in _ports(self.tmpl, "outputs", "parameters").items():
            spec = _d(spec)
            if (PSEUDO_OUTPUTS, pname) in self.fed:
                if any(k in spec and spec[k] is not None for k in ("value_from_path", "value_from_expression",
                                                                    "value")):
                    self.add("duplicate-input", f"output parameter {pname!r} has both an edge and a value",
                             node=PSEUDO_OUTPUTS, port=pname, path=("outputs", "parameters", pname))
                continue
            if not any(spec.get(k) is not None for k in ("value_from_expression", "value", "default")) \
                    and _d(spec.get("options")).get("value_from_parameter") is None:
                self.add("missing-input", f"output parameter {pname!r} of {self.name!r} has no source: connect "
                         "an edge to '@outputs' or give a value_from_expression/value", node=PSEUDO_OUTPUTS,
                         port=pname, path=("outputs", "parameters", pname))
        for aname, spec in _ports(self.tmpl, "outputs", "artifacts").items():
            spec = _d(spec)
            if (PSEUDO_OUTPUTS, aname) not in self.fed and spec.get("from_expression") is None \
                    and not spec.get("optional") and _d(spec.get("options")).get("_from") is None:
                self.add("missing-input", f"output artifact {aname!r} of {self.name!r} has no source: connect an "
                         "edge to '@outputs'", node=PSEUDO_OUTPUTS, port=aname, path=("outputs", "artifacts", aname))

    def _order(self) -> None:
        if self.steps:
            for lk in template_links(self.tmpl):
                if lk.source not in self.nodes or lk.target not in self.nodes:
                    continue
                s_stage, t_stage = self.nodes[lk.source].get("stage"), self.nodes[lk.target].get("stage")
                if isinstance(s_stage, int) and isinstance(t_stage, int) and s_stage >= t_stage:
                    self.add("stage-order", f"node {lk.target!r} (stage {t_stage}) uses node {lk.source!r} "
                             f"(stage {s_stage}); a step can use only steps of earlier stages",
                             node=lk.target, port=lk.target_port, path=("nodes", self.index[lk.target]))
            return
        if not build_order(self.tmpl)[1]:
            return
        dg = nx.DiGraph()
        dg.add_edges_from((lk.source, lk.target) for lk in template_links(self.tmpl)
                          if lk.source in self.nodes and lk.target in self.nodes)
        for component in nx.strongly_connected_components(dg):
            members = sorted(component, key=self.index.__getitem__)
            if len(members) > 1 or dg.has_edge(members[0], members[0]):
                self.add("cycle", f"tasks {', '.join(members)} depend on each other in a cycle",
                         node=members[0], path=("nodes", self.index[members[0]]))


_TAG = re.compile(r"\{\{.*?\}\}", re.S)


def when_problem(text: str) -> str | None:
    """Why ``when`` text would not parse as Argo parses it (govaluate, each ``{{…}}`` tag standing for a
    value), or None. The same parser the local engine runs the condition with: one grammar."""
    try:
        compile_when(_TAG.sub("0", text))
    except EvalFailure as e:
        return str(e)
    return None


@bulk
def validate(graph: Any) -> list[Issue]:
    """Every problem of ``graph`` (a dict of the graph format); an empty list means it is valid."""
    return _Validator(graph).run()
