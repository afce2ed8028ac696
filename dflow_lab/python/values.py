"""Parameter values as the strings a manifest carries, and back (see docs/internals.md).

``encode_value`` writes a ``str`` as is and anything else as JSON; sets, tuples and paths travel
as JSON lists and strings.  Only when JSON cannot carry a value is it written with ``jsonpickle``,
and ``decode_value`` unpickles only when the sign's type is a class JSON cannot represent: a value
typed ``int``, ``List[str]``, ``dict``, ``Any``… is parsed as JSON and never instantiates objects.
After parsing, the value is shaped to the sign (JSON lists to tuples/sets, strings to ``Path``,
string keys of ``Dict[int, …]`` to ints) so that the type check sees what the OP declared.
"""

from __future__ import annotations

import collections.abc as cabc
import json
import typing
from pathlib import Path, PurePath
from typing import Any, Union

import jsonpickle

from .typecheck import _mismatch, describe_type

__all__ = ["encode_value", "decode_value", "is_json_type", "ValueDecodeError"]

_JSON_SCALARS = (str, int, float, bool, type(None))


class ValueDecodeError(ValueError):
    """A parameter's text is not a value of its declared type."""


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (set, frozenset)):
        try:
            return sorted(obj)
        except TypeError:
            return list(obj)
    if isinstance(obj, PurePath):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def encode_value(value: Any, type: Any = None) -> str:
    """The manifest string of a parameter value: ``str`` raw, JSON otherwise, jsonpickle last.

    ``type`` is the declared type when known; a ``str`` value of a non-``str`` declared type is
    taken to be JSON text already (an expression, ``"[1, 2]"`` written by hand) and kept as is.
    """
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=_json_default)
    except (TypeError, ValueError):
        return jsonpickle.encode(value, keys=True)


def is_json_type(t: Any) -> bool:
    """Whether values of type ``t`` are carried by JSON (scalars, containers of them, ``Path``,
    ``Any``); other classes need jsonpickle."""
    if t is Any or t is object or t is None or isinstance(t, typing.TypeVar):
        return True
    if isinstance(t, type) and (issubclass(t, _JSON_SCALARS) or issubclass(t, PurePath)):
        return True
    if isinstance(t, type) and typing.is_typeddict(t):
        return all(is_json_type(v) for v in typing.get_type_hints(t).values())
    origin = typing.get_origin(t)
    if origin is typing.Literal:
        return True
    if origin is typing.Annotated:
        return is_json_type(typing.get_args(t)[0])
    if origin is not None:
        if isinstance(origin, type) and not issubclass(
            origin, (list, tuple, set, frozenset, dict, cabc.Sequence, cabc.Mapping)
        ) and origin is not Union:
            return False
        return all(a is Ellipsis or is_json_type(a) for a in typing.get_args(t))
    if isinstance(t, type):
        return issubclass(t, (list, tuple, set, frozenset, dict))
    return True


def decode_value(text: str, type: Any, where: str) -> Any:
    """Parse a parameter's manifest text per its declared ``type`` (``where`` names it in errors)."""
    if type is str:
        return text
    if not is_json_type(type):
        try:
            return jsonpickle.decode(text, keys=True, safe=True)
        except Exception as e:
            raise ValueDecodeError(f"{where}: cannot decode {text[:80]!r} as {type!r}: {e}") from e
    try:
        value = json.loads(text)
    except ValueError:
        if _accepts_str(type):
            return shape_value(text, type)
        raise ValueDecodeError(
            f"{where}: expected {describe_type(type)}, got text {text[:80]!r} that is not JSON"
        ) from None
    value = shape_value(value, type)
    if not isinstance(value, str) and _accepts_str(type) and type is not Any:
        if _mismatch(value, type) is not None:  # "123" given to an Optional[str]: the text itself
            return shape_value(text, type)
    return value


def _accepts_str(t: Any) -> bool:
    if t is Any or t is object or t is str:
        return True
    if typing.get_origin(t) is Union:
        return any(_accepts_str(a) for a in typing.get_args(t))
    return isinstance(t, type) and issubclass(t, PurePath)


def shape_value(value: Any, t: Any) -> Any:
    """Turn JSON-decoded ``value`` into the shape ``t`` declares (tuples, sets, paths, int keys)."""
    if value is None:
        return None
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if isinstance(t, type) and issubclass(t, PurePath) and isinstance(value, str):
        return Path(value)
    if t in (tuple, set, frozenset) and isinstance(value, list):
        return t(value)
    if origin is Union:
        for a in args:
            shaped = shape_value(value, a)
            if _mismatch(shaped, a) is None:
                return shaped
        return value
    if origin in (list, cabc.Sequence, cabc.MutableSequence) and args and isinstance(value, list):
        return [shape_value(v, args[0]) for v in value]
    if origin in (set, frozenset) and isinstance(value, list):
        return origin(shape_value(v, args[0]) if args else v for v in value)
    if origin is tuple and isinstance(value, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(shape_value(v, args[0]) for v in value)
        if args and len(args) == len(value):
            return tuple(shape_value(v, a) for v, a in zip(value, args))
        return tuple(value)
    if origin in (dict, cabc.Mapping, cabc.MutableMapping) and len(args) == 2 and isinstance(value, dict):
        kt, vt = args
        return {_shape_key(k, kt): shape_value(v, vt) for k, v in value.items()}
    return value


def _shape_key(k: str, kt: Any) -> Any:
    if kt in (int, float) and isinstance(k, str):
        try:
            return kt(k)
        except ValueError:
            return k
    return k
