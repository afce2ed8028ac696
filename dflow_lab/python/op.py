"""``OP``: a Python operation with a typed signature, written as a class or as an annotated function.

A class OP declares ``get_input_sign``/``get_output_sign`` (``OPIOSign``) and ``execute(op_in) ->
OPIO``; ``@OP.function`` turns an annotated function into one; ``@OP.superfunction`` turns a function
that wires OPs together into a DAG template.  ``OP.exec_sign_check`` checks the inputs and outputs
of ``execute`` against the signs, with errors that name the OP, the field and both types.
"""

from __future__ import annotations

import abc
import base64
import functools
import inspect
import json
import logging
import os
import typing
from copy import copy, deepcopy
from functools import partial
from importlib import import_module
from pathlib import Path
from typing import Any, Callable, Dict, List, Set, Tuple, Union

from .. import context_syntax
from ..config import config, s3_config
from ..dag import DAG
from ..io import InputArtifact, InputParameter, OutputArtifact, OutputParameter
from ..names import randstr
from ..op_template import kebab
from ..storage.catalog import dict2list
from ..task import Task
from .loader import load_source
from .opio import OPIO, Artifact, BigParameter, OPIOSign, Parameter
from .source import embed_source
from .stepio import write_outputs
from .typecheck import check_value, describe_type

__all__ = ["OP", "get_sign_from_func", "type2opiosign", "check_opio"]

_LIST_ARTIFACTS = {
    Dict[str, str]: Dict[str, Union[str, None]],
    Dict[str, Path]: Dict[str, Union[Path, None]],
    List[str]: List[Union[str, None]],
    List[Path]: List[Union[Path, None]],
    Set[str]: Set[Union[str, None]],
    Set[Path]: Set[Union[Path, None]],
}


_DAG_STACK: List[Any] = []  # DAGs being built by OP.superfunction, innermost last


def _in_context() -> bool:
    """Whether code runs inside a ``with Workflow(...)``/``with DAG(...)`` block (dflow's context)."""
    ctx = getattr(context_syntax, "GLOBAL_CONTEXT", None)
    return bool(ctx is not None and ctx.in_context)


def sign_type(sign: Any) -> Any:
    """The Python type a sign entry declares (``Parameter(int)`` → ``int``, ``int`` → ``int``)."""
    return sign.type if isinstance(sign, (Parameter, BigParameter, Artifact)) else sign


def _has_default(sign: Any) -> bool:
    return isinstance(sign, (Parameter, BigParameter)) and hasattr(sign, "default")


def check_opio(opio: OPIO, sign: OPIOSign, is_input: bool, op_name: str) -> None:
    """Check ``opio`` against ``sign`` in place (dflow's rules), raising clear errors.

    Missing inputs with a default get it, missing optional artifacts get ``None``; a missing
    required key raises ``RuntimeError``, an undeclared key ``RuntimeError``, a value of the wrong
    type ``TypeError`` naming the OP, the field, the expected and the received type. ``None`` values
    are not type-checked; ``str``/``Path`` artifacts are not either (a path is a path).
    """
    side = "input" if is_input else "output"
    for name, s in sign.items():
        if name in opio:
            continue
        if _has_default(s):
            opio[name] = deepcopy(s.default)
        elif isinstance(s, Artifact) and s.optional:
            opio[name] = None
        elif is_input:
            raise RuntimeError(
                f"OP {op_name!r}: input {name!r} is declared in the input sign but was not passed to the OP"
            )
        else:
            raise RuntimeError(
                f"OP {op_name!r}: output {name!r} is declared in the output sign but execute() did not return it"
            )
    for name in opio:
        if name not in sign:
            declared = ", ".join(repr(k) for k in sign) or "none"
            raise RuntimeError(
                f"OP {op_name!r}: {side} {name!r} is not declared in the {side} sign (declared: {declared})"
            )
        value = opio[name]
        if value is None:
            continue
        s = sign[name]
        if isinstance(s, Artifact):
            expected = _LIST_ARTIFACTS.get(s.type)
            if expected is None:
                continue
        else:
            expected = sign_type(s)
        check_value(value, expected, f"OP {op_name!r} {side} {name!r}")


