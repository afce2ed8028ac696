"""Code generation: a graph document → the Python a person would write to build that workflow.

``gen_code(graph)`` returns a module that imports its OPs, declares the templates
(``PythonOPTemplate(MyOP, image=…)``, ``ShellOPTemplate(...)`` with their inputs/outputs), the
steps/tasks wired by attribute (``step_a.outputs.parameters["x"]``) and the ``Workflow``; running it
rebuilds a workflow whose ``to_graph()`` equals the graph.

A graph is untrusted data. The graph is validated first (an invalid one raises ``GraphValidationError``:
option keys must be identifiers the target constructor takes, names must follow the naming rules, OP
paths must be dotted identifiers). Then every piece of text that comes from the graph reaches the code
through one function, :func:`emit`, which can only return a checked Python identifier (ASCII, not a
keyword, not a dunder), a dotted module path of such identifiers, or the literal of plain data (``repr`` of
str/int/float/bool/None and lists/tuples/dicts of them). Variable names are derived from graph names by
reducing them to ``[a-z0-9_]`` and still pass through ``emit``. Everything else in the output is fixed text
of this module (punctuation, the model's class names, ``.outputs.parameters``…). So a hostile graph
cannot inject code: at worst it is refused.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
import typing
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from .graph.build import prepare_graph
from .graph.bulk import bulk
from .graph.options import IDENTIFIER_RE
from .graph.view import PSEUDO_INPUTS, PSEUDO_OUTPUTS, construction_order
from .io import type_to_str

LINE_LENGTH = 100
INDENT = "    "
_KIND_CLASS = {"shell": "ShellOPTemplate", "script": "ScriptOPTemplate", "container": "ContainerOPTemplate"}
_NODE_FIELDS = ("when", "key", "continue_on_failed", "continue_on_error", "continue_on_num_success",
                "continue_on_success_ratio", "parallelism")
_TYPING_NAMES = ("List", "Dict", "Set", "Tuple", "Optional", "Union", "Any")
_PORT_CLASSES = {("inputs", "parameters"): "InputParameter", ("inputs", "artifacts"): "InputArtifact",
                 ("outputs", "parameters"): "OutputParameter", ("outputs", "artifacts"): "OutputArtifact"}
#: a literal artifact's kind → (class, the graph's field, the constructor's keyword for it)
_ARTIFACT_CLASSES = {"s3": ("S3Artifact", "key", "key"), "local": ("LocalArtifact", "path", "local_path"),
                     "http": ("HTTPArtifact", "url", "url")}
_COLLECTION = {"parameter": "parameters", "artifact": "artifacts"}


class UnsafeCodeError(ValueError):
    """Text from a graph that is neither a safe identifier nor plain data (``validate`` refuses such
    graphs first; this is the generator's own last line)."""


_IDENT = IDENTIFIER_RE  # the graph's identifier rule (dflow_lab/graph/options.py)


def emit(value: Any, kind: str = "literal") -> str:
    """The one door from graph data into generated code.

    ``kind="identifier"``: ``value`` itself, when it is an ASCII identifier that is not a keyword and not
    a dunder; ``kind="module"``: a dotted path of such identifiers (or exactly ``__main__``);
    ``kind="literal"``: the Python literal of ``value``, which must be plain data — ``str``, ``int``,
    finite ``float``, ``bool``, ``None``, or a list/tuple/dict (``str`` keys) of those. Anything else
    raises :class:`UnsafeCodeError`."""
    if kind == "identifier":
        if isinstance(value, str) and _IDENT.match(value) and not keyword.iskeyword(value) \
                and not value.startswith("__"):
            return value
        raise UnsafeCodeError(f"{value!r} is not a safe Python identifier")
    if kind == "module":
        if value == "__main__" or (isinstance(value, str) and all(emit(p, "identifier") for p in value.split("."))):
            return value
        raise UnsafeCodeError(f"{value!r} is not a module path")
    if kind != "literal":
        raise ValueError(f"unknown kind {kind!r}")
    if isinstance(value, str):
        r = repr(value)
        return r if r[0] == '"' or '"' in value else '"' + r[1:-1] + '"'  # double quotes when no escape is needed
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise UnsafeCodeError(f"{value!r} is not a JSON value")
        return repr(float(value))
    if isinstance(value, (list, tuple)):
        items = [emit(v) for v in value]
        if isinstance(value, tuple):
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        return "[" + ", ".join(items) + "]"
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise UnsafeCodeError("a graph's mappings have text keys")
        return "{" + ", ".join(emit(k) + ": " + emit(v) for k, v in value.items()) + "}"
    raise UnsafeCodeError(f"a graph holds JSON values, not {type(value).__name__}")


def _dotted(*parts: str) -> str:
    """``a.b.c`` from identifiers (each through :func:`emit`)."""
    return ".".join(emit(p, "identifier") for p in parts)


# -- a tiny code model and its formatter ------------------------------------------------------------
class Code:
    """An expression: rendered on one line when it fits, else one argument per line."""

    def flat(self) -> str:
        raise NotImplementedError

    def render(self, indent: str, width: int) -> str:
        return self.flat()


class Raw(Code):
    """Text this module composed from :func:`emit` results and its own fixed tokens."""

    def __init__(self, text: str) -> None:
        self.text = text

    def flat(self) -> str:
        return self.text


def Name(ident: str) -> Raw:  # noqa: N802 - a Code constructor
    """A (checked) identifier, or a dotted name of identifiers."""
    return Raw(_dotted(*ident.split(".")))


def Lit(value: Any) -> Raw:  # noqa: N802 - a Code constructor
    """A scalar literal."""
    return Raw(emit(value))


class Call(Code):
    """``callee(args, key=value…)``: the callee and every keyword go through :func:`emit` as identifiers."""

    def __init__(self, callee: str, args: Optional[list] = None, kwargs: Optional[list] = None) -> None:
        self.callee = _dotted(*callee.split("."))
        self.args: list[Code] = list(args or [])
        self.kwargs: list[tuple[str, Code]] = [(emit(k, "identifier"), v) for k, v in kwargs or []]

    def _parts(self) -> list[tuple[str, Code]]:
        return [("", a) for a in self.args] + [(k + "=", v) for k, v in self.kwargs]

    def flat(self) -> str:
        return f"{self.callee}(" + ", ".join(k + v.flat() for k, v in self._parts()) + ")"

    def render(self, indent: str, width: int) -> str:
        text = self.flat()
        if len(indent) + len(text) <= width or not self._parts():
            return text
        inner = indent + INDENT
        lines = [f"{inner}{k}{v.render(inner, width)}," for k, v in self._parts()]
        return f"{self.callee}(\n" + "\n".join(lines) + f"\n{indent})"


class Container(Code):
    """A dict (``items`` of key/value code), a list or a tuple (``items`` of values)."""

    def __init__(self, items: list, is_dict: bool, brackets: str = "") -> None:
        self.items = items
        self.is_dict = is_dict
        self.brackets = brackets or ("{}" if is_dict else "[]")

    def _item(self, item: Any, indent: str, width: int, flat: bool) -> str:
        if self.is_dict:
            k, v = item
            return k.flat() + ": " + (v.flat() if flat else v.render(indent, width))
        return item.flat() if flat else item.render(indent, width)

    def flat(self) -> str:
        comma = "," if self.brackets == "()" and len(self.items) == 1 else ""
        return (self.brackets[0] + ", ".join(self._item(i, "", 0, True) for i in self.items) + comma
                + self.brackets[1])

    def render(self, indent: str, width: int) -> str:
        text = self.flat()
        if len(indent) + len(text) <= width or not self.items:
            return text
        inner = indent + INDENT
        lines = [f"{inner}{self._item(i, inner, width, False)}," for i in self.items]
        return self.brackets[0] + "\n" + "\n".join(lines) + f"\n{indent}" + self.brackets[1]


def py_str(text: str) -> str:
    """A string literal (:func:`emit`)."""
    return emit(str(text))


def literal(value: Any) -> Code:
    """A JSON value as a Python literal laid out for line width; every leaf and key is :func:`emit`'s."""
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise UnsafeCodeError("a graph's mappings have text keys")
        return Container([(Lit(k), literal(v)) for k, v in value.items()], True)
    if isinstance(value, tuple):
        return Container([literal(v) for v in value], False, "()")
    if isinstance(value, list):
        return Container([literal(v) for v in value], False)
    return Lit(value)


def _str_key_dict(items: list[tuple[str, Code]]) -> Container:
    return Container([(Lit(k), v) for k, v in items], True)


# -- names -------------------------------------------------------------------------------------------
class _Names:
    """Python identifiers for graph names: ``[A-Za-z0-9_]`` only, unique, never shadowing."""

    def __init__(self) -> None:
        self.taken = set(dir(builtins)) | set(keyword.kwlist) | {"wf"}

    def reserve(self, name: str) -> None:
        self.taken.add(name)

    def make(self, name: str, suffix: str = "", clash_suffix: str = "") -> str:
        """An identifier for ``name`` (+ ``suffix``); ``clash_suffix`` is tried before numbering."""
        base = re.sub(r"[^A-Za-z0-9_]", "_", str(name)).strip("_").lower() or "x"
        if base[0].isdigit():
            base = "t_" + base
        base += suffix
        if clash_suffix and base in self.taken:
            base += clash_suffix
        ident, i = base, 2
        while ident in self.taken or keyword.iskeyword(ident):
            ident, i = f"{base}_{i}", i + 1
        self.taken.add(ident)
        return emit(ident, "identifier")


# -- the generator -----------------------------------------------------------------------------------
class CodeGenerator:
    """Generates the Python of a graph; ``generate()`` returns it (``gen_code`` is the shortcut)."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.imports: dict[str, set[str]] = {}
        self.code = ""

    # imports ------------------------------------------------------------------------------------
    def use(self, module: str, name: str) -> str:
        self.imports.setdefault(module, set()).add(name)
        return name

    def _import_block(self, op_modules: set[str]) -> str:
        stdlib = sorted(m for m in self.imports if m in ("typing", "pathlib"))
        first = sorted(m for m in self.imports if m in op_modules)
        third = sorted(m for m in self.imports if m not in stdlib and m not in first)
        blocks = []
        for section in (stdlib, third, first):
            if section:
                blocks.append("\n".join(self._import_line(m) for m in section))
        return "\n\n".join(blocks)

    def _import_line(self, module: str) -> str:
        def order(n: str) -> tuple:
            bare = n.split(" as ")[0]
            return (0 if bare.isupper() and len(bare) > 1 else 1 if bare[:1].isupper() else 2, bare)

        names = sorted(self.imports[module], key=order)
        names = [" as ".join(emit(part, "identifier") for part in n.split(" as ")) for n in names]
        module = emit(module, "module")
        line = f"from {module} import {', '.join(names)}"
        if len(line) <= 110:
            return line
        return f"from {module} import (\n" + "".join(f"{INDENT}{n},\n" for n in names) + ")"

    # types ----------------------------------------------------------------------------------------
    def type_code(self, name: Optional[str]) -> Code:
        """A type as code: builtins, ``Path`` and ``typing`` generics by name when they print back to the
        same string; anything else stays a string literal (dflow-lab keeps unknown types as names)."""
        built = _safe_type(name) if isinstance(name, str) else None
        if built is not None:
            obj, expr, needs = built
            if type_to_str(obj) == name:
                for module, n in needs:
                    self.use(module, n)
                for token in re.split(r"[\[\], ]+", expr):  # whitelisted names only (see _safe_type)
                    if token:
                        emit(token, "identifier")
                return Raw(expr)
        return literal(name)

    # ports ----------------------------------------------------------------------------------------
    def port(self, direction: str, kind: str, spec: Mapping) -> Code:
        cls = self.use("dflow_lab", _PORT_CLASSES[(direction, kind)])
        kw: list[tuple[str, Code]] = []
        spec = dict(spec)
        if spec.get("type") is not None:
            kw.append(("type", self.type_code(spec["type"])))
        rename = {"default": "value" if (direction, kind) == ("inputs", "parameters") else "default",
                  "big": "save_as_artifact"}
        for key, value in spec.items():
            if key in ("type", "options"):
                continue
            if key == "default" and kind == "artifacts":
                kw.append(("source", self.artifact(value)))
                continue
            kw.append((rename.get(key, key), literal(value)))
        for key, value in (spec.get("options") or {}).items():
            kw.append((key, Container([self.artifact(v) for v in value], False) if key == "save" else literal(value)))
        return Call(cls, kwargs=kw)

    def io(self, direction: str, spec: Mapping) -> Optional[Code]:
        parts = []
        for kind in ("parameters", "artifacts"):
            ports = (spec.get(direction) or {}).get(kind) or {}
            if ports:
                parts.append((kind, _str_key_dict([(n, self.port(direction, kind, p)) for n, p in ports.items()])))
        if not parts:
            return None
        return Call(self.use("dflow_lab", "Inputs" if direction == "inputs" else "Outputs"), kwargs=parts)

    def artifact(self, spec: Mapping) -> Code:
        cls, field, keyword_ = _ARTIFACT_CLASSES[spec["kind"]]
        kw = [(keyword_, literal(spec[field]))]
        if spec.get("urn"):
            kw.append(("urn", literal(spec["urn"])))
        return Call(self.use("dflow_lab", cls), kwargs=kw)

    # templates ------------------------------------------------------------------------------------
    def op_class(self, path: str) -> str:
        """The local name of an OP ``module:QualName``, imported once."""
        module, _, qualname = path.partition(":")
        head, _, rest = qualname.partition(".")
        if (module, head) not in self.op_names:
            local = head if head not in self.names.taken else self.names.make(head, "_op")
            self.names.reserve(local)
            self.use(module, head if local == head else f"{head} as {local}")
            self.op_modules.add(module)
            self.op_names[(module, head)] = local
        return self.op_names[(module, head)] + ("." + rest if rest else "")

    def leaf(self, var: str, name: str, spec: Mapping) -> list[str]:
        opts = dict(spec.get("options") or {})
        if spec["kind"] == "python":
            args: list[Code] = [Name(self.op_class(spec["op"]))]
            kw: list[tuple[str, Code]] = []
            if spec.get("image") is not None:
                kw.append(("image", literal(spec["image"])))
            for key, value in opts.items():
                kw.append((key, self.slices(value) if key == "slices" else literal(value)))
            call = Call(self.use("dflow_lab.python", "PythonOPTemplate"), args, kw)
            return [f"{var} = {call.render('', LINE_LENGTH)}", f"{var}.name = {py_str(name)}"]
        kw = [("name", literal(name))]
        cls = _KIND_CLASS[spec["kind"]]
        python_script = spec["kind"] == "script" and spec.get("command") == ["python3"]
        if python_script:  # the command PythonScriptOPTemplate sets itself
            cls = "PythonScriptOPTemplate"
        for key in ("image", "command", "args", "script"):
            if key in spec and not (python_script and key == "command"):
                kw.append((key, literal(spec[key])))
        for direction in ("inputs", "outputs"):
            io = self.io(direction, spec)
            if io is not None:
                kw.append((direction, io))
        kw.extend((k, literal(v)) for k, v in opts.items())
        call = Call(self.use("dflow_lab", cls), kwargs=kw)
        return [f"{var} = {call.render('', LINE_LENGTH)}"]

    def slices(self, spec: Mapping) -> Code:
        return Call(self.use("dflow_lab.python", "Slices"), kwargs=[(k, literal(v)) for k, v in spec.items()])

    def super_decl(self, var: str, name: str, spec: Mapping) -> list[str]:
        kw: list[tuple[str, Code]] = [("name", literal(name))]
        for direction in ("inputs", "outputs"):
            io = self.io(direction, spec)
            if io is not None:
                kw.append((direction, io))
        if spec.get("parallelism") is not None:
            kw.append(("parallelism", literal(spec["parallelism"])))
        kw.extend((k, literal(v)) for k, v in (spec.get("options") or {}).items())
        call = Call(self.use("dflow_lab", "Steps" if spec["kind"] == "steps" else "DAG"), kwargs=kw)
        return [f"{var} = {call.render('', LINE_LENGTH)}"]

    def super_body(self, var: str, name: str, spec: Mapping) -> list[str]:
        steps = spec["kind"] == "steps"
        nodes = list(spec.get("nodes") or [])
        node_vars = {n["name"]: self.names.make(n["name"], "_step" if steps else "_task") for n in nodes}
        feeds: dict[str, list] = {}
        outputs = []
        for edge in spec.get("edges") or ():
            if edge["target"]["node"] == PSEUDO_OUTPUTS:
                outputs.append(edge)
            else:
                feeds.setdefault(edge["target"]["node"], []).append(edge)

        def source(src: Mapping, kind: str) -> Code:
            owner = var if src["node"] == PSEUDO_INPUTS else node_vars[src["node"]]
            side = "inputs" if src["node"] == PSEUDO_INPUTS else "outputs"
            return Raw(f"{emit(owner, 'identifier')}.{side}.{_COLLECTION[kind]}[{emit(src['port'])}]")

        lines = [f"# {'steps' if steps else 'tasks'} of {py_str(name)}"]
        for node in construction_order(spec):
            call = self.node(node, feeds.get(node["name"], []), source, node_vars, steps)
            lines.append(f"{node_vars[node['name']]} = {call.render('', LINE_LENGTH)}")
        if steps:
            stages: dict[int, list[str]] = {}
            for node in nodes:
                stages.setdefault(node["stage"], []).append(node_vars[node["name"]])
            for stage in sorted(stages):
                group = stages[stage]
                lines.append(f"{var}.add({group[0] if len(group) == 1 else '[' + ', '.join(group) + ']'})")
        elif nodes:
            group = [node_vars[n["name"]] for n in nodes]
            add = Call(f"{var}.add", [Container([Name(g) for g in group], False)]) if len(group) > 1 \
                else Call(f"{var}.add", [Name(group[0])])
            lines.append(add.render("", LINE_LENGTH))
        for edge in outputs:
            kind = edge["kind"]
            attr = "value_from_parameter" if kind == "parameter" else "_from"
            lines.append(f"{emit(var, 'identifier')}.outputs.{_COLLECTION[kind]}[{emit(edge['target']['port'])}].{attr} = "
                         f"{source(edge['source'], kind).flat()}")
        return lines

    def node(self, node: Mapping, feeds: list, source: Any, node_vars: dict, steps: bool) -> Code:
        params: list[tuple[str, Code]] = [(k, literal(v)) for k, v in (node.get("parameters") or {}).items()]
        arts: list[tuple[str, Code]] = [(k, self.artifact(v)) for k, v in (node.get("artifacts") or {}).items()]
        kw: list[tuple[str, Code]] = [("name", literal(node["name"])),
                                      ("template", Name(self.template_vars[node["template"]]))]
        deps: list[Code] = []
        with_param: Optional[Code] = None
        for edge in feeds:
            kind, target = edge["kind"], edge["target"]
            if kind == "control":
                deps.append(Name(node_vars[edge["source"]["node"]]))
            elif target.get("option") == "with_param":
                with_param = source(edge["source"], kind)
            elif kind == "parameter":
                params.append((target["port"], source(edge["source"], kind)))
            else:
                arts.append((target["port"], source(edge["source"], kind)))
        inputs = self.template_specs[node["template"]].get("inputs") or {}
        declared = inputs.get("parameters") or {}
        given = node.get("parameters") or {}
        params = [(k, literal(tuple(given[k])) if isinstance(given.get(k), list) and _tuple_typed(declared.get(k))
                   else v) for k, v in params]
        if params:
            kw.append(("parameters", _str_key_dict(_declared_order(params, inputs.get("parameters") or {}))))
        if arts:
            kw.append(("artifacts", _str_key_dict(_declared_order(arts, inputs.get("artifacts") or {}))))
        if node.get("with_param") is not None:
            with_param = literal(node["with_param"])
        if with_param is not None:
            kw.append(("with_param", with_param))
        if node.get("with_sequence") is not None:
            seq = node["with_sequence"]
            kw.append(("with_sequence", Call(self.use("dflow_lab", "argo_sequence"),
                                             kwargs=[(k, literal(v)) for k, v in seq.items()])))
        kw.extend((k, literal(node[k])) for k in _NODE_FIELDS if k in node)
        if node.get("slices") is not None:
            kw.append(("slices", self.slices(node["slices"])))
        opts = dict(node.get("options") or {})
        deps.extend(literal(d) for d in opts.pop("dependencies", []))
        if deps:
            kw.append(("dependencies", Container(deps, False)))
        kw.extend((k, literal(v)) for k, v in opts.items())
        return Call(self.use("dflow_lab", "Step" if steps else "Task"), kwargs=kw)

    # the module ------------------------------------------------------------------------------------
    @bulk
    def generate(self) -> str:
        """The Python source of the graph's workflow (raises ``GraphValidationError`` on a bad graph)."""
        graph = prepare_graph(self.graph)
        self.imports = {}
        self.names = _Names()
        self.op_modules: set[str] = set()
        self.op_names: dict[tuple[str, str], str] = {}
        for n in ("Workflow", "Steps", "DAG", "Step", "Task", "Inputs", "Outputs", "InputParameter",
                  "InputArtifact", "OutputParameter", "OutputArtifact", "ShellOPTemplate", "ScriptOPTemplate",
                  "ContainerOPTemplate", "PythonScriptOPTemplate", "PythonOPTemplate", "Slices", "argo_sequence", "S3Artifact",
                  "LocalArtifact", "HTTPArtifact", "Path", *_TYPING_NAMES):
            self.names.reserve(n)
        templates: Mapping = graph["templates"]
        self.template_specs = templates
        for spec in templates.values():  # OP classes keep their own names; templates give way
            if spec["kind"] == "python":
                self.op_class(spec["op"])
        self.template_vars = {name: self.names.make(name, clash_suffix="_template") for name in templates}
        body: list[str] = []
        for name, spec in templates.items():
            if spec["kind"] not in ("steps", "dag"):
                body.append("\n".join(self.leaf(self.template_vars[name], name, spec)))
        for name, spec in templates.items():
            if spec["kind"] in ("steps", "dag"):
                body.append("\n".join(self.super_decl(self.template_vars[name], name, spec)))
        for name, spec in templates.items():
            if spec["kind"] in ("steps", "dag"):
                body.append("\n".join(self.super_body(self.template_vars[name], name, spec)))
        body.append(self.workflow(graph))
        header = f"# Workflow {py_str(graph['name'])}, generated from its graph by dflow_lab.gen_code\n"
        self.code = header + self._import_block(self.op_modules) + "\n\n" + "\n\n".join(body) + "\n"
        return self.code

    def workflow(self, graph: Mapping) -> str:
        entry = graph["entrypoint"]
        kind = graph["templates"][entry]["kind"]
        kw: list[tuple[str, Code]] = [("name", literal(graph["name"])),
                                      ("steps" if kind == "steps" else "dag", Name(self.template_vars[entry]))]
        for key in ("namespace", "labels", "annotations", "parallelism", "parameters"):
            if key in graph:
                kw.append((key, literal(graph[key])))
        kw.extend((k, literal(v)) for k, v in (graph.get("options") or {}).items())
        lines = ["wf = " + Call(self.use("dflow_lab", "Workflow"), kwargs=kw).render("", LINE_LENGTH)]
        used = {entry} | {n["template"] for t in graph["templates"].values() for n in t.get("nodes") or ()}
        extra = [Name(self.template_vars[t]) for t in graph["templates"] if t not in used]
        if extra:  # templates no step runs: kept with the workflow, as Workflow.from_graph keeps them
            lines.append("wf.extra_templates = " + Container(extra, False).render("", LINE_LENGTH))
        if graph.get("layout"):
            lines.append("# canvas layout (node positions, groups, comments): kept for the editor")
            lines.append("wf.graph_layout = " + literal(graph["layout"]).render("", LINE_LENGTH))
        return "\n".join(lines)


def _tuple_typed(port: Optional[Mapping]) -> bool:
    base = str((port or {}).get("type") or "").removeprefix("typing.").split("[")[0]
    return base in ("Tuple", "tuple")


def _declared_order(items: list, declared: Mapping) -> list:
    """Arguments in the order the template declares its inputs (as the model emits them)."""
    rank = {name: i for i, name in enumerate(declared)}
    return sorted(items, key=lambda kv: rank.get(kv[0], len(rank)))


_SAFE_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(\[.*\])?\Z")


def _safe_type(text: str) -> Optional[tuple[Any, str, set]]:
    """``(type object, expression, imports)`` for a type name built only from builtins, ``pathlib.Path``
    and ``typing`` generics; ``None`` for anything else (never evaluated: parsed)."""
    text = text.strip()
    if not _SAFE_TYPE.match(text):
        return None
    head, _, rest = text.partition("[")
    if head in ("int", "float", "str", "bool", "dict", "list", "tuple", "set", "bytes"):
        base: Any = getattr(builtins, head)
        expr, needs = head, set()
    elif head == "pathlib.Path":
        base, expr, needs = Path, "Path", {("pathlib", "Path")}
    elif head.startswith("typing.") and head[7:] in _TYPING_NAMES:
        base, expr, needs = getattr(typing, head[7:]), head[7:], {("typing", head[7:])}
    else:
        return None
    if not rest:
        return base, expr, needs
    args = []
    depth, cur = 0, ""
    for ch in rest[:-1]:
        if ch == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
            continue
        depth += (ch == "[") - (ch == "]")
        cur += ch
    args.append(cur.strip())
    built = [_safe_type(a) for a in args]
    if any(b is None for b in built) or not head.startswith("typing."):
        return None
    objs = tuple(b[0] for b in built)
    try:
        obj = base[objs if len(objs) > 1 else objs[0]]
    except TypeError:
        return None
    for b in built:
        needs |= b[2]
    return obj, f"{expr}[{', '.join(b[1] for b in built)}]", needs


def gen_code(graph: Union[Mapping, Any]) -> str:
    """The Python source that builds the workflow of ``graph`` (a graph dict, or a Workflow)."""
    if hasattr(graph, "to_graph"):
        graph = graph.to_graph()
    return CodeGenerator(graph).generate()
