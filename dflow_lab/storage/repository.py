"""The artifact repository the engines use to move artifacts between steps.

``artifact_repository(workspace)`` picks the store from ``s3_config``: the local store under
``<workspace>/artifacts`` (the default), or S3 through :class:`MinioClient` (``storage="s3"``) or
through the user's own ``s3_config["storage_client"]``. ``save`` stores a step's output under an
Argo key and returns the Argo location fields; ``load`` materialises any Argo artifact location
(``s3``, ``raw``, ``http``; ``subPath``; ``archive``) at a path, unpacking archives safely.
"""

from __future__ import annotations

import abc
import os
import tempfile
import uuid
import zipfile
from typing import Any

from ..config import config, s3_config
from .archive import DEFAULT_COMPRESSION, is_tarball, make_tar, make_zip, place, unpack
from .client import StorageClient
from .http import http_get
from .links import mirror, remove_path
from .local import LocalStorageClient
from .transfer import download_objects, local_parts, objects_under, upload_tree

__all__ = [
    "ArtifactRepository",
    "LocalRepository",
    "RemoteRepository",
    "artifact_repository",
    "archive_mode",
    "argo_output_key",
    "unpack_mode",
    "uses_s3",
]

SUPPORTED_LOCATIONS = ("s3", "raw", "http")


def archive_mode(archive: Any) -> tuple[str | None, int]:
    """Normalise ``"tar"``/``"zip"``/``None``/``"none"`` or Argo's ``{"tar": {...}}``/``{"zip": {}}``/
    ``{"none": {}}`` to ``("tar", compression_level)``, ``("zip", 0)`` or ``(None, 0)``."""
    if archive is None or archive == "none":
        return None, 0
    if archive == "tar":
        return "tar", DEFAULT_COMPRESSION
    if archive == "zip":
        return "zip", 0
    if isinstance(archive, dict) and len(archive) == 1:
        kind, opts = next(iter(archive.items()))
        if kind == "none":
            return None, 0
        if kind == "zip":
            return "zip", 0
        if kind == "tar":
            level = (opts or {}).get("compressionLevel", DEFAULT_COMPRESSION)
            if not isinstance(level, int) or not -1 <= level <= 9:
                raise ValueError(f"archive.tar.compressionLevel must be an integer in -1..9, not {level!r}")
            return "tar", DEFAULT_COMPRESSION if level == -1 else level
    raise ValueError(
        f"archive {archive!r} is not supported: use 'tar', 'zip', None, or Argo's "
        "{'tar': {...}}, {'zip': {}}, {'none': {}}"
    )


def argo_output_key(key_prefix: str, artifact: dict) -> str:
    """The key Argo stores an output artifact under: its own ``s3.key`` when it names one (Argo's
    key-only artifacts), else ``<key_prefix>/<name>.tgz`` when tar archived (the default),
    ``<name>.zip`` when zipped, ``<basename of its path>`` with ``archive: {none: {}}``.

    ``key_prefix`` is the repository's key format rendered, by default ``<workflow name>/<pod name>``.
    """
    name = artifact.get("name")
    if not name:
        raise ValueError(f"output artifact {artifact!r} has no name")
    own = (artifact.get("s3") or {}).get("key")
    if own:
        return own
    kind, _level = archive_mode(artifact.get("archive") or "tar")
    if kind is not None:
        return f"{key_prefix.rstrip('/')}/{name}.{'tgz' if kind == 'tar' else 'zip'}"
    path = artifact.get("path")
    if not path:
        raise ValueError(f"output artifact {name!r} has no path")
    return f"{key_prefix.rstrip('/')}/{os.path.basename(path.rstrip('/'))}"


def _location(key: str, archive: str | None) -> dict:
    loc: dict = {"s3": {"key": key}}
    if archive is None:
        loc["archive"] = {"none": {}}
    elif archive == "zip":  # Argo never detects zips: the consumer must be told
        loc["archive"] = {"zip": {}}
    return loc


def _staged(dest: str) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(dest)) or ".", exist_ok=True)
    return f"{dest.rstrip(os.sep)}.tmp-{uuid.uuid4().hex[:8]}"


def unpack_mode(location: dict) -> str:
    """How Argo treats a loaded single object: ``"tar"``/``"zip"`` (declared: extract), ``"none"``
    (declared: keep as is) or ``"auto"`` (no ``archive`` field: untar when it is a gzipped tar)."""
    if "archive" not in location or location["archive"] is None:
        return "auto"
    return archive_mode(location["archive"])[0] or "none"