class OP(abc.ABC):
    """A Python OP: subclass it and define the signs and ``execute``, or use ``@OP.function``.

    Attributes set by the runtime while the OP runs: ``key`` (the step key), ``workflow_name``,
    ``tmp_root`` (where ``inputs/`` and ``outputs/`` live), ``slices``.  Setting
    ``progress_total``/``progress_current`` reports progress to the engine.
    """

    progress_total = 1
    progress_current = 0
    key: str | None = None
    workflow_name: str | None = None
    outputs: Dict[str, Any] = {}
    slices: Dict[str, Any] = {}
    tmp_root = "/tmp"
    create_slice_dir = False
    pool_size: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Accept and ignore any arguments (subclasses may take their own)."""
        super().__init__()

    def __setattr__(self, key: str, value: Any) -> None:
        super().__setattr__(key, value)
        if key in ("progress_total", "progress_current") and os.environ.get("ARGO_PROGRESS_FILE"):
            with open(os.environ["ARGO_PROGRESS_FILE"], "w") as f:
                f.write(f"{self.progress_current}/{self.progress_total}")

    @classmethod
    @abc.abstractmethod
    def get_input_sign(cls) -> OPIOSign:
        """The signature of the inputs."""

    @classmethod
    @abc.abstractmethod
    def get_output_sign(cls) -> OPIOSign:
        """The signature of the outputs."""

    @abc.abstractmethod
    def execute(self, op_in: OPIO) -> OPIO:
        """Run the OP on ``op_in`` and return its outputs."""
        raise NotImplementedError

    @classmethod
    def _op_name(cls) -> str:
        return getattr(cls, "__name__", str(cls))

    @staticmethod
    def exec_sign_check(func: Callable[[Any, OPIO], OPIO]) -> Callable[[Any, OPIO], OPIO]:
        """Decorator of ``execute``: check inputs against the input sign before, outputs after."""

        @functools.wraps(func)
        def wrapper_exec(self: OP, op_in: OPIO) -> OPIO:
            name = type(self)._op_name()
            check_opio(op_in, self.get_input_sign(), True, name)
            op_out = func(self, op_in)
            if not isinstance(op_out, (OPIO, dict)):
                raise TypeError(f"OP {name!r}: execute() must return an OPIO, got {type(op_out).__name__}")
            check_opio(op_out, self.get_output_sign(), False, name)
            return op_out

        return wrapper_exec

    @staticmethod
    def _check_signature(opio: OPIO, sign: OPIOSign, is_input: bool) -> None:
        """dflow's name for :func:`check_opio` without an OP name."""
        check_opio(opio, sign, is_input, "OP")

    # ---- function OPs -------------------------------------------------------------------------

    @classmethod
    def function(cls, func: Callable | None = None, **kwargs: Any) -> Any:
        """Turn an annotated function into an OP (an instance): ``@OP.function`` or
        ``@OP.function(image=…)`` (keyword arguments go to ``PythonOPTemplate`` when the OP is
        called inside a ``with Workflow(...)``/``with DAG(...)`` block).

        Inputs come from the parameters' annotations and defaults; outputs from the return
        annotation: a dict of types, a ``TypedDict``, a ``NamedTuple``, a ``Tuple[...]`` or one type.
        """
        if func is None:
            return partial(cls.function, **kwargs)
        input_sign, output_sign, ret2opio, opio2ret = get_sign_from_func(func)
        template_kwargs = kwargs

        class FunctionOP(cls):  # type: ignore[valid-type, misc]
            task_kwargs: Dict[str, Any] = {}

            @classmethod
            def get_input_sign(klass) -> OPIOSign:
                return deepcopy(input_sign)

            @classmethod
            def get_output_sign(klass) -> OPIOSign:
                return deepcopy(output_sign)

            @OP.exec_sign_check
            def execute(self, op_in: OPIO) -> OPIO:
                return ret2opio(func(**op_in))

            def use(self, **kw: Any) -> Any:
                """A copy whose tasks get ``kw`` (``Task`` keyword arguments) when called."""
                op = copy(self)
                op.task_kwargs = kw
                return op

            def __call__(self, *args: Any, **op_in: Any) -> Any:
                names = list(input_sign)
                if len(args) > len(names):
                    raise TypeError(f"{func.__name__}() takes {len(names)} arguments but {len(args)} were given")
                for i, v in enumerate(args):
                    if names[i] in op_in:
                        raise TypeError(f"{func.__name__}() got multiple values for argument '{names[i]}'")
                    op_in[names[i]] = v
                if _DAG_STACK or _in_context():
                    return opio2ret(self._add_task(op_in))
                return self.execute(OPIO(op_in))

            def _add_task(self, op_in: Dict[str, Any]) -> Dict[str, Any]:
                """A task running this OP on ``op_in``, added to the DAG being built; its outputs."""
                # lazy: python_op_template builds on OP (imports this module); a call inside a DAG needs it
                from .python_op_template import PythonOPTemplate

                parameters = {k: v for k, v in op_in.items() if not isinstance(input_sign[k], Artifact)}
                artifacts = {k: v for k, v in op_in.items() if isinstance(input_sign[k], Artifact)}
                if self.__dict__.get("_template") is None:  # one template for all the calls of this OP
                    self._template = PythonOPTemplate(self, **template_kwargs)
                task = Task(
                    f"{kebab(func.__name__)}-{randstr()}",
                    template=self._template,
                    parameters=parameters,
                    artifacts=artifacts,
                    **self.task_kwargs,
                )
                if _DAG_STACK:
                    _DAG_STACK[-1].add(task)
                return {**task.outputs.parameters, **task.outputs.artifacts}

        FunctionOP.func = staticmethod(func)  # type: ignore[attr-defined]
        FunctionOP.__name__ = func.__name__
        FunctionOP.__qualname__ = func.__qualname__
        FunctionOP.__module__ = func.__module__
        FunctionOP.__doc__ = func.__doc__
        return FunctionOP()

    @classmethod
    def superfunction(cls, func: Callable | None = None, **kwargs: Any) -> Any:
        """Turn a function that calls function OPs into a DAG template (``@OP.superfunction``).

        The function runs once, now, inside the DAG: its parameters become the DAG's inputs and
        its return value, per the return annotation, the DAG's outputs.
        """
        if func is None:
            return partial(cls.superfunction, **kwargs)

        input_sign, output_sign, ret2opio, opio2ret = get_sign_from_func(func)

        class SuperFunctionDAG(DAG):
            task_kwargs: Dict[str, Any] = {}

            def use(self, **kw: Any) -> Any:
                dag = deepcopy(self)
                dag.task_kwargs = kw
                return dag

            def __call__(self, *args: Any, **op_in: Any) -> Any:
                names = list(input_sign)
                for i, v in enumerate(args):
                    if names[i] in op_in:
                        raise TypeError(f"{func.__name__}() got multiple values for argument '{names[i]}'")
                    op_in[names[i]] = v
                if not (_DAG_STACK or _in_context()):
                    raise RuntimeError(
                        f"superfunction {func.__name__!r} can only be called inside another superfunction "
                        "or a `with Workflow(...)`/`with DAG(...)` block"
                    )
                task = Task(
                    f"{self.name}-{randstr()}",
                    template=self,
                    parameters={k: v for k, v in op_in.items() if k in self.inputs.parameters},
                    artifacts={k: v for k, v in op_in.items() if k in self.inputs.artifacts},
                    **self.task_kwargs,
                )
                if _DAG_STACK:
                    _DAG_STACK[-1].add(task)
                return opio2ret({**task.outputs.parameters, **task.outputs.artifacts})

        dag = SuperFunctionDAG(name=kebab(func.__name__), **kwargs)
        _DAG_STACK.append(dag)
        try:
            for n, s in input_sign.items():
                if isinstance(s, Artifact):
                    dag.inputs.artifacts[n] = InputArtifact(type=s.type, optional=s.optional)
                else:
                    kw: Dict[str, Any] = {"type": sign_type(s)}
                    if _has_default(s):
                        kw["value"] = s.default
                    if isinstance(s, BigParameter):
                        kw["save_as_artifact"] = True
                    dag.inputs.parameters[n] = InputParameter(**kw)
            outputs = ret2opio(func(**dag.inputs.parameters, **dag.inputs.artifacts))
            for n, s in output_sign.items():
                if isinstance(s, Artifact):
                    dag.outputs.artifacts[n] = OutputArtifact(type=s.type, _from=outputs.get(n))
                else:
                    kw = {"type": sign_type(s), "value_from_parameter": outputs.get(n)}
                    if _has_default(s):
                        kw["default"] = s.default
                    if isinstance(s, BigParameter):
                        kw["save_as_artifact"] = True
                    dag.outputs.parameters[n] = OutputParameter(**kw)
        finally:
            _DAG_STACK.pop()
        return dag

    # ---- descriptions -------------------------------------------------------------------------

    @classmethod
    def get_opio_info(cls, opio_sign: OPIOSign) -> Dict[str, Any]:
        """Sign entries as they are shown: ``Parameter``/``Artifact`` objects kept, types named."""
        return {
            k: s if isinstance(s, (Artifact, Parameter, BigParameter)) else describe_type(s)
            for k, s in opio_sign.items()
        }

    @classmethod
    def get_info(cls) -> Dict[str, Any]:
        """Name, inputs, outputs and the source of ``execute`` (or of the function)."""
        target = cls.func if hasattr(cls, "func") else cls.execute
        return {
            "name": f"{cls.__module__}.{cls.__name__}",
            "inputs": {k: str(v) for k, v in cls.get_opio_info(cls.get_input_sign()).items()},
            "outputs": {k: str(v) for k, v in cls.get_opio_info(cls.get_output_sign()).items()},
            "execute": inspect.getsource(target),
        }

    @classmethod
    def convert_to_graph(cls) -> Dict[str, Any]:
        """``{"module", "name", "inputs", "outputs", "source"}``: the OP as a graph document holds it."""
        source = getattr(cls, "_source", None)
        module = "__main__" if source is not None else str(cls.__module__)
        if source is None:
            try:
                source = embed_source(cls.func if hasattr(cls, "func") else cls)
            except (OSError, TypeError, ValueError):
                logging.info("could not get the source of OP %s", cls.__name__, exc_info=True)
        return {
            "module": module,
            "name": str(cls.__name__),
            "inputs": cls.get_opio_info(cls.get_input_sign()),
            "outputs": cls.get_opio_info(cls.get_output_sign()),
            "source": source,
        }

    @classmethod
    def from_graph(cls, graph: Dict[str, Any]) -> Any:
        """The OP a graph entry names: imported from its module, or defined from its source."""
        if graph["module"] in ("__main__", "__mp_main__"):
            op = load_source(graph["source"], graph["name"])
            target = op.__class__ if isinstance(op, OP) else op
            target._source = graph["source"]
            return op
        return getattr(import_module(graph["module"]), graph["name"])

    # ---- outputs written while executing ------------------------------------------------------

    def set_output(self, name: str, value: Any, symlink: bool = True) -> None:
        """Record (and write now) one output, so that it is kept even if ``execute`` fails later."""
        if "outputs" not in self.__dict__:
            self.outputs = {}
        self.outputs[name] = value
        self.handle_outputs({name: value})

    def handle_outputs(self, outputs: Dict[str, Any], symlink: bool = False) -> None:
        """Write ``outputs`` under ``self.tmp_root``/outputs per the output sign."""
        write_outputs(self, outputs, os.getcwd())

    # ---- storage keys (Argo pods expose their template as $ARGO_TEMPLATE) ---------------------

    def _template_artifact(self, side: str, name: str) -> Dict[str, Any]:
        text = os.environ.get("ARGO_TEMPLATE")
        if not text:
            raise RuntimeError(f"OP {type(self)._op_name()!r}: $ARGO_TEMPLATE is not set (only Argo pods have it)")
        templ = json.loads(text)
        for art in templ.get(side, {}).get("artifacts", []):
            if art["name"] == name:
                return art
        raise KeyError(f"OP {type(self)._op_name()!r}: no {side} artifact {name!r} in the template")

    @staticmethod
    def _storage_key(art: Dict[str, Any]) -> str | None:
        for kind in ("s3", "oss", "gcs", "azure", "hdfs", "artifactory", "http"):
            if kind in art and isinstance(art[kind], dict):
                return art[kind].get("key") or art[kind].get("blob") or art[kind].get("path")
        return None

    def get_input_artifact_storage_key(self, name: str) -> str | None:
        """The storage key of input artifact ``name`` (in an Argo pod)."""
        return self._storage_key(self._template_artifact("inputs", name))

    def get_output_artifact_storage_key(self, name: str) -> str | None:
        """The storage key output artifact ``name`` is saved under (in an Argo pod)."""
        art = self._template_artifact("outputs", name)
        key = self._storage_key(art)
        if key is not None:
            return key
        templ = json.loads(os.environ["ARGO_TEMPLATE"])
        base = self._storage_key(templ.get("archiveLocation") or {})
        if base is None:
            return None
        return f"{base}/{name}" if "none" in (art.get("archive") or {}) else f"{base}/{name}.tgz"

    @staticmethod
    def _s3_link(key: str | None) -> str | None:
        if key is None:
            return None
        if not key.endswith(".tgz"):
            key += "/"
        encoded = base64.b64encode(key.encode()).decode()
        return f"{s3_config['console']}/buckets/{s3_config['bucket_name']}/browse/{encoded}"

    def get_input_artifact_link(self, name: str) -> str | None:
        """A link to input artifact ``name`` in the S3 console (in an Argo pod)."""
        return self._s3_link(self.get_input_artifact_storage_key(name))

    def get_output_artifact_link(self, name: str) -> str | None:
        """A link to output artifact ``name`` in the S3 console (in an Argo pod)."""
        return self._s3_link(self.get_output_artifact_storage_key(name))

    def register_output_artifact(self, name: str, namespace: str, dataset_name: str, **kwargs: Any) -> None:
        """Register an output artifact with the configured lineage client (``config["lineage"]``)."""
        if config.get("lineage"):
            uri = self.get_output_artifact_storage_key(name)
            config["lineage"].register_artifact(namespace=namespace, name=dataset_name, uri=uri, **kwargs)
        else:
            logging.warning("Lineage client not provided")


