"""Artifacts inside a Python OP step: turning an input directory into the paths the OP declared,
and the OP's returned paths into an output directory with its catalog.

An artifact directory may hold a catalog: ``<artifact>/<config["catalog_dir_name"]>/<file>`` JSON
files ``{"path_list": [{"dflow_list_item": <relative path or null>, "order": <int | "a.b.0">}]}``
(dflow's format).  The catalog says how the files assemble into a list (integer orders) or a nested
dict (dotted orders).  An artifact without a catalog (written by a shell step, uploaded by hand) is
the directory itself: ``Path`` gets the directory, ``List[Path]`` gets ``[directory]``.
"""

from __future__ import annotations

import os
from pathlib import Path, PosixPath
from typing import Any, Dict, List, Set

from ..config import config
from ..names import randstr
from ..storage.catalog import assemble_path_object, flatten, write_catalog
from ..storage.links import copy_file
from .hdf5 import is_hdf5_list, read_hdf5, write_hdf5
from .opio import Artifact, HDF5Datasets, NestedDict

__all__ = [
    "ArtifactStr", "ArtifactPosixPath", "ArtifactList", "ArtifactSet", "ArtifactDict",
    "read_input_artifact", "write_output_artifact",
]


class ArtifactStr(str):
    """An input artifact path given as ``str``; ``.art_root`` is the artifact's directory."""

    art_root: str | None = None


class ArtifactPosixPath(PosixPath):
    """An input artifact path given as ``Path``; ``.art_root`` is the artifact's directory."""

    art_root: str | None = None


class ArtifactList(list):
    """An input artifact given as a list of paths; ``.art_root`` is the artifact's directory."""

    art_root: str | None = None


class ArtifactSet(set):
    """An input artifact given as a set of paths; ``.art_root`` is the artifact's directory."""

    art_root: str | None = None


class ArtifactDict(dict):
    """An input artifact given as a dict of paths; ``.art_root`` is the artifact's directory."""

    art_root: str | None = None


_ARTIFACT_CLASSES = {str: ArtifactStr, PosixPath: ArtifactPosixPath, list: ArtifactList,
                     set: ArtifactSet, dict: ArtifactDict}


def _as_paths(obj: Any) -> Any:
    if obj is None:
        return None
    if isinstance(obj, list):
        return [_as_paths(p) for p in obj]
    if isinstance(obj, dict):
        return {k: _as_paths(p) for k, p in obj.items()}
    return Path(obj)


def _base_type(sign_type: Any) -> Any:
    """The path type of a sign (``Union[List[Path], HDF5Datasets]`` → ``List[Path]``)."""
    args = [a for a in getattr(sign_type, "__args__", ()) if a is not HDF5Datasets]
    return args[0] if HDF5Datasets in getattr(sign_type, "__args__", ()) and args else sign_type


def _slice_path_object(po: Any, slices: Any, where: str) -> Any:
    """The part of an assembled path object a sliced step takes: an index, a dotted key, or a list."""
    if isinstance(slices, list):
        return [_slice_path_object(po, s, where) for s in slices]
    try:
        if isinstance(slices, int):
            return po[slices]
        node = po
        for field in str(slices).split("."):
            node = node[int(field)] if isinstance(node, list) else node[field]
        return node
    except (IndexError, KeyError, TypeError, ValueError):
        raise IndexError(f"{where}: the artifact has no slice {slices!r}") from None


def read_input_artifact(art_path: str, sign: Artifact, where: str, slices: Any = None) -> Any:
    """The value an OP receives for the input artifact at ``art_path`` (``None`` when absent);
    ``slices`` selects the part a sliced step takes before it is shaped to ``sign.type``."""
    if not os.path.exists(art_path):
        return None
    po: Any = assemble_path_object(art_path)
    if sign.type is HDF5Datasets or (HDF5Datasets in getattr(sign.type, "__args__", ()) and (
            is_hdf5_list(po) or art_path.endswith(".h5"))):
        files = [art_path] if os.path.isfile(art_path) else [p for p in po if p is not None]
        value = read_hdf5(files)
        return _slice_path_object(value, slices, where) if slices is not None else value
    t = _base_type(sign.type)
    if slices is not None:
        po = _slice_path_object(po, slices, where)
    value: Any
    if t in (str, Path):
        if isinstance(po, str):
            value = po
        elif isinstance(po, list) and len(po) == 1 and sign.sub_path:
            value = po[0]  # the one file, or None for an empty artifact
        else:
            value = art_path
        if value is None:
            return None
        value = Path(value) if t is Path else value
    elif t in (List[str], List[Path], Set[str], Set[Path]):
        if isinstance(po, str):
            items: List[Any] = [po]
        elif not po:  # an empty catalog (a fan-out of no items) is no path; no catalog is the directory
            items = [] if _has_catalog(art_path) else [art_path]
        elif isinstance(po, list) and all(p is None or isinstance(p, str) for p in po):
            items = po
        else:
            items = list(flatten(po).values())
        if t in (List[Path], Set[Path]):
            items = _as_paths(items)
        value = set(items) if t in (Set[str], Set[Path]) else items
    elif t in (Dict[str, str], NestedDict[str], Dict[str, Path], NestedDict[Path]):
        if isinstance(po, list):
            po = {str(i): p for i, p in enumerate(po)} if po else {}
        elif isinstance(po, str):
            po = {"0": po}
        value = _as_paths(po) if t in (Dict[str, Path], NestedDict[Path]) else po
    else:
        raise TypeError(f"{where}: unsupported artifact type {t!r}")
    wrapped = _ARTIFACT_CLASSES.get(type(value), lambda x: x)(value)
    wrapped.art_root = art_path
    return wrapped


