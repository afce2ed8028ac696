"""Runtime type checks of OP inputs and outputs against their sign, and type names.

``check_value`` raises a ``TypeError`` that says where (``OP 'Add' input 'x'``), what was expected
and what was received, down to the offending element (``item 2``, ``key 'a'``).
``describe_type``/``type_from_str`` turn a type into a readable, parseable string and back.
"""

from __future__ import annotations

import ast
import builtins
import collections.abc as cabc
import importlib
import types
import typing
from pathlib import Path
from typing import Any, Optional, Union

from .optypes import HDF5Datasets, NestedDict, NestedDictBase, NestedDictPath, NestedDictStr

__all__ = ["check_value", "describe_type", "type_from_str", "short_repr"]

_NESTED_NAMES = {NestedDictStr: "NestedDict[str]", NestedDictPath: "NestedDict[pathlib.Path]"}
_SEQUENCE_ORIGINS = (list, set, frozenset, cabc.Sequence, cabc.MutableSequence, cabc.Set,
                     cabc.MutableSet, cabc.Collection, cabc.Iterable)
_MAPPING_ORIGINS = (dict, cabc.Mapping, cabc.MutableMapping)


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_union(t: Any) -> bool:
    return typing.get_origin(t) is Union or isinstance(t, types.UnionType)


def describe_type(t: Any) -> str:
    """A readable name of a type that ``type_from_str`` parses back: ``int``, ``List[str]``,
    ``Optional[Dict[str, pathlib.Path]]``, ``NestedDict[pathlib.Path]``, ``mypkg.mod.MyClass``."""
    if t is Any:
        return "Any"
    if t is None or t is type(None):
        return "None"
    if t in _NESTED_NAMES:
        return _NESTED_NAMES[t]
    if t is HDF5Datasets:
        return "HDF5Datasets"
    if _is_union(t):
        args = typing.get_args(t)
        if len(args) == 2 and type(None) in args:
            other = args[0] if args[1] is type(None) else args[1]
            return f"Optional[{describe_type(other)}]"
        return "Union[" + ", ".join(describe_type(a) for a in args) + "]"
    origin = typing.get_origin(t)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(a) for a in typing.get_args(t)) + "]"
    if origin is not None:
        name = getattr(t, "_name", None) or getattr(origin, "__name__", str(origin))
        if origin in (list, dict, set, frozenset, tuple, type) and not getattr(t, "_name", None):
            name = name.capitalize() if origin is not frozenset else "FrozenSet"
        args = typing.get_args(t)
        if not args:
            return name
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return f"Tuple[{describe_type(args[0])}, ...]"
        return f"{name}[" + ", ".join(describe_type(a) for a in args) + "]"
    if isinstance(t, type):
        if t.__module__ == "builtins":
            return t.__qualname__
        return f"{t.__module__}.{t.__qualname__}"
    if isinstance(t, typing.TypeVar):
        return "Any"
    return str(t)


_TYPING_NAMES = {
    "Any": Any, "List": typing.List, "Dict": typing.Dict, "Set": typing.Set, "Tuple": typing.Tuple,
    "FrozenSet": typing.FrozenSet, "Optional": Optional, "Union": Union, "Literal": typing.Literal,
    "Sequence": typing.Sequence, "Mapping": typing.Mapping, "Type": typing.Type,
    "NestedDict": NestedDict, "HDF5Datasets": HDF5Datasets, "None": None,
}