def _resolve_annotation(annotation: Any, func: Callable) -> Any:
    if isinstance(annotation, str):  # ``from __future__ import annotations`` in the user's module
        return eval(annotation, getattr(func, "__globals__", {}))  # the user's own annotation code
    return annotation


def get_sign_from_func(func: Callable) -> Tuple[OPIOSign, OPIOSign, Callable, Callable]:
    """``(input_sign, output_sign, ret2opio, opio2ret)`` of an annotated function.

    An unannotated parameter is ``Any``; a default makes it a ``Parameter(type, default=…)`` (an
    ``Artifact`` with default ``None`` becomes optional).
    """
    signature = inspect.signature(func)
    input_sign = OPIOSign()
    for p in signature.parameters.values():
        t = Any if p.annotation is inspect.Parameter.empty else _resolve_annotation(p.annotation, func)
        if p.default is not inspect.Parameter.empty:
            if isinstance(t, Artifact):
                if p.default is None:
                    t.optional = True
            elif isinstance(t, (Parameter, BigParameter)):
                t.default = p.default
            else:
                t = Parameter(t, default=p.default)
        input_sign[p.name] = t
    ret = signature.return_annotation
    ret = None if ret is inspect.Signature.empty else _resolve_annotation(ret, func)
    output_sign, ret2opio, opio2ret = type2opiosign(ret)
    return input_sign, output_sign, ret2opio, opio2ret


