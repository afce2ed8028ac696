"""Steps: a use of a template with arguments (``dflow.step``), and the Argo helpers for loops."""

from __future__ import annotations

import json
import re
import sys
from copy import copy
from typing import Any, Dict, List, Optional, Union

from .common import S3Artifact
from .context_syntax import GLOBAL_CONTEXT
from .errors import CapabilityNotAvailable, WorkflowTypeError, WorkflowValueError
from .io import (
    ArgoVar,
    InputArtifact,
    InputParameter,
    Inputs,
    OutputArtifact,
    OutputParameter,
    Outputs,
    artifact_source_fields,
    convert_value_to_str,
    type_to_str,
)
from .op_template import OPTemplate, RawOPTemplate, check_field_name
from .util_ops import CheckNumSuccess, CheckSuccessRatio, InitArtifactForSlices, add_success_tag

BIGPAR = "dflow_bigpar_"  # the artifact that carries big parameter <name> is dflow_bigpar_<name>
KEY_RE = re.compile(r"^[a-z0-9][-a-z0-9]*\Z")
KEY_RULE = "a key consists of lowercase alphanumerics and '-', and starts with an alphanumeric"
_TAG_RE = re.compile(r"\{\{.*?\}\}")


class ArgoRange(ArgoVar):
    """``range(start, end, step)`` evaluated by Argo: a JSON list of integers."""

    def __init__(self, end: Any, start: Any = 0, step: Any = 1) -> None:
        self.end, self.start, self.step = end, start, step
        parts = [_int_expr(v) for v in (start, end, step)]
        super().__init__("toJson(sprig.untilStep(%s, %s, %s))" % tuple(parts))


def _int_expr(v: Any) -> str:
    if isinstance(v, (InputParameter, OutputParameter)):
        return "sprig.atoi(%s)" % v.expr
    if isinstance(v, ArgoVar):
        return "int(%s)" % v.expr
    if isinstance(v, bool) or not isinstance(v, int):
        raise WorkflowTypeError(f"argo_range takes integers or Argo parameters, got {v!r}")
    return str(v)


def argo_range(*args: Any) -> ArgoVar:
    """A JSON list of integers like Python's ``range``; 1–3 arguments, each may be an Argo parameter."""
    if len(args) == 1:
        return ArgoRange(args[0])
    if len(args) == 2:
        return ArgoRange(args[1], args[0])
    if len(args) == 3:
        return ArgoRange(args[1], args[0], args[2])
    raise TypeError(f"argo_range expects 1 to 3 arguments, got {len(args)}")


class ArgoSequence:
    """A numeric sequence for ``with_sequence`` (Argo's ``withSequence``)."""

    def __init__(self, count: Any, start: Any, end: Any, format: Optional[str]) -> None:
        if count is not None and end is not None:
            raise WorkflowValueError("argo_sequence takes count or end, not both", field="with_sequence")
        self.count = count
        self.start = start
        self.end = end
        self.format = format

    @staticmethod
    def _field(v: Any) -> Any:
        if isinstance(v, ArgoVar):
            return "{{=%s}}" % v.expr
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v

    def to_dict(self) -> Dict[str, Any]:
        d = {k: self._field(getattr(self, k)) for k in ("count", "start", "end")}
        d["format"] = self.format
        return {k: v for k, v in d.items() if v is not None}

    convert_to_argo = to_dict

    @classmethod
    def from_dict(cls, d: Optional[Dict[str, Any]]) -> Optional[ArgoSequence]:
        if d is None:
            return None
        return cls(count=d.get("count"), start=d.get("start"), end=d.get("end"), format=d.get("format"))

    def evalable_repr(self, imports: set) -> str:
        imports.add(("dflow_lab", "argo_sequence"))
        kwargs = {k: getattr(self, k) for k in ("count", "start", "end", "format") if getattr(self, k) is not None}
        return "argo_sequence(%s)" % ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def argo_sequence(
    count: Union[int, ArgoVar, None] = None,
    start: Union[int, ArgoVar, None] = None,
    end: Union[int, ArgoVar, None] = None,
    format: Optional[str] = None,
) -> ArgoSequence:
    """A numeric sequence: ``count`` items (or up to ``end``) from ``start``, formatted by ``format``."""
    return ArgoSequence(count=count, start=start, end=end, format=format)


