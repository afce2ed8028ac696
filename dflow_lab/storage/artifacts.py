"""dflow's artifact functions: ``upload_artifact``, ``download_artifact``, ``copy_artifact``, the
``*_s3`` helpers and catalog queries, on whichever store is configured.

The store is, in order: a ``storage_client=`` argument, ``s3_config["storage_client"]``, S3 through
:class:`MinioClient` when ``s3_config["storage"] == "s3"`` (or dflow's ``config["debug_s3"]``) or
connection arguments (``endpoint``, ``access_key``, ``secret_key``, ``secure``, ``bucket_name``)
are given, else the local store of the workspace (``config["local_workdir"]``), the one the local
engine reads.

This package imports nothing of the model: the artifact functions that return dflow's
``S3Artifact`` (``upload_artifact``, ``copy_artifact``) are in ``dflow_lab.utils`` (``dflow.utils``),
built on :func:`upload_paths` and :func:`copy_to_key` here, which answer with keys.
"""

from __future__ import annotations

import logging
import os
import shutil
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from typing import Any, Dict, List, Optional, Set, Tuple, Union

from ..config import config, s3_config
from .archive import make_tar, safe_extract
from .catalog import (
    append_item,
    assemble_path_object,
    assemble_path_object_from_catalog,
    catalog_of_local_artifact,
    convert_dflow_list,
    flatten,
    read_catalog_file,
    write_catalog,
)
from .client import StorageClient
from .links import copy_file, force_link, linktree, merge_dir, remove_path, try_link
from .local import LocalStorageClient, check_key, file_md5
from .repository import archive_mode, uses_s3
from .transfer import download_objects, local_parts, objects_under, upload_tree

__all__ = [
    "MissingPathError",
    "storage_client",
    "get_key",
    "set_key",
    "get_md5",
    "upload_paths",
    "download_artifact",
    "copy_to_key",
    "upload_s3",
    "download_s3",
    "copy_s3",
    "catalog_of_artifact",
    "path_list_of_artifact",
    "path_object_of_artifact",
]

log = logging.getLogger("dflow_lab.storage")

_CONNECTION_ARGS = ("endpoint", "access_key", "secret_key", "secure", "bucket_name")


class MissingPathError(FileNotFoundError, RuntimeError):
    """A path given to upload does not exist (a ``RuntimeError`` too, as dflow raises)."""


def storage_client(storage_client: Optional[StorageClient] = None, **kwargs: Any) -> StorageClient:
    """The store the artifact functions use (see the module docstring)."""
    if storage_client is not None:
        return storage_client
    if s3_config.get("storage_client") is not None:
        return s3_config["storage_client"]
    connection = {k: kwargs[k] for k in _CONNECTION_ARGS if kwargs.get(k) is not None}
    if uses_s3() or connection:
        # lazy: minio is not in a step's bare interpreter (uploaded packages: dflow-lab, jsonpickle); S3 only
        from .minio_client import MinioClient

        return MinioClient(**connection)
    return LocalStorageClient(os.path.join(config["local_workdir"], "artifacts"))


def get_key(artifact: Any, raise_error: bool = True) -> Optional[str]:
    """The repository key of an artifact: an ``S3Artifact``, a status node's artifact (``.s3.key``
    or ``.oss.key``), or an Argo location dict ``{"s3": {"key": …}}``."""
    if isinstance(artifact, dict):
        for kind in ("s3", "oss"):
            key = (artifact.get(kind) or {}).get("key")
            if key:
                return _strip_repo_prefix(key) if kind == "oss" else key
    elif hasattr(artifact, "s3") and hasattr(artifact.s3, "key"):
        return artifact.s3.key
    elif hasattr(artifact, "oss") and hasattr(artifact.oss, "key"):
        return _strip_repo_prefix(artifact.oss.key)
    elif isinstance(getattr(artifact, "key", None), str):
        return artifact.key
    if raise_error:
        raise FileNotFoundError(f"the artifact {artifact!r} is not in the storage (it has no key)")
    return None


def _strip_repo_prefix(key: str) -> str:
    prefix = s3_config.get("repo_prefix") or ""
    return key[len(prefix):] if prefix and key.startswith(prefix) else key


