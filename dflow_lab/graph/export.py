"""Model → graph: a Workflow (or one template, step or port) as a graph document of format v1."""

from __future__ import annotations

import json
import math
import os
from contextvars import ContextVar
from typing import Any, Optional

import jsonpickle

import dflow_lab

from ..argo.compile import collect_templates, unique_names
from ..config import config
from ..dag import DAG
from ..errors import WorkflowTypeError, WorkflowValueError
from ..io import (
    ArgoVar,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    _strip_tag,
    convert_value_to_str,
    type_to_str,
)
from ..op_template import (
    MEMOIZE_MAX_AGE,
    ContainerOPTemplate,
    ScriptOPTemplate,
    Secret,
    ShellOPTemplate,
    _k8s_dict,
)
from ..python import Artifact, BigParameter, Parameter, PythonOPTemplate, upload_packages
from ..steps import Steps
from ..task import Task
from .bulk import bulk
from .refs import parse_ref
from .schema import GRAPH_VERSION
from .view import PSEUDO_INPUTS, PSEUDO_OUTPUTS

#: constructor keyword arguments of script/container templates written under ``options``
SCRIPT_OPTIONS = ("timeout", "retry_strategy", "requests", "limits", "envs", "node_selector", "tolerations",
                  "affinity", "volumes", "mounts", "init_containers", "sidecars", "image_pull_policy",
                  "annotations", "labels", "memoize_key", "init_progress")
#: …of Python OP templates (on top of SCRIPT_OPTIONS)
PYTHON_OPTIONS = ("retry_on_transient_error", "retry_on_failure", "retry_on_error", "retry_on_failure_and_error",
                  "timeout_as_transient_error", "pre_script", "post_script", "skip_slice_input",
                  "create_slice_dir", "success_tag")
SUPER_OPTIONS = ("memoize_key", "annotations")
STEP_OPTIONS = ("use_resource", "util_image", "util_image_pull_policy", "util_command")
STEP_FIELDS = ("when", "key", "continue_on_failed", "continue_on_error", "continue_on_num_success",
               "continue_on_success_ratio", "parallelism")
WORKFLOW_OPTIONS = ("pod_gc_strategy", "artifact_repo_key", "image_pull_secrets")
SLICES_FIELDS = ("input_parameter", "input_artifact", "output_parameter", "output_artifact", "sub_path",
                 "group_size", "pool_size", "slices", "shuffle", "random_seed", "pool_timeout",
                 "register_first_only", "create_dir", "raise_for_group")
_DEFAULTS = {"init_progress": "0/1", "timeout_as_transient_error": False, "pre_script": "", "post_script": "",
             "skip_slice_input": False, "create_slice_dir": False, "random_seed": 0}


BIGPAR = "dflow_bigpar_"
_OMITTED: ContextVar[Optional[list]] = ContextVar("dflow_lab_graph_omitted", default=None)


def _omit(message: str, where: dict, error: type = WorkflowValueError) -> None:
    """Refuse what a graph cannot carry (an error naming where), or, when exporting for display
    (``lossy=True``), leave it out and note it."""
    omitted = _OMITTED.get()
    if omitted is None:
        raise error(message, **where)
    omitted.append(str(error(message, **where)))


def _is_default(key: str, value: Any) -> bool:
    if value is None or value is False or value == [] or value == {} or value == "":
        return True
    return key in _DEFAULTS and value == _DEFAULTS[key]


