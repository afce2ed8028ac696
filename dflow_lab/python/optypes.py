"""The artifact type markers of OP signatures: ``NestedDict[str]``/``NestedDict[Path]`` and
``HDF5Datasets`` (re-exported by ``dflow_lab.python.opio``, where dflow keeps them).

Kept apart from ``opio.py`` so that ``typecheck.py`` (which ``opio`` uses to describe and parse types)
can name them without importing ``opio``. Imports nothing of dflow-lab.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

__all__ = ["NestedDictBase", "NestedDictStr", "NestedDictPath", "NestedDict", "HDF5Datasets"]


class NestedDictBase:
    """Marker base of the ``NestedDict[...]`` artifact types."""


class NestedDictStr(NestedDictBase):
    """``NestedDict[str]``: nested dicts/lists whose leaves are path strings."""


class NestedDictPath(NestedDictBase):
    """``NestedDict[Path]``: nested dicts/lists whose leaves are ``Path`` objects."""


#: ``NestedDict[str]`` and ``NestedDict[Path]``, as in dflow (a dict indexed by the leaf type).
NestedDict: Dict[type, type] = {str: NestedDictStr, Path: NestedDictPath}


class HDF5Datasets:
    """Artifact type of values and files packed into HDF5 files (see ``dflow_lab.python.hdf5``;
    needs ``h5py``)."""