def set_key(artifact: Any, key: str) -> None:
    """Point ``artifact`` (as accepted by :func:`get_key`) at ``key``."""
    if isinstance(artifact, dict):
        artifact.setdefault("s3", {})["key"] = key
    elif hasattr(artifact, "s3") and hasattr(artifact.s3, "key"):
        artifact.s3.key = key
    elif hasattr(artifact, "oss") and hasattr(artifact.oss, "key"):
        prefix = s3_config.get("repo_prefix") or ""
        artifact.oss.key = key if key.startswith(prefix) else prefix + key
    elif hasattr(artifact, "key"):
        artifact.key = key


def get_md5(f: Union[str, os.PathLike]) -> str:
    """Hex MD5 of the file ``f``."""
    return file_md5(os.fspath(f))


# -- upload ---------------------------------------------------------------------------------------
def _relative_layout(path: str, cwd: str) -> str:
    """Where ``path`` goes inside an uploaded artifact (dflow's rule): its path relative to the
    current directory when below it, else its absolute path without the leading ``/``."""
    abspath = os.path.abspath(path)
    if abspath.startswith(cwd.rstrip(os.sep) + os.sep):
        rel = abspath[len(cwd.rstrip(os.sep)) + 1:]
    else:
        drive, rest = os.path.splitdrive(abspath)
        rel = rest.lstrip("/\\")
    return rel.replace("\\", "/")