def plain(value: Any, where: dict) -> Any:
    """``value`` as plain JSON (Kubernetes client objects as dicts, secrets as references), or a clear
    error naming ``where`` (workflow/template/step/field) when it cannot be written to a graph."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        _omit(f"{value!r} cannot be written to a graph (JSON has no NaN/infinity)", where)
        return str(value)
    if isinstance(value, Secret):
        return {"valueFrom": {"secretKeyRef": {"name": value.name, "key": value.key}}}
    if isinstance(value, dict):
        return {str(k): plain(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, where) for v in value]
    if callable(getattr(value, "to_dict", None)) and type(value).__module__.startswith("kubernetes"):
        return _k8s_dict(value)
    _omit(f"a {type(value).__name__} cannot be written to a graph: give JSON data (str, int, float, bool, None, "
          "lists and dicts of them)", where, WorkflowTypeError)
    return repr(value)


def _type(t: Any) -> Optional[str]:
    return None if t is None else type_to_str(t)


def _expr_text(value: Any) -> Any:
    """An expression or reference as the text Argo carries; other values unchanged."""
    return str(value) if isinstance(value, ArgoVar) else value


# -- ports ----------------------------------------------------------------------------------------
def input_parameter(p: Any, where: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if getattr(p, "source", None) is not None:
        _omit("an input parameter's default source", where)
    if p.type is not None:
        out["type"] = _type(p.type)
    if p.has_value:
        out["default"] = _literal(p.value, where)
    if p.description is not None:
        out["description"] = p.description
    if p.path is not None:
        out["path"] = p.path
    if p.save_as_artifact:
        out["big"] = True
    opts = {k: plain(getattr(p, k), where) for k in ("enum", "global_name") if getattr(p, k, None) is not None}
    if opts:
        out["options"] = opts
    return out


def input_artifact(a: Any, where: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.type is not None:
        out["type"] = _type(a.type)
    if a.path is not None:
        out["path"] = a.path
    if a.optional:
        out["optional"] = True
    if getattr(a, "description", None) is not None:
        out["description"] = a.description
    default = artifact_source(a.source, where) if a.source is not None else None
    if default is not None:
        out["default"] = default
    opts = {}
    for k, v in (("mode", a.mode), ("sub_path", a.get_sub_path()), ("save_as_parameter", a.save_as_parameter)):
        if not _is_default(k, v):
            opts[k] = v
    if a.archive != "default":
        opts["archive"] = a.archive
    if opts:
        out["options"] = opts
    return out


def output_parameter(p: Any, where: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    _refuse("valueFrom fields the model does not edit", getattr(p, "_extra_value_from", None), where)
    if p.type is not None:
        out["type"] = _type(p.type)
    if p.description is not None:
        out["description"] = p.description
    if p.has_default:
        out["default"] = _literal(p.default, where)
    if p.has_value:
        out["value"] = _literal(p.value, where)
    if p.value_from_path is not None:
        out["value_from_path"] = p.value_from_path
    if p.value_from_expression is not None:
        out["value_from_expression"] = str(p.value_from_expression)
    if p.global_name is not None:
        out["global_name"] = p.global_name
    if p.save_as_artifact:
        out["big"] = True
    if p.save_both:
        out["options"] = {"save_both": True}
    return out


def output_artifact(a: Any, where: dict) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.type is not None:
        out["type"] = _type(a.type)
    if getattr(a, "description", None) is not None:
        out["description"] = a.description
    if a.path is not None:
        out["path"] = a.path
    if a.optional:
        out["optional"] = True
    if a.from_expression is not None:
        out["from_expression"] = str(a.from_expression)
    if a.global_name is not None:
        out["global_name"] = a.global_name
    if a.archive != "default":
        out["archive"] = a.archive
    saves = [x for x in (artifact_source(s, where) for s in a.save) if x is not None]
    if saves:
        out["options"] = {"save": saves}
    return out


_PORT_WRITERS = {
    ("inputs", "parameters"): input_parameter,
    ("inputs", "artifacts"): input_artifact,
    ("outputs", "parameters"): output_parameter,
    ("outputs", "artifacts"): output_artifact,
}


def io_group(group: Any, direction: str, where: dict) -> dict[str, Any]:
    """``{"parameters": {...}, "artifacts": {...}}`` of an Inputs/Outputs, leaving out ``dflow_*`` ports
    and empty halves."""
    out: dict[str, Any] = {}
    for kind in ("parameters", "artifacts"):
        writer = _PORT_WRITERS[(direction, kind)]
        ports = {k: writer(v, {**where, "field": k}) for k, v in getattr(group, kind).items()
                 if not k.startswith("dflow_")}
        if ports:
            out[kind] = ports
    return out


def _raw_fields(source: Any) -> Optional[dict]:
    """The manifest fields of a source parsed from Argo YAML (``RawArtifactSource``), else ``None``."""
    fields = getattr(source, "fields", None)
    return fields if type(source).__name__ == "RawArtifactSource" and isinstance(fields, dict) else None


def artifact_source(source: Any, where: dict) -> Optional[dict[str, Any]]:
    """A literal artifact (S3 key, local path, HTTP URL); never credentials. ``None`` when left out."""
    fields = _raw_fields(source)
    if fields is not None:
        if set(fields) == {"s3"} and set(fields["s3"] or {}) == {"key"}:
            return {"kind": "s3", "key": fields["s3"]["key"]}
        if set(fields) == {"http"} and set(fields["http"] or {}) == {"url"}:
            return {"kind": "http", "url": fields["http"]["url"]}
        _refuse("an artifact source of the manifest", fields, where)
        return None
    key = getattr(source, "key", None)
    if isinstance(key, str):
        out = {"kind": "s3", "key": key}
        if getattr(source, "urn", ""):
            out["urn"] = source.urn
        return out
    if isinstance(getattr(source, "url", None), str):
        return {"kind": "http", "url": source.url}
    if getattr(source, "local_path", None) is not None:
        return {"kind": "local", "path": str(source.local_path)}
    _omit(f"a {type(source).__name__} cannot be written to a graph as an artifact; use an S3Artifact, "
          "LocalArtifact or HTTPArtifact", where, WorkflowTypeError)
    return None


def _literal(value: Any, where: dict) -> Any:
    """A parameter value: JSON as is; a value holding references or expressions as the text Argo gets."""
    if isinstance(value, ArgoVar):
        return str(value)
    if isinstance(value, (list, tuple, dict)) and _holds_argovar(value, ArgoVar):
        return convert_value_to_str(value)
    return plain(value, where)


def _holds_argovar(value: Any, cls: type) -> bool:
    if isinstance(value, cls):
        return True
    if isinstance(value, dict):
        return any(_holds_argovar(v, cls) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_argovar(v, cls) for v in value)
    return False


# -- templates ------------------------------------------------------------------------------------
def _options(obj: Any, keys: tuple, where: dict) -> dict[str, Any]:
    out = {}
    for k in keys:
        v = getattr(obj, k, None)
        if _is_default(k, v) or (k == "image_pull_policy" and v == config.get("image_pull_policy")):
            continue
        out[k] = plain(v, {**where, "field": k})
    return out


def _refuse(what: str, fields: Any, where: dict) -> None:
    """Raise a clear error for model content the graph format cannot carry (never drop it silently)."""
    if fields:
        names = ", ".join(sorted(fields)) if isinstance(fields, (dict, set, list)) else str(fields)
        _omit(f"{what} ({names}) cannot be written to a graph yet", where)


def leaf_template(t: Any, where: dict) -> dict[str, Any]:
    """A script/shell/container/Python OP template as a graph template (without its name)."""
    if not isinstance(t, ScriptOPTemplate):
        _omit(f"a {type(t).__name__} cannot be written to a graph: graphs hold Python OP, shell, script, "
              "container, steps and dag templates", where)
        out = {"kind": "container"}  # for display only: its ports
        _ports_and_options(out, t, io_group(t.inputs, "inputs", where), io_group(t.outputs, "outputs", where), {})
        return out
    _refuse("Argo template fields the model does not edit", getattr(t, "_extra", None), where)
    _refuse("PVCs", [getattr(v, "name", str(v)) for v in t.pvcs], where)
    if t.resource is not None:
        _omit("a resource (use_resource) on a template cannot be written to a graph yet", where)
    python_cls = _python_template_class()
    if python_cls is not None and isinstance(t, python_cls) and hasattr(t, "op_class"):
        return python_template(t, where)  # (one parsed from a manifest has no OP class: a script)
    if isinstance(t, ContainerOPTemplate):
        out: dict[str, Any] = {"kind": "container"}
    elif isinstance(t, ShellOPTemplate):
        out = {"kind": "shell"}
    else:
        out = {"kind": "script"}
    if t.image is not None:
        out["image"] = t.image
    if out["kind"] == "container":
        if t.command:
            out["command"] = list(t.command)
        if t.args:
            out["args"] = list(t.args)
    else:
        if t.command and not (out["kind"] == "shell" and list(t.command) == ["sh"]):
            out["command"] = list(t.command)
        out["script"] = t.script
    _ports_and_options(out, t, io_group(t.inputs, "inputs", where), io_group(t.outputs, "outputs", where),
                       _options(t, SCRIPT_OPTIONS, where))
    return out


def _ports_and_options(out: dict, t: Any, ins: dict, outs: dict, opts: dict) -> None:
    if ins:
        out["inputs"] = ins
    if outs:
        out["outputs"] = outs
    if opts:
        out["options"] = opts


def op_path(op: Any) -> str:
    """``module:QualName`` of an OP class, instance or ``@OP.function``."""
    cls = op if isinstance(op, type) else type(op)
    return f"{cls.__module__}:{cls.__qualname__}"


def sign_ports(sign: Any, direction: str, where: dict) -> dict[str, Any]:
    """An OPIOSign as graph ports: parameters (type, default, description, big) and artifacts."""
    params: dict[str, Any] = {}
    arts: dict[str, Any] = {}
    for name, s in sign.items():
        port: dict[str, Any] = {}
        stype = s.type if isinstance(s, (Parameter, BigParameter, Artifact)) else s
        if stype is not None:
            port["type"] = _type(stype)
        if getattr(s, "description", None) is not None:
            port["description"] = s.description
        if isinstance(s, Artifact):
            if s.optional:
                port["optional"] = True
            if direction == "outputs" and s.global_name is not None:
                port["global_name"] = s.global_name
            arts[name] = port
            continue
        if hasattr(s, "default"):
            port["default"] = _literal(s.default, {**where, "field": name})
        if isinstance(s, BigParameter):
            port["big"] = True
        if direction == "outputs" and getattr(s, "global_name", None) is not None:
            port["global_name"] = s.global_name
        params[name] = port
    out = {}
    if params:
        out["parameters"] = params
    if arts:
        out["artifacts"] = arts
    return out


def python_template(t: Any, where: dict) -> dict[str, Any]:
    """A PythonOPTemplate: the OP by import path, its sign as the ports, the template's options.

    A template that ``continue_on_num_success``/``_ratio`` tagged is written as the template it was
    made from (rebuilding the step tags it again)."""
    out: dict[str, Any] = {"kind": "python", "op": op_path(t.op_class)}
    if t.image is not None:
        out["image"] = t.image
    derived = ("init_progress", "retry_strategy")  # from the OP class and the retry_on_* options
    opts = _options(t, tuple(k for k in SCRIPT_OPTIONS if k not in derived) + PYTHON_OPTIONS, where)
    if is_tagged(t):
        opts.pop("success_tag", None)  # the tagging copy writes the tag; the user's template did not ask
    if list(t.command) != ["python3"]:
        opts["command"] = list(t.command)
    if t.tmp_root != "/tmp":
        opts["tmp_root"] = t.tmp_root
    if not t.upload_dflow:
        opts["upload_dflow"] = False
    packages = _user_packages(t)
    if packages:
        opts["python_packages"] = packages
    if t.slices is not None:
        opts["slices"] = slices_dict(t.slices, where)
    cls = t.op_class if isinstance(t.op_class, type) else type(t.op_class)
    in_sign, out_sign = cls.get_input_sign(), cls.get_output_sign()
    opts.update(_output_overrides(t, out_sign, where))
    for key in ("input_parameter_slices", "input_artifact_slices", "output_parameter_slices",
                "output_artifact_slices"):
        if getattr(t, key, None):
            opts[key] = plain(getattr(t, key), {**where, "field": key})
    _ports_and_options(out, t, sign_ports(in_sign, "inputs", where), sign_ports(out_sign, "outputs", where), opts)
    return out


def _output_overrides(t: Any, sign: Any, where: dict) -> dict[str, Any]:
    """What the template changed on its OP's outputs: ``output_parameter_default``/``_global_name``,
    ``output_artifact_archive``/``_global_name`` (as ``PythonOPTemplate`` takes them)."""
    out: dict[str, dict] = {}
    for name, s in sign.items():
        if isinstance(s, Artifact):
            port = t.outputs.artifacts.get(name)
            mine = t.output_sign[name]
            if port is None:
                continue
            if mine.archive != s.archive:
                out.setdefault("output_artifact_archive", {})[name] = mine.archive
            if mine.global_name != s.global_name:
                out.setdefault("output_artifact_global_name", {})[name] = mine.global_name
            if mine.save != s.save:
                _omit(f"output_artifact_save of {name!r}", {**where, "field": "output_artifact_save"})
            continue
        port = t.outputs.parameters.get(name)
        if port is None:
            continue
        if port.global_name != getattr(s, "global_name", None):
            out.setdefault("output_parameter_global_name", {})[name] = port.global_name
        if port.has_default and not hasattr(s, "default"):
            value = port.default
            if port.type is not str and isinstance(value, str):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass
            out.setdefault("output_parameter_default", {})[name] = plain(value, {**where, "field": name})
    return out


def _user_packages(t: Any) -> list[str]:
    """The python_packages a user gave (without those every template uploads)."""



    auto = {os.path.abspath(os.fspath(p)) for p in [*upload_packages, *dflow_lab.__path__, *jsonpickle.__path__]}
    return [p for p in (getattr(t, "_package_list", None) or []) if p not in auto]


def _python_template_class() -> Optional[type]:
    return PythonOPTemplate


class _SuperExport:
    """One Steps/DAG template: its nodes, edges and template-level outputs."""

    def __init__(self, t: Any, names: dict[int, str], where: dict, steps: bool = True) -> None:
        self.t = t
        self.names = names
        self.where = where
        self.steps = isinstance(t, Steps) if t is not None else steps
        self.edges: list[dict] = []
        checks = {id(s.check_step) for s in self._members() if getattr(s, "check_step", None) is not None}
        checks |= {id(s.prepare_step) for s in self._members() if getattr(s, "prepare_step", None) is not None}
        self.checks = checks
        self.members = {id(s): s for s in self._members() if id(s) not in checks}
        self.by_name: Optional[dict] = None

    def _members(self) -> list:
        if self.t is None:
            return []
        return self.t.all_steps() if self.steps else list(self.t.tasks)

    def run(self) -> dict[str, Any]:
        t = self.t
        out: dict[str, Any] = {"kind": "steps" if self.steps else "dag"}
        ins = io_group(t.inputs, "inputs", self.where)
        outs = io_group(t.outputs, "outputs", self.where)
        if ins:
            out["inputs"] = ins
        if outs:
            out["outputs"] = outs
        if t.parallelism is not None:
            out["parallelism"] = t.parallelism
        nodes = []
        if self.steps:
            stage = 0
            for group in t.steps:
                kept = [s for s in group if id(s) not in self.checks]
                for s in kept:
                    nodes.append(self.node(s, stage))
                stage += bool(kept)
        else:
            nodes = [self.node(s, None) for s in t.tasks if id(s) not in self.checks]
        self.template_outputs(outs)
        out["nodes"] = nodes
        out["edges"] = self.edges
        _refuse("labels of a steps/dag template", t.labels, self.where)
        _refuse("PVCs", [getattr(v, "name", str(v)) for v in t.pvcs], self.where)
        opts = _options(t, SUPER_OPTIONS, self.where)
        if opts:
            out["options"] = opts
        return out

    # a value that is a reference to a port this template can see becomes an edge source
    def source_of(self, value: Any) -> Optional[dict]:
        if isinstance(value, (InputParameter, InputArtifact)) and value.step is None:
            if self.t is None or value.template is self.t or value.template is None:
                return {"node": PSEUDO_INPUTS, "port": value.name}
            return None
        if isinstance(value, (OutputParameter, OutputArtifact)) and value.step is not None:
            if self.t is None or id(value.step) in self.members:
                return {"node": value.step.name, "port": value.name}
            return None
        fields = _raw_fields(value)
        if fields is not None and set(fields) == {"from"}:
            value = fields["from"]
        ref = parse_ref(value)
        if ref is not None and (ref.node is None or ref.scope == ("steps" if self.steps else "tasks")):
            return {"node": PSEUDO_INPUTS if ref.node is None else ref.node, "port": ref.port}
        return None

    def edge(self, kind: str, source: dict, target: dict) -> None:
        if str(source.get("port", "")).startswith("dflow_"):  # e.g. a parsed manifest's success check
            _omit(f"a use of dflow's internal port {source['port']!r} (of {source['node']!r})", {
                **self.where, "step": target["node"]})
            return
        self.edges.append({"kind": kind, "source": source, "target": target})

    def node(self, s: Any, stage: Optional[int]) -> dict[str, Any]:
        where = {**self.where, "step": s.name}
        view = getattr(s, "_user_view", None)  # a sliced step as written, without dflow's init-artifact wiring
        out: dict[str, Any] = {"name": s.name, "template": template_name(view["template"] if view else s.template,
                                                                         self.names)}
        if stage is not None:
            out["stage"] = stage
        if s.executor is not None:
            _omit("a step with an executor cannot be written to a graph (an executor is code, not data); set "
                  "the executor after loading the graph", where)
        _refuse("Argo step fields the model does not edit", getattr(s, "_extra", None), where)
        _refuse("arguments for inputs the template does not declare", getattr(s, "_extra_arguments", None), where)
        _refuse("hooks", s.hooks, where)
        if s.with_items is not None:
            _refuse("withItems", "with_items", where)
        params = {}
        data_sources = set()
        for k, v in (view["parameters"] if view else s.given_parameters).items():
            if k == "dflow_key":  # written as the node's key
                continue
            src = self.source_of(v)
            if src is not None:
                self.edge("parameter", src, {"node": s.name, "port": k})
                data_sources.add(src["node"])
                continue
            params[k] = _literal(v, {**where, "field": k})
        arts = {}
        for k, v in (view["artifacts"] if view else s.given_artifacts).items():
            if k.startswith(BIGPAR):  # a big parameter's value, as a parsed manifest carries it
                self.big_parameter(k[len(BIGPAR):], v, params, data_sources, s.name, where)
                continue
            if k.startswith("dflow_"):
                if k != "dflow_python_packages":  # the packages artifact is the template's own
                    _omit(f"an argument for dflow's internal input {k!r}", {**where, "field": k})
                continue
            src = self.source_of(v)
            if src is not None and callable(getattr(v, "get_sub_path", None)) and v.get_sub_path():
                _omit(f"a sub-path ({v.get_sub_path()!r}) of artifact {src['node']}.{src['port']} cannot be written to "
                      "a graph yet",
                      {**where, "field": k})
            if src is not None:
                self.edge("artifact", src, {"node": s.name, "port": k})
                data_sources.add(src["node"])
            else:
                literal = artifact_source(v, {**where, "field": k})
                if literal is not None:
                    arts[k] = literal
        if params:
            out["parameters"] = params
        if arts:
            out["artifacts"] = arts
        self.loops(view["with_param"] if view else s.with_param, view["with_sequence"] if view else s.with_sequence,
                   s.name, out, where, data_sources)
        thresholds = s.continue_on_num_success is not None or s.continue_on_success_ratio is not None
        for k in STEP_FIELDS:
            v = getattr(s, k, None)
            if k == "continue_on_failed" and thresholds:
                continue  # a success threshold implies it (the model sets it, as dflow does)
            if v is not None and v is not False:
                out[k] = _expr_text(v) if k == "when" else plain(v, {**where, "field": k})
        if s.slices is not None:
            out["slices"] = slices_dict(s.slices, where)
        opts = _options(s, STEP_OPTIONS, where)
        if not self.steps:
            extra = self.dependencies(s, data_sources)
            if extra:
                opts["dependencies"] = extra
        if opts:
            out["options"] = opts
        return out

    def big_parameter(self, name: str, value: Any, params: dict, data_sources: set, node: str,
                      where: dict) -> None:
        """``dflow_bigpar_<name>`` of a parsed manifest: the parameter ``name`` (its text, or an edge)."""
        fields = _raw_fields(value) or {}
        if set(fields) == {"raw"}:
            params[name] = (fields["raw"] or {}).get("data", "")
            return
        ref = parse_ref(fields.get("from")) if set(fields) == {"from"} else None
        if ref is not None and ref.port.startswith(BIGPAR):
            source = {"node": PSEUDO_INPUTS if ref.node is None else ref.node, "port": ref.port[len(BIGPAR):]}
            self.edges.append({"kind": "parameter", "source": source, "target": {"node": node, "port": name}})
            data_sources.add(source["node"])
            return
        _omit(f"the value of big parameter {name!r} ({fields or value!r})", {**where, "field": name})

    def loops(self, wp: Any, seq: Any, name: str, out: dict, where: dict, data_sources: set) -> None:
        if wp is not None:
            src = self.source_of(wp)
            if src is not None:
                self.edge("parameter", src, {"node": name, "option": "with_param"})
                data_sources.add(src["node"])
            else:
                out["with_param"] = _literal(list(wp) if isinstance(wp, tuple) else wp,
                                             {**where, "field": "with_param"})
        if seq is not None:
            fields = {k: getattr(seq, k, None) if not isinstance(seq, dict) else seq.get(k)
                      for k in ("start", "end", "count", "format")}
            out["with_sequence"] = {k: _literal(v, {**where, "field": "with_sequence"})
                                    for k, v in fields.items() if v is not None}

    def dependencies(self, s: Any, data_sources: set) -> list[str]:
        """Control edges for the tasks ``s`` waits for beyond its data; ``depends`` terms given as text
        (``"a.Failed"``, or a bare name from a parsed manifest) stay text."""
        extra = []
        for dep in s.dependencies:
            if not isinstance(dep, Task):
                if not self._implied(str(dep), data_sources):
                    extra.append(str(dep))
            elif id(dep) not in self.checks and dep.name not in data_sources:
                self.edges.append({"kind": "control", "source": {"node": dep.name}, "target": {"node": s.name}})
                data_sources.add(dep.name)
        return extra

    def _implied(self, term: str, data_sources: set) -> bool:
        """Whether a ``depends`` term (``"a.Succeeded"``, as a parsed manifest has it) says no more than the
        data edge from ``a`` does: the model infers that dependency again when the graph is loaded."""
        name, _, result = term.strip("() ").partition(".")
        if result != "Succeeded" or name not in data_sources:
            return False
        if self.by_name is None:
            self.by_name = {m.name: m for m in self.members.values()}
        source = self.by_name.get(name)
        return source is not None and not (source.continue_on_failed or source.continue_on_error)

    def template_outputs(self, outs: dict) -> None:
        """Edges to ``@outputs`` for outputs taken from a step or an input; any other source stays text."""
        for kind, attr, edge_kind in (("parameters", "value_from_parameter", "parameter"),
                                      ("artifacts", "_from", "artifact")):
            for name, port in getattr(self.t.outputs, kind).items():
                value = getattr(port, attr, None)
                if value is None or name.startswith("dflow_"):
                    continue
                src = self.source_of(_strip_tag(value) if isinstance(value, str) else value)
                if src is not None:
                    self.edge(edge_kind, src, {"node": PSEUDO_OUTPUTS, "port": name})
                elif isinstance(value, str):
                    outs[kind][name].setdefault("options", {})[attr] = value
                else:
                    _omit(f"output {kind[:-1]} {name!r} takes its value from {value!r}, which is not a step of "
                          "this template nor one of its inputs", {**self.where, "field": name})


def slices_dict(slices: Any, where: dict) -> dict[str, Any]:
    out = {}
    implied = "{{item.order}}" if slices.sub_path and slices.group_size is None else "{{item}}"
    for k in SLICES_FIELDS:
        v = getattr(slices, k, None)
        if k == "slices" and v == implied:
            continue  # the tag Slices() takes when given none
        if not _is_default(k, v):
            out[k] = _expr_text(v) if k == "slices" else plain(v, {**where, "field": "slices"})
    return out


# -- whole documents ------------------------------------------------------------------------------
TAG_SUFFIX = "-tagged"


def is_tagged(t: Any) -> bool:
    """Whether ``t`` is the copy ``util_ops.add_success_tag`` made for a success-threshold fan-out."""
    return "dflow_success_tag" in t.outputs.parameters and t.name.endswith(TAG_SUFFIX)


def template_name(t: Any, names: dict[int, str]) -> str:
    name = names.get(id(t), t.name)
    return name[: -len(TAG_SUFFIX)] if is_tagged(t) else name


def _collect(entry: Any) -> list:
    """Templates reachable from ``entry``, without the checks dflow inserts for success thresholds."""
    templates = collect_templates(entry)
    checks = set()
    originals = []  # a step with an executor (lossy export only) is drawn with its own template, not the rendered one
    for t in templates:
        for s in (t.all_steps() if hasattr(t, "all_steps") else getattr(t, "tasks", [])):
            if getattr(s, "check_step", None) is not None:
                checks.add(id(s.check_step.template))
            view = getattr(s, "_user_view", None)
            if view is not None:  # a sliced step: its template as written, not the init-artifact wiring
                checks.add(id(s.prepare_step.template))
                checks.add(id(s.template))
                originals.append(view["template"])
            if getattr(s, "executor", None) is not None and s.template is not s.effective_template():
                checks.add(id(s.effective_template()))
                originals.append(s.template)
    seen = {id(t) for t in templates}
    extra = [t for t in dict.fromkeys(originals) if id(t) not in seen]
    return [t for t in templates if id(t) not in checks] + extra


def template_entry(t: Any, names: dict[int, str], where: dict) -> dict[str, Any]:
    where = {**where, "template": template_name(t, names)}
    memo = {k for k, v, default in (("memoize configMap", getattr(t, "_memoize_configmap", "dflow"), "dflow"),
                                    ("memoize maxAge", getattr(t, "memoize_max_age", MEMOIZE_MAX_AGE),
                                     MEMOIZE_MAX_AGE)) if v != default}
    _refuse("memoization cache settings", memo, where)
    if isinstance(t, (Steps, DAG)):
        return _SuperExport(t, names, where).run()
    if is_tagged(t) and not isinstance(t, _python_template_class() or ()):
        _omit("continue_on_num_success/continue_on_success_ratio on a script template cannot be written to a "
              "graph yet (only on Python OP templates)", where)
    return leaf_template(t, where)


@bulk
def workflow_to_graph(wf: Any, lossy: bool = False) -> dict[str, Any]:
    """The graph document of a workflow (format v1), layout included when the workflow carries one.

    What a graph cannot carry raises an error naming it; with ``lossy=True`` (a graph to display, e.g.
    of a run) it is left out instead and listed in ``layout["omitted"]``."""
    omitted: Optional[list] = [] if lossy else None
    token = _OMITTED.set(omitted)
    try:
        out = _workflow_to_graph(wf)
    finally:
        _OMITTED.reset(token)
    if omitted:
        out["layout"] = {**out.get("layout", {}), "omitted": omitted}
    return out


def _workflow_to_graph(wf: Any) -> dict[str, Any]:
    where = {"workflow": wf.name}

    if not isinstance(wf.entrypoint, (Steps, DAG)):
        raise WorkflowValueError("only a workflow whose entrypoint is a Steps or DAG template can be written "
                                 "to a graph", **where, field="entrypoint")
    _refuse("an exit handler", wf.on_exit, {**where, "field": "on_exit"})
    _refuse("Argo workflow spec fields the model does not edit", wf.spec_extra, where)
    if wf.context is not None:
        _omit("a workflow with a context cannot be written to a graph (a context is code, not data); set it "
              "after loading the graph", {**where, "field": "context"})
    templates = _collect(wf.entrypoint)
    templates += [t for x in wf.extra_templates for t in _collect(x) if all(t is not y for y in templates)]
    names = unique_names(templates, {})
    out: dict[str, Any] = {"version": GRAPH_VERSION, "name": wf.name, "entrypoint": names[id(wf.entrypoint)]}
    if wf.namespace is not None:
        out["namespace"] = wf.namespace
    for key in ("labels", "annotations"):
        if getattr(wf, key):
            out[key] = dict(getattr(wf, key))
    if wf.parallelism is not None:
        out["parallelism"] = wf.parallelism
    if wf.parameters:
        out["parameters"] = {k: _literal(v, {**where, "field": k}) for k, v in wf.parameters.items()}
    opts = {}
    for key in WORKFLOW_OPTIONS:
        value = getattr(wf, key, None)
        if key == "image_pull_secrets" and value:
            value = [getattr(s, "name", s) for s in value]  # names only: never credentials
        if not _is_default(key, value):
            opts[key] = plain(value, {**where, "field": key})
    if opts:
        out["options"] = opts
    out["templates"] = {template_name(t, names): template_entry(t, names, where) for t in templates}
    layout = getattr(wf, "graph_layout", None)
    if layout:
        out["layout"] = layout
    return out


def template_to_graph(t: Any) -> dict[str, Any]:
    """One template on its own: the graph template with its ``name`` (steps/dag name their templates)."""
    names = {id(x): x.name for x in _collect(t)}
    return {"name": t.name, **template_entry(t, names, {})}


def step_to_graph(step: Any) -> dict[str, Any]:
    """One step or task on its own: ``{"node": …, "edges": […]}``, the edges feeding it."""
    export = _SuperExport(None, {id(step.template): step.template.name}, {}, steps=not isinstance(step, Task))
    node = export.node(step, 0 if export.steps else None)
    return {"node": node, "edges": export.edges}