def _finish_file(tmp: str, dest: str, mode: str, key: str) -> None:
    """Put a loaded single object at ``dest``: unpacked (per ``mode``), or moved as it is."""
    try:
        if mode == "zip":
            if not zipfile.is_zipfile(tmp):
                raise ValueError(f"artifact {key!r} is declared archive 'zip' but is not a zip")
            unpack(tmp, dest, "zip", name=key)
        elif mode == "tar" or (mode == "auto" and is_tarball(tmp)):
            if mode == "tar" and not is_tarball(tmp):
                raise ValueError(f"artifact {key!r} is declared archive 'tar' but is not a gzipped tar")
            unpack(tmp, dest, name=key)
        else:
            place(tmp, dest)
    finally:
        remove_path(tmp)


class ArtifactRepository(abc.ABC):
    """Where a workflow's artifacts live; see :func:`artifact_repository`."""

    client: StorageClient

    @abc.abstractmethod
    def save(self, src: str, key: str, archive: Any = "tar") -> dict:
        """Store the file or directory ``src`` under ``key``; return the Argo location fields.

        ``archive="tar"`` stores one ``.tgz`` object whose top entry is ``basename(src)``
        (``"zip"``: one zip, files under ``basename(src)/``); ``None`` stores a file as the object ``key`` and a directory as ``key/<rel>`` objects.
        The artifact is present (``exists``) only once the call has returned.
        """

    @abc.abstractmethod
    def exists(self, key: str) -> bool:
        """True when an artifact is stored under ``key``."""

    @abc.abstractmethod
    def _load_key(self, key: str, dest: str, mode: str) -> None:
        """Materialise the stored artifact ``key`` at ``dest`` (``mode`` as :func:`unpack_mode`)."""

    def load(self, location: dict, dest: str) -> None:
        """Materialise the Argo artifact ``location`` at ``dest`` (replacing what is there).

        ``location`` is a node's output artifact or a manifest's input artifact: ``"s3": {"key"}``,
        ``"raw": {"data"}`` or ``"http": {"url"}``, with optional ``"subPath"`` and ``"archive"``.
        """
        name = location.get("name", "?")
        mode = unpack_mode(location)
        if "raw" in location:
            tmp = _staged(dest)
            with open(tmp, "w") as f:
                f.write(str(location["raw"].get("data", "")))
            place(tmp, dest)
        elif "http" in location:
            url = location["http"].get("url")
            if not url:
                raise ValueError(f"artifact {name!r}: http.url is missing")
            tmp = _staged(dest)
            http_get(url, tmp)
            _finish_file(tmp, dest, mode, url.split("?")[0])
        elif "s3" in location:
            key = (location["s3"] or {}).get("key")
            if not key:
                raise ValueError(f"artifact {name!r}: s3.key is missing")
            bucket = (location["s3"] or {}).get("bucket")
            ours = getattr(self.client, "bucket_name", None)
            if bucket and ours and bucket != ours:
                raise ValueError(
                    f"artifact {name!r} is in bucket {bucket!r}, but the repository is bucket {ours!r}"
                )
            if location.get("subPath"):
                key = f"{key.rstrip('/')}/{location['subPath'].lstrip('/')}"
            self._load_key(key, dest, mode)
        else:
            kinds = sorted(set(location) - {"name", "path", "mode", "from", "optional", "archive", "subPath"})
            raise ValueError(
                f"artifact {name!r}: location {kinds or 'none'} is not supported here; "
                f"use one of {list(SUPPORTED_LOCATIONS)}"
            )