class ArgoLen(ArgoVar):
    """The length of a JSON list parameter, evaluated by Argo."""

    def __init__(self, param: Any) -> None:
        self.param = param
        if isinstance(param, ArgoVar):
            super().__init__("len(sprig.fromJson(%s))" % param.expr)
        elif hasattr(param, "path_list"):
            super().__init__(str(len(param.path_list or [])))
        else:
            raise WorkflowTypeError(f"argo_len takes an Argo parameter, got {type(param).__name__}")


def argo_len(param: Any) -> ArgoVar:
    """The length of a list which is an Argo parameter."""
    return ArgoLen(param)


class ArgoEnumerate(ArgoVar):
    """``[{"order": i, name: list[i], …}]`` over one or more equally long lists."""

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs:
            raise TypeError("argo_enumerate needs at least one list")
        self.kwargs = kwargs
        first = next(iter(kwargs.values()))
        length = "len(sprig.fromJson(%s))" % first.expr if isinstance(first, ArgoVar) else str(len(first))
        fields = "".join(
            ", %s: jsonpath(%s, '$')[#]"
            % (json.dumps(k), v.expr if isinstance(v, ArgoVar) else json.dumps(json.dumps(v)))
            for k, v in kwargs.items()
        )
        super().__init__("toJson(map(sprig.untilStep(0, %s, 1), { {'order': #%s} }))" % (length, fields))


def argo_enumerate(*args: Any, **kwargs: Any) -> ArgoVar:
    """Enumerate one list (``value``) or several (``value0``, ``value1``… or by keyword)."""
    if len(args) == 1:
        kwargs["value"] = args[0]
    else:
        for i, arg in enumerate(args):
            kwargs["value%d" % i] = arg
    return ArgoEnumerate(**kwargs)


class ArgoSum:
    """The sum of a list of integers parameter (used by sliced steps)."""

    def __init__(self, param: Any) -> None:
        self.param = param
        self.expr = "sum(%s)" % param


def argo_sum(param: ArgoVar) -> ArgoSum:
    """Return the sum of a list of integers which is an Argo parameter."""
    return ArgoSum(param)


class ArgoConcat:
    """The concatenation of a list of lists parameter (used by sliced steps)."""

    def __init__(self, param: Any) -> None:
        self.param = param
        self.expr = "concat(%s)" % param


def argo_concat(param: ArgoVar) -> ArgoConcat:
    """Return the concatenation of a list of lists which is an Argo parameter."""
    return ArgoConcat(param)


def add_slices(templ: OPTemplate, slices: Any, layer: int = 0) -> None:
    """Apply ``Slices`` to a template (delegates to the Python OP layer, which owns slicing)."""
    apply = getattr(templ, "add_slices", None)
    if apply is None:
        raise WorkflowTypeError(f"template {templ.name!r} cannot be sliced", template=templ.name)
    apply(slices, layer=layer)


def resource_template(template: OPTemplate, resource: Any) -> OPTemplate:
    """``template`` run as the Kubernetes resource ``resource.get_manifest(template)`` (Argo only)."""
    body: Dict[str, Any] = {"action": resource.action or "create", "manifest": resource.get_manifest(template)}
    if resource.success_condition:
        body["successCondition"] = resource.success_condition
    if resource.failure_condition:
        body["failureCondition"] = resource.failure_condition
    base = template.convert_to_argo()
    return RawOPTemplate({"name": template.name + "-resource", "resource": body,
                          **{k: base[k] for k in ("inputs", "outputs", "metadata") if k in base}})


def _register_in_context(step: Step) -> None:
    """Inside ``with Workflow(...)`` (or Steps/DAG), a new step joins that workflow, as in dflow; steps
    made while an ``OP.superfunction`` builds its DAG belong to that DAG instead."""
    if not GLOBAL_CONTEXT.in_context:
        return

    op_module = sys.modules.get("dflow_lab.python.op")
    if op_module is not None and getattr(op_module, "_DAG_STACK", None):
        return
    GLOBAL_CONTEXT.register(step)


def _clone_io(obj: Any, step: Any) -> Any:
    new = copy(obj)
    new.step = step
    return new


def _check_literal_type(value: Any, expected: Any, step: str, field: str) -> None:
    """A literal given for a typed input must be of that type (ints are accepted for floats)."""
    if expected is None or isinstance(value, (str, ArgoVar)) or value is None:
        return
    origin = getattr(expected, "__origin__", None)
    target = origin if origin is not None else expected
    if not isinstance(target, type) or target is object:
        return
    ok = isinstance(value, target)
    if target is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if target is int and isinstance(value, bool):
        ok = False
    if not ok:
        raise WorkflowTypeError(
            f"expected {type_to_str(expected)}, got {type(value).__name__} ({value!r})",
            step=step,
            field=field,
        )


