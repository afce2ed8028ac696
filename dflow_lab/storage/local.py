"""The local artifact store: an object store in a directory, for the local engine.

The object ``a/b/c`` is the file ``<root>/a/b/c``. A tar artifact saved by the engine is kept
*expanded*: the directory ``<root>/<key>`` holds the archive's members next to a marker file, so
moving it between steps is a matter of hard links, not of packing and unpacking. To every
``StorageClient`` caller such a directory is still one object, a ``.tgz`` built on demand.

Writes are atomic: an object is assembled in ``<root>.tmp/`` and renamed into place, so a key is
either absent or complete. Keys are checked, so nothing is ever written outside ``<root>``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from typing import List

from .archive import make_tar
from .client import StorageClient
from .links import mirror, remove_path

__all__ = ["LocalStorageClient", "ARCHIVE_MARKER", "check_key"]

ARCHIVE_MARKER = ".dflow-lab-archive"


def check_key(key: str) -> str:
    """Validate an object key (relative, ``/``-separated, no ``.``/``..`` parts); return it."""
    if not isinstance(key, str) or not key.strip("/"):
        raise ValueError(f"artifact key {key!r} is empty")
    if key.startswith("/") or "\\" in key or "\0" in key:
        raise ValueError(f"artifact key {key!r} must be a relative '/'-separated key")
    if any(p in (".", "..") for p in key.rstrip("/").split("/")):
        raise ValueError(f"artifact key {key!r} has a '.' or '..' component")
    return key


class LocalStorageClient(StorageClient):
    """A :class:`StorageClient` over the directory ``root`` (created on first write)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.staging = self.root + ".tmp"
        self._staging_ready = False

    def __repr__(self) -> str:
        return f"LocalStorageClient(root={self.root!r})"

    # -- paths and atomic placement ---------------------------------------------------------
    def path_of(self, key: str) -> str:
        """The file system path of ``key`` (checked to stay under the root)."""
        return os.path.join(self.root, *check_key(key).strip("/").split("/"))

    def is_archive(self, key: str) -> bool:
        """True when ``key`` is an expanded tar artifact."""
        return os.path.isfile(os.path.join(self.path_of(key), ARCHIVE_MARKER))

    def stage(self) -> str:
        """A fresh unused path on the store's file system, to assemble an object at."""
        if not self._staging_ready:
            os.makedirs(self.staging, exist_ok=True)
            self._staging_ready = True
        return os.path.join(self.staging, uuid.uuid4().hex)

    def commit(self, staged: str, key: str) -> None:
        """Atomically make ``staged`` (a file or directory) the object ``key``, replacing any old one."""
        dst = self.path_of(key)
        parent = os.path.dirname(dst)
        os.makedirs(parent, exist_ok=True)
        if os.path.lexists(dst):
            old = os.path.join(self.staging, f"old-{uuid.uuid4().hex}")
            os.rename(dst, old)
            os.rename(staged, dst)
            remove_path(old)
        else:
            os.rename(staged, dst)

    def put_tree(self, src: str, key: str, archive: bool, link: bool = True) -> None:
        """Store the file or directory ``src`` under ``key``: with hard links (zero copy), or
        copies when ``link`` is false (for files their owner may still edit in place).

        With ``archive``, ``key`` becomes one tar object whose top entry is ``basename(src)``;
        otherwise a file becomes the object ``key`` and a directory the objects ``key/<rel>``, added
        to those already under ``key`` when it is a directory (S3's semantics of objects under a prefix).
        """
        top = self.stage()
        try:
            if archive:
                name = os.path.basename(os.path.normpath(src))
                if name == ARCHIVE_MARKER:
                    raise ValueError(f"cannot archive a path named {ARCHIVE_MARKER!r}")
                os.mkdir(top)
                mirror(src, os.path.join(top, name), link)
                with open(os.path.join(top, ARCHIVE_MARKER), "w") as f:
                    f.write("tar\n")
            else:
                mirror(src, top, link)
                dst = self.path_of(key)
                if os.path.isdir(src) and os.path.isdir(dst) and not self.is_archive(key):
                    self._merge(top, dst)
                    return
            self.commit(top, key)
        finally:
            remove_path(top)

    def _merge(self, staged: str, dst: str) -> None:
        """Put the files of the directory ``staged`` into the existing directory ``dst``, each file
        atomically, keeping the files already there (objects ``key/<rel>`` added to a prefix, as in
        S3: how the items of a sliced fan-out fill one artifact)."""
        for dirpath, _dirs, files in os.walk(staged):
            rel = os.path.relpath(dirpath, staged)
            target_dir = dst if rel == "." else os.path.join(dst, rel)
            if os.path.lexists(target_dir) and not os.path.isdir(target_dir):
                raise ValueError(f"cannot merge directory {rel!r} into {dst!r}: a file is there")
            os.makedirs(target_dir, exist_ok=True)
            for f in files:
                target = os.path.join(target_dir, f)
                if os.path.isdir(target) and not os.path.islink(target):
                    raise ValueError(f"cannot merge file {os.path.join(rel, f)!r} into {dst!r}: a directory is there")
                os.replace(os.path.join(dirpath, f), target)

    def archive_members(self, key: str) -> List[str]:
        """Paths of the top entries of the expanded tar artifact ``key``."""
        base = self.path_of(key)
        return [os.path.join(base, n) for n in sorted(os.listdir(base)) if n != ARCHIVE_MARKER]

    # -- StorageClient ----------------------------------------------------------------------
    def upload(self, key: str, path: str) -> None:
        """Copy the file ``path`` in as the object ``key`` (a copy: the caller may edit ``path`` later)."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"upload of {key!r}: no such file {path!r}")
        obj = self.stage()
        try:
            shutil.copyfile(path, obj)
            self.commit(obj, key)
        finally:
            remove_path(obj)

    def download(self, key: str, path: str) -> None:
        """Write the object ``key`` to ``path``; an expanded tar artifact is packed into a ``.tgz``."""
        src = self.path_of(key)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        part = f"{path}.part-{uuid.uuid4().hex[:8]}"
        try:
            if self.is_archive(key):
                members = self.archive_members(key)
                if len(members) != 1:
                    raise ValueError(f"local artifact {key!r} is a tar of {len(members)} top entries")
                make_tar(members[0], part)
            elif os.path.isfile(src):
                shutil.copyfile(src, part)
            else:
                raise FileNotFoundError(f"object {key!r} does not exist in {self.root}")
            os.replace(part, path)
        finally:
            if os.path.exists(part):
                os.unlink(part)

    def list(self, prefix: str, recursive: bool = False) -> List[str]:
        """Keys under ``prefix`` (string prefix, as S3), sorted."""
        if prefix and (prefix.startswith("/") or any(p == ".." for p in prefix.split("/"))):
            raise ValueError(f"list prefix {prefix!r} must be relative, without '..'")
        head, _, stem = prefix.rpartition("/")
        base = os.path.join(self.root, *head.split("/")) if head else self.root
        keys: List[str] = []
        try:
            entries = list(os.scandir(base))
        except (FileNotFoundError, NotADirectoryError):
            return keys
        for entry in entries:
            if not entry.name.startswith(stem):
                continue
            key = f"{head}/{entry.name}" if head else entry.name
            if entry.is_file():
                keys.append(key)
            elif entry.is_dir():
                if os.path.isfile(os.path.join(entry.path, ARCHIVE_MARKER)):
                    keys.append(key)
                elif recursive:
                    keys.extend(self._walk(entry.path, key))
                else:
                    keys.append(key + "/")
        return sorted(keys)

    def _walk(self, path: str, key: str) -> List[str]:
        out: List[str] = []
        stack = [(path, key)]
        while stack:
            p, k = stack.pop()
            for entry in os.scandir(p):
                sub = f"{k}/{entry.name}"
                if entry.is_file():
                    out.append(sub)
                elif entry.is_dir():
                    if os.path.isfile(os.path.join(entry.path, ARCHIVE_MARKER)):
                        out.append(sub)
                    else:
                        stack.append((entry.path, sub))
        return out

    def copy(self, src: str, dst: str) -> None:
        """Copy the object ``src`` to ``dst`` (hard links: stored objects are never modified in place)."""
        path = self.path_of(src)
        if not os.path.exists(path) or (os.path.isdir(path) and not self.is_archive(src)):
            raise FileNotFoundError(f"object {src!r} does not exist in {self.root}")
        obj = self.stage()
        try:
            mirror(path, obj)
            self.commit(obj, dst)
        finally:
            remove_path(obj)

    def get_md5(self, key: str) -> str:
        """MD5 of the object's bytes (for an expanded tar artifact, of the ``.tgz`` it packs to)."""
        path = self.path_of(key)
        if self.is_archive(key):
            tgz = self.stage()
            try:
                self.download(key, tgz)
                return file_md5(tgz)
            finally:
                remove_path(tgz)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"object {key!r} does not exist in {self.root}")
        return file_md5(path)

    def to_dict(self) -> dict:
        """A JSON-able description (no secrets: there are none)."""
        return {"storage": "local", "root": self.root}


def file_md5(path: str) -> str:
    """Hex MD5 of a file's content."""
    md5 = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            md5.update(chunk)
    return md5.hexdigest()
