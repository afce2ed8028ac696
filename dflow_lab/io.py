"""Inputs and outputs of OP templates and steps (``dflow.io``).

An input/output object is also a reference: ``str(step.outputs.parameters["n"])`` is the Argo tag
``{{steps.step-a.outputs.parameters.n}}`` and ``.expr`` its expr-lang form, so values can be wired
from one step to another and combined into expressions (``if_expression``, comparisons, arithmetic).
"""

from __future__ import annotations

import json
import re
from collections import UserDict
from copy import copy
from typing import Any, Dict, List, Optional, Union

import jsonpickle

from .common import S3Artifact
from .errors import CapabilityNotAvailable, WorkflowTypeError, WorkflowValueError
from .names import randstr

PARAM_NAME_RE = re.compile(r"^[-a-zA-Z0-9_]+\Z")
PARAM_NAME_RULE = "a parameter/artifact name consists of alphanumerics, '-' and '_'"
NOT_ALLOWED_INPUT_ARTIFACT_PATHS = ("/", "/tmp")


def type_to_str(type: Any) -> str:
    """The name dflow records for a type: ``int``, ``pathlib.Path``, ``typing.List[int]``…"""
    if getattr(type, "__module__", None) == "builtins" and hasattr(type, "__name__"):
        return type.__name__
    if hasattr(type, "__module__") and hasattr(type, "__qualname__") and not hasattr(type, "__origin__"):
        return f"{type.__module__}.{type.__qualname__}"
    return str(type)


_BUILTIN_TYPES = {t.__name__: t for t in (int, float, str, bool, list, dict, tuple, bytes, set)}


def str_to_type(s: Optional[str]) -> Any:
    """Inverse of :func:`type_to_str` for builtin types; other names are kept as strings."""
    if s is None:
        return None
    return _BUILTIN_TYPES.get(s, s)


def type_description(type: Any, description: Optional[str] = None) -> Optional[str]:
    """The ``description`` field carrying a parameter's type (see docs/internals.md)."""
    if type is None and description is None:
        return None
    d: Dict[str, Any] = {}
    if type is not None:
        d["type"] = type_to_str(type)
    if description is not None:
        d["description"] = description
    return json.dumps(d)


def parse_type_description(text: Optional[str]) -> tuple:
    """``(type, description)`` from a compiled parameter's ``description`` field."""
    if not text:
        return None, None
    try:
        d = json.loads(text)
    except ValueError:
        return None, text
    if not isinstance(d, dict):
        return None, text
    return str_to_type(d.get("type")), d.get("description")


class ObjectDict(UserDict):
    """A dict whose keys are also attributes."""

    def __getattr__(self, key):
        if key == "data":
            raise AttributeError(key)
        try:
            return self.data[key]
        except KeyError:
            raise AttributeError(key) from None


def to_expr(var: Any) -> str:
    """The expr-lang form of a value: an ArgoVar's expression, else a literal."""
    if isinstance(var, ArgoVar):
        return var.expr
    if isinstance(var, str):
        return json.dumps(var)
    if isinstance(var, bool):
        return "true" if var else "false"
    if var is None:
        return "nil"
    if isinstance(var, (int, float)):
        return repr(var)
    return "sprig.fromJson(%s)" % json.dumps(json.dumps(var))


def _literal(other: Any) -> str:
    if isinstance(other, ArgoVar):
        return other.expr
    if isinstance(other, str):
        return json.dumps(other)
    return json.dumps(json.dumps(other))


