"""Graph → model: build the Workflow (templates, steps/tasks, wiring) a graph document describes.

The graph is validated first; every problem is reported at once (``GraphValidationError``) before
any object is built. Python OPs are imported from their ``module:QualName`` path; nothing in the
graph is executed.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any, Mapping, Optional

from ..common import HTTPArtifact, LocalArtifact, S3Artifact
from ..dag import DAG
from ..errors import WorkflowError, WorkflowTypeError, WorkflowValueError
from ..io import InputArtifact, InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs, str_to_type
from ..op_template import ContainerOPTemplate, ScriptOPTemplate, ShellOPTemplate
from ..python import PythonOPTemplate, Slices
from ..step import Step, argo_sequence
from ..steps import Steps
from ..task import Task
from ..workflow import Workflow
from .bulk import bulk
from .export import sign_ports
from .issues import GraphValidationError
from .pydflow import from_pydflow, is_pydflow_graph
from .refs import Ref
from .validate import validate
from .view import PSEUDO_INPUTS, PSEUDO_OUTPUTS, construction_order

_PORT_KINDS = {"parameter": "parameters", "artifact": "artifacts"}


def _d(value: Any) -> Mapping:
    return value if isinstance(value, dict) else {}


def _construct(cls: Any, where: dict, *args: Any, **kwargs: Any) -> Any:
    """``cls(*args, **kwargs)``; an unknown keyword or a bad value (from ``options``) becomes an error
    naming where."""
    try:
        return cls(*args, **kwargs)
    except (TypeError, ValueError) as e:
        if isinstance(e, WorkflowError):
            raise
        raise WorkflowTypeError(f"{cls.__name__} does not accept these options: {e}", **where) from None


# -- artifacts and ports --------------------------------------------------------------------------
def artifact_from_graph(spec: Mapping, where: Optional[dict] = None) -> Any:
    """The artifact object of a literal artifact (``{"kind": "s3", "key": …}`` …)."""
    kind = spec.get("kind")
    if kind == "s3":
        return S3Artifact(key=spec["key"], urn=spec.get("urn", ""))
    if kind == "local":
        return LocalArtifact(spec["path"])
    if kind == "http":
        return HTTPArtifact(spec["url"])
    raise WorkflowValueError(f"unknown artifact kind {kind!r} (expected s3, local or http)", **(where or {}))


def _type(name: Optional[str]) -> Any:
    return str_to_type(name)


def port_from_graph(cls: Any, spec: Mapping, where: Optional[dict] = None) -> Any:
    """An InputParameter/InputArtifact/OutputParameter/OutputArtifact from its graph entry."""
    where = where or {}
    spec = dict(spec)
    opts = dict(spec.pop("options", None) or {})
    description = spec.pop("description", None)
    kwargs: dict[str, Any] = {"type": _type(spec.pop("type", None))}
    if cls is InputParameter:
        if "default" in spec:
            kwargs["value"] = spec.pop("default")
        kwargs["save_as_artifact"] = spec.pop("big", False)
        kwargs["path"] = spec.pop("path", None)
    elif cls is InputArtifact:
        if spec.get("default") is not None:
            kwargs["source"] = artifact_from_graph(spec.pop("default"), where)
        kwargs["path"] = spec.pop("path", None)
        kwargs["optional"] = spec.pop("optional", False)
        if "archive" in opts:  # None (no archive) differs from the default "default"
            kwargs["archive"] = opts.pop("archive")
    elif cls is OutputParameter:
        kwargs["save_as_artifact"] = spec.pop("big", False)
        for key in ("value_from_path", "value_from_expression", "global_name", "default", "value"):
            if key in spec:
                kwargs[key] = spec.pop(key)
    elif cls is OutputArtifact:
        for key in ("path", "optional", "from_expression", "global_name", "archive"):
            if key in spec:
                kwargs[key] = spec.pop(key)
        if "save" in opts:
            opts["save"] = [artifact_from_graph(s, where) for s in opts["save"]]
    else:
        raise WorkflowTypeError(f"{getattr(cls, '__name__', cls)!r} is not a port class", **where)
    if spec:
        raise WorkflowValueError(f"unknown key(s) {', '.join(sorted(spec))} for a {cls.__name__}", **where)
    port = _construct(cls, where, **kwargs, **opts)
    if description is not None:
        port.description = description
    return port


def io_from_graph(cls: Any, graph: Mapping, where: Optional[dict] = None) -> Any:
    """Inputs/Outputs (``{"parameters": …, "artifacts": …}``) or a single port from its graph entry."""
    if cls is Inputs or cls is Outputs:
        pcls, acls = (InputParameter, InputArtifact) if cls is Inputs else (OutputParameter, OutputArtifact)
        where = where or {}
        return cls(
            parameters={k: port_from_graph(pcls, v, {**where, "field": k})
                        for k, v in _d(graph.get("parameters")).items()},
            artifacts={k: port_from_graph(acls, v, {**where, "field": k})
                       for k, v in _d(graph.get("artifacts")).items()},
        )
    return port_from_graph(cls, graph, where)


# -- templates ------------------------------------------------------------------------------------
def import_op(path: str, where: Optional[dict] = None) -> Any:
    """The OP class named ``module:QualName`` (imported; never taken from source text)."""
    module, _, qualname = path.partition(":")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise WorkflowValueError(f"cannot load OP {path!r}: {e}; make its module importable here",
                                 **(where or {})) from None
    return obj


def leaf_from_graph(name: str, spec: Mapping) -> Any:
    """A Python OP / shell / script / container template from its graph entry."""
    where = {"template": name}
    kind = spec["kind"]
    opts = dict(spec.get("options") or {})
    if kind == "python":
        op = import_op(spec["op"], {**where, "field": "op"})
        if isinstance(opts.get("slices"), dict):
            opts["slices"] = _construct(Slices, {**where, "field": "slices"}, **opts["slices"])
        t = _construct(PythonOPTemplate, where, op, image=spec.get("image"), **opts)
        t.name = name
        _check_sign(t, spec, where)
        return t
    kwargs: dict[str, Any] = {
        "name": name,
        "image": spec.get("image"),
        "inputs": io_from_graph(Inputs, _d(spec.get("inputs")), where),
        "outputs": io_from_graph(Outputs, _d(spec.get("outputs")), where),
        **opts,
    }
    if kind == "container":
        return _construct(ContainerOPTemplate, where, command=spec.get("command") or "", args=spec.get("args"),
                          **kwargs)
    if spec.get("command") is not None:
        kwargs["command"] = spec["command"]
    cls = ShellOPTemplate if kind == "shell" else ScriptOPTemplate
    return _construct(cls, where, script=spec.get("script", ""), **kwargs)


def _check_sign(t: Any, spec: Mapping, where: dict) -> None:
    """The ports the graph records for a Python OP must be the OP's sign as imported now."""
    for direction, sign in (("inputs", t.input_sign), ("outputs", t.output_sign)):
        have = sign_ports(sign, direction, where)
        want = _d(spec.get(direction))
        for kind in ("parameters", "artifacts"):
            a, b = set(_d(have.get(kind))), set(_d(want.get(kind)))
            if a != b:
                raise WorkflowValueError(
                    f"the graph records {direction} {kind} {sorted(b)} for OP {spec['op']!r}, but the OP "
                    f"declares {sorted(a)}; re-export the graph from the current OP", **where)