def type2opiosign(t: Any) -> Tuple[OPIOSign, Callable, Callable]:
    """Output sign of a return annotation, with converters return value → OPIO and back."""
    def same(x: Any) -> Any:
        return x

    if isinstance(t, dict):
        return OPIOSign(dict(t)), same, same
    if isinstance(t, type) and issubclass(t, dict) and hasattr(t, "__annotations__"):
        return OPIOSign(typing.get_type_hints(t)), same, same
    if isinstance(t, type) and issubclass(t, tuple) and hasattr(t, "__annotations__"):
        hints = typing.get_type_hints(t)
        fields = list(hints)
        return (
            OPIOSign(hints),
            lambda x: dict(zip(fields, x)),
            lambda x: tuple(dict2list({fields.index(k): v for k, v in x.items()})),
        )
    if typing.get_origin(t) is tuple:
        args = typing.get_args(t)
        names = [f"dflow_output_{i}" for i in range(len(args))]
        return (
            OPIOSign(dict(zip(names, args))),
            lambda x: dict(zip(names, x)),
            lambda x: tuple(x[n] for n in names),
        )
    if t is not None:
        return OPIOSign({"dflow_output": t}), lambda x: {"dflow_output": x}, lambda x: x["dflow_output"]
    return OPIOSign(), lambda x: {}, lambda x: None
