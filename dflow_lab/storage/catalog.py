"""Artifact catalogs: how the files of an artifact assemble into a list or a nested dict of paths.

A catalog is one or more JSON files ``<artifact>/<config["catalog_dir_name"]>/<uuid>`` (``.dflow``
by default), each ``{"path_list": [{"dflow_list_item": <relative path | null>, "order": <int | "a.b">}]}``
as dflow writes them. Integer orders make a list; dotted string orders a nested dict (see
:func:`expand`). Catalogs of merged artifacts are merged item by item (:func:`append_item`).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from typing import Any, Dict, List, Union

from ..config import config

__all__ = [
    "flatten",
    "expand",
    "dict2list",
    "append_item",
    "read_catalog_file",
    "write_catalog",
    "catalog_of_local_artifact",
    "assemble_path_object_from_catalog",
    "assemble_path_object",
    "convert_dflow_list",
    "remove_empty_dir_tag",
]


def flatten(d: Union[list, dict]) -> Dict[str, Any]:
    """Nested lists/dicts to one flat dict with dotted keys: ``{"a": [x]}`` → ``{"a.0": x}``."""
    flat: Dict[str, Any] = {}

    def walk(obj: Any, prefix: str) -> None:
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        for k, v in items:
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, (list, dict)):
                walk(v, key)
            else:
                flat[key] = v

    walk(d, "")
    return flat


def dict2list(d: dict) -> Union[list, dict]:
    """A dict whose keys are all integers (or digit strings) to a list, recursively; missing
    indices become ``None``. Other dicts come back with their values converted."""
    for k, v in d.items():
        if isinstance(v, dict):
            d[k] = dict2list(v)
    try:
        indexed = {int(k): v for k, v in d.items()}
    except (TypeError, ValueError):
        return d
    if not indexed or min(indexed) < 0:
        return d
    out: List[Any] = [None] * (max(indexed) + 1)
    for i, v in indexed.items():
        out[i] = v
    return out


def expand(d: Dict[str, Any]) -> Union[list, dict]:
    """The inverse of :func:`flatten`: dotted keys to nested dicts, integer levels to lists."""
    nested: Dict[str, Any] = {}
    for k, v in d.items():
        fields = str(k).split(".")
        node = nested
        for field in fields[:-1]:
            node = node.setdefault(field, {})
        node[fields[-1]] = v
    return dict2list(nested)


def append_item(catalog: List[dict], item: dict) -> None:
    """Merge one catalog item into ``catalog``: duplicates are dropped and, for one order, a
    path wins over an empty (``None``) slot."""
    for existing in catalog:
        if existing == item:
            return
        if existing["order"] == item["order"]:
            if existing["dflow_list_item"] is None:
                existing["dflow_list_item"] = item["dflow_list_item"]
                return
            if item["dflow_list_item"] is None:
                return
    catalog.append(item)


def read_catalog_file(text: str, where: str) -> List[dict]:
    """The items of one catalog file's text; a malformed file is an error naming ``where``."""
    try:
        items = json.loads(text)["path_list"]
        if not all(isinstance(i, dict) and "order" in i and "dflow_list_item" in i for i in items):
            raise ValueError("items need 'order' and 'dflow_list_item'")
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"catalog file {where} is not a dflow catalog: {e}") from None
    return items


def write_catalog(art_dir: str, path_list: List[dict]) -> str:
    """Write ``path_list`` as a new catalog file of the artifact directory ``art_dir``; return its path."""
    catalog_dir = os.path.join(art_dir, config["catalog_dir_name"])
    os.makedirs(catalog_dir, exist_ok=True)
    path = os.path.join(catalog_dir, str(uuid.uuid4()))
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"path_list": path_list}, f)
    return path


def catalog_of_local_artifact(art_path: str, remove: bool = False) -> List[dict]:
    """The merged catalog of the artifact directory ``art_path`` (``[]`` without one);
    ``remove`` deletes the catalog directory afterwards."""
    catalog: List[dict] = []
    catalog_dir = os.path.join(art_path, config["catalog_dir_name"])
    if os.path.isdir(catalog_dir):
        for name in sorted(os.listdir(catalog_dir)):
            path = os.path.join(catalog_dir, name)
            with open(path, encoding="utf-8") as f:
                for item in read_catalog_file(f.read(), path):
                    append_item(catalog, item)
        if remove:
            shutil.rmtree(catalog_dir)
    return catalog


def assemble_path_object_from_catalog(catalog: List[dict], art_path: str | None = None) -> Union[list, dict]:
    """A list (integer orders) or nested dict (dotted orders) of the catalog's paths, joined to
    ``art_path`` when given (``None`` stays for empty slots)."""
    if not catalog:
        return []

    def full(rel: str | None) -> str | None:
        return os.path.join(art_path, rel) if art_path is not None and rel is not None else rel

    if all(isinstance(item["order"], int) for item in catalog):
        return [full(p) for p in convert_dflow_list(catalog)]
    return expand({str(item["order"]): full(item["dflow_list_item"]) for item in catalog})


def assemble_path_object(art_path: str, remove: bool = False) -> Union[list, dict]:
    """The paths of the local artifact ``art_path`` as its catalog arranges them (``[]`` without one)."""
    return assemble_path_object_from_catalog(catalog_of_local_artifact(art_path, remove=remove), art_path)


def convert_dflow_list(dflow_list: List[dict]) -> List[str | None]:
    """The relative paths of catalog items, in order (sorts ``dflow_list`` in place, as dflow)."""
    dflow_list.sort(key=lambda x: x["order"])
    return [x["dflow_list_item"] for x in dflow_list]


def remove_empty_dir_tag(path: str) -> None:
    """Delete the ``.empty_dir`` placeholder files dflow puts in empty directories."""
    for dirpath, _dirs, files in os.walk(path, followlinks=True):
        if ".empty_dir" in files:
            os.remove(os.path.join(dirpath, ".empty_dir"))