class _Builder:
    """Builds every template of a (validated) graph, steps/dag templates in two passes."""

    def __init__(self, graph: Mapping, templates: Optional[dict[str, Any]] = None) -> None:
        self.graph = graph
        self.specs: Mapping = _d(graph.get("templates"))
        self.templates: dict[str, Any] = dict(templates or {})
        self.workflow = graph.get("name")

    def where(self, **kw: Any) -> dict:
        return {"workflow": self.workflow, **kw} if self.workflow else kw

    def build_all(self) -> dict[str, Any]:
        supers = []
        for name, spec in self.specs.items():
            if name in self.templates:
                continue
            if spec["kind"] in ("steps", "dag"):
                where = self.where(template=name)
                outputs = io_from_graph(Outputs, _d(spec.get("outputs")), where)
                cls = Steps if spec["kind"] == "steps" else DAG
                self.templates[name] = _construct(
                    cls, where, name=name, inputs=io_from_graph(Inputs, _d(spec.get("inputs")), where),
                    outputs=outputs, parallelism=spec.get("parallelism"), **dict(spec.get("options") or {}))
                supers.append(name)
            else:
                try:
                    self.templates[name] = leaf_from_graph(name, spec)
                except WorkflowError as e:
                    raise e.in_workflow(self.workflow) if self.workflow else e from None
        for name in supers:
            _NodesBuilder(self, name, self.specs[name]).run()
        return self.templates