class LocalRepository(ArtifactRepository):
    """Artifacts in a local directory, moved between steps with hard links (never packed)."""

    client: LocalStorageClient

    def __init__(self, root: str | os.PathLike, link: bool = True) -> None:
        self.client = LocalStorageClient(root)
        self.link = link

    def __repr__(self) -> str:
        return f"LocalRepository(root={self.client.root!r}, link={self.link})"

    def save(self, src: str, key: str, archive: Any = "tar") -> dict:
        kind, _level = archive_mode(archive)
        if not os.path.exists(src):
            raise FileNotFoundError(f"artifact {key!r}: no file or directory at {src!r}")
        if kind == "zip":
            obj = self.client.stage()
            try:
                make_zip(src, obj)
                self.client.commit(obj, key)
            finally:
                remove_path(obj)
        else:
            self.client.put_tree(src, key, archive=kind == "tar")
        return _location(key, kind)

    def exists(self, key: str) -> bool:
        return os.path.lexists(self.client.path_of(key))

    def _load_key(self, key: str, dest: str, mode: str) -> None:
        path = self.client.path_of(key)
        tmp = _staged(dest)
        try:
            if self.client.is_archive(key) and mode == "none":  # the consumer asked for the .tgz itself
                self.client.download(key, tmp)
            elif self.client.is_archive(key):
                members = self.client.archive_members(key)
                if len(members) == 1:
                    mirror(members[0], tmp, self.link)
                else:
                    os.mkdir(tmp)
                    for m in members:
                        target = os.path.join(tmp, os.path.basename(m))
                        mirror(m, target, self.link)
            elif os.path.isfile(path):
                mirror(path, tmp, self.link)
                if mode != "none":
                    _finish_file(tmp, dest, mode, key)
                    return
            elif os.path.isdir(path):
                mirror(path, tmp, self.link)
            else:
                raise FileNotFoundError(f"artifact {key!r} is not in the local store {self.client.root}")
            place(tmp, dest)
        finally:
            remove_path(tmp)


class RemoteRepository(ArtifactRepository):
    """Artifacts in an S3-compatible store (or any :class:`StorageClient`), laid out as Argo does."""

    def __init__(self, client: StorageClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"RemoteRepository({self.client!r})"

    def save(self, src: str, key: str, archive: Any = "tar") -> dict:
        kind, level = archive_mode(archive)
        if not os.path.exists(src):
            raise FileNotFoundError(f"artifact {key!r}: no file or directory at {src!r}")
        if kind is not None:
            with tempfile.TemporaryDirectory() as tmp:
                packed = os.path.join(tmp, "artifact")
                if kind == "zip":
                    make_zip(src, packed)
                else:
                    make_tar(src, packed, compresslevel=level)
                self.client.upload(key, packed)
        elif os.path.isdir(src):
            upload_tree(self.client, src, key)
        else:
            self.client.upload(key, src)
        return _location(key, kind)

    def exists(self, key: str) -> bool:
        return bool(objects_under(self.client, key))

    def _load_key(self, key: str, dest: str, mode: str) -> None:
        objs = objects_under(self.client, key)
        if not objs:
            raise FileNotFoundError(f"artifact {key!r} is not in {self.client!r}")
        tmp = _staged(dest)
        try:
            if objs == [key]:
                self.client.download(key, tmp)
                _finish_file(tmp, dest, mode, key)
                return
            prefix = key.rstrip("/") + "/"
            pairs = [(o, os.path.join(tmp, *local_parts(o[len(prefix):], o))) for o in objs]
            download_objects(self.client, pairs)
            place(tmp, dest)
        finally:
            remove_path(tmp)


def artifact_repository(workspace: str | os.PathLike) -> ArtifactRepository:
    """The repository the configuration selects: a user's ``s3_config["storage_client"]``, S3 via
    :class:`MinioClient` when :func:`uses_s3`, else the local store under ``<workspace>/artifacts``
    (hard links to steps unless ``config["local_artifact_links"]`` is false)."""
    if s3_config.get("storage_client") is not None:
        client = s3_config["storage_client"]
        if not isinstance(client, StorageClient):
            missing = [m for m in ("upload", "download", "list", "copy", "get_md5") if not hasattr(client, m)]
            if missing:
                raise TypeError(f"s3_config['storage_client'] {type(client).__name__} lacks {missing}")
        return RemoteRepository(client)
    if uses_s3():
        # lazy: minio is needed by S3 stores only, and is not in a step's bare interpreter
        from .minio_client import MinioClient

        return RemoteRepository(MinioClient())
    link = bool(config.get("local_artifact_links", True))
    return LocalRepository(os.path.join(os.fspath(workspace), "artifacts"), link=link)


def uses_s3() -> bool:
    """True when the configuration sends artifacts to S3: ``s3_config["storage"] == "s3"``, or
    dflow's ``config["debug_s3"]`` (S3 with the local engine, as in dflow's debug mode)."""
    storage = s3_config.get("storage", "local")
    if storage not in ("local", "s3"):
        raise ValueError(f"s3_config['storage'] = {storage!r}: use 'local' or 's3'")
    return storage == "s3" or bool(config.get("debug_s3"))