class Step:
    """A step: runs ``template`` with arguments.

    Args:
        name: the name of the step
        template: the OP template the step uses
        parameters: input parameters passed to the step as arguments
        artifacts: input artifacts passed to the step as arguments
        when: run only if this condition holds (govaluate syntax)
        with_param: fan out over a list (a list, or an Argo parameter holding a JSON list)
        continue_on_failed / continue_on_error: the workflow goes on if the step fails / errors
        continue_on_num_success / continue_on_success_ratio: a fan-out succeeds with that many /
            that ratio of successful children
        with_sequence: fan out over ``argo_sequence(...)``
        key: a key to find the step by (``query_step(key=…)``); may hold ``{{item}}`` tags
        executor: an Executor that renders the template for another place (container, remote, Slurm)
        parallelism: how many children of a fan-out run at once
        slices: Slices overriding those of the template
    """

    _scope_word = "steps"

    def __init__(
        self,
        name: str,
        template: OPTemplate,
        parameters: Optional[Dict[str, Any]] = None,
        artifacts: Optional[Dict[str, Any]] = None,
        when: Optional[str] = None,
        with_param: Any = None,
        continue_on_failed: bool = False,
        continue_on_error: bool = False,
        continue_on_num_success: Optional[int] = None,
        continue_on_success_ratio: Optional[float] = None,
        with_sequence: Optional[ArgoSequence] = None,
        key: Optional[str] = None,
        executor: Any = None,
        use_resource: Any = None,
        util_image: Optional[str] = None,
        util_image_pull_policy: Optional[str] = None,
        util_command: Union[str, List[str], None] = None,
        parallelism: Optional[int] = None,
        slices: Any = None,
    ) -> None:
        self.name = check_field_name(name, "step", step=name)
        if not isinstance(template, OPTemplate):
            raise WorkflowTypeError(
                f"template must be an OP template (e.g. PythonOPTemplate(MyOP)), got {type(template).__name__}",
                step=name,
                field="template",
            )
        if slices is not None:  # the step's own slices override the template's, on a copy of it
            setter = getattr(template, "set_slices", None)
            if setter is None:
                raise WorkflowTypeError(
                    f"template {template.name!r} cannot be sliced (slices apply to PythonOPTemplate)",
                    step=name,
                    field="slices",
                )
            template = template.copy()
            template.set_slices(slices)
        self.template = template
        self.when = str(when) if isinstance(when, ArgoVar) and not isinstance(when, (InputParameter, OutputParameter)) else when
        if with_param is not None and with_sequence is not None:
            raise WorkflowValueError("give with_param or with_sequence, not both", step=name, field="with_param")
        self.with_param = with_param
        self.with_sequence = with_sequence
        self.with_items: Optional[List[Any]] = None
        self.continue_on_failed = continue_on_failed
        self.continue_on_error = continue_on_error
        self.continue_on_num_success = continue_on_num_success
        self.continue_on_success_ratio = continue_on_success_ratio
        self.executor = executor
        self.use_resource = use_resource
        self.util_image = util_image
        self.util_image_pull_policy = util_image_pull_policy
        self.util_command = util_command
        self.parallelism = parallelism
        self.slices = slices
        self.hooks: Dict[str, Any] = {}
        self.prepare_step: Optional[Step] = None
        self.check_step: Optional[Step] = None
        self._outputs: Optional[Outputs] = None
        self._rendered: Optional[OPTemplate] = None
        self._extra: Dict[str, Any] = {}
        self._user_view: Optional[Dict[str, Any]] = None
        #: outputs that references take from another step's (a sliced fan-out's stacked ones: its init step's)
        self._redirects: Dict[tuple, Any] = {}

        self.inputs = Inputs(step=self)
        tin = template.inputs
        for k, v in tin.parameters.items():
            self.inputs.parameters.data[k] = _clone_io(v, self)
        for k, v in tin.artifacts.items():
            art = _clone_io(v, self)
            art.source = None
            self.inputs.artifacts.data[k] = art
        self._given_parameters: Dict[str, Any] = {}
        self._given_artifacts: Dict[str, Any] = {}
        if parameters:
            self.set_parameters(parameters)
        if artifacts:
            self.set_artifacts(artifacts)
        tslices = getattr(template, "slices", None)
        group = getattr(tslices, "group_size", None)
        # what the user wrote, for the graph (which draws the step, not dflow's grouping/init-artifact wiring)
        view = {"template": template, "parameters": dict(self._given_parameters),
                "artifacts": dict(self._given_artifacts), "with_param": self.with_param,
                "with_sequence": self.with_sequence}
        self._items = self.with_param  # what a success ratio is taken over (the items, not their groups)
        if tslices is not None and not tslices.sub_path and self.with_param is None and self.with_sequence is None \
                and (tslices.input_parameter or tslices.input_artifact) and hasattr(template, "group_with_param"):
            self._infer_loop(tslices)
            self._items = self.with_param
            self._user_view = view
        if group and self.with_sequence is not None and hasattr(template, "group_with_param") \
                and not getattr(tslices, "sub_path", False):
            self.with_param, self.with_sequence = _sequence_items(self.with_sequence, name), None
            self._items = self.with_param
        if group and self.with_param is not None and hasattr(template, "group_with_param") \
                and not getattr(tslices, "sub_path", False):
            # Slices(group_size=g): one step per group of g items, each given the whole item list
            self.with_param, extra = template.group_with_param(self.with_param)
            self.set_parameters(extra)
            self._user_view = view

        self.key = key
        if key is not None:
            clean = _TAG_RE.sub("", str(key)) if isinstance(key, str) else ""
            if clean and not KEY_RE.match(clean.strip("-")):
                raise WorkflowValueError(f"invalid key {key!r}: {KEY_RULE}", step=name, field="key")
            if "dflow_key" not in template.inputs.parameters:
                template.inputs.parameters["dflow_key"] = InputParameter(value="")
            self.inputs.parameters.data["dflow_key"] = _clone_io(template.inputs.parameters["dflow_key"], self)
            self._given_parameters["dflow_key"] = key

        if tslices is not None and self._add_init_artifact(tslices):
            self._user_view = view
        if continue_on_num_success is not None or continue_on_success_ratio is not None:
            self._add_success_check()
        _register_in_context(self)

    def _infer_loop(self, slices: Any) -> None:
        """dflow's inferred loop: a sliced step given no ``with_param``/``with_sequence`` runs one item per
        element of its first sliced input parameter (a list, or a reference whose length Argo takes)."""
        if not slices.input_parameter:
            raise WorkflowValueError("a step sliced over input artifacts only needs a loop: give with_param="
                                     "argo_range(<number of items>), or slice by sub-path (Slices(sub_path=True))",
                                     step=self.name, field="with_param")
        name = slices.input_parameter[0]
        value = self._given_parameters.get(name)
        tparam = self.template.inputs.parameters.get(name)
        if value is None and tparam is not None and tparam.has_value:
            value = tparam.value
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{{=") and text.endswith("}}"):
                value = ArgoVar(text[3:-2].strip())
            elif text.startswith("{{") and text.endswith("}}"):
                parts = text[2:-2].strip().split(".")
                value = ArgoVar(parts[0] + "".join("[%s]" % json.dumps(p) for p in parts[1:]))
            else:
                try:
                    value = json.loads(text)
                except ValueError:
                    pass
        if isinstance(value, (list, tuple)):
            self.with_param = argo_range(len(value))
        elif isinstance(value, (InputParameter, OutputParameter)) and value.save_as_artifact:
            raise WorkflowValueError(f"cannot infer the items of a step sliced over big parameter {name!r}: give "
                                     "with_param=argo_range(<number of items>)", step=self.name, field="with_param")
        elif isinstance(value, ArgoVar):
            self.with_param = argo_range(argo_len(value))
        else:
            raise WorkflowValueError(f"cannot infer the items of this sliced step from input {name!r} ({value!r}): "
                                     "give it a list, or give with_param", step=self.name, field="with_param")

    def _add_init_artifact(self, slices: Any) -> bool:
        """dflow's ``<name>-init-artifact`` step for sliced artifacts (see ``util_ops.InitArtifactForSlices``).

        Sliced output artifacts of a fan-out: each item saves its part, not archived, under the key the
        init step made, and this step's output artifact stands for the init step's (the merged items).
        Inputs sliced by sub-path: the items (or groups of ``group_size`` items) come from the catalogs
        of those artifacts, read by the init step; each item takes its sub-path of the artifact.
        """
        fans_out = self.with_param is not None or self.with_sequence is not None or slices.sub_path
        outs = list(slices.output_artifact) if fans_out else []
        # big output parameters stacked over the items travel as artifacts: stacked the same way
        bigs = [n for n in slices.output_parameter if fans_out and n in self.template.outputs.parameters
                and self.template.outputs.parameters[n].save_as_artifact]
        ins = list(slices.input_artifact) if slices.sub_path else []
        if not outs and not ins and not bigs:
            return False

        template = self.template.copy()
        group_key = re.sub(r"\{\{=?\s*item.*?\}\}", "group", str(self.key)) if self.key is not None else None
        seq_format = getattr(self.with_sequence, "format", None)
        init = InitArtifactForSlices(template, self.util_image, self.util_command, self.util_image_pull_policy,
                                     self.key, outs + [BIGPAR + n for n in bigs], ins,
                                     group_size=slices.group_size if ins else None, format=seq_format)
        init.name = f"{self.name}-init-artifact"
        with GLOBAL_CONTEXT.paused():  # added with its step, by Steps.add/DAG.add
            self.prepare_step = prepare = type(self)(
                name=f"{self.name}-init-artifact", template=init,
                parameters={"dflow_group_key": group_key} if group_key is not None else None,
                key=f"{group_key}-init-artifact" if group_key is not None and ins else None)
        if outs or bigs:
            template.inputs.parameters["dflow_artifact_key"] = InputParameter(value="")
            for n in outs:
                art = template.outputs.artifacts[n]
                art.save = [S3Artifact(key="{{inputs.parameters.dflow_artifact_key}}/%s" % n)]
                art.archive = None
            for n in bigs:  # one file per item (its [{"dflow_list_item", "order"}] text), named by its pod
                par = template.outputs.parameters[n]
                par.save_key = "{{inputs.parameters.dflow_artifact_key}}/%s%s/{{pod.name}}" % (BIGPAR, n)
        self.template = template
        for k, v in template.inputs.parameters.items():
            if k not in self.inputs.parameters.data:
                self.inputs.parameters.data[k] = _clone_io(v, self)
        if outs or bigs:
            self.set_parameters({"dflow_artifact_key": prepare.outputs.parameters["dflow_artifact_key"]})
        if ins:
            sources = {}
            for n in ins:
                source = self._given_artifacts.get(n)
                if source is None:
                    if template.inputs.artifacts[n].optional:
                        continue
                    raise WorkflowValueError("an input artifact sliced by sub-path must be given (pass it in "
                                             "artifacts=)", step=self.name, field=n)
                sources[n] = source
            prepare.set_artifacts(sources)
            if slices.group_size is not None:
                for n in sources:
                    self.set_artifacts({n: prepare.outputs.artifacts[n].sub_path("group_{{item}}")})
                ngroups = prepare.outputs.parameters["dflow_ngroups"]
                if self.with_sequence is not None:
                    self.with_sequence = ArgoSequence(count=ngroups, start=None, end=None, format=seq_format)
                else:
                    self.with_param = argo_range(ngroups)
            else:
                for n, source in sources.items():
                    if not callable(getattr(source, "sub_path", None)):
                        raise WorkflowTypeError(f"cannot take sub-paths of {type(source).__name__}; slice a step's "
                                                "output artifact, a template input or an S3Artifact",
                                                step=self.name, field=n)
                    self.set_artifacts({n: source.sub_path("{{item.%s}}" % n)})
                    self.set_parameters({"dflow_%s_sub_path" % n: "{{item.%s}}" % n})
                if self.with_sequence is not None:
                    for k, v in list(self._given_parameters.items()):
                        if isinstance(v, str) and "{{item}}" in v:
                            self.set_parameters({k: v.replace("{{item}}", "{{item.order}}")})
                    self.with_sequence = None
                self.with_param = prepare.outputs.parameters["dflow_slices_path"]
                self._items = self.with_param
        self._outputs = None
        if "dflow_key" in self._given_parameters:  # the key argument last, where a parsed manifest has it
            self._given_parameters["dflow_key"] = self._given_parameters.pop("dflow_key")
        for n in outs:
            self._redirects[("artifacts", n)] = prepare.outputs.artifacts[n]
        for n in bigs:
            self._redirects[("parameters", n)] = prepare.outputs.artifacts[BIGPAR + n]
        return True

    def __repr__(self) -> str:
        return self.name

    @property
    def id(self) -> str:
        return self.name

    @property
    def expr(self) -> str:
        return "%s[%s]" % (self._scope_word, json.dumps(self.name))

    @property
    def outputs(self) -> Outputs:
        if self._outputs is None:
            out = Outputs(step=self)
            tout = self.template.outputs
            for k, v in tout.parameters.items():
                out.parameters.data[k] = _clone_io(v, self)
            for k, v in tout.artifacts.items():
                out.artifacts.data[k] = _clone_io(v, self)
            for (kind, k), target in self._redirects.items():
                getattr(out, kind).data[k].redirect = target
            self._outputs = out
        return self._outputs

    @outputs.setter
    def outputs(self, value: Outputs) -> None:
        value.set_step(self)
        self._outputs = value

    # -- arguments ------------------------------------------------------------------------------
    @property
    def given_parameters(self) -> Dict[str, Any]:
        """The parameter arguments this step was given (name -> value or reference), in order."""
        return dict(self._given_parameters)

    @property
    def given_artifacts(self) -> Dict[str, Any]:
        """The artifact arguments this step was given (name -> source), in order."""
        return dict(self._given_artifacts)

    def set_parameters(self, parameters: Dict[str, Any]) -> None:
        """Give values to input parameters (literals, other steps' outputs, template inputs)."""
        known = self.inputs.parameters.data
        for k, v in parameters.items():
            if k not in known:
                raise WorkflowValueError(
                    f"unknown input parameter; template {self.template.name!r} has {sorted(known) or 'none'}",
                    step=self.name,
                    field=k,
                )
            if isinstance(v, (InputArtifact, OutputArtifact)):
                raise WorkflowTypeError(
                    "an artifact cannot feed a parameter; pass it in artifacts=", step=self.name, field=k
                )
            _check_literal_type(v, known[k].type, self.name, k)
            _check_stacked_big_parameter(self, k, v)
            _propagate_big_parameter(self, k, v)
            known[k].value = v
            self._given_parameters[k] = v

    def set_artifacts(self, artifacts: Dict[str, Any]) -> None:
        """Give sources to input artifacts (other steps' outputs, template inputs, S3Artifact…)."""
        known = self.inputs.artifacts.data
        for k, v in artifacts.items():
            if k not in known:
                raise WorkflowValueError(
                    f"unknown input artifact; template {self.template.name!r} has {sorted(known) or 'none'}",
                    step=self.name,
                    field=k,
                )
            if isinstance(v, (InputParameter, OutputParameter)):
                raise WorkflowTypeError(
                    "a parameter cannot feed an artifact; pass it in parameters=", step=self.name, field=k
                )
            known[k].source = v
            if v is None:
                self._given_artifacts.pop(k, None)
            else:
                self._given_artifacts[k] = v

    # -- compilation ----------------------------------------------------------------------------
    def effective_template(self, context: Any = None) -> OPTemplate:
        """The template this step runs: rendered by its executor, or as a Kubernetes resource."""
        if self.executor is None and self.use_resource is None:
            return self.template
        if self._rendered is None:
            if self.use_resource is not None:
                self._rendered = resource_template(self.template, self.use_resource)
            else:
                self._rendered = self.executor.render(self.template)
        return self._rendered

    def _argument_parameters(self) -> List[Dict[str, Any]]:
        params = []
        tparams = self.template.inputs.parameters
        for name, value in self._given_parameters.items():
            if not getattr(tparams.get(name), "save_as_artifact", False):
                params.append({"name": name, "value": convert_value_to_str(value)})
        for name, p in tparams.items():
            if name not in self._given_parameters and not p.has_value and not p.save_as_artifact:
                raise WorkflowValueError(
                    "required input parameter is not given (pass it in parameters=, or give the "
                    "template input a default value)",
                    step=self.name,
                    field=name,
                )
        return params

    def _argument_artifacts(self) -> List[Dict[str, Any]]:
        arts = []
        for name, p in self.template.inputs.parameters.items():
            if not p.save_as_artifact:
                continue
            value = self._given_parameters.get(name)
            if isinstance(value, OutputParameter) and value.save_as_artifact:
                arts.append({"name": "dflow_bigpar_" + name, "from": value.repr_as_artifact()})
            elif isinstance(value, InputParameter) and value.save_as_artifact:
                arts.append({"name": "dflow_bigpar_" + name, "from": str(value).replace(
                    "inputs.parameters.", "inputs.artifacts.dflow_bigpar_")})
            elif value is not None:
                arts.append({"name": "dflow_bigpar_" + name, "raw": {"data": convert_value_to_str(value)}})
            elif p.has_value:  # the template's default
                arts.append({"name": "dflow_bigpar_" + name, "raw": {"data": convert_value_to_str(p.value)}})
            else:
                raise WorkflowValueError("required big parameter is not given", step=self.name, field=name)
        for name, a in self.template.inputs.artifacts.items():
            source = self._given_artifacts.get(name)
            if source is None:
                if a.optional or a.source is not None:
                    continue
                raise WorkflowValueError(
                    "required input artifact is not given (pass it in artifacts=, or declare the "
                    "template input optional=True)",
                    step=self.name,
                    field=name,
                )
            d = {"name": name}
            d.update(artifact_source_fields(source))
            arts.append(d)
        return arts

    def prepare_argo_arguments(self, context: Any = None) -> Dict[str, Any]:
        args: Dict[str, Any] = {}
        params = self._argument_parameters()
        if params:
            args["parameters"] = params
        arts = self._argument_artifacts()
        if arts:
            args["artifacts"] = arts
        extra = getattr(self, "_extra_arguments", None)
        if extra:
            for kind in ("parameters", "artifacts"):
                if extra.get(kind):
                    args.setdefault(kind, []).extend(extra[kind])
        return args

    def _loop_fields(self, d: Dict[str, Any]) -> None:
        if self.with_items is not None:
            d["withItems"] = self.with_items
        elif self.with_param is not None:
            wp = self.with_param
            if isinstance(wp, (list, tuple)):
                d["withParam"] = convert_value_to_str(list(wp))
            else:
                d["withParam"] = str(wp)
        elif self.with_sequence is not None:
            seq = self.with_sequence
            d["withSequence"] = seq.to_dict() if isinstance(seq, ArgoSequence) else dict(seq)

    def convert_to_argo(self, context: Any = None) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": self.name, "template": self.effective_template(context).name}
        args = self.prepare_argo_arguments(context)
        if args:
            d["arguments"] = args
        if self.when is not None:
            d["when"] = str(self.when)
        self._loop_fields(d)
        if self.continue_on_failed or self.continue_on_error:
            d["continueOn"] = {}
            if self.continue_on_failed:
                d["continueOn"]["failed"] = True
            if self.continue_on_error:
                d["continueOn"]["error"] = True
        if self.hooks:
            d["hooks"] = {k: (h.convert_to_argo(context) if hasattr(h, "convert_to_argo") else h) for k, h in self.hooks.items()}
        for k, v in self._extra.items():
            d.setdefault(k, v)
        return d

    def _add_success_check(self) -> None:
        if self.with_param is None and self.with_sequence is None:
            raise WorkflowValueError(
                "continue_on_num_success/continue_on_success_ratio apply to fan-outs (with_param or with_sequence)",
                step=self.name,
                field="continue_on_num_success",
            )
        self.template = add_success_tag(self.template)
        self._outputs = None
        self.continue_on_failed = True
        tags = self.outputs.parameters["dflow_success_tag"]
        if self.continue_on_num_success is not None:
            check, threshold = CheckNumSuccess(image=self.util_image), self.continue_on_num_success
        else:
            check, threshold = CheckSuccessRatio(image=self.util_image), self.continue_on_success_ratio
        parameters = {"success": tags, "threshold": threshold}
        if isinstance(check, CheckSuccessRatio):
            parameters["total"] = self._items_total()

        with GLOBAL_CONTEXT.paused():  # added with its step, by Steps.add/DAG.add
            self.check_step = type(self)(
                name=f"{self.name}-check",
                template=check,
                parameters=parameters,
            )

    def _items_total(self) -> Any:
        """The number of items of this fan-out (what ``continue_on_success_ratio`` is a ratio of), as a
        value or an expression Argo evaluates (dflow's rule)."""
        items = self._items if self._items is not None else self.with_param
        if items is not None:
            if isinstance(items, (list, tuple)):
                return len(items)
            if hasattr(items, "expr"):
                return ArgoVar("len(sprig.fromJson(%s))" % items.expr)
            text = str(items).strip()
            if text.startswith("{{=") and text.endswith("}}"):
                return ArgoVar("len(sprig.fromJson(%s))" % text[3:-2])
            if text.startswith("{{") and text.endswith("}}"):
                parts = text[2:-2].strip().split(".")
                ref = parts[0] + "".join("[%s]" % json.dumps(p) for p in parts[1:])
                return ArgoVar("len(sprig.fromJson(%s))" % ref)
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if isinstance(value, list):
                return len(value)
            raise WorkflowValueError(f"continue_on_success_ratio: cannot count the items of with_param {text!r}",
                                     step=self.name, field="with_param")
        seq = self.with_sequence
        if seq.count is not None:
            return seq.count if isinstance(seq.count, int) else ArgoVar(str(getattr(seq.count, "expr", seq.count)))
        start = seq.start if seq.start is not None else 0
        if isinstance(start, int) and isinstance(seq.end, int):
            return abs(seq.end - start) + 1
        s, e = (getattr(v, "expr", v) for v in (start, seq.end))
        return ArgoVar(f"({e}) >= ({s}) ? ({e}) - ({s}) + 1 : ({s}) - ({e}) + 1")

    @classmethod
    def from_dict(cls, d: Dict[str, Any], templates: Dict[str, OPTemplate]) -> Step:
        # lazy: model ⇄ compile loop: argo.parse imports this module (Step.from_dict delegates)
        from .argo.parse import step_from_dict

        return step_from_dict(cls, d, templates)

    def convert_to_graph(self) -> Dict[str, Any]:
        # lazy: model ⇄ graph loop: graph/ imports this module (Step.to_graph delegates)
        from .graph.convert import to_graph

        return to_graph(self)

    @classmethod
    def from_graph(cls, graph: Dict[str, Any], templates: Dict[str, OPTemplate]) -> Step:
        # lazy: model ⇄ graph loop: graph/ imports this module (Step.from_graph delegates)
        from .graph.convert import step_from_graph

        return step_from_graph(cls, graph, templates)

    def run(self, scope: Any = None, context: Any = None) -> None:
        raise CapabilityNotAvailable(
            "Step.run", "running a single step outside a workflow (submit a Workflow: the local engine runs it)"
        )