class _NodesBuilder:
    def __init__(self, builder: _Builder, name: str, spec: Mapping) -> None:
        self.b = builder
        self.name = name
        self.spec = spec
        self.t = builder.templates[name]
        self.steps = spec["kind"] == "steps"
        self.built: dict[str, Any] = {}
        self.feeds: dict[str, list] = {}
        self.outputs: list = []
        for edge in spec.get("edges") or ():
            target = edge["target"]["node"]
            if target == PSEUDO_OUTPUTS:
                self.outputs.append(edge)
            else:
                self.feeds.setdefault(target, []).append(edge)

    def source(self, src: Mapping, kind: str) -> Any:
        coll = _PORT_KINDS[kind]
        if src["node"] == PSEUDO_INPUTS:
            return getattr(self.t.inputs, coll)[src["port"]]
        return getattr(self.built[src["node"]].outputs, coll)[src["port"]]

    def run(self) -> None:
        nodes = list(self.spec.get("nodes") or [])
        for node in construction_order(self.spec):
            self.built[node["name"]] = self.node(node)
        if self.steps:
            stages: dict[int, list] = {}
            for node in nodes:
                stages.setdefault(node["stage"], []).append(self.built[node["name"]])
            for stage in sorted(stages):
                self.t.add(stages[stage])
        elif nodes:
            self.t.add([self.built[n["name"]] for n in nodes])
        for edge in self.outputs:
            port = edge["target"]["port"]
            if edge["kind"] == "parameter":
                self.t.outputs.parameters[port].value_from_parameter = self.source(edge["source"], "parameter")
            else:
                self.t.outputs.artifacts[port]._from = self.source(edge["source"], "artifact")

    def node(self, node: Mapping) -> Any:
        name = node["name"]
        where = self.b.where(template=self.name, step=name)
        params = dict(node.get("parameters") or {})
        arts = {k: artifact_from_graph(v, {**where, "field": k}) for k, v in _d(node.get("artifacts")).items()}
        kwargs: dict[str, Any] = {}
        deps: list = []
        for edge in self.feeds.get(name, ()):
            kind, target = edge["kind"], edge["target"]
            if kind == "control":
                deps.append(self.built[edge["source"]["node"]])
            elif target.get("option") == "with_param":
                kwargs["with_param"] = self.source(edge["source"], kind)
            elif kind == "parameter":
                params[target["port"]] = self.source(edge["source"], kind)
            else:
                arts[target["port"]] = self.source(edge["source"], kind)
        if "with_param" in node and node["with_param"] is not None:
            kwargs["with_param"] = node["with_param"]
        if node.get("with_sequence") is not None:
            kwargs["with_sequence"] = argo_sequence(**node["with_sequence"])
        for key in ("when", "key", "continue_on_failed", "continue_on_error", "continue_on_num_success",
                    "continue_on_success_ratio", "parallelism"):
            if key in node:
                kwargs[key] = node[key]
        if node.get("slices") is not None:
            kwargs["slices"] = _construct(Slices, {**where, "field": "slices"}, **node["slices"])
        opts = dict(node.get("options") or {})
        if not self.steps:
            deps.extend(opts.pop("dependencies", []))
            if deps:
                kwargs["dependencies"] = deps
        cls = Step if self.steps else Task
        target = self.b.templates[node["template"]]
        return _construct(cls, where, name, target, parameters=_declared_order(params, target.inputs.parameters),
                          artifacts=_declared_order(arts, target.inputs.artifacts), **kwargs, **opts)