class ArgoVar:
    """A value known only when the workflow runs, written as an Argo expression."""

    is_str = True

    def __init__(self, expr: Optional[str] = None, is_str: bool = True) -> None:
        self.expr = expr
        self.is_str = is_str

    def __repr__(self) -> str:
        return "{{=%s}}" % self.expr

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __hash__(self) -> int:
        return id(self)

    def __getitem__(self, i: Union[str, int]) -> ArgoVar:
        if isinstance(i, str):
            return ArgoVar("jsonpath(%s, '$')[%s]" % (self.expr, json.dumps(i)), is_str=False)
        return ArgoVar("jsonpath(%s, '$')[%d]" % (self.expr, i), is_str=False)

    def __iter__(self):
        raise TypeError("an Argo value is not iterable when the workflow is built; use with_param")

    def _cmp(self, op: str, other: Any, numeric: bool) -> ArgoVar:
        if numeric:
            rhs = "asFloat(%s)" % other.expr if isinstance(other, ArgoVar) else to_expr(other)
            return ArgoVar("asFloat(%s) %s %s" % (self.expr, op, rhs))
        return ArgoVar("%s %s %s" % (self.expr, op, _literal(other)))

    def __eq__(self, other: Any) -> ArgoVar:  # type: ignore[override]
        return self._cmp("==", other, False)

    def __ne__(self, other: Any) -> ArgoVar:  # type: ignore[override]
        return self._cmp("!=", other, False)

    def __lt__(self, other: Any) -> ArgoVar:
        return self._cmp("<", other, True)

    def __le__(self, other: Any) -> ArgoVar:
        return self._cmp("<=", other, True)

    def __gt__(self, other: Any) -> ArgoVar:
        return self._cmp(">", other, True)

    def __ge__(self, other: Any) -> ArgoVar:
        return self._cmp(">=", other, True)

    def __add__(self, other: Any) -> Any:
        if isinstance(other, str):
            return str(self) + other
        return self._cmp("+", other, True)

    def __radd__(self, other: Any) -> Any:
        if isinstance(other, str):
            return other + str(self)
        return ArgoVar("%s + asFloat(%s)" % (to_expr(other), self.expr))

    def __sub__(self, other: Any) -> ArgoVar:
        return self._cmp("-", other, True)

    def __mul__(self, other: Any) -> ArgoVar:
        return self._cmp("*", other, True)

    def __truediv__(self, other: Any) -> ArgoVar:
        return self._cmp("/", other, True)


class Expression:
    """An expr-lang expression kept as text."""

    def __init__(self, expr: str) -> None:
        self.expr = expr

    def __repr__(self) -> str:
        return self.expr

    def eval(self, scope: Any) -> Any:
        """Evaluate against a scope given as a nested dict (``inputs``, ``steps``, ``tasks``)."""
        env = scope if isinstance(scope, dict) else _scope_env(scope)
        # lazy: expr needs google-re2, absent from a step's bare interpreter (uploaded packages only)
        from .expr.evaluate import eval_expr

        return eval_expr(self.expr, env)


def _scope_env(scope: Any) -> Dict[str, Any]:
    params = {k: getattr(v, "value", None) for k, v in scope.inputs.parameters.items()}
    return {"inputs": {"parameters": params}}


class IfExpression(ArgoVar, Expression):
    """``_if ? _then : _else`` evaluated by Argo."""

    def __init__(self, _if: Union[str, ArgoVar], _then: Any, _else: Any) -> None:
        if isinstance(_if, (InputParameter, OutputParameter)):
            self._if = "%s == 'true'" % _if.expr
        elif isinstance(_if, ArgoVar):
            self._if = _if.expr
        else:
            self._if = _if
        self._then = _then
        self._else = _else
        self.is_str = True

    @property  # type: ignore[override]
    def expr(self) -> str:
        return "(%s ? %s : %s)" % (self._if, to_expr(self._then), to_expr(self._else))

    @expr.setter
    def expr(self, value: str) -> None:  # ArgoVar.__init__ is not called; keep the property
        raise AttributeError("an IfExpression's expression is derived from its parts")


def if_expression(_if: Union[str, ArgoVar], _then: Any, _else: Any) -> IfExpression:
    """Return an if expression in Argo: ``_then`` when ``_if`` holds, else ``_else``."""
    return IfExpression(_if, _then, _else)


class PVC:
    """A persistent volume claim an artifact can be saved to (Argo only)."""

    def __init__(
        self,
        name: str,
        subpath: str,
        size: str = "1Gi",
        storage_class: Optional[str] = None,
        access_modes: Optional[List[str]] = None,
    ) -> None:
        self.name = name
        self.subpath = subpath
        self.size = size
        self.storage_class = storage_class
        self.access_modes = access_modes if access_modes is not None else ["ReadWriteOnce"]