def upload_paths(
    path: Union[os.PathLike, str, List[Any], Set[Any], Dict[str, Any]],
    archive: Optional[str] = "default",
    namespace: Optional[str] = None,
    dataset_name: Optional[str] = None,
    **kwargs: Any,
) -> Tuple[str, List[dict], str]:
    """Upload local files and directories as one artifact; return its ``(key, path_list, urn)``
    (``dflow_lab.utils.upload_artifact`` makes the ``S3Artifact`` of them).

    ``path`` is a path, a list or set of paths, or a (nested) dict of paths; the artifact keeps each
    path's layout relative to the current directory (paths elsewhere keep their absolute layout
    without the leading ``/``) and a catalog (``.dflow``) that rebuilds the list or dict on
    download. ``archive`` is ``"tar"``, ``None``, or ``"default"`` (``config["archive_mode"]``).
    ``key``/``prefix``/``storage_client``/connection arguments are passed to :func:`upload_s3`.
    """
    if archive == "default":
        archive = config["archive_mode"]
    kind, level = archive_mode(archive)
    if kind == "zip":
        raise ValueError("upload_artifact: archive must be 'tar', None or 'default' (zip is for step outputs)")
    pairs: list[tuple[Any, Any]]  # (catalog key or index, path)
    if isinstance(path, dict) or (isinstance(path, list) and any(isinstance(p, (list, dict)) for p in path)):
        pairs = list(flatten(path).items())
    elif isinstance(path, (list, set, tuple)):
        pairs = list(enumerate(sorted(path, key=str) if isinstance(path, set) else path))
    else:
        pairs = [(0, path)]
    missing = [os.fspath(p) for _, p in pairs if p is not None and not os.path.exists(p)]
    if missing:
        raise MissingPathError(f"upload_artifact: file or directory {missing[0]!r} not found")
    cwd = os.getcwd()
    client = storage_client(**kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        art_dir = os.path.join(tmp, f"upload-{uuid.uuid4().hex[:8]}")
        os.mkdir(art_dir)
        path_list: List[dict] = []
        for order, p in pairs:
            if p is None:
                path_list.append({"dflow_list_item": None, "order": order})
                continue
            rel = _relative_layout(os.fspath(p), cwd)
            target = os.path.join(art_dir, *rel.split("/"))
            source = os.path.abspath(p)
            if not (os.path.exists(target) and os.path.samefile(source, target)):  # else: inside one given before
                os.makedirs(os.path.dirname(target), exist_ok=True)
                remove_path(target)  # a parent given after its children replaces them
                os.symlink(source, target)
            path_list.append({"dflow_list_item": rel, "order": order})
        write_catalog(art_dir, path_list)
        if kind == "tar":
            key = _target_key(client, os.path.basename(art_dir) + ".tgz", kwargs.get("key"), kwargs.get("prefix"))
            if isinstance(client, LocalStorageClient):  # kept expanded: no packing, loads by links
                client.put_tree(art_dir, key, archive=True, link=False)
            else:
                make_tar(art_dir, art_dir + ".tgz", compresslevel=level)
                client.upload(key, art_dir + ".tgz")
        else:
            key = upload_s3(art_dir, key=kwargs.get("key"), prefix=kwargs.get("prefix"), storage_client=client)
    urn = ""
    if namespace is not None and dataset_name is not None:
        lineage = config.get("lineage")
        if lineage is not None:
            urn = lineage.register_artifact(namespace, dataset_name, key)
        else:
            log.warning("upload_artifact: namespace and dataset_name given but config['lineage'] is not set")
    return key, path_list, urn


def _target_key(client: StorageClient, name: str, key: Optional[str], prefix: Optional[str]) -> str:
    """dflow's key for an upload named ``name``: ``key`` (with ``s3_config["prefix"]``), else
    ``<prefix>/<name>``, else ``upload/<uuid>/<name>``."""
    cfg_prefix = s3_config.get("prefix") or ""
    if key is not None:
        extra = s3_config.get("extra_prefixes") or []
        if not key.startswith(cfg_prefix) and not any(key.startswith(p) for p in extra):
            key = cfg_prefix + key
    elif prefix is not None:
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        objs = client.list(prefix)
        if len(objs) == 1 and objs[0].endswith("/"):
            prefix = objs[0]
        key = prefix + name
    else:
        key = f"{cfg_prefix}upload/{uuid.uuid4()}/{name}"
    if isinstance(client, LocalStorageClient):
        check_key(key)
    return key


def upload_s3(
    path: Union[os.PathLike, str],
    key: Optional[str] = None,
    prefix: Optional[str] = None,
    debug_func: Any = os.symlink,
    **kwargs: Any,
) -> str:
    """Upload the file or directory ``path`` to ``key`` (default ``upload/<uuid>/<basename>``, or
    ``<prefix>/<basename>``); ``s3_config["prefix"]`` is prepended. Return the key.

    ``debug_func`` is accepted for dflow scripts and unused (there is no separate debug store).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MissingPathError(f"upload_s3: no such file or directory {path!r}")
    client = storage_client(**kwargs)
    key = _target_key(client, os.path.basename(path.rstrip(os.sep)), key, prefix)
    if os.path.isfile(path):
        client.upload(key, path)
    elif isinstance(client, LocalStorageClient):
        client.put_tree(path, key, archive=False, link=False)
    else:
        upload_tree(client, path, key)
    return key


# -- download -------------------------------------------------------------------------------------
def download_s3(
    key: str,
    path: Union[os.PathLike, str] = ".",
    recursive: bool = True,
    skip_exists: bool = False,
    keep_dir: bool = False,
    **kwargs: Any,
) -> str:
    """Download the object ``key`` (or every object under ``key/`` with ``recursive``) into the
    directory ``path``; with ``keep_dir`` objects go under ``<path>/<basename(key)>/``. With
    ``skip_exists``, files whose MD5 already matches are not downloaded again. Return ``path``
    (or the file's path for a single object without ``recursive``)."""
    path = os.fspath(path)
    client = storage_client(**kwargs)
    if not recursive:
        target = os.path.join(path, os.path.basename(key))
        download_objects(client, [(key, target)], skip_exists=skip_exists)
        return target
    base = os.path.basename(key.rstrip("/"))
    pairs = []
    prefix = key.rstrip("/") + "/"
    for obj in objects_under(client, key):
        if obj == key:
            pairs.append((obj, os.path.join(path, base)))
            continue
        rel = local_parts(obj[len(prefix):], obj)
        pairs.append((obj, os.path.join(path, base, *rel) if keep_dir else os.path.join(path, *rel)))
    if not pairs:
        raise FileNotFoundError(f"download_s3: nothing stored under {key!r} in {client!r}")
    download_objects(client, pairs, skip_exists=skip_exists)
    return path


def _merge_extracted(tmpdir: str, dest: str) -> None:
    """dflow's rule after extracting a downloaded tar: a single top directory is merged into
    ``dest``, otherwise everything extracted is."""
    entries = os.listdir(tmpdir)
    if len(entries) == 1 and os.path.isdir(os.path.join(tmpdir, entries[0])):
        merge_dir(os.path.join(tmpdir, entries[0]), dest)
    else:
        merge_dir(tmpdir, dest)


def _copy_local(artifact: Any, path: str, remove_catalog: bool) -> Any:
    """Download a :class:`LocalArtifact` per ``config["debug_copy_method"]``."""
    src = artifact.local_path
    method = config.get("debug_copy_method", "copy")
    funcs: dict[str, Callable[[str, str], object]] = {"symlink": os.symlink, "link": try_link, "copy": shutil.copy}
    if method not in funcs:
        raise ValueError(f"config['debug_copy_method'] = {method!r}: use 'symlink', 'link' or 'copy'")
    os.makedirs(path, exist_ok=True)
    if os.path.isfile(src):
        target = os.path.join(path, os.path.basename(src))
        if method == "symlink":
            force_link(src, target)
        else:
            remove_path(target)
            funcs[method](src, target)
    elif method == "symlink":
        linktree(src, path)
    else:
        merge_dir(src, path, funcs[method])
    return assemble_path_object(path, remove=remove_catalog)


def download_artifact(
    artifact: Any,
    extract: bool = True,
    sub_path: Optional[str] = None,
    slice: Optional[Union[int, str]] = None,
    path: Union[os.PathLike, str] = ".",
    remove_catalog: bool = True,
    **kwargs: Any,
) -> Any:
    """Download an artifact into the directory ``path``; return its paths as its catalog arranges
    them (a list or dict; ``[]`` without a catalog).

    ``sub_path`` downloads one file or directory of an unarchived artifact and returns its path;
    ``slice`` one item of a list/dict artifact (by its catalog). A ``.tgz`` artifact is extracted
    (safely: members escaping ``path`` are rejected) unless ``extract=False``. ``skip_exists=True``
    keeps files whose MD5 already matches. Store arguments as for :func:`storage_client`.
    """
    path = os.fspath(path)
    if getattr(artifact, "local_path", None) is not None:
        return _copy_local(artifact, path, remove_catalog)
    key = get_key(artifact)
    assert key is not None
    if slice is None and getattr(artifact, "slice", None) is not None:
        slice = artifact.slice
    skip_exists = bool(kwargs.pop("skip_exists", False))
    if slice is not None:
        obj = path_object_of_artifact(artifact, **kwargs)
        for part in str(slice).split("."):
            obj = obj[int(part)] if isinstance(obj, list) else obj[part]
        sub_path = str(obj)  # the slice's path in the artifact
    if sub_path is not None:
        parts = local_parts(str(sub_path), f"{key}/{sub_path}")
        sub_key = f"{key.rstrip('/')}/{'/'.join(parts)}"
        parent = os.path.join(path, *parts[:-1])
        download_s3(sub_key, path=parent, recursive=True, keep_dir=True, skip_exists=skip_exists, **kwargs)
        return os.path.join(parent, parts[-1])
    client = storage_client(**kwargs)
    os.makedirs(path, exist_ok=True)
    if isinstance(client, LocalStorageClient) and extract and client.is_archive(key):
        with tempfile.TemporaryDirectory(dir=path) as tmp:  # an expanded archive: copy, no packing
            for member in client.archive_members(key):
                copy_file(member, os.path.join(tmp, os.path.basename(member)), func=shutil.copy2)
            _merge_extracted(tmp, path)
        return assemble_path_object(path, remove=remove_catalog)
    download_s3(key, path=path, recursive=True, skip_exists=skip_exists, storage_client=client)
    if key.endswith(".tgz") and extract:
        tgz = os.path.join(path, os.path.basename(key))
        try:  # a refused archive leaves nothing behind: neither its members nor the .tgz
            with tempfile.TemporaryDirectory(dir=path) as tmp:
                safe_extract(tgz, tmp, name=key)
                os.remove(tgz)
                _merge_extracted(tmp, path)
        finally:
            if os.path.lexists(tgz):
                os.remove(tgz)
    return assemble_path_object(path, remove=remove_catalog)


# -- copies and catalogs --------------------------------------------------------------------------
def copy_s3(
    src_key: str,
    dst_key: str,
    recursive: bool = True,
    ignore_catalog: bool = False,
    **kwargs: Any,
) -> None:
    """Copy the object ``src_key`` (or everything under it) to ``dst_key`` inside the store.
    ``ignore_catalog`` leaves out catalog files."""
    client = storage_client(**kwargs)
    if not recursive:
        client.copy(src_key, dst_key)
        return
    objs = objects_under(client, src_key)
    if not objs:
        raise FileNotFoundError(f"copy_s3: nothing stored under {src_key!r} in {client!r}")
    if objs == [src_key]:
        client.copy(src_key, dst_key)
        return
    src_prefix, dst_prefix = src_key.rstrip("/") + "/", dst_key.rstrip("/") + "/"
    catalog = config["catalog_dir_name"]
    for obj in objs:
        fields = obj.split("/")
        if ignore_catalog and len(fields) > 1 and fields[-2] == catalog:
            continue
        client.copy(obj, dst_prefix + obj[len(src_prefix):])


def copy_to_key(src: Any, dst: Any, sort: bool = False, **kwargs: Any) -> str:
    """Copy the artifact ``src`` into ``dst`` on the store side; return ``dst``'s key
    (``dflow_lab.utils.copy_artifact`` makes the ``S3Artifact`` of it).

    With ``sort``, ``src``'s catalog items are renumbered after ``dst``'s, so the merged artifact
    lists ``dst``'s paths first, then ``src``'s.
    """
    src_key, dst_key = get_key(src), get_key(dst)
    assert src_key is not None and dst_key is not None
    ignore_catalog = False
    if sort:
        src_catalog = catalog_of_artifact(src, **kwargs)
        dst_catalog = catalog_of_artifact(dst, **kwargs)
        if src_catalog and dst_catalog:
            if not all(isinstance(i["order"], int) for i in src_catalog + dst_catalog):
                raise ValueError(
                    f"copy_artifact(sort=True) of {src_key!r} into {dst_key!r}: both artifacts must be "
                    "lists (integer catalog orders), not dicts"
                )
            offset = max(item["order"] for item in dst_catalog) + 1
            for item in src_catalog:
                item["order"] += offset
            client = storage_client(**kwargs)
            with tempfile.TemporaryDirectory() as tmp:
                name = write_catalog(tmp, src_catalog)
                rel = os.path.relpath(name, tmp).replace(os.sep, "/")
                client.upload(f"{dst_key.rstrip('/')}/{rel}", name)
            ignore_catalog = True
    copy_s3(src_key, dst_key, ignore_catalog=ignore_catalog, **kwargs)
    return dst_key


def _catalog_in_tar(tgz: str, where: str) -> List[dict]:
    catalog: List[dict] = []
    name = config["catalog_dir_name"]
    with tarfile.open(tgz, "r:*") as tf:
        for m in tf:
            parts = m.name.strip("/").split("/")
            if m.isreg() and len(parts) >= 2 and parts[-2] == name and len(parts) <= 3:
                f = tf.extractfile(m)
                assert f is not None
                for item in read_catalog_file(f.read().decode("utf-8"), f"{where}:{m.name}"):
                    append_item(catalog, item)
    return catalog


def catalog_of_artifact(art: Any, **kwargs: Any) -> List[dict]:
    """The merged catalog items of a stored artifact (``[]`` when it has none or no key).

    For an unarchived artifact the catalog objects are read; for a ``.tgz`` artifact the catalog is
    read from inside the archive.
    """
    key = get_key(art, raise_error=False)
    if not key:
        return []
    client = storage_client(**kwargs)
    catalog: List[dict] = []
    objs = objects_under(client, key)
    with tempfile.TemporaryDirectory() as tmp:
        if objs == [key]:
            if isinstance(client, LocalStorageClient) and client.is_archive(key):
                members = client.archive_members(key)
                if len(members) == 1 and os.path.isdir(members[0]):
                    return catalog_of_local_artifact(members[0])
                return catalog_of_local_artifact(client.path_of(key))
            local = os.path.join(tmp, "object")
            client.download(key, local)
            if tarfile.is_tarfile(local):
                return _catalog_in_tar(local, key)
            return []
        prefix = f"{key.rstrip('/')}/{config['catalog_dir_name']}/"
        for i, obj in enumerate(o for o in objs if o.startswith(prefix) and "/" not in o[len(prefix):]):
            local = os.path.join(tmp, str(i))
            client.download(obj, local)
            with open(local, encoding="utf-8") as f:
                for item in read_catalog_file(f.read(), obj):
                    append_item(catalog, item)
    return catalog


def path_list_of_artifact(art: Any, **kwargs: Any) -> List[Optional[str]]:
    """The relative paths an artifact's catalog lists, in order."""
    return convert_dflow_list(catalog_of_artifact(art, **kwargs))


def path_object_of_artifact(art: Any, **kwargs: Any) -> Union[list, dict]:
    """The relative paths of an artifact as its catalog arranges them (a list or a nested dict)."""
    return assemble_path_object_from_catalog(catalog_of_artifact(art, **kwargs))