def _declared_order(values: dict, declared: Any) -> Optional[dict]:
    """``values`` in the order the template declares its inputs (arguments come out in that order); a
    list given to a tuple-typed input becomes a tuple again (JSON has no tuples)."""
    if not values:
        return None
    ordered = {**{k: values[k] for k in declared if k in values}, **values}
    for k, v in ordered.items():
        if isinstance(v, list) and k in declared and _is_tuple_type(getattr(declared[k], "type", None)):
            ordered[k] = tuple(v)
    return ordered


def _is_tuple_type(t: Any) -> bool:
    return t is tuple or typing.get_origin(t) is tuple


# -- whole documents ------------------------------------------------------------------------------
def prepare_graph(graph: Any) -> Mapping:
    """A v1 graph ready to build: pydflow graphs converted, everything validated (all errors at once;
    warnings do not stop it)."""
    if is_pydflow_graph(graph):
        graph = from_pydflow(graph)
    issues = [i for i in validate(graph) if i.severity == "error"]
    if issues:
        raise GraphValidationError(issues, workflow=graph.get("name") if isinstance(graph, dict) else None)
    return graph


@bulk
def workflow_from_graph(graph: Any, cls: Any = None) -> Any:
    """The Workflow a graph describes (a v1 graph, or pydflow's graph JSON); its layout is kept on
    ``workflow.graph_layout`` so that ``to_graph`` writes it back."""
    graph = prepare_graph(graph)
    templates = _Builder(graph).build_all()
    entry = templates[graph["entrypoint"]]
    kwargs: dict[str, Any] = {"dag" if isinstance(entry, DAG) else "steps": entry}
    for key in ("namespace", "labels", "annotations", "parallelism", "parameters"):
        if key in graph:
            kwargs[key] = graph[key]
    wf = _construct(cls or Workflow, {"workflow": graph["name"]}, name=graph["name"], **kwargs,
                    **dict(graph.get("options") or {}))
    used = {graph["entrypoint"]} | {n["template"] for t in graph["templates"].values() for n in t.get("nodes") or ()}
    wf.extra_templates = [t for name, t in templates.items() if name not in used]
    wf.graph_layout = graph.get("layout")
    return wf


@bulk
def template_from_graph(graph: Mapping, templates: Optional[dict[str, Any]] = None) -> Any:
    """One template from its standalone form (a graph template with its ``name``); ``templates``
    holds the already built templates its steps/tasks name."""
    spec = dict(graph)
    name = spec.pop("name", None)
    if not isinstance(name, str):
        raise WorkflowValueError("a standalone graph template needs its 'name'", field="name")
    built = _Builder({"templates": {name: spec}}, templates).build_all()
    return built[name]


def step_from_graph(cls: Any, graph: Mapping, templates: Mapping[str, Any]) -> Any:
    """One step/task from its standalone form (``{"node": …, "edges": […]}`` or a bare node); inputs fed
    by edges get the reference as text (``{{steps.a.outputs.parameters.x}}``)."""
    node = dict(graph.get("node", graph))
    template = templates.get(node.get("template"))
    if template is None:
        raise WorkflowValueError(f"unknown template {node.get('template')!r}", step=node.get("name"),
                                 field="template")
    where = {"step": node.get("name")}
    params = dict(node.get("parameters") or {})
    arts: dict[str, Any] = {k: artifact_from_graph(v, where) for k, v in _d(node.get("artifacts")).items()}
    scope = getattr(cls, "_scope_word", "steps")
    for edge in graph.get("edges") or ():
        src, target = edge["source"], edge["target"]
        if edge["kind"] == "control":
            continue
        coll = _PORT_KINDS[edge["kind"]]
        ref = Ref(scope, None if src["node"] == PSEUDO_INPUTS else src["node"], coll, src["port"]).tag()
        if target.get("option") == "with_param":
            node["with_param"] = ref
        elif coll == "parameters":
            params[target["port"]] = ref
        else:
            arts[target["port"]] = ref
    kwargs = {k: node[k] for k in ("when", "with_param", "key", "continue_on_failed", "continue_on_error",
                                   "continue_on_num_success", "continue_on_success_ratio", "parallelism")
              if k in node}
    if node.get("with_sequence") is not None:
        kwargs["with_sequence"] = argo_sequence(**node["with_sequence"])
    return _construct(cls, where, node["name"], template, parameters=params or None, artifacts=arts or None,
                      **kwargs, **dict(node.get("options") or {}))
