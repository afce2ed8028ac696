"""The signature of an OP: ``OPIOSign`` maps names to types, ``OPIO`` maps names to values.

A sign value is a plain type (``int``, ``List[str]``…), a ``Parameter`` (a type with a default or a
description), a ``BigParameter`` (a value passed as a file rather than inline) or an ``Artifact``
(files: ``Path``, ``List[Path]``, ``Dict[str, Path]``, ``NestedDict[Path]``, their ``str`` forms).
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Dict, Iterator, List, Set, Union

from ..config import config
from .hdf5 import HDF5Dataset  # dflow keeps the dataset class in this module too
from .optypes import HDF5Datasets, NestedDict, NestedDictBase, NestedDictPath, NestedDictStr  # noqa: F401  (opio exports them)
from .typecheck import describe_type, type_from_str

__all__ = [
    "OPIO",
    "OPIOSign",
    "Artifact",
    "Parameter",
    "BigParameter",
    "NestedDict",
    "HDF5Datasets",
    "HDF5Dataset",
    "ARTIFACT_TYPES",
]


_BASE_ARTIFACT_TYPES: List[Any] = [
    str, Path, Set[str], Set[Path], List[str], List[Path], Dict[str, str], Dict[str, Path],
    NestedDict[str], NestedDict[Path],
]
#: Every type an ``Artifact`` may declare.
ARTIFACT_TYPES: List[Any] = (
    _BASE_ARTIFACT_TYPES + [Union[t, HDF5Datasets] for t in _BASE_ARTIFACT_TYPES] + [HDF5Datasets]
)


def _json_or_repr(value: Any) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _type_str(t: Any) -> str:
    return describe_type(t)


class _SignBase:
    """Shared ``to_dict``/``from_dict``/``repr`` of ``Parameter`` and ``BigParameter``."""

    type: Any

    def _repr_fields(self) -> str:
        default = f", default={_json_or_repr(self.default)}" if hasattr(self, "default") else ""
        return f"type={_type_str(self.type)}{default}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repr_fields()})"

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> Any:
        """Rebuild a sign from ``to_dict()`` output (``type`` may be a dflow type string)."""
        d = dict(d)
        if isinstance(d.get("type"), str):
            d["type"] = type_from_str(d["type"])
        return cls(**d)


class Parameter(_SignBase):
    """Sign of a parameter: its ``type``, and optionally ``default``, ``description``, ``global_name``.

    Args:
        type: the Python type of the value (``int``, ``List[str]``, ``Optional[dict]``, …)
        global_name: publish this output parameter as a workflow global under that name
        **kwargs: ``default=`` (makes the input optional), ``description=``, any other attribute
    """

    def __init__(self, type: Any, global_name: str | None = None, **kwargs: Any) -> None:
        self.type = type
        self.global_name = global_name
        for k, v in kwargs.items():
            setattr(self, k, v)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-friendly dict: ``type`` (as a string), ``global_name``, ``default`` when set."""
        d: Dict[str, Any] = {"type": _type_str(self.type), "global_name": self.global_name}
        if hasattr(self, "default"):
            d["default"] = self.default
        if getattr(self, "description", None) is not None:
            d["description"] = self.description
        return d


class BigParameter(_SignBase):
    """Sign of a parameter too large to travel inline: it is passed to the step as a file.

    Args:
        type: the Python type of the value
        **kwargs: ``default=``, ``description=``, any other attribute
    """

    def __init__(self, type: Any, **kwargs: Any) -> None:
        self.type = type
        for k, v in kwargs.items():
            setattr(self, k, v)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-friendly dict: ``type`` (as a string) and ``default`` when set."""
        d: Dict[str, Any] = {"type": _type_str(self.type)}
        if hasattr(self, "default"):
            d["default"] = self.default
        if getattr(self, "description", None) is not None:
            d["description"] = self.description
        return d


class Artifact:
    """Sign of an artifact: files or directories handed between steps.

    Args:
        type: one of ``str``, ``Path``, ``List[str]``, ``List[Path]``, ``Set[str]``, ``Set[Path]``,
            ``Dict[str, str]``, ``Dict[str, Path]``, ``NestedDict[str]``, ``NestedDict[Path]``
        archive: compression of an output artifact (``"default"``: ``config["archive_mode"]``;
            ``None``: no archive)
        save: extra places to store an output artifact
        optional: an input artifact that may be absent (the OP then receives ``None``)
        global_name: publish this output artifact as a workflow global under that name
        sub_path: with a single-file artifact, hand the OP that file rather than the directory
    """

    def __init__(
        self,
        type: Any,
        archive: str | None = "default",
        save: List[Any] | None = None,
        optional: bool = False,
        global_name: str | None = None,
        sub_path: bool = True,
        **kwargs: Any,
    ) -> None:
        self.type = type
        if archive == "default":
            archive = config["archive_mode"]
        self.archive = archive
        self.save = save
        self.optional = optional
        self.global_name = global_name
        self.sub_path = sub_path
        for k, v in kwargs.items():
            setattr(self, k, v)

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "type" and value not in ARTIFACT_TYPES:
            allowed = ", ".join(_type_str(t) for t in _BASE_ARTIFACT_TYPES)
            raise TypeError(
                f"Artifact(type={_type_str(value)}): not an artifact type; use one of {allowed} "
                "(optionally in a Union with HDF5Datasets)"
            )
        super().__setattr__(key, value)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-friendly dict of the sign (``type`` as a string)."""
        return {
            "type": _type_str(self.type),
            "archive": self.archive,
            "save": self.save,
            "optional": self.optional,
            "global_name": self.global_name,
            "sub_path": self.sub_path,
        }

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> Artifact:
        """Rebuild an ``Artifact`` from ``to_dict()`` output."""
        d = dict(d)
        if isinstance(d.get("type"), str):
            by_name = {_type_str(t): t for t in ARTIFACT_TYPES}
            if d["type"] not in by_name:
                raise TypeError(f"Artifact.from_dict: {d['type']!r} is not an artifact type")
            d["type"] = by_name[d["type"]]
        return cls(**d)

    def __repr__(self) -> str:
        return f"Artifact(type={_type_str(self.type)}, optional={self.optional}, sub_path={self.sub_path})"


class _NamedMap(MutableMapping):
    """A dict-like mapping with a plain ``repr``: the shared body of ``OPIO`` and ``OPIOSign``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._data: Dict[str, Any] = dict(*args, **kwargs)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return repr(self._data)


class OPIOSign(_NamedMap):
    """The signature of an OP's inputs or outputs: name → type, ``Parameter``, ``BigParameter`` or
    ``Artifact``."""


class OPIO(_NamedMap):
    """The inputs or outputs of an OP: name → value (artifacts are paths)."""
