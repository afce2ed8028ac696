"""General helpers of the dflow API (``dflow.utils``).

The artifact and storage half of this module (upload/download, S3 helpers, catalogs) lives in
``dflow_lab.storage`` and is re-exported here under dflow's names.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import inspect
import logging
import os
import pkgutil
import subprocess
from pathlib import Path, WindowsPath
from typing import Any, List, Optional, Tuple, Union

from .common import S3Artifact, jsonpickle
from .names import randstr  # noqa: F401  (dflow.utils exports it)
from .storage.artifacts import (
    catalog_of_artifact,
    copy_s3,
    copy_to_key,
    download_artifact,
    download_s3,
    get_key,
    get_md5,
    path_list_of_artifact,
    path_object_of_artifact,
    set_key,
    upload_paths,
    upload_s3,
)
from .storage.catalog import (
    assemble_path_object,
    assemble_path_object_from_catalog,
    catalog_of_local_artifact,
    convert_dflow_list,
    dict2list,
    expand,
    flatten,
    remove_empty_dir_tag,
)
from .storage.client import StorageClient
from .storage.links import copy_file, force_move, linktree, merge_dir

__all__ = [
    "randstr", "set_directory", "run_command",
    # artifacts and storage (dflow_lab.storage)
    "StorageClient", "upload_artifact", "download_artifact", "copy_artifact",
    "upload_s3", "download_s3", "copy_s3", "catalog_of_artifact", "path_list_of_artifact",
    "path_object_of_artifact", "catalog_of_local_artifact", "assemble_path_object",
    "assemble_path_object_from_catalog", "convert_dflow_list", "flatten", "expand", "dict2list",
    "remove_empty_dir_tag", "get_key", "set_key", "get_md5", "copy_file", "force_move", "linktree",
    "merge_dir",
    "ArtifactWindowsPath",
    # code generation and plug-in helpers
    "Variable", "evalable_repr", "find_subclass", "subclass_or_none", "ProcessPoolExecutor",
]

_LAZY = {  # imported on first use (these modules import this one, or pull in minio)
    "ArtifactStr": "python.artifacts",
    "ArtifactPosixPath": "python.artifacts",
    "ArtifactList": "python.artifacts",
    "ArtifactSet": "python.artifacts",
    "ArtifactDict": "python.artifacts",
    "MinioClient": "storage.minio_client",
}
__all__ += sorted(_LAZY)  # the path types an OP receives, from dflow_lab.python.artifacts


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")



def upload_artifact(
    path: Union[os.PathLike, str, List[Any], set, dict],
    archive: Optional[str] = "default",
    namespace: Optional[str] = None,
    dataset_name: Optional[str] = None,
    **kwargs: Any,
) -> S3Artifact:
    """Upload local files and directories as one artifact; return its :class:`S3Artifact`.

    ``path`` is a path, a list or set of paths, or a (nested) dict of paths; the artifact keeps each
    path's layout relative to the current directory (paths elsewhere keep their absolute layout
    without the leading ``/``) and a catalog (``.dflow``) that rebuilds the list or dict on
    download. ``archive`` is ``"tar"``, ``None``, or ``"default"`` (``config["archive_mode"]``).
    ``key``/``prefix``/``storage_client``/connection arguments are passed to :func:`upload_s3`.
    The upload itself: :func:`dflow_lab.storage.artifacts.upload_paths`.
    """
    key, path_list, urn = upload_paths(path, archive=archive, namespace=namespace, dataset_name=dataset_name,
                                       **kwargs)
    artifact = S3Artifact(key=key, path_list=path_list)
    artifact.urn = urn
    return artifact


def copy_artifact(src: Any, dst: Any, sort: bool = False, **kwargs: Any) -> S3Artifact:
    """Copy the artifact ``src`` into ``dst`` on the store side; return ``S3Artifact(dst key)``.

    With ``sort``, ``src``'s catalog items are renumbered after ``dst``'s, so the merged artifact
    lists ``dst``'s paths first, then ``src``'s.
    """
    return S3Artifact(key=copy_to_key(src, dst, sort=sort, **kwargs))


@contextlib.contextmanager
def set_directory(dirname: os.PathLike, mkdir: bool = False):
    """Change the working directory within a ``with`` block; yields the absolute path."""
    pwd = os.getcwd()
    path = Path(dirname).resolve()
    if mkdir:
        path.mkdir(exist_ok=True, parents=True)
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(pwd)


def run_command(
    cmd: Union[List[str], str],
    raise_error: bool = True,
    input: Optional[str] = None,
    try_bash: bool = False,
    interactive: bool = True,
    print_oe: bool = False,
    **kwargs,
) -> Tuple[int, str, str]:
    """Run a command in a subprocess and return ``(return_code, stdout, stderr)``.

    A string command runs through ``bash`` when ``try_bash`` and bash exists, else ``sh``.
    With ``raise_error`` a non-zero exit raises ``AssertionError`` with the command and its stderr.
    """
    if isinstance(cmd, str):
        shell = "/bin/bash" if try_bash and os.path.exists("/bin/bash") else "/bin/sh"
        cmd = [shell, "-c", cmd]
    proc = subprocess.run(
        cmd,
        input=input,
        capture_output=True,
        text=True,
        **kwargs,
    )
    if print_oe:
        print(proc.stdout, end="")
        print(proc.stderr, end="")
    if raise_error and proc.returncode != 0:
        raise AssertionError(
            f"command {cmd} failed with exit code {proc.returncode}:\n{proc.stderr}"
        )
    return proc.returncode, proc.stdout, proc.stderr


class ArtifactWindowsPath(WindowsPath):
    """An input artifact path on Windows (only constructible there, as ``pathlib.WindowsPath``)."""

    art_root: Optional[str] = None


class Variable:
    """A Python expression kept as source text by :func:`evalable_repr`."""

    def __init__(self, expr: str) -> None:
        self.expr = expr

    def evalable_repr(self, imports: set) -> str:
        """The expression itself."""
        return self.expr


def evalable_repr(obj: Any, imports: set) -> str:
    """Python source that evaluates to ``obj``; ``imports`` collects the ``(module, name)`` pairs it
    needs. Objects with an ``evalable_repr`` method render themselves; others go through jsonpickle."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return repr(obj)
    if isinstance(obj, list):
        return "[" + ", ".join(evalable_repr(i, imports) for i in obj) + "]"
    if isinstance(obj, set):
        return "{" + ", ".join(evalable_repr(i, imports) for i in obj) + "}" if obj else "set()"
    if isinstance(obj, dict):
        items = (f"{evalable_repr(k, imports)}: {evalable_repr(v, imports)}" for k, v in obj.items())
        return "{" + ", ".join(items) + "}"
    if hasattr(obj, "evalable_repr"):
        return obj.evalable_repr(imports)
    imports.add(("dflow_lab.common", "jsonpickle"))
    return f"jsonpickle.loads({jsonpickle.dumps(obj)!r})"


