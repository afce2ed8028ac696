"""Import the graph JSON that pydflow's ``Workflow.to_graph_json()`` writes into the graph format v1.

pydflow's graph is jsonpickle output: templates carry ``type`` (``PythonOPTemplate``,
``ScriptOPTemplate``, ``Steps``, ``DAG``), steps carry references as ``{{…}}`` strings and artifacts as
pickled ``S3Artifact`` objects (with the storage credentials in them). The import is pure data
conversion: nothing is unpickled or executed, embedded OP sources are dropped (the OP is referenced by
``module:Name``), credentials are dropped (an S3 artifact keeps its key), and any other pickled
object is refused with an ``unsafe-value`` issue.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from .bulk import bulk
from .issues import GraphValidationError, Issue
from .refs import parse_ref
from .schema import GRAPH_VERSION
from .view import PSEUDO_INPUTS, PSEUDO_OUTPUTS

PYDFLOW_TEMPLATE_TYPES = {"PythonOPTemplate", "ScriptOPTemplate", "Steps", "DAG"}
_S3_TYPES = {"dflow.common.S3Artifact", "dflow.utils.S3Artifact"}
_SLICES_TYPE = "dflow.python.python_op_template.Slices"
_SIGN_TYPES = {
    "dflow.python.opio.Parameter": "parameter",
    "dflow.python.opio.BigParameter": "big",
    "dflow.python.opio.Artifact": "artifact",
}
_SHELLS = (["sh"], ["bash"])
# keys a pydflow template/step writes that carry no meaning here, or hold the model's default
_DROP_TEMPLATE = {"name", "type", "inputs", "outputs", "op", "image", "script", "command", "pvcs",
                  "init_progress", "upload_dflow", "tmp_root", "timeout_as_transient_error", "source"}
_TEMPLATE_DEFAULTS = {"tmp_root": "/tmp", "init_progress": "0/1", "pre_script": "", "post_script": ""}
_STEP_KEYS = ("when", "key", "continue_on_failed", "continue_on_error", "continue_on_num_success",
              "continue_on_success_ratio", "parallelism")
_DROP_STEP = {"name", "template", "parameters", "artifacts", "with_param", "with_sequence", "slices",
              "dependencies", "util_image", "executor", *_STEP_KEYS}
_PYDFLOW_UTIL_IMAGE = "python:3.8"
_SLICES_DEFAULTS = {"input_parameter": [], "input_artifact": [], "output_parameter": [], "output_artifact": [],
                    "sub_path": False, "group_size": None, "pool_size": None, "slices": None}


def is_pydflow_graph(graph: Any) -> bool:
    """Whether ``graph`` has the shape pydflow's ``to_graph`` writes (no ``version``, typed templates)."""
    if not isinstance(graph, dict) or "version" in graph:
        return False
    templates = graph.get("templates")
    return isinstance(templates, dict) and bool(templates) and all(
        isinstance(t, dict) and isinstance(t.get("type"), str) and t["type"] in PYDFLOW_TEMPLATE_TYPES
        for t in templates.values())


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