def convert_value_to_str(value: Any) -> str:
    """A parameter value as the string Argo carries: strings as-is, ArgoVars as tags, others JSON.

    ArgoVars nested in lists/dicts become ``{{=…}}`` tags inside the JSON text (quoted when the
    value is a string, wrapped in ``toJson`` otherwise), so the whole value is rendered at run time.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, ArgoVar):
        return str(value)
    placeholders: List[str] = []

    def walk(obj: Any) -> Any:
        if isinstance(obj, ArgoVar):
            placeholders.append(_embedded(obj))
            return "\x00dflow_placeholder_%d\x00" % (len(placeholders) - 1)
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [walk(v) for v in obj]
        return obj

    text = _json_dumps(walk(value))
    for i, tag in enumerate(placeholders):
        text = text.replace('"\\u0000dflow_placeholder_%d\\u0000"' % i, tag)
    return text


def _embedded(var: ArgoVar) -> str:
    vtype = getattr(var, "type", None)
    if vtype is str or isinstance(getattr(var, "value", None), str):
        return '"%s"' % str(var)
    if isinstance(var, (InputParameter, OutputParameter)) or var.is_str:
        return str(var)
    return "{{=toJson(%s)}}" % var.expr


def _json_dumps(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError:
        return jsonpickle.dumps(value)


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not PARAM_NAME_RE.match(name):
        raise WorkflowValueError(f"invalid {what} name {name!r}: {PARAM_NAME_RULE}", field=str(name))


def _owner_name(obj: Any) -> Optional[str]:
    owner = obj.step if obj.step is not None else obj.template
    return getattr(owner, "name", None)


class _GraphForm:
    """``convert_to_graph``/``from_graph``: the graph form of an input/output (``dflow_lab.graph``)."""

    def convert_to_graph(self) -> Dict[str, Any]:
        # lazy: model ⇄ graph loop: graph/ imports this module (to_graph delegates)
        from .graph.convert import to_graph

        return to_graph(self)

    @classmethod
    def from_graph(cls, graph: Dict[str, Any]) -> Any:
        # lazy: model ⇄ graph loop: graph/ imports this module (from_graph delegates)
        from .graph.convert import io_from_graph

        return io_from_graph(cls, graph)


class _IOBase(_GraphForm, ArgoVar):
    """Common to parameters and artifacts: the name, the step or template that owns it."""

    _kind = "parameters"
    _direction = "inputs"

    name: Optional[str]
    step: Any
    template: Any

    @property  # type: ignore[override]
    def expr(self) -> str:
        if self.name is None:
            return ""
        prefix = self._scope_prefix_expr()
        return "%s%s.%s[%s]" % (prefix, self._direction, self._kind, json.dumps(self.name))

    @expr.setter
    def expr(self, value: str) -> None:
        pass

    def _scope_prefix_expr(self) -> str:
        if self.step is None:
            return ""
        return "%s[%s]." % (self.step._scope_word, json.dumps(self.step.name))

    def __repr__(self) -> str:
        if self.name is None:
            return ""
        if self.step is None:
            return "{{%s.%s.%s}}" % (self._direction, self._kind, self.name)
        return "{{%s.%s.%s.%s.%s}}" % (
            self.step._scope_word, self.step.name, self._direction, self._kind, self.name
        )

    __str__ = __repr__

    def __hash__(self) -> int:
        return id(self)


class InputParameter(_IOBase):
    """Input parameter of an OP template.

    Args:
        name: name of the input parameter
        type: parameter type (checked against literal values given by steps)
        value: default value (optional; without it the input is required)
        description: text shown in the canvas and kept in the manifest
    """

    _kind = "parameters"
    _direction = "inputs"

    def __init__(
        self,
        name: Optional[str] = None,
        step: Any = None,
        template: Any = None,
        type: Any = None,
        save_as_artifact: bool = False,
        path: Optional[str] = None,
        source: Any = None,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.step = step
        self.template = template
        self.type = type
        self.save_as_artifact = save_as_artifact
        self.path = path
        self.source = source
        self.description: Optional[str] = kwargs.pop("description", None)
        self.enum: Optional[List[Any]] = kwargs.pop("enum", None)
        self.global_name: Optional[str] = kwargs.pop("global_name", None)
        self.is_str = True
        for k, v in kwargs.items():
            setattr(self, k, v)

    @property
    def has_value(self) -> bool:
        return "value" in self.__dict__

    def convert_to_argo(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": self.name}
        if self.has_value:
            d["value"] = convert_value_to_str(self.value)
        desc = type_description(self.type, self.description)
        if desc is not None:
            d["description"] = desc
        if self.enum is not None:
            d["enum"] = [convert_value_to_str(v) for v in self.enum]
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> InputParameter:
        type_, description = parse_type_description(d.get("description"))
        kwargs: Dict[str, Any] = {"name": d.get("name"), "type": type_}
        if description is not None:
            kwargs["description"] = description
        if "value" in d:
            kwargs["value"] = d["value"]
        elif "default" in d:
            kwargs["value"] = d["default"]
        if "enum" in d:
            kwargs["enum"] = d["enum"]
        return cls(**kwargs)



_PATH_LIST = "config['save_path_as_parameter']"
_LINEAGE = "a lineage client (config['lineage'])"


class _ArtifactRef(_IOBase):
    """Common to input and output artifacts: sub-path references and dflow's path-list/urn parameters."""

    _sub_path: Optional[str]

    def sub_path(self, path: str) -> Any:
        """A reference to a sub-path of this artifact (``art.sub_path("a/b.txt")``)."""
        art = copy(self)
        art._sub_path = path if self._sub_path is None else f"{self._sub_path}/{path}"
        return art

    def get_sub_path(self) -> Optional[str]:
        return self._sub_path

    def get_path_list_parameter(self) -> str:
        raise CapabilityNotAvailable(f"{type(self).__name__}.get_path_list_parameter", _PATH_LIST)

    def get_urn_parameter(self) -> str:
        raise CapabilityNotAvailable(f"{type(self).__name__}.get_urn_parameter", _LINEAGE)