def _sequence_items(seq: Any, step: str) -> Any:
    """The items of an unformatted ``argo_sequence`` as a list or an ``argo_range`` (for grouped slices,
    which group a list of items)."""
    if seq.format is not None:
        raise WorkflowValueError("Slices(group_size=...) over a formatted argo_sequence is not supported: give "
                                 "with_param=argo_range(...) instead", step=step, field="with_sequence")
    start = seq.start if seq.start is not None else 0
    if seq.count is not None:
        if isinstance(seq.count, int) and isinstance(start, int):
            return list(range(start, start + seq.count))
        if start == 0:
            return argo_range(seq.count)
    elif isinstance(seq.end, int) and isinstance(start, int):
        return list(range(start, seq.end + 1) if seq.end >= start else range(start, seq.end - 1, -1))
    raise WorkflowValueError("Slices(group_size=...) over this argo_sequence is not supported (a count from 0, "
                             "or integer bounds): give with_param=argo_range(...) instead", step=step,
                             field="with_sequence")


def _check_stacked_big_parameter(step: Any, name: str, value: Any) -> None:
    """A fan-out's big output reaches the next step only stacked, through its init step (dflow's way):
    an unsliced one would be one artifact per item, which Argo does not aggregate."""
    if not (isinstance(value, OutputParameter) and value.save_as_artifact and value.step is not None):
        return
    src = value.step
    if src is step or (src.with_param is None and src.with_sequence is None):
        return
    if value.__dict__.get("redirect") is None:
        raise WorkflowValueError(
            f"{value.step.name!r} fans out, so its big parameter {value.name!r} has one value per item: stack them "
            f"by slicing that step with Slices(output_parameter=[{value.name!r}]) (its items then pass their "
            "values as a list)", step=step.name, field=name)


