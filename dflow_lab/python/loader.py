"""Loading the OP a step runs: imported from its module, or defined from embedded source.

Embedded sources are executed once per process and cached by their SHA-256, each in its own module
object (``dflow_lab_op_<hash>``, registered in ``sys.modules`` so that its classes pickle), so a warm
worker running the same OP many times defines it once. An OP's module is imported once too, and
reloaded when its file changed since (an edited module in a long notebook session).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import linecache
import os
import sys
import types
from typing import Any, Dict

__all__ = ["load_source", "load_op", "op_object"]

_SOURCE_MODULES: Dict[str, types.ModuleType] = {}
_MODULE_STAMPS: Dict[str, Any] = {}


def _source_module(source: str) -> types.ModuleType:
    digest = hashlib.sha256(source.encode()).hexdigest()
    mod = _SOURCE_MODULES.get(digest)
    if mod is None:
        name = f"dflow_lab_op_{digest[:16]}"
        filename = f"<dflow-lab embedded OP {digest[:16]}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        mod = types.ModuleType(name)
        mod.__file__ = filename
        sys.modules[name] = mod
        try:
            exec(compile(source, filename, "exec"), mod.__dict__)  # the OP's own code, from its template
        except BaseException:
            del sys.modules[name]
            raise
        _SOURCE_MODULES[digest] = mod
    return mod


def load_source(source: str, name: str) -> Any:
    """Define the embedded ``source`` (once per process) and return its top-level ``name``."""
    mod = _source_module(source)
    if name not in vars(mod):
        raise NameError(f"the embedded source of OP {name!r} does not define {name!r}")
    return vars(mod)[name]


def _fresh(mod: types.ModuleType) -> types.ModuleType:
    """``mod``, reloaded if its file changed since this process last ran an OP from it (a warm
    worker outlives edits made in a notebook session)."""
    file = getattr(mod, "__file__", None)
    try:
        stamp = os.stat(file).st_mtime_ns if file else None
    except OSError:
        return mod
    seen = _MODULE_STAMPS.get(mod.__name__)
    if seen is not None and stamp != seen:
        try:  # the bytecode cache checks whole seconds and the size: an edit within a second is missed
            os.remove(importlib.util.cache_from_source(file))
        except (OSError, NotImplementedError, ValueError):
            pass
        mod = importlib.reload(mod)
    _MODULE_STAMPS[mod.__name__] = stamp
    return mod


def load_op(op_spec: Dict[str, Any], use_path: bool = True) -> Any:
    """The class, function or OP instance an OP spec names (``module``+``qualname`` or ``source``).

    When the module is not importable and the spec records the directory it was imported from on
    the host that built the template (``path``), that directory is put on ``sys.path`` (unless
    ``use_path`` is false: parsing a manifest imports only modules already importable here)."""
    if op_spec.get("source") is not None:
        return load_source(op_spec["source"], op_spec["name"])
    module = op_spec["module"]
    try:
        obj: Any = importlib.import_module(module)
    except ModuleNotFoundError as e:
        path = op_spec.get("path")
        if e.name != module.split(".")[0] or not use_path or not path or not os.path.isdir(path):
            raise ModuleNotFoundError(
                f"{e}: OP {op_spec['qualname']!r} cannot be imported in this step; install its module in "
                "the image or pass its package in PythonOPTemplate(python_packages=[...])", name=e.name) from e
        sys.path.insert(0, path)  # the local engine, on the host the OP was defined on
        obj = importlib.import_module(module)
    obj = _fresh(obj)
    for part in op_spec["qualname"].split("."):
        obj = getattr(obj, part)
    return obj


def op_object(loaded: Any, state: Any = None) -> Any:
    """An OP instance from what ``load_op`` returned: a class is instantiated (with its recorded
    instance ``state``, if any), a plain function wrapped with ``OP.function``, an OP kept."""
    from .op import OP  # lazy: op imports this module (OP.from_graph loads embedded source through it)

    if isinstance(loaded, OP):
        return loaded
    if isinstance(loaded, type) and issubclass(loaded, OP):
        if state is None:
            return loaded()
        obj = loaded.__new__(loaded)
        vars(obj).update(state)
        return obj
    if callable(loaded):
        return OP.function(loaded)
    raise TypeError(f"{loaded!r} is not an OP class, an OP or a function")