def type_from_str(text: str) -> Any:
    """Parse a type name written by ``describe_type`` (or dflow's ``type_to_str``) back to a type.

    Dotted names are imported (``pathlib.Path``); no expression is evaluated.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"type_from_str: {text!r} is not a type name") from e
    return _build_type(tree.body, text)


def _build_type(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.Constant) and (node.value is None or node.value is Ellipsis):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, bool)):
        return node.value  # Literal arguments
    if isinstance(node, ast.Name):
        if node.id in _TYPING_NAMES:
            return _TYPING_NAMES[node.id]
        if hasattr(builtins, node.id) and isinstance(getattr(builtins, node.id), type):
            return getattr(builtins, node.id)
        raise ValueError(f"type_from_str: unknown name {node.id!r} in {text!r}")
    if isinstance(node, ast.Attribute):
        dotted = ast.unparse(node)
        if dotted.startswith("typing."):
            return _build_type(ast.Name(id=dotted[len("typing."):]), text)
        module, _, name = dotted.rpartition(".")
        while module:
            try:
                obj: Any = importlib.import_module(module)
            except ImportError:
                module, _, head = module.rpartition(".")
                name = f"{head}.{name}"
                continue
            for part in name.split("."):
                obj = getattr(obj, part)
            return obj
        raise ValueError(f"type_from_str: cannot import {dotted!r} in {text!r}")
    if isinstance(node, ast.Subscript):
        base = _build_type(node.value, text)
        sl = node.slice
        args = tuple(_build_type(e, text) for e in sl.elts) if isinstance(sl, ast.Tuple) else (
            _build_type(sl, text),)
        if base is NestedDict:
            return NestedDict[args[0]]
        return base[args if len(args) > 1 else args[0]]
    raise ValueError(f"type_from_str: unsupported syntax in {text!r}")


def check_value(value: Any, expected: Any, where: str) -> None:
    """Raise ``TypeError`` unless ``value`` is of type ``expected``.

    ``where`` names the place, e.g. ``"OP 'Add' input 'x'"``; the message adds the expected type,
    the received type and value, and the path to a wrong element inside a container.
    """
    problem = _mismatch(value, expected)
    if problem is not None:
        raise TypeError(f"{where}: expected {describe_type(expected)}, got {problem}")


def _got(value: Any) -> str:
    return f"{type(value).__name__} {short_repr(value)}"


def _mismatch(value: Any, t: Any) -> str | None:  # noqa: C901 - one branch per typing form
    """``None`` when ``value`` matches ``t``, else a description of what was received."""
    if t is Any or t is object or isinstance(t, typing.TypeVar) or t is HDF5Datasets:
        return None
    if t is None or t is type(None):
        return None if value is None else _got(value)
    if isinstance(t, typing.NewType):
        return _mismatch(value, t.__supertype__)
    if _is_union(t):
        if any(_mismatch(value, a) is None for a in typing.get_args(t)):
            return None
        return _got(value)
    if isinstance(t, type) and issubclass(t, NestedDictBase):
        leaf = str if t is NestedDictStr else Path
        return _nested_mismatch(value, leaf)
    origin = typing.get_origin(t)
    if origin is typing.Annotated:
        return _mismatch(value, typing.get_args(t)[0])
    if origin is typing.Literal:
        return None if value in typing.get_args(t) else _got(value)
    if origin is not None:
        return _generic_mismatch(value, t, origin)
    if t is float:
        return None if isinstance(value, (int, float)) else _got(value)
    if t is complex:
        return None if isinstance(value, (int, float, complex)) else _got(value)
    if isinstance(t, type):
        if typing.is_typeddict(t):
            return _typeddict_mismatch(value, t)
        return None if isinstance(value, t) else _got(value)
    return None  # a form we do not know how to check (string annotations, …): accept


def _generic_mismatch(value: Any, t: Any, origin: Any) -> str | None:
    args = typing.get_args(t)
    if origin is type:
        return None if isinstance(value, type) else _got(value)
    if origin in (cabc.Callable,):
        return None if callable(value) else _got(value)
    if isinstance(origin, type) and not isinstance(value, origin):
        return _got(value)
    if origin is tuple:
        if not args:
            return None
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif args == ((),):
            args = ()
        if len(args) != len(value):
            return f"a tuple of {len(value)} items {short_repr(value)} ({len(args)} expected)"
        for i, (item, a) in enumerate(zip(value, args)):
            inner = _mismatch(item, a)
            if inner is not None:
                return f"item {i}: {inner}"
        return None
    if origin in _MAPPING_ORIGINS and args:
        kt, vt = args
        for k, v in value.items():
            inner = _mismatch(k, kt)
            if inner is not None:
                return f"key {short_repr(k)}: {inner}"
            inner = _mismatch(v, vt)
            if inner is not None:
                return f"value of key {short_repr(k)}: {inner}"
        return None
    if origin in _SEQUENCE_ORIGINS and args and not isinstance(value, (str, bytes)):
        for i, item in enumerate(value):
            inner = _mismatch(item, args[0])
            if inner is not None:
                return f"item {i}: {inner}"
        return None
    return None


def _typeddict_mismatch(value: Any, t: type) -> str | None:
    if not isinstance(value, dict):
        return _got(value)
    hints = typing.get_type_hints(t)
    required = getattr(t, "__required_keys__", frozenset(hints))
    for k in required:
        if k not in value:
            return f"a dict without key {k!r}"
    for k, v in value.items():
        if k in hints:
            inner = _mismatch(v, hints[k])
            if inner is not None:
                return f"value of key {k!r}: {inner}"
    return None


def _nested_mismatch(value: Any, leaf: type) -> str | None:
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return _got(value)
    for k, v in items:
        if isinstance(v, (dict, list)):
            inner = _nested_mismatch(v, leaf)
        elif v is None or isinstance(v, leaf):
            inner = None
        else:
            inner = _got(v)
        if inner is not None:
            return f"at {short_repr(k)}: {inner}"
    return None