class InputArtifact(_ArtifactRef):
    """Input artifact of an OP template.

    Args:
        path: where the artifact is placed in the container
        name: name of the input artifact
        optional: whether a step may leave it unset
        type: artifact type (from an OPIOSign)
        source: default source (an S3Artifact, or another artifact)
        mode: file mode bits to set
        sub_path: take only this sub-path of the source
        archive: "default" (as configured), "tar" or None
    """

    _kind = "artifacts"
    _direction = "inputs"

    def __init__(
        self,
        path: Optional[str] = None,
        name: Optional[str] = None,
        step: Any = None,
        template: Any = None,
        optional: bool = False,
        type: Any = None,
        source: Any = None,
        mode: Optional[int] = None,
        sub_path: Optional[str] = None,
        archive: Optional[str] = "default",
        save_as_parameter: bool = False,
        **kwargs: Any,
    ) -> None:
        if path in NOT_ALLOWED_INPUT_ARTIFACT_PATHS:
            raise WorkflowValueError(
                f"input artifact path {path!r} would replace a system directory; choose a sub-directory",
                field=name,
            )
        self.path = path
        self.name = name
        self.step = step
        self.template = template
        self.optional = optional
        self.type = type
        self.source = source
        self.mode = mode
        self._sub_path = sub_path
        self.archive = archive
        self.save_as_parameter = save_as_parameter
        self.description: Optional[str] = kwargs.pop("description", None)
        self.is_str = True
        for k, v in kwargs.items():
            setattr(self, k, v)

    def convert_to_argo(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": self.name}
        if self.path is not None:
            d["path"] = self.path
        if self.optional:
            d["optional"] = True
        if self.mode is not None:
            d["mode"] = self.mode
        if self._sub_path is not None:
            d["subPath"] = self._sub_path
        if self.archive is None:
            d["archive"] = {"none": {}}
        if self.source is not None:
            d.update(artifact_source_fields(self.source))
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> InputArtifact:
        art = cls(
            path=d.get("path"),
            name=d.get("name"),
            optional=bool(d.get("optional", False)),
            mode=d.get("mode"),
            sub_path=d.get("subPath"),
            archive=None if "none" in (d.get("archive") or {}) else "default",
        )
        source = artifact_source_from_dict(d)
        if source is not None:
            art.source = source
        return art



class OutputParameter(_IOBase):
    """Output parameter of an OP template.

    Args:
        value_from_path: read the value from this file in the container
        value_from_parameter: take the value of another parameter (Steps/DAG outputs)
        name: name of the output parameter
        type: parameter type
        default: value when the file is missing
        global_name: also export it as a workflow global output
        value_from_expression: the value of an expression (Steps/DAG outputs)
        value: a fixed value
    """

    _kind = "parameters"
    _direction = "outputs"

    def __init__(
        self,
        value_from_path: Optional[str] = None,
        value_from_parameter: Any = None,
        name: Optional[str] = None,
        step: Any = None,
        template: Any = None,
        type: Any = None,
        global_name: Optional[str] = None,
        value_from_expression: Any = None,
        save_as_artifact: bool = False,
        save_both: bool = False,
        **kwargs: Any,
    ) -> None:
        self.value_from_path = value_from_path
        self.value_from_parameter = value_from_parameter
        self.name = name
        self.step = step
        self.template = template
        self.type = type
        self.global_name = global_name
        self.value_from_expression = value_from_expression
        if type is None and isinstance(value_from_parameter, (InputParameter, OutputParameter)):
            self.type = value_from_parameter.type
        self.save_as_artifact = save_as_artifact
        self.save_both = save_both
        self.description: Optional[str] = kwargs.pop("description", None)
        self.is_str = True
        for k, v in kwargs.items():
            setattr(self, k, v)
        # re-assign now that save_as_artifact exists: __setattr__ propagates big-ness from the sources
        self.value_from_parameter = value_from_parameter
        self.value_from_expression = value_from_expression

    def __setattr__(self, key: str, value: Any) -> None:
        # A template output taken from a big parameter is big itself (carried as an artifact), as on dflow;
        # an output declared big makes its source big.
        if "save_as_artifact" in self.__dict__:
            sources: List[Any] = []
            if key == "value_from_parameter" and isinstance(value, (InputParameter, OutputParameter)):
                sources = [value]
            elif key == "value_from_expression" and isinstance(value, IfExpression):
                sources = [s for s in (value._then, value._else) if isinstance(s, (InputParameter, OutputParameter))]
            for src in sources:
                if self.__dict__["save_as_artifact"]:
                    src.save_as_artifact = True
                if getattr(src, "save_as_artifact", False):
                    object.__setattr__(self, "save_as_artifact", True)
                if self.__dict__.get("type") is None and getattr(src, "type", None) is not None:
                    object.__setattr__(self, "type", src.type)
        object.__setattr__(self, key, value)

    @property
    def has_value(self) -> bool:
        return "value" in self.__dict__

    @property
    def has_default(self) -> bool:
        return "default" in self.__dict__

    def convert_to_argo(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": self.name}
        value_from: Dict[str, Any] = {}
        if self.value_from_path is not None:
            value_from["path"] = self.value_from_path
        elif self.value_from_parameter is not None:
            src = self.value_from_parameter
            value_from["parameter"] = str(src)  # "{{steps.a.outputs.parameters.b}}", as Argo's examples write it
        elif self.value_from_expression is not None:
            e = self.value_from_expression
            value_from["expression"] = e.expr if isinstance(e, ArgoVar) else str(e)
        elif self.has_value:
            d["value"] = convert_value_to_str(self.value)
        if self.has_default:
            value_from["default"] = convert_value_to_str(self.default)
        if value_from:
            d["valueFrom"] = value_from
        if self.global_name is not None:
            d["globalName"] = self.global_name
        desc = type_description(self.type, self.description)
        if desc is not None:
            d["description"] = desc
        return d

    # big parameters (save_as_artifact): carried as the artifact ``dflow_bigpar_<name>``
    def repr_as_parameter(self) -> str:
        return _IOBase.__repr__(self)

    def repr_as_artifact(self) -> str:
        redirect = self.__dict__.get("redirect")
        if redirect is not None:  # a sliced fan-out's stacked big output: its init step's artifact
            return repr(redirect)
        if self.step is None:
            return "{{outputs.artifacts.dflow_bigpar_%s}}" % self.name
        return "{{%s.%s.outputs.artifacts.dflow_bigpar_%s}}" % (self.step._scope_word, self.step.name, self.name)

    def expr_as_parameter(self) -> str:
        return _IOBase.expr.fget(self)  # type: ignore[attr-defined]

    def expr_as_artifact(self) -> str:
        redirect = self.__dict__.get("redirect")
        if redirect is not None:
            return redirect.expr
        prefix = self._scope_prefix_expr()
        return "%soutputs.artifacts[%s]" % (prefix, json.dumps("dflow_bigpar_" + str(self.name)))

    @property  # type: ignore[override]
    def expr(self) -> str:
        if self.save_as_artifact and not self.save_both and self.name is not None:
            return self.expr_as_artifact()
        return self.expr_as_parameter()

    @expr.setter
    def expr(self, value: str) -> None:
        pass

    def __repr__(self) -> str:
        if self.save_as_artifact and not self.save_both:
            return self.repr_as_artifact()
        return self.repr_as_parameter()

    __str__ = __repr__

    def convert_to_argo_parameter(self) -> Dict[str, Any]:
        return self.convert_to_argo()

    def convert_to_argo_artifact(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": "dflow_bigpar_" + str(self.name)}
        if self.value_from_path is not None:
            d["path"] = self.value_from_path
        elif self.value_from_parameter is not None:
            src = self.value_from_parameter
            if isinstance(src, OutputParameter):
                d["from"] = src.repr_as_artifact()
            elif isinstance(src, InputParameter):
                d["from"] = "{{inputs.artifacts.dflow_bigpar_%s}}" % src.name
            else:
                d["from"] = str(src)
        elif self.value_from_expression is not None:
            e = self.value_from_expression
            d["fromExpression"] = e.expr if isinstance(e, ArgoVar) else str(e)
        else:
            raise WorkflowValueError(
                "a big output parameter needs value_from_path, value_from_parameter or value_from_expression",
                field="outputs.parameters." + str(self.name))
        if self.global_name is not None:  # as on dflow: the global artifact carries the prefix too
            d["globalName"] = "dflow_bigpar_" + str(self.global_name)
        d["archive"] = {"none": {}}
        save_key = self.__dict__.get("save_key")
        if save_key is not None:  # an item of a sliced fan-out: saved where its init step stacks them
            d["s3"] = {"key": save_key}
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> OutputParameter:
        type_, description = parse_type_description(d.get("description"))
        vf = d.get("valueFrom") or {}
        kwargs: Dict[str, Any] = {
            "name": d.get("name"),
            "type": type_,
            "global_name": d.get("globalName"),
        }
        if description is not None:
            kwargs["description"] = description
        if "path" in vf:
            kwargs["value_from_path"] = vf["path"]
        if "parameter" in vf:
            kwargs["value_from_parameter"] = vf["parameter"]
        if "expression" in vf:
            kwargs["value_from_expression"] = vf["expression"]
        for k in ("event", "jqFilter", "jsonPath", "supplied", "configMapKeyRef"):
            if k in vf:
                kwargs["value_from_" + k] = vf[k]
        if "default" in vf:
            kwargs["default"] = vf["default"]
        if "value" in d:
            kwargs["value"] = d["value"]
        param = cls(**kwargs)
        extra = {k: vf[k] for k in ("event", "jqFilter", "jsonPath", "supplied", "configMapKeyRef") if k in vf}
        if extra:
            param._extra_value_from = extra
        return param



class OutputArtifact(_ArtifactRef):
    """Output artifact of an OP template.

    Args:
        path: path of the artifact in the container
        _from: the artifact is another artifact (Steps/DAG outputs)
        name: name of the output artifact
        type: artifact type
        save: places to store it instead of the default repository
        archive: "default" (as configured), "tar" or None for no archive
        global_name: also export it as a workflow global output
        from_expression: the artifact chosen by an expression
        optional: a missing file is not an error
    """

    _kind = "artifacts"
    _direction = "outputs"

    def __init__(
        self,
        path: Optional[str] = None,
        _from: Any = None,
        name: Optional[str] = None,
        step: Any = None,
        template: Any = None,
        type: Any = None,
        save: Any = None,
        archive: Optional[str] = "default",
        global_name: Optional[str] = None,
        from_expression: Any = None,
        optional: bool = False,
    ) -> None:
        self.path = path
        self._from = _from
        self.name = name
        self.step = step
        self.template = template
        self.type = type
        if save is not None and not isinstance(save, list):
            save = [save]
        self.save = save or []
        self.archive = archive
        self.global_name = global_name
        self.from_expression = from_expression
        self.optional = optional
        self._sub_path: Optional[str] = None
        self.description: Optional[str] = None
        self.is_str = True
        #: the artifact this one stands for in references (a sliced fan-out's output is its init step's)
        self.redirect: Any = None

    @property  # type: ignore[override]
    def expr(self) -> str:
        redirect = getattr(self, "redirect", None)
        return redirect.expr if redirect is not None else _IOBase.expr.fget(self)  # type: ignore[attr-defined]

    @expr.setter
    def expr(self, value: str) -> None:
        pass

    def __repr__(self) -> str:
        redirect = getattr(self, "redirect", None)
        return repr(redirect) if redirect is not None else _IOBase.__repr__(self)

    __str__ = __repr__

    def pvc(self, size: str = "1Gi", storage_class: Optional[str] = None, access_modes: Optional[List[str]] = None):
        """Save this artifact to a new PVC as well (Argo only)."""
        pvc = PVC("public-" + randstr(), randstr(), size, storage_class, access_modes)
        self.save.append(pvc)
        return pvc

    def handle_path_list(self) -> None:
        raise CapabilityNotAvailable("OutputArtifact.handle_path_list", _PATH_LIST)

    def handle_urn(self) -> None:
        raise CapabilityNotAvailable("OutputArtifact.handle_urn", _LINEAGE)

    def convert_to_argo(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": self.name}
        if self.path is not None:
            d["path"] = self.path
        if self._from is not None:
            d["from"] = str(self._from)
        if self.from_expression is not None:
            e = self.from_expression
            d["fromExpression"] = e.expr if isinstance(e, ArgoVar) else str(e)
        if self.archive is None:
            d["archive"] = {"none": {}}
        if self.global_name is not None:
            d["globalName"] = self.global_name
        if self.optional:
            d["optional"] = True
        for target in self.save:
            key = getattr(target, "key", None)
            if key is not None:
                d["s3"] = {"key": key}
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> OutputArtifact:
        art = cls(
            path=d.get("path"),
            _from=d.get("from"),
            name=d.get("name"),
            archive=None if "none" in (d.get("archive") or {}) else "default",
            global_name=d.get("globalName"),
            from_expression=d.get("fromExpression"),
            optional=bool(d.get("optional", False)),
        )
        if "s3" in d and d["s3"].get("key"):
            art.save = [S3Artifact(key=d["s3"]["key"])]
        return art


    # parameter-style API kept for dflow compatibility
    def expr_as_parameter(self) -> str:
        return self.expr


def _strip_tag(s: str) -> str:
    """``"{{steps.a.outputs.parameters.b}}"`` → ``"steps.a.outputs.parameters.b"``; expressions stay."""
    s = str(s).strip()
    if s.startswith("{{") and s.endswith("}}") and not s.startswith("{{="):
        return s[2:-2].strip()
    return s


def artifact_source_fields(source: Any) -> Dict[str, Any]:
    """The Argo fields that say where an input artifact comes from."""
    if isinstance(source, RawArtifactSource):
        return dict(source.fields)
    if isinstance(source, (InputArtifact, OutputArtifact)):
        d: Dict[str, Any] = {"from": str(source)}
        if source.get_sub_path():
            d["subPath"] = source.get_sub_path()
        return d
    if isinstance(source, str):
        if source.startswith("{{"):
            return {"from": source}
        return {"raw": {"data": source}}
    key = getattr(source, "key", None)
    if key is not None:
        d = {"s3": {"key": key}}
        sub = getattr(source, "_sub_path", None) or getattr(source, "sub_path_", None)
        if isinstance(sub, str) and sub:
            d["subPath"] = sub
        return d
    url = getattr(source, "url", None)
    if url is not None:
        return {"http": {"url": url}}
    local_path = getattr(source, "local_path", None)
    if local_path is not None:
        raise WorkflowValueError(
            "a LocalArtifact cannot be compiled into a manifest; upload it with upload_artifact() first"
        )
    raise WorkflowTypeError(f"cannot use {type(source).__name__} as an artifact source")


class RawArtifactSource:
    """Where an artifact comes from, as a manifest says it (kept verbatim when parsing)."""

    FIELDS = ("from", "fromExpression", "s3", "raw", "http", "git", "gcs", "oss", "hdfs", "artifactory",
              "azure", "plugin", "subPath", "archive", "mode", "path", "optional")

    def __init__(self, fields: Dict[str, Any]) -> None:
        self.fields = fields

    @property
    def key(self) -> Optional[str]:
        return (self.fields.get("s3") or {}).get("key")

    def __repr__(self) -> str:
        return f"RawArtifactSource({self.fields!r})"

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, RawArtifactSource) and other.fields == self.fields

    def __hash__(self) -> int:
        return id(self)


def artifact_source_from_dict(d: Dict[str, Any]) -> Any:
    """The source an input artifact (or a step's artifact argument) names, or None."""
    fields = {k: d[k] for k in RawArtifactSource.FIELDS if k in d and k not in ("path", "optional", "mode", "archive")}
    if not any(k in fields for k in RawArtifactSource.FIELDS[:-5] if k != "subPath"):
        return None
    return RawArtifactSource(fields)


class AutonamedDict(UserDict):
    """A dict of inputs/outputs that names each value after its key and ties it to its owner."""

    _item_type: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.step = kwargs.pop("step", None)
        self.template = kwargs.pop("template", None)
        super().__init__()
        if args and args[0]:
            for k, v in dict(args[0]).items():
                self[k] = v

    def __setitem__(self, key: str, value: Any) -> None:
        _check_name(key, "parameter/artifact")
        if self._item_type is not None and not isinstance(value, self._item_type):
            raise WorkflowTypeError(
                f"expected {self._item_type.__name__} for {key!r}, got {type(value).__name__}", field=key
            )
        value.name = key
        value.step = self.step
        value.template = self.template
        self.data[key] = value

    def set_step(self, step: Any) -> None:
        self.step = step
        for value in self.data.values():
            value.step = step

    def set_template(self, template: Any) -> None:
        self.template = template
        for value in self.data.values():
            value.template = template

    def convert_to_graph(self) -> Dict[str, Any]:
        return {k: v.convert_to_graph() for k, v in self.items() if not k.startswith("dflow_")}


class InputParameters(AutonamedDict):
    _item_type = InputParameter


class InputArtifacts(AutonamedDict):
    _item_type = InputArtifact


class OutputParameters(AutonamedDict):
    _item_type = OutputParameter


class OutputArtifacts(AutonamedDict):
    _item_type = OutputArtifact


class _IOGroup(_GraphForm):
    _param_cls: Any = None
    _art_cls: Any = None

    def __init__(self, parameters=None, artifacts=None, step=None, template=None) -> None:
        self.step = step
        self.template = template
        self._parameters = self._param_cls(parameters or {}, step=step, template=template)
        self._artifacts = self._art_cls(artifacts or {}, step=step, template=template)

    @property
    def parameters(self):
        return self._parameters

    @parameters.setter
    def parameters(self, value) -> None:
        self._parameters = self._param_cls(value or {}, step=self.step, template=self.template)

    @property
    def artifacts(self):
        return self._artifacts

    @artifacts.setter
    def artifacts(self, value) -> None:
        self._artifacts = self._art_cls(value or {}, step=self.step, template=self.template)

    def set_step(self, step: Any) -> None:
        self.step = step
        self._parameters.set_step(step)
        self._artifacts.set_step(step)

    def set_template(self, template: Any) -> None:
        self.template = template
        self._parameters.set_template(template)
        self._artifacts.set_template(template)

    def convert_to_argo(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {}
        params, arts = [], []
        for p in self._parameters.values():
            if getattr(p, "save_as_artifact", False):
                if isinstance(p, OutputParameter):
                    arts.append(p.convert_to_argo_artifact())
                    if p.save_both:
                        params.append(p.convert_to_argo())
                else:
                    art: Dict[str, Any] = {"name": "dflow_bigpar_" + str(p.name)}
                    if p.path is not None:
                        art["path"] = p.path
                    arts.append(art)
            else:
                params.append(p.convert_to_argo())
        arts.extend(a.convert_to_argo() for a in self._artifacts.values())
        if params:
            d["parameters"] = params
        if arts:
            d["artifacts"] = arts
        return d

    @classmethod
    def from_dict(cls, d: Optional[Dict[str, Any]]):
        d = d or {}
        p_item = cls._param_cls._item_type
        a_item = cls._art_cls._item_type
        return cls(
            parameters={p["name"]: p_item.from_dict(p) for p in d.get("parameters") or []},
            artifacts={a["name"]: a_item.from_dict(a) for a in d.get("artifacts") or []},
        )



class Inputs(_IOGroup):
    """Inputs of an OP template: ``parameters`` and ``artifacts`` (dicts by name)."""

    _param_cls = InputParameters
    _art_cls = InputArtifacts


class Outputs(_IOGroup):
    """Outputs of an OP template: ``parameters`` and ``artifacts`` (dicts by name)."""

    _param_cls = OutputParameters
    _art_cls = OutputArtifacts