class _Importer:
    def __init__(self, graph: Mapping) -> None:
        self.src = graph
        self.issues: list[Issue] = []

    def unsafe(self, where: tuple, what: str, template: str | None = None, node: str | None = None) -> None:
        self.issues.append(Issue("unsafe-value", f"{what} is a pickled Python object, not plain data; it is "
                                 "not imported", template, node, None, where))

    def plain(self, value: Any, where: tuple, template: str | None = None, node: str | None = None) -> Any:
        """``value`` as plain JSON: jsonpickle tuples/sets become lists; other objects are refused."""
        if isinstance(value, dict):
            if "py/tuple" in value or "py/set" in value:
                return [self.plain(v, where, template, node) for v in value.get("py/tuple", value.get("py/set"))]
            if any(isinstance(k, str) and k.startswith("py/") for k in value):
                self.unsafe(where, f"{value.get('py/object', 'value')} at {'/'.join(map(str, where))}",
                            template, node)
                return None
            return {k: self.plain(v, (*where, k), template, node) for k, v in value.items()}
        if isinstance(value, list):
            return [self.plain(v, (*where, i), template, node) for i, v in enumerate(value)]
        return value

    def artifact(self, value: Any, where: tuple, template: str | None, node: str | None) -> Any:
        if isinstance(value, dict) and value.get("py/object") in _S3_TYPES:
            out = {"kind": "s3", "key": value.get("key")}
            if value.get("urn"):
                out["urn"] = value["urn"]
            return out
        return self.plain(value, where, template, node)

    # -- whole graph ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        g = self.src
        out: dict[str, Any] = {"version": GRAPH_VERSION, "name": g.get("name"), "entrypoint": g.get("entrypoint")}
        if g.get("namespace") not in (None, "argo"):
            out["namespace"] = g["namespace"]
        for key in ("labels", "annotations", "parallelism"):
            if not _empty(g.get(key)):
                out[key] = self.plain(g[key], (key,))
        if not _empty(g.get("parameters")):
            out["parameters"] = self.plain(g["parameters"], ("parameters",))
        options = {k: self.plain(g[k], (k,)) for k in ("pod_gc_strategy", "artifact_repo_key",
                                                        "image_pull_secrets", "context") if not _empty(g.get(k))}
        if options:
            out["options"] = options
        templates = g.get("templates") or {}
        converted = {}
        for name, t in templates.items():
            try:
                converted[name] = self.template(name, t)
            except (AttributeError, KeyError, TypeError, ValueError) as e:  # a malformed document
                self.issues.append(Issue("schema", f"pydflow template {name!r} is malformed ({type(e).__name__}: "
                                                   f"{e}); it is not imported", name, None, None, ("templates", name)))
        out["templates"] = converted
        for t in converted.values() if not self.issues else ():
            if t["kind"] in ("steps", "dag"):
                self.drop_default_literals(t, converted)
                self.move_slices(t, converted)
        if self.issues:
            raise GraphValidationError(self.issues, workflow=g.get("name"))
        return out

    def template(self, name: str, t: Mapping) -> dict[str, Any]:
        kind = t.get("type")
        if kind == "PythonOPTemplate":
            return self.python_template(name, t)
        if kind == "ScriptOPTemplate":
            out = self.script_template(name, t)
        else:
            out = self.super_template(name, t)
        return out

    def options(self, name: str, t: Mapping, drop: set) -> dict[str, Any]:
        opts = {}
        for k, v in t.items():
            if k in drop or _empty(v) or (k in _TEMPLATE_DEFAULTS and v == _TEMPLATE_DEFAULTS[k]):
                continue
            if v is False and k.startswith(("retry_", "timeout_")):
                continue
            opts[k] = self.plain(v, ("templates", name, k), name)
        return opts

    def python_template(self, name: str, t: Mapping) -> dict[str, Any]:
        op = t.get("op") or {}
        module = op.get("module") or "__main__"
        if module == "__mp_main__":
            module = "__main__"
        out: dict[str, Any] = {"kind": "python", "op": f"{module}:{op.get('name')}"}
        if t.get("image") is not None:
            out["image"] = t["image"]
        inputs: dict[str, dict] = {}
        outputs: dict[str, dict] = {}
        for direction, sign, dest in (("inputs", op.get("inputs") or {}, inputs),
                                      ("outputs", op.get("outputs") or {}, outputs)):
            for pname, spec in sign.items():
                self.sign_port(name, direction, pname, spec, dest)
        if inputs:
            out["inputs"] = inputs
        if outputs:
            out["outputs"] = outputs
        drop = _DROP_TEMPLATE if t.get("command") == ["python3"] else _DROP_TEMPLATE - {"command"}
        opts = self.options(name, t, drop)
        if opts:
            out["options"] = opts
        return out

    def sign_port(self, tname: str, direction: str, pname: str, spec: Any, dest: dict) -> None:
        if isinstance(spec, str):
            dest.setdefault("parameters", {})[pname] = {"type": spec}
            return
        kind = _SIGN_TYPES.get(spec.get("py/object")) if isinstance(spec, dict) else None
        if kind is None:
            self.unsafe(("templates", tname, "op", direction, pname), f"sign of {pname!r}", tname)
            return
        port: dict[str, Any] = {}
        if spec.get("type") is not None:
            port["type"] = self.plain(spec["type"], ("templates", tname, "op", direction, pname), tname)
        if kind == "artifact":
            if spec.get("optional"):
                port["optional"] = True
            if direction == "outputs" and spec.get("global_name"):
                port["global_name"] = spec["global_name"]
            dest.setdefault("artifacts", {})[pname] = port
            return
        if "default" in spec:
            port["default"] = self.plain(spec["default"], ("templates", tname, "op", direction, pname), tname)
        if spec.get("description"):
            port["description"] = spec["description"]
        if kind == "big":
            port["big"] = True
        if direction == "outputs" and spec.get("global_name"):
            port["global_name"] = spec["global_name"]
        dest.setdefault("parameters", {})[pname] = port

    def script_template(self, name: str, t: Mapping) -> dict[str, Any]:
        command = t.get("command")
        out: dict[str, Any] = {"kind": "shell" if command in _SHELLS else "script"}
        if t.get("image") is not None:
            out["image"] = t["image"]
        if command not in (None, ["sh"]):
            out["command"] = command
        out["script"] = t.get("script") or ""
        self.io(name, t, out, super_template=False)
        opts = self.options(name, t, _DROP_TEMPLATE)
        if opts:
            out["options"] = opts
        return out

    def super_template(self, name: str, t: Mapping) -> dict[str, Any]:
        steps = t.get("type") == "Steps"
        out: dict[str, Any] = {"kind": "steps" if steps else "dag"}
        output_edges: list[dict] = []
        self.io(name, t, out, super_template=True, edges=output_edges)
        if t.get("parallelism") is not None:
            out["parallelism"] = t["parallelism"]
        nodes: list[dict] = []
        edges: list[dict] = []
        if steps:
            for stage, group in enumerate(t.get("steps") or []):
                for step in group:
                    nodes.append(self.node(name, step, stage, edges))
        else:
            for task in t.get("tasks") or []:
                nodes.append(self.node(name, task, None, edges))
                self.control_edges(task, edges)
        out["nodes"] = nodes
        out["edges"] = edges + output_edges
        opts = self.options(name, t, _DROP_TEMPLATE | {"steps", "tasks", "parallelism"})
        if opts:
            out["options"] = opts
        return out

    def io(self, name: str, t: Mapping, out: dict, super_template: bool, edges: list | None = None) -> None:
        where = ("templates", name)
        inputs = t.get("inputs") or {}
        outputs = t.get("outputs") or {}
        ins: dict[str, dict] = {}
        for pname, p in (inputs.get("parameters") or {}).items():
            port = self.port(p, ("type", "path", "description"), (*where, "inputs", pname), name)
            if "value" in p:
                port["default"] = self.plain(p["value"], (*where, "inputs", pname), name)
            if p.get("save_as_artifact"):
                port["big"] = True
            ins.setdefault("parameters", {})[pname] = port
        for aname, a in (inputs.get("artifacts") or {}).items():
            port = self.port(a, ("type", "path", "optional", "description"), (*where, "inputs", aname), name)
            if a.get("source") is not None:
                port["default"] = self.artifact(a["source"], (*where, "inputs", aname), name, None)
            extra = {k: a[k] for k in ("mode", "sub_path", "save_as_parameter") if a.get(k) not in (None, False, "")}
            if a.get("archive") not in (None, "default"):
                extra["archive"] = a["archive"]
            if extra:
                port["options"] = self.plain(extra, (*where, "inputs", aname), name)
            ins.setdefault("artifacts", {})[aname] = port
        outs: dict[str, dict] = {}
        for pname, p in (outputs.get("parameters") or {}).items():
            port = self.port(p, ("type", "description", "value_from_path", "value_from_expression", "global_name"),
                             (*where, "outputs", pname), name)
            for k in ("default", "value"):
                if k in p:
                    port[k] = self.plain(p[k], (*where, "outputs", pname), name)
            if p.get("save_as_artifact"):
                port["big"] = True
            if p.get("save_both"):
                port["options"] = {"save_both": True}
            if super_template and edges is not None and parse_ref(p.get("value_from_parameter")):
                self.edge_from(p["value_from_parameter"], PSEUDO_OUTPUTS, pname, "parameter", edges)
            outs.setdefault("parameters", {})[pname] = port
        for aname, a in (outputs.get("artifacts") or {}).items():
            port = self.port(a, ("type", "path", "optional", "from_expression", "global_name", "description"),
                             (*where, "outputs", aname), name)
            if a.get("archive") not in (None, "tar"):
                port["archive"] = a["archive"]
            if not _empty(a.get("save")):
                port["options"] = {"save": [self.artifact(s, (*where, "outputs", aname, "save"), name, None)
                                            for s in a["save"]]}
            if super_template and edges is not None and parse_ref(a.get("_from")):
                self.edge_from(a["_from"], PSEUDO_OUTPUTS, aname, "artifact", edges)
            outs.setdefault("artifacts", {})[aname] = port
        if ins:
            out["inputs"] = ins
        if outs:
            out["outputs"] = outs

    def port(self, spec: Mapping, keys: tuple, where: tuple, tname: str) -> dict[str, Any]:
        port = {}
        for k in keys:
            v = spec.get(k)
            if v is None or v is False:
                continue
            port[k] = self.plain(v, where, tname)
        return port

    @staticmethod
    def edge_from(ref_text: str, target: str, target_port: str | None, kind: str, edges: list,
                  option: str | None = None) -> bool:
        ref = parse_ref(ref_text)
        if ref is None:
            return False
        source = {"node": PSEUDO_INPUTS if ref.node is None else ref.node, "port": ref.port}
        dest: dict[str, Any] = {"node": target}
        if option is not None:
            dest["option"] = option
        else:
            dest["port"] = target_port
        edges.append({"kind": "parameter" if ref.kind == "parameters" else "artifact", "source": source,
                      "target": dest})
        return True

    def node(self, tname: str, step: Mapping, stage: int | None, edges: list) -> dict[str, Any]:
        name = step.get("name")
        where = ("templates", tname, "nodes", name)
        out: dict[str, Any] = {"name": name, "template": step.get("template")}
        if stage is not None:
            out["stage"] = stage
        params = {}
        for pname, value in (step.get("parameters") or {}).items():
            if not (isinstance(value, str) and self.edge_from(value, name, pname, "parameter", edges)):
                params[pname] = self.plain(value, (*where, "parameters", pname), tname, name)
        arts = {}
        for aname, value in (step.get("artifacts") or {}).items():
            if value is None or (isinstance(value, str) and self.edge_from(value, name, aname, "artifact", edges)):
                continue
            arts[aname] = self.artifact(value, (*where, "artifacts", aname), tname, name)
        if params:
            out["parameters"] = params
        if arts:
            out["artifacts"] = arts
        wp = step.get("with_param")
        if wp is not None and not (isinstance(wp, str) and self.edge_from(wp, name, None, "parameter", edges,
                                                                           option="with_param")):
            out["with_param"] = self.plain(wp, (*where, "with_param"), tname, name)
        seq = step.get("with_sequence")
        if isinstance(seq, dict):
            out["with_sequence"] = {k: v for k, v in self.plain(seq, (*where, "with_sequence"), tname, name).items()
                                    if v is not None}
        for key in _STEP_KEYS:
            value = step.get(key)
            if value is not None and value is not False:
                out[key] = self.plain(value, (*where, key), tname, name)
        slices = step.get("slices")
        if isinstance(slices, dict):
            fields = {k: v for k, v in slices.items() if k in _SLICES_DEFAULTS and not _same(v, _SLICES_DEFAULTS[k])}
            out["slices"] = self.plain(fields, (*where, "slices"), tname, name)
        if step.get("executor") is not None:
            self.unsafe((*where, "executor"), f"executor of step {name!r}", tname, name)
        opts = {k: self.plain(v, (*where, k), tname, name) for k, v in step.items()
                if k not in _DROP_STEP and not _empty(v)}
        if step.get("util_image") not in (None, _PYDFLOW_UTIL_IMAGE):
            opts["util_image"] = step["util_image"]
        if opts:
            out["options"] = opts
        return out

    @staticmethod
    def control_edges(task: Mapping, edges: list) -> None:
        """Control edges for the dependencies pydflow lists that no data edge into the task covers."""
        name = task.get("name")
        fed = {e["source"]["node"] for e in edges if e["target"]["node"] == name}
        for dep in task.get("dependencies") or []:
            if dep not in fed:
                edges.append({"kind": "control", "source": {"node": dep}, "target": {"node": name}})
                fed.add(dep)

    @staticmethod
    def move_slices(t: dict, templates: dict) -> None:
        """pydflow writes a Python OP template's slices on its steps; they belong to the template."""
        for node in t["nodes"]:
            target = templates.get(node["template"]) if isinstance(node["template"], str) else None
            if "slices" in node and target is not None and target["kind"] == "python" \
                    and "slices" not in target.get("options", {}):
                target.setdefault("options", {})["slices"] = node.pop("slices")

    @staticmethod
    def drop_default_literals(t: dict, templates: Mapping) -> None:
        """pydflow writes every input's value on each step, defaults included; keep only real arguments."""
        for node in t["nodes"]:
            target = templates.get(node["template"]) if isinstance(node["template"], str) else None
            params = node.get("parameters")
            if not params or target is None:
                continue
            declared = (target.get("inputs") or {}).get("parameters") or {}
            for pname in list(params):
                if "default" in declared.get(pname, {}) and _same(params[pname], declared[pname]["default"]):
                    del params[pname]
            if not params:
                del node["parameters"]


@bulk
def from_pydflow(graph: Mapping) -> dict[str, Any]:
    """Convert a pydflow graph (``dflow.Workflow.to_graph()`` output) into a graph of format version 1.

    Raises :class:`GraphValidationError` listing every ``unsafe-value`` found (pickled objects other
    than S3 artifacts, OP signs and slices).
    """
    if not is_pydflow_graph(graph):
        raise GraphValidationError([Issue("schema", "not a pydflow graph: expected 'templates' whose entries "
                                                    "have a 'type' among " + ", ".join(sorted(PYDFLOW_TEMPLATE_TYPES)))],
                                   workflow=graph.get("name") if isinstance(graph, dict) else None)
    return _Importer(graph).run()
