"""``PythonOPTemplate``: a Python OP compiled to an Argo script template, plus ``Slices`` and
``upload_packages``.

The compiled script is ``# dflow-lab: python-op v1`` followed by a call into
``dflow_lab.python.runtime`` with a JSON spec of the OP (its import path, or its embedded source when
it is defined in ``__main__``).  Input parameter values never enter the script: each one travels in
an environment variable ``DFLOW_LAB_PARAM_<i>`` set to ``{{inputs.parameters.<name>}}``.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import re
import sys
import sysconfig
from typing import Any, Dict, List, Tuple, Type, Union

import jsonpickle

import dflow_lab

from ..config import config
from ..errors import WorkflowTypeError, WorkflowValueError
from ..io import ArgoVar, InputArtifact, InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs
from ..names import randstr
from ..op_template import PythonScriptOPTemplate, Secret, int_or_string, kebab
from ..step import argo_len, argo_range
from ..utils import evalable_repr
from .errors import FatalError, TransientError  # dflow defines them in this module
from .loader import load_op, op_object
from .op import OP, sign_type
from .opio import Artifact, BigParameter, OPIOSign, Parameter
from .runtime import PACKAGES_ARTIFACT, parse_source, render_source
from .source import embed_source
from .typecheck import check_value, describe_type
from .values import encode_value

__all__ = ["PythonOPTemplate", "Slices", "upload_packages", "TransientError", "FatalError"]

#: Local package paths every ``PythonOPTemplate`` makes importable in its steps (dflow's global).
upload_packages: List[Union[str, os.PathLike]] = []

_ITEM_TAG = re.compile(r"^\{\{\s*item(\.[A-Za-z0-9_.]+)?\s*\}\}\Z")


class Slices:
    """Slicing of a Python OP over parallel steps (``with_param``/``with_sequence``).

    Each parallel step takes the ``slices`` element (``"{{item}}"`` by default) of the listed input
    parameters/artifacts, and its listed outputs are stacked back in that order.

    Args:
        slices: the slice of each step, an Argo tag such as ``"{{item}}"`` or ``"{{item.order}}"``
        input_parameter / input_artifact: inputs to slice
        output_parameter / output_artifact: outputs to stack
        sub_path: slice the input artifacts by sub-path: the items are the entries of their catalogs, each
            step gets its own sub-path of the artifact (``{{item.order}}`` by default; with ``group_size``,
            a group of entries)
        group_size: each parallel step takes a group of this many slices
        pool_size: a step runs its group's slices in this many processes (``-1``: one per slice)
        shuffle, random_seed, pool_timeout, register_first_only, create_dir, raise_for_group:
            accepted and recorded, as in dflow
    """

    def __init__(
        self,
        slices: str | None = None,
        input_parameter: List[str] | None = None,
        input_artifact: List[str] | None = None,
        output_parameter: List[str] | None = None,
        output_artifact: List[str] | None = None,
        sub_path: bool = False,
        group_size: int | None = None,
        shuffle: bool = False,
        random_seed: int = 0,
        pool_size: int | None = None,
        pool_timeout: int | None = None,
        register_first_only: bool = False,
        create_dir: bool = False,
        raise_for_group: bool = False,
    ) -> None:
        self.input_parameter = list(input_parameter or [])
        self.input_artifact = list(input_artifact or [])
        self.output_parameter = list(output_parameter or [])
        self.output_artifact = list(output_artifact or [])
        self.sub_path = sub_path
        if slices is not None:
            self.slices = slices
        elif sub_path and group_size is None:
            self.slices = "{{item.order}}"
        else:
            self.slices = "{{item}}"
        self.group_size = group_size
        self.shuffle = shuffle
        self.random_seed = random_seed
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self.register_first_only = register_first_only
        self.create_dir = create_dir
        self.raise_for_group = raise_for_group

    def _changed(self) -> Dict[str, Any]:
        """The constructor arguments that differ from their defaults."""
        params = inspect.signature(Slices.__init__).parameters
        implied = "{{item.order}}" if self.sub_path and self.group_size is None else "{{item}}"
        values = {k: getattr(self, k) for k in params if k != "self"}
        return {k: v for k, v in values.items() if v != params[k].default and v != []
                and not (k == "slices" and v == implied)}

    def __repr__(self) -> str:
        return "Slices(" + ", ".join(f"{k}={v!r}" for k, v in self._changed().items()) + ")"

    def evalable_repr(self, imports: set) -> str:
        """Python source that rebuilds these slices (for code generation); records its import."""
        imports.add(("dflow_lab.python", "Slices"))
        return "Slices(" + ", ".join(f"{k}={evalable_repr(v, imports)}" for k, v in self._changed().items()) + ")"


def _package_paths(python_packages: Any, upload_dflow: bool) -> List[str]:
    if python_packages is None:
        paths = list(upload_packages)
    elif isinstance(python_packages, (list, tuple, set)):
        paths = list(upload_packages) + list(python_packages)
    else:
        paths = list(upload_packages) + [python_packages]
    if upload_dflow:

        paths += list(dflow_lab.__path__) + list(jsonpickle.__path__)
    out: List[str] = []
    for p in paths:
        s = os.path.abspath(os.fspath(p))
        if s not in out:
            out.append(s)
    return out


class PythonOPTemplate(PythonScriptOPTemplate):
    """A Python OP (class, instance or ``@OP.function``) as a template.

    Keyword arguments are dflow's: ``image``, ``command``, ``timeout`` (seconds),
    ``retry_on_transient_error`` (retries when the OP raises ``TransientError``),
    ``retry_on_failure``/``retry_on_error``/``retry_on_failure_and_error``,
    ``timeout_as_transient_error``, ``slices``, ``python_packages``, ``upload_dflow``, ``envs``,
    ``requests``/``limits``, ``output_artifact_save``/``_archive``/``_global_name``,
    ``output_parameter_default``/``_global_name``, the ``*_slices`` dicts, ``memoize_key``,
    ``volumes``/``mounts``, scheduling fields, ``tmp_root``, ``pre_script``/``post_script``.
    """

    def __init__(
        self,
        op_class: Union[Type[OP], OP],
        image: str | None = None,
        command: Union[str, List[str], None] = None,
        annotations: Dict[str, str] | None = None,
        labels: Dict[str, str] | None = None,
        node_selector: Dict[str, str] | None = None,
        tolerations: List[Any] | None = None,
        affinity: Any = None,
        output_artifact_save: Dict[str, List[Any]] | None = None,
        output_artifact_archive: Dict[str, str | None] | None = None,
        output_parameter_default: Dict[str, Any] | None = None,
        input_artifact_prefix: Dict[str, str] | None = None,
        input_artifact_slices: Dict[str, str] | None = None,
        input_parameter_slices: Dict[str, str] | None = None,
        output_artifact_slices: Dict[str, str] | None = None,
        output_parameter_slices: Dict[str, str] | None = None,
        output_artifact_global_name: Dict[str, str] | None = None,
        output_parameter_global_name: Dict[str, str] | None = None,
        slices: Slices | None = None,
        python_packages: List[os.PathLike] | None = None,
        timeout: int | None = None,
        retry_on_transient_error: int | None = None,
        retry_on_failure: int | None = None,
        retry_on_error: int | None = None,
        retry_on_failure_and_error: int | None = None,
        timeout_as_transient_error: bool = False,
        memoize_key: str | None = None,
        volumes: List[Any] | None = None,
        mounts: List[Any] | None = None,
        image_pull_policy: str | None = None,
        requests: Dict[str, str] | None = None,
        limits: Dict[str, str] | None = None,
        upload_dflow: bool = True,
        envs: Dict[str, str] | None = None,
        init_containers: List[Any] | None = None,
        sidecars: List[Any] | None = None,
        tmp_root: str = "/tmp",
        pre_script: str = "",
        post_script: str = "",
        success_tag: bool = False,
        create_slice_dir: bool = False,
        skip_slice_input: bool = False,
    ) -> None:
        op = op_class if isinstance(op_class, OP) else None
        cls = type(op_class) if op is not None else op_class
        if not (isinstance(cls, type) and issubclass(cls, OP)):
            raise WorkflowTypeError(
                f"PythonOPTemplate needs an OP class, an OP instance or an @OP.function, got {op_class!r}",
                field="op_class",
            )
        name = f"{kebab(cls.__name__)}-{randstr()}"
        input_sign: OPIOSign = copy.deepcopy(cls.get_input_sign())  # overrides below stay this template's
        output_sign: OPIOSign = copy.deepcopy(cls.get_output_sign())
        for what, overrides, attr in (
            ("output_artifact_save", output_artifact_save, "save"),
            ("output_artifact_archive", output_artifact_archive, "archive"),
            ("output_artifact_global_name", output_artifact_global_name, "global_name"),
        ):
            for k, v in (overrides or {}).items():
                if not isinstance(output_sign.get(k), Artifact):
                    raise WorkflowValueError(f"{k!r} is not an output artifact of OP {cls.__name__!r}",
                                             template=name, field=what)
                setattr(output_sign[k], attr, v)
        super().__init__(
            name=name, inputs=Inputs(), outputs=Outputs(), memoize_key=memoize_key, annotations=annotations,
            labels=labels, node_selector=node_selector, tolerations=tolerations, affinity=affinity,
            image=image, command=command if command is not None else ["python3"], volumes=volumes,
            mounts=mounts, timeout=timeout, image_pull_policy=image_pull_policy, requests=requests,
            limits=limits, envs=envs, init_containers=init_containers, sidecars=sidecars,
            init_progress=f"{cls.progress_current}/{cls.progress_total}",
        )
        self.op_class = op_class
        self.op = op
        self.input_sign = input_sign
        self.output_sign = output_sign
        self.tmp_root = tmp_root
        self.pre_script = pre_script
        self.post_script = post_script
        self.success_tag = success_tag
        self.create_slice_dir = create_slice_dir
        self.skip_slice_input = skip_slice_input
        self.retry_on_transient_error = retry_on_transient_error
        self.retry_on_failure = retry_on_failure
        self.retry_on_error = retry_on_error
        self.retry_on_failure_and_error = retry_on_failure_and_error
        self.timeout_as_transient_error = timeout_as_transient_error
        self.upload_dflow = upload_dflow
        self.input_artifact_prefix = dict(input_artifact_prefix or {})
        if self.input_artifact_prefix:
            raise WorkflowValueError("input_artifact_prefix is not supported by dflow-lab yet",
                                     template=name, field="input_artifact_prefix")
        self._declare_inputs()
        self._declare_outputs(output_parameter_default, output_parameter_global_name)
        packages = _package_paths(python_packages, upload_dflow)
        self.python_packages = set(packages) if packages else None
        self._package_list = packages
        if packages:
            self.inputs.artifacts[PACKAGES_ARTIFACT] = InputArtifact(
                path=f"{tmp_root}/inputs/artifacts/{PACKAGES_ARTIFACT}", optional=True)
        self._op_spec = self._build_op_spec()
        self.dflow_vars: Dict[str, str] = {}
        self.input_parameter_slices = dict(input_parameter_slices or {})
        self.input_artifact_slices = dict(input_artifact_slices or {})
        self.output_parameter_slices = dict(output_parameter_slices or {})
        self.output_artifact_slices = dict(output_artifact_slices or {})
        self.slices: Slices | None = None
        if slices is not None:
            self.add_slices(slices)
        self.render_script()

    # ---- declaration ----------------------------------------------------------------------------

    def _declare_inputs(self) -> None:
        root = self.tmp_root
        for n, s in self.input_sign.items():
            if isinstance(s, Artifact):
                self.inputs.artifacts[n] = InputArtifact(
                    path=f"{root}/inputs/artifacts/{n}", optional=s.optional, type=s.type, archive=s.archive)
                continue
            kw: Dict[str, Any] = {"type": sign_type(s)}
            if hasattr(s, "default"):
                self._check_default(s.default, sign_type(s), f"inputs.parameters.{n}")
                kw["value"] = s.default
            if getattr(s, "description", None) is not None:
                kw["description"] = s.description
            if isinstance(s, BigParameter):
                kw.update(save_as_artifact=True, path=f"{root}/inputs/parameters/{n}")
            self.inputs.parameters[n] = InputParameter(**kw)

    def _check_default(self, value: Any, t: Any, field: str) -> None:
        if value is None:
            return
        try:
            check_value(value, t, "default")
        except TypeError as e:
            raise WorkflowTypeError(f"the default of {field} does not match its type: {e}", template=self.name,
                                    field=field) from None

    def _declare_outputs(self, defaults: Dict[str, Any] | None, global_names: Dict[str, str] | None) -> None:
        root = self.tmp_root
        defaults = defaults or {}
        global_names = global_names or {}
        for n, s in self.output_sign.items():
            if isinstance(s, Artifact):
                self.outputs.artifacts[n] = OutputArtifact(
                    path=f"{root}/outputs/artifacts/{n}", archive=s.archive, save=s.save,
                    global_name=s.global_name, type=s.type, optional=s.optional)
                continue
            t = sign_type(s)
            kw: Dict[str, Any] = {"value_from_path": f"{root}/outputs/parameters/{n}", "type": t}
            if isinstance(s, BigParameter):
                kw["save_as_artifact"] = True
            if isinstance(s, Parameter):
                kw["global_name"] = s.global_name
            if n in global_names:
                kw["global_name"] = global_names[n]
            if hasattr(s, "default"):
                self._check_default(s.default, t, f"outputs.parameters.{n}")
                kw["default"] = s.default if t is str else encode_value(s.default)
            elif n in defaults:
                self._check_default(defaults[n], t, f"outputs.parameters.{n}")
                kw["default"] = defaults[n] if t is str else encode_value(defaults[n])
            if getattr(s, "description", None) is not None:
                kw["description"] = s.description
            self.outputs.parameters[n] = OutputParameter(**kw)

    def _build_op_spec(self) -> Dict[str, Any]:
        cls = type(self.op_class) if self.op is not None else self.op_class
        func = getattr(cls, "func", None)
        target = func if func is not None else cls
        spec: Dict[str, Any] = {"name": target.__name__}
        if getattr(cls, "_source", None) is not None:
            spec["source"] = cls._source
        elif target.__module__ in ("__main__", "__mp_main__"):
            try:
                spec["source"] = embed_source(target)
            except (OSError, TypeError) as e:
                raise WorkflowValueError(
                    f"cannot get the source of OP {target.__name__!r} defined in __main__ ({e}); "
                    "define it in a file or a notebook cell, or in an importable module",
                    template=self.name, field="op_class") from e
            except ValueError as e:
                raise WorkflowValueError(str(e), template=self.name, field="op_class") from e
        else:
            spec["module"] = target.__module__
            spec["qualname"] = target.__qualname__
            root = _import_root(target.__module__)
            if root is not None:
                spec["path"] = root
        if self.op is not None and func is None and vars(self.op):

            for k, v in vars(self.op).items():
                if isinstance(v, Secret):
                    raise WorkflowValueError(
                        f"attribute {k!r} is a Secret: the OP's attributes are written into the manifest; "
                        "pass secrets to the step with envs={...: Secret(...)} instead",
                        template=self.name, field="op_class")

            spec["state"] = jsonpickle.encode(vars(self.op), keys=True)
        return spec

    # ---- slices ---------------------------------------------------------------------------------

    def _slice_var(self, expr: Any, field: str) -> Any:
        """A slice as the runtime reads it: a constant, or ``{"env": <param>}`` for an item tag
        (declared as an input parameter ``dflow_var_<k>`` whose value is the tag)."""
        if expr is None or isinstance(expr, (int, list, dict)):  # a dict: {"catalog": <artifact>}
            return expr
        text = str(expr).strip()
        if _ITEM_TAG.match(text):
            if text not in self.dflow_vars:
                var = f"dflow_var_{len(self.dflow_vars)}"
                self.inputs.parameters[var] = InputParameter(value=text)
                self.dflow_vars[text] = var
            return {"param": self.dflow_vars[text]}
        try:
            return int(text)
        except ValueError:
            raise WorkflowValueError(
                f"slice {expr!r} is not supported: use an item tag such as '{{{{item}}}}' or an integer",
                template=self.name, field=field) from None

    def add_slices(self, slices: Slices, layer: int = 0) -> None:
        """Slice this template's inputs/outputs as ``slices`` says (``Step(slices=…)`` calls this)."""
        if slices.group_size is not None and not (isinstance(slices.slices, str) and _ITEM_TAG.match(
                slices.slices.strip())):
            raise WorkflowValueError("Slices(group_size=...) needs an item tag as its slices ('{{item}}', "
                                     "'{{item.order}}')", template=self.name, field="slices")
        if slices.pool_size is not None and not slices.input_parameter and not slices.input_artifact:
            raise WorkflowValueError("Slices(pool_size=...) needs sliced inputs", template=self.name,
                                     field="slices")
        known = {
            "input_parameter": self.inputs.parameters, "input_artifact": self.inputs.artifacts,
            "output_parameter": self.outputs.parameters, "output_artifact": self.outputs.artifacts,
        }
        for kind, names in known.items():
            for n in getattr(slices, kind):
                if n not in names:
                    raise WorkflowValueError(f"Slices({kind}=[{n!r}]): OP has no {kind.replace('_', ' ')} {n!r}",
                                             template=self.name, field="slices")
        tag: Any = slices.slices
        if slices.sub_path:
            if not slices.input_artifact:
                raise WorkflowValueError("Slices(sub_path=True) slices input artifacts: name them in "
                                         "input_artifact=[...]", template=self.name, field="slices")
            if slices.group_size is not None:
                # each step gets a group of the artifact's items (the init step's group_<i>); the slices of
                # the step are the orders in that group's catalog
                required = [n for n in slices.input_artifact if not self.inputs.artifacts[n].optional]
                tag = {"catalog": (required or slices.input_artifact)[0]}
            else:
                for n in slices.input_artifact:  # each step takes its sub-path of the artifact
                    self.inputs.parameters[SUB_PATH % n] = InputParameter(value=".")
                    self.inputs.artifacts[n].path = "%s/inputs/artifacts/%s/{{inputs.parameters.%s}}" % (
                        self.tmp_root, n, SUB_PATH % n)
        for n in slices.input_parameter:
            self.input_parameter_slices[n] = tag
            t = sign_type(self.input_sign[n])
            self.inputs.parameters[n].type = List[t] if t is not None else None  # each step takes one element
        for n in slices.input_artifact if not slices.sub_path else []:
            self.input_artifact_slices[n] = tag
        for n in slices.output_parameter:
            self.output_parameter_slices[n] = tag
            self.outputs.parameters[n].type = None  # a step writes [{"dflow_list_item": v, "order": i}]
        for n in slices.output_artifact:
            self.output_artifact_slices[n] = tag
            self.outputs.artifacts[n].archive = None
        if slices.group_size is not None and not slices.sub_path:
            self.inputs.parameters[GROUP_ITEMS] = InputParameter(
                description="the items the steps are grouped over (given by the step: see group_with_param)")
        self.slices = slices
        self.render_script()

    def group_with_param(self, with_param: Any) -> Tuple[Any, Dict[str, Any]]:
        """For ``Slices(group_size=g)``: the ``with_param`` that runs one step per group of ``g``
        consecutive items of ``with_param`` (the last group may be smaller), and the parameters those
        steps need: ``Step(…, with_param=wp, parameters={…, **extra})`` with
        ``wp, extra = template.group_with_param(items)``."""
        g = self.slices.group_size if self.slices is not None else None
        if not g:
            raise WorkflowValueError("group_with_param needs Slices(group_size=...)", template=self.name,
                                     field="slices")

        if isinstance(with_param, str):  # as a graph or a manifest writes it
            with_param = _argo_value(with_param.strip(), self.name)
        if isinstance(with_param, (list, tuple)):
            return list(range(-(-len(with_param) // g))), {GROUP_ITEMS: list(with_param)}

        if not isinstance(with_param, ArgoVar):
            raise WorkflowTypeError(f"with_param must be a list or an Argo value, got {type(with_param).__name__}",
                                    template=self.name, field="with_param")
        groups = ArgoVar(f"({argo_len(with_param).expr} + {g} - 1) / {g}", is_str=False)
        return argo_range(groups), {GROUP_ITEMS: with_param}

    def set_slices(self, slices: Slices | None) -> None:
        """Replace the template's slices (``None`` removes them)."""
        for var in [*self.dflow_vars.values(), GROUP_ITEMS]:
            self.inputs.parameters.pop(var, None)
        for n, art in self.inputs.artifacts.items():
            if self.inputs.parameters.pop(SUB_PATH % n, None) is not None:
                art.path = f"{self.tmp_root}/inputs/artifacts/{n}"
        self.dflow_vars = {}
        for n in self.input_parameter_slices:
            self.inputs.parameters[n].type = sign_type(self.input_sign[n])
        for n in self.output_parameter_slices:
            self.outputs.parameters[n].type = sign_type(self.output_sign[n])
        self.input_parameter_slices, self.input_artifact_slices = {}, {}
        self.output_parameter_slices, self.output_artifact_slices = {}, {}
        self.slices = None
        if slices is not None:
            self.add_slices(slices)
        else:
            self.render_script()

    # ---- compilation ----------------------------------------------------------------------------

    def _spec(self) -> Dict[str, Any]:
        ins: Dict[str, Any] = {}
        outs: Dict[str, Any] = {}
        group = self._group_spec()
        for side, pairs in ((ins, ((self.input_parameter_slices, "input_parameter_slices"),
                                   (self.input_artifact_slices, "input_artifact_slices"))),
                            (outs, ((self.output_parameter_slices, "output_parameter_slices"),
                                    (self.output_artifact_slices, "output_artifact_slices")))):
            for d, field in pairs:
                for n, e in d.items():
                    side[n] = {"group": True} if group is not None else self._slice_var(e, field)
        env_of = self._param_envs()
        for side in (ins, outs):
            for n, v in side.items():
                if isinstance(v, dict) and "param" in v:
                    side[n] = {"env": env_of[v["param"]]}
        if group is not None:
            group["items"], group["index"] = env_of[group["items"]], env_of[group["index"]]
        spec: Dict[str, Any] = {
            "version": 1,
            "op": self._op_spec,
            "tmp_root": self.tmp_root,
            "parameters": env_of,
            "sign": {
                "inputs": {n: _sign_text(s) for n, s in self.input_sign.items()},
                "outputs": {n: _sign_text(s) for n, s in self.output_sign.items()},
            },
        }
        if ins or outs:
            spec["slices"] = {"inputs": ins, "outputs": outs}
            if self.create_slice_dir or (self.slices is not None and self.slices.create_dir):
                spec["slices"]["create_dir"] = True
            if self.slices is not None and self.slices.pool_size is not None and not (
                    self.slices.sub_path and self.slices.group_size is None):  # one item per step there
                spec["slices"]["pool"] = {"size": self.slices.pool_size, "timeout": self.slices.pool_timeout}
            if group is not None:
                spec["slices"]["group"] = group
        sub_paths = {n: env_of[SUB_PATH % n] for n in self.inputs.artifacts if SUB_PATH % n in env_of}
        if sub_paths:
            spec.setdefault("slices", {"inputs": ins, "outputs": outs})["sub_paths"] = sub_paths
        if self.slices is not None and self.slices.sub_path and self.slices.group_size is not None:
            spec.setdefault("slices", {"inputs": ins, "outputs": outs})["sub_path_group"] = list(
                self.slices.input_artifact)
            if self.slices.pool_size is not None:
                spec["slices"]["pool"] = {"size": self.slices.pool_size, "timeout": self.slices.pool_timeout}
        if self._package_list:
            spec["python_packages"] = self._package_list
        for k in ("pre_script", "post_script"):
            if getattr(self, k):
                spec[k] = getattr(self, k).format(tmp_root=self.tmp_root)
        if self.success_tag:
            spec["success_tag"] = True

            if (self.slices is not None and self.slices.raise_for_group) or config.get("raise_for_group"):
                spec["raise_for_group"] = True
        return spec

    def _group_spec(self) -> Dict[str, Any] | None:
        """With ``group_size``: each step's ``{{item}}`` is a group index; the runtime takes that group
        of the items (the field the slices tag names, e.g. ``order``, of each) as the step's slices."""
        if self.slices is None or not self.slices.group_size or self.slices.sub_path:
            return None
        match = _ITEM_TAG.match(self.slices.slices.strip())
        index = self._slice_var("{{item}}", "slices")["param"]
        return {"size": self.slices.group_size, "items": GROUP_ITEMS, "index": index,
                "path": match.group(1)[1:] if match and match.group(1) else None}

    def _param_envs(self) -> Dict[str, str]:
        """Input parameter name → the environment variable that carries its value."""
        return {n: f"DFLOW_LAB_PARAM_{i}" for i, n in enumerate(
            n for n, p in self.inputs.parameters.items() if not p.save_as_artifact)}

    def render_script(self) -> None:
        """(Re)write ``self.script`` from the OP and the current inputs, outputs and slices."""
        self.script = render_source(self._spec())

    def _retry_strategy(self) -> Dict[str, Any] | None:
        if self.retry_on_transient_error is not None:
            expr = _TRANSIENT_EXPR[bool(self.timeout_as_transient_error)]
            return {"limit": self.retry_on_transient_error, "expression": expr}
        for attr, policy in _RETRY_POLICIES.items():
            if getattr(self, attr) is not None:
                return {"limit": getattr(self, attr), "retryPolicy": policy}
        return self.retry_strategy

    def _load_retry(self, rs: Dict[str, Any] | None) -> None:
        """The retry_on_* options back from a compiled retryStrategy (else it is kept as given)."""
        rs = dict(rs or {})
        limit = rs.get("limit")
        if limit is not None and str(limit).isdigit() and set(rs) == {"limit", "expression"} and (
                rs["expression"] in _TRANSIENT_EXPR.values()):
            self.retry_on_transient_error = int(limit)
            self.timeout_as_transient_error = rs["expression"] == _TRANSIENT_EXPR[True]
        elif limit is not None and str(limit).isdigit() and set(rs) == {"limit", "retryPolicy"} and (
                rs["retryPolicy"] in _RETRY_POLICIES.values()):
            attr = next(a for a, p in _RETRY_POLICIES.items() if p == rs["retryPolicy"])
            setattr(self, attr, int(limit))
        else:
            self.retry_strategy = rs or None

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> Any:
        """The template of a compiled Python OP (``Workflow.from_dict``): a ``PythonOPTemplate`` when
        its OP is imported from a module available here and rebuilding reproduces the manifest;
        otherwise a ``PythonScriptOPTemplate`` that keeps the script as it is (parsing a manifest never
        runs code embedded in it)."""
        base = PythonScriptOPTemplate.from_dict(d)
        try:
            spec = parse_source(base.script)
            op_spec = spec["op"]
            if op_spec.get("source") is not None or op_spec.get("state") is not None:
                return base
            loaded = load_op(op_spec, use_path=False)
            op = loaded if isinstance(loaded, type) else op_object(loaded)
            t = cls(op, tmp_root=spec.get("tmp_root", "/tmp"), upload_dflow=False,
                    pre_script=spec.get("pre_script", ""), post_script=spec.get("post_script", ""))
        except Exception:  # not ours, or the OP is not importable here: keep the script as it is
            return base
        try:
            t._load_from(base, spec)
        except Exception:  # a manifest this version does not rebuild: keep it as it is
            return base
        return t if _same_template(t.convert_to_argo(), d) else base

    def _load_from(self, base: PythonScriptOPTemplate, spec: Dict[str, Any]) -> None:
        """Take the compiled template's fields (``base``) and its spec's slices and packages."""
        t = self
        t.name = base.name
        t.inputs, t.outputs = base.inputs, base.outputs
        for k in ("image", "command", "image_pull_policy", "requests", "limits", "mounts", "timeout",
                  "node_selector", "tolerations", "affinity", "volumes", "init_containers", "sidecars",
                  "init_progress", "annotations", "labels", "memoize_key", "_extra"):
            setattr(t, k, getattr(base, k))
        if hasattr(base, "_memoize_configmap"):
            t._memoize_configmap = base._memoize_configmap
        t.envs = {k: v for k, v in base.envs.items() if not k.startswith("DFLOW_LAB_")}
        t._load_retry(base.retry_strategy)
        t._package_list = list(spec.get("python_packages") or [])
        t.python_packages = set(t._package_list) or None
        t.upload_dflow = any(os.path.basename(p) == "dflow_lab" for p in t._package_list)
        t._load_slices(spec)
        t.success_tag = bool(spec.get("success_tag"))
        t.render_script()

    def _load_slices(self, spec: Dict[str, Any]) -> None:
        """The slices a compiled spec records, back on this template."""
        sl = spec.get("slices") or {}
        by_env = {env: name for name, env in (spec.get("parameters") or {}).items()}

        def expr(v: Any) -> Any:
            if isinstance(v, dict) and "env" in v:
                var = by_env[v["env"]]
                tag = self.inputs.parameters[var].value
                self.dflow_vars[tag] = var
                return tag
            return v

        for n, v in (sl.get("inputs") or {}).items():
            target = self.input_artifact_slices if n in self.inputs.artifacts else self.input_parameter_slices
            target[n] = expr(v)
        for n, v in (sl.get("outputs") or {}).items():
            target = self.output_artifact_slices if n in self.outputs.artifacts else self.output_parameter_slices
            target[n] = expr(v)
        self.create_slice_dir = bool(sl.get("create_dir"))
        pool = sl.get("pool")
        if pool is not None:
            self.slices = Slices(input_parameter=list(self.input_parameter_slices),
                                 input_artifact=list(self.input_artifact_slices),
                                 output_parameter=list(self.output_parameter_slices),
                                 output_artifact=list(self.output_artifact_slices),
                                 pool_size=pool.get("size"), pool_timeout=pool.get("timeout"))

    def convert_to_argo(self, memoize_prefix: str | None = None, memoize_configmap: str = "dflow") -> Dict[str, Any]:
        """The Argo script template: the rendered runtime call, parameter env vars, retry policy."""
        self.render_script()
        d = super().convert_to_argo(memoize_prefix, memoize_configmap)
        retry = self._retry_strategy()
        if retry is not None:
            d["retryStrategy"] = int_or_string(retry, ("limit", "backoff.factor"))
        env = d["script"].setdefault("env", [])
        taken = {e["name"] for e in env}
        ours = [{"name": var, "value": f"{{{{inputs.parameters.{n}}}}}"} for n, var in self._param_envs().items()]
        ours.append({"name": "DFLOW_LAB_WORKFLOW_NAME", "value": "{{workflow.name}}"})
        clash = taken & {e["name"] for e in ours}
        if clash:
            raise WorkflowValueError(f"envs {sorted(clash)} are reserved by dflow-lab", template=self.name,
                                     field="envs")
        env.extend(ours)
        return d


def _argo_value(text: str, template: str) -> Any:
    """A ``with_param`` given as text: a JSON list, ``{{=expression}}`` or ``{{scope.a.b}}``."""
    if text.startswith("{{=") and text.endswith("}}"):
        return ArgoVar(text[3:-2].strip())
    if text.startswith("{{") and text.endswith("}}"):
        parts = text[2:-2].strip().split(".")
        return ArgoVar(parts[0] + "".join("[%s]" % json.dumps(p) for p in parts[1:]))
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list):
        raise WorkflowTypeError(f"with_param {text[:80]!r} is neither a JSON list nor an Argo value",
                                template=template, field="with_param")
    return value


def _import_root(module: str) -> str | None:
    """The ``sys.path`` directory a user module was imported from (``None`` for installed ones)."""
    mod = sys.modules.get(module)
    file = getattr(mod, "__file__", None)
    if not file or module.split(".")[0] == "dflow_lab":
        return None
    root = os.path.dirname(os.path.abspath(file))
    for _ in range(module.count(".") + (os.path.basename(file) == "__init__.py")):
        root = os.path.dirname(root)
    installed = {os.path.abspath(p) for k, p in sysconfig.get_paths().items()
                 if k in ("stdlib", "platstdlib", "purelib", "platlib")}
    if root in installed or os.path.basename(root) in ("site-packages", "dist-packages"):
        return None
    return root


#: The input parameter of a grouped sliced template that holds all the items (see group_with_param).
GROUP_ITEMS = "dflow_group_items"
#: The input parameter that gives a step of ``Slices(sub_path=True)`` its sub-path of artifact ``%s`` (dflow's name).
SUB_PATH = "dflow_%s_sub_path"
_TRANSIENT_EXPR = {False: "asInt(lastRetry.exitCode) == 1", True: "asInt(lastRetry.exitCode) != 2"}
_RETRY_POLICIES = {"retry_on_failure": "OnFailure", "retry_on_error": "OnError", "retry_on_failure_and_error": "Always"}


def _same_template(a: Dict[str, Any], b: Dict[str, Any]) -> bool:
    """Whether two compiled templates are the same (JSON-equal)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def _sign_text(s: Any) -> str:
    kind = ("artifact" if isinstance(s, Artifact) else "big_parameter" if isinstance(s, BigParameter)
            else "parameter")
    return f"{kind}:{describe_type(sign_type(s))}"