def _has_catalog(art_path: str) -> bool:
    return os.path.isdir(os.path.join(art_path, config["catalog_dir_name"]))


def _relative_target(source: str, inputs_root: str, cwd: str) -> str:
    """Where the file ``source`` goes inside an output artifact (dflow's rules): below an input
    artifact it keeps its path inside that artifact, below ``cwd`` its path relative to ``cwd``,
    elsewhere its absolute path without the leading ``/``."""
    source = os.path.abspath(source)
    inputs_root = inputs_root.rstrip("/") + "/"
    if source.startswith(inputs_root):
        rest = source[len(inputs_root):]
        _, sep, inner = rest.partition("/")
        return inner if sep and inner else randstr()
    cwd = cwd.rstrip("/") + "/"
    if source.startswith(cwd):
        return source[len(cwd):]
    return source.lstrip("/")


def _entries(value: Any, t: Any, slices: Any, where: str) -> List[tuple]:
    """``(order, path)`` pairs of an output value per its type and the step's slices."""
    if value is None:  # an empty artifact, as dflow writes it: the directory, and an empty slot for a path
        if t not in (str, Path):
            return []
        return [(o, None) for o in slices] if isinstance(slices, list) else [(0 if slices is None else slices, None)]
    if isinstance(slices, list) and (not isinstance(value, list) or len(value) != len(slices)):
        raise ValueError(f"{where}: expected one value per slice ({len(slices)}), got {value!r}")
    if t in (str, Path):
        return list(zip(slices, value)) if isinstance(slices, list) else [(0 if slices is None else slices, value)]
    if t in (List[str], List[Path], Set[str], Set[Path]):
        values = sorted(value, key=str) if isinstance(value, set) else list(value)
        if slices is None:
            return list(enumerate(values))
        if isinstance(slices, list):  # one list of paths per slice
            return [(s, p) for s, v in zip(slices, values)
                    for p in (sorted(v, key=str) if isinstance(v, set) else v or [None])]
        return [(slices, v) for v in values]
    if t in (Dict[str, str], Dict[str, Path]):
        return list(value.items())
    return list(flatten(value).items())  # NestedDict


def write_output_artifact(name: str, value: Any, sign: Artifact, out_dir: str, inputs_root: str,
                          cwd: str, where: str, slices: Any = None, subdir: str | None = None) -> List[dict]:
    """Place the OP's output ``value`` (paths, per ``sign.type``) in ``out_dir`` with a catalog.

    Returns the catalog items written. A path that does not exist is an error naming ``where``;
    ``None`` entries are kept as empty slots. ``slices`` (an int or a list) sets the orders of a
    sliced output instead of the natural ones; ``subdir`` puts the files below that directory.
    """
    if sign.type is HDF5Datasets:
        path_list = [write_hdf5(value, out_dir, cwd, where, slices)]
        write_catalog(out_dir, path_list)
        return path_list
    entries = _entries(value, _base_type(sign.type), slices, where)
    os.makedirs(out_dir, exist_ok=True)
    path_list: List[dict] = []
    for order, path in entries:
        if path is None:
            path_list.append({"dflow_list_item": None, "order": order})
            continue
        source = os.path.join(cwd, os.fspath(path))
        if not os.path.exists(source):
            raise FileNotFoundError(
                f"{where}: path {os.fspath(path)!r} does not exist (relative paths are taken from the "
                f"step's working directory {cwd})"
            )
        rel = _relative_target(source, inputs_root, cwd)
        if subdir:
            rel = f"{subdir}/{rel}"
        copy_file(source, os.path.join(out_dir, rel))
        path_list.append({"dflow_list_item": rel, "order": order})
    write_catalog(out_dir, path_list)
    return path_list