def _propagate_big_parameter(step: Any, name: str, value: Any) -> None:
    """A big parameter fed to a Steps/DAG input makes that input big too (as dflow does), and back.

    An OP's own input is big only when its signature says so: feeding it a big parameter it does not
    declare, or a small parameter to a big one it declares, is an error naming the step and the field.
    """
    if not isinstance(value, (InputParameter, OutputParameter)):
        return
    tparam = step.template.inputs.parameters.get(name)
    if tparam is None:
        return
    is_op = not hasattr(step.template, "add")  # Steps and DAG templates have add()
    if getattr(value, "save_as_artifact", False) and not tparam.save_as_artifact:
        if is_op and value.step is not None:
            raise WorkflowTypeError(
                f"{value!r} is a big parameter but the template's input is not (declare it BigParameter)",
                step=step.name, field=name)
        tparam.save_as_artifact = True
    elif tparam.save_as_artifact and not getattr(value, "save_as_artifact", False):
        if isinstance(value, InputParameter) and value.step is None:
            value.save_as_artifact = True  # an enclosing Steps/DAG input carries it as an artifact too
        elif value.step is not None and is_op:
            raise WorkflowTypeError(
                f"the template's input is a big parameter but {value!r} is not", step=step.name, field=name)
    own = step.inputs.parameters.get(name)
    if own is not None and own is not tparam:
        own.save_as_artifact = tparam.save_as_artifact