def subclass_or_none(m: Any, cls: type) -> Optional[type]:
    """``m`` if it is a proper subclass of ``cls``, ``type(m)`` if it is an instance of one, else ``None``."""
    if inspect.isclass(m) and issubclass(m, cls) and m is not cls:
        return m
    if isinstance(m, cls) and type(m) is not cls:
        return type(m)
    return None


def find_subclass(pkg: Any, cls: type) -> List[type]:
    """The proper subclasses of ``cls`` found in the module or package ``pkg`` (and its submodules)."""
    found: List[type] = []

    def scan(mod: Any) -> None:
        for _, m in inspect.getmembers(mod):
            sub = subclass_or_none(m, cls)
            if sub is not None and sub not in found:
                found.append(sub)

    scan(pkg)
    for info in pkgutil.walk_packages(getattr(pkg, "__path__", []), prefix=pkg.__name__ + "."):
        try:
            scan(__import__(info.name, fromlist=["_"]))
        except Exception as e:  # a submodule that does not import is skipped, as dflow does
            logging.getLogger("dflow_lab").warning("find_subclass: cannot inspect %s: %s", info.name, e)
    return found


class ProcessPoolExecutor(concurrent.futures.ProcessPoolExecutor):
    """A process pool whose ``with`` block does not wait for running tasks on exit (as dflow's)."""

    def __exit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> bool:
        self.shutdown(wait=False)
        return False
