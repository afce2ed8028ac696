"""``HDF5Datasets`` artifacts: many small values and files packed into one HDF5 file (needs ``h5py``).

An output typed ``Artifact(HDF5Datasets)`` may be a value, a path, or a (nested) list/dict of them;
each leaf becomes one dataset of ``<artifact>/<uuid>.h5``, named by its dotted position (``a.0``):
a file keeps its text (or bytes) and path, a directory a gzipped tar of itself, ``None`` an empty
slot, anything else its data. An input typed ``HDF5Datasets`` receives the same structure with
:class:`HDF5Dataset` leaves (``get_data()``, ``recover()``); several ``.h5`` files of one artifact are
concatenated (lists) or merged (dicts).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, List, Union

from ..storage.archive import make_tar, safe_extract
from ..storage.catalog import expand, flatten
from ..storage.links import remove_path

__all__ = ["HDF5Dataset", "write_hdf5", "read_hdf5", "is_hdf5_list"]


def _h5py() -> Any:
    try:
        # lazy: optional dependency: h5py, for HDF5Datasets artifacts only
        import h5py
    except ImportError:
        raise ImportError("HDF5Datasets artifacts need the h5py package: pip install h5py") from None
    return h5py


class HDF5Dataset:
    """One dataset of an HDF5-packed artifact, read on demand."""

    def __init__(self, file: Any, key: str) -> None:
        self.file = file
        self.key = key

    @property
    def dataset(self) -> Any:
        return self.file[self.key]

    def __deepcopy__(self, memo: Any = None) -> HDF5Dataset:
        return self

    def __repr__(self) -> str:
        return f"HDF5Dataset({self.key!r}, type={self.dataset.attrs.get('type')!r})"

    def is_none(self) -> bool:
        """Whether the slot is empty (the OP wrote ``None``)."""
        return self.dataset.attrs.get("type") == "null"

    def get_data(self) -> Any:
        """The stored value: text, bytes (files and directories), a number or an array."""
        if self.is_none():
            return None
        data = self.dataset[()]
        dtype = self.dataset.attrs.get("dtype")
        if dtype == "utf-8" and isinstance(data, bytes):
            return data.decode("utf-8")
        if dtype == "binary":
            return data.tobytes()
        return data

    def recover(self) -> Any:
        """A stored file or directory written back below the working directory (an absolute path
        loses its leading ``/``), as a ``Path``; the data of other datasets."""
        kind = self.dataset.attrs.get("type")
        if kind not in ("file", "dir"):
            return self.get_data()
        path = Path(self.dataset.attrs["path"])
        if path.is_absolute():
            path = path.relative_to(path.anchor)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.get_data()
        if kind == "file":
            if isinstance(data, str):
                path.write_text(data, encoding="utf-8")
            else:
                path.write_bytes(data)
            return path
        with tempfile.TemporaryDirectory() as tmp:
            tgz = os.path.join(tmp, "dir.tgz")
            Path(tgz).write_bytes(data)
            safe_extract(tgz, tmp)
            os.remove(tgz)
            (top,) = os.listdir(tmp)
            remove_path(str(path))
            shutil.move(os.path.join(tmp, top), path)
        return path


def _store(f: Any, key: str, value: Any, cwd: str) -> None:
    # lazy: optional dependency: numpy comes with h5py, for HDF5Datasets artifacts only
    import numpy as np

    if isinstance(value, HDF5Dataset):
        d = f.create_dataset(key, data=value.dataset[()])
        d.attrs.update(dict(value.dataset.attrs))
    elif value is None:
        f.create_dataset(key, data="").attrs["type"] = "null"
    elif isinstance(value, os.PathLike):
        full = os.path.join(cwd, os.fspath(value))
        rel = os.path.relpath(full, cwd)
        shown = rel if not rel.startswith("..") else os.path.abspath(full)
        if os.path.isdir(full):
            with tempfile.TemporaryDirectory() as tmp:
                tgz = os.path.join(tmp, "dir.tgz")
                make_tar(full, tgz)
                d = f.create_dataset(key, data=np.void(Path(tgz).read_bytes()))
            d.attrs.update(type="dir", path=shown, dtype="binary")
        elif os.path.isfile(full):
            raw = Path(full).read_bytes()
            try:
                d = f.create_dataset(key, data=raw.decode("utf-8"))
                dtype = "utf-8"
            except UnicodeDecodeError:
                d = f.create_dataset(key, data=np.void(raw))
                dtype = "binary"
            d.attrs.update(type="file", path=shown, dtype=dtype)
        else:
            raise FileNotFoundError(f"path {os.fspath(value)!r} does not exist")
    else:
        d = f.create_dataset(key, data=value)
        d.attrs["type"] = "data"
        if isinstance(value, str):
            d.attrs["dtype"] = "utf-8"


def write_hdf5(value: Any, out_dir: str, cwd: str, where: str, slices: Any = None) -> dict:
    """Pack ``value`` into a new ``.h5`` file of ``out_dir``; return its catalog item."""
    h5py = _h5py()
    if isinstance(slices, list):
        if not isinstance(value, list) or len(value) != len(slices):
            raise ValueError(f"{where}: expected one value per slice ({len(slices)}), got {value!r}")
        items = [(str(s), v) for s, v in zip(slices, value)]
        order: Any = 0
    else:
        items = list(flatten(value).items()) if isinstance(value, (list, dict)) else [("0", value)]
        order = slices or 0
    os.makedirs(out_dir, exist_ok=True)
    name = f"{uuid.uuid4()}.h5"
    with h5py.File(os.path.join(out_dir, name), "w") as f:
        for key, v in items:
            try:
                _store(f, key, v, cwd)
            except (FileNotFoundError, TypeError, ValueError) as e:
                raise type(e)(f"{where}: item {key!r}: {e}") from None
    return {"dflow_list_item": name, "order": order}


def is_hdf5_list(po: Any) -> bool:
    """Whether an assembled path object is a non-empty list of ``.h5`` files."""
    return isinstance(po, list) and bool(po) and all(isinstance(p, str) and p.endswith(".h5") for p in po)


def read_hdf5(paths: List[str]) -> Union[list, dict]:
    """The datasets of the ``.h5`` files ``paths`` as one list (all keys ``0..n-1``) or nested dict."""
    h5py = _h5py()
    res: Union[list, Dict[str, Any]] = []
    for path in paths:
        f = h5py.File(path, "r")  # kept open: datasets are read when used
        datasets = {k: (None if HDF5Dataset(f, k).is_none() else HDF5Dataset(f, k)) for k in f.keys()}
        if isinstance(res, list) and set(datasets) == {str(i) for i in range(len(datasets))}:
            res += expand(datasets) if datasets else []
        else:
            if isinstance(res, list):
                res = flatten(res)
            res.update(datasets)
    return expand(res) if isinstance(res, dict) else res
