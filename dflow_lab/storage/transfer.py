"""Moving many objects at once: a directory up to a key prefix, a key prefix down to a directory.

Transfers run concurrently (the client's ``workers`` attribute, 1 for clients without one), which
is what makes thousands of small objects fast on S3; the call returns only when all are done and
raises the first failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .client import StorageClient
from .local import file_md5

__all__ = ["run_all", "upload_tree", "download_objects", "objects_under", "local_parts"]

T = TypeVar("T")


def run_all(fn: Callable[[T], object], items: Iterable[T], workers: int) -> None:
    """Call ``fn`` on every item, ``workers`` at a time; re-raise the first error after all finish."""
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        for item in items:
            fn(item)
        return
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        for future in [pool.submit(fn, item) for item in items]:
            future.result()


def _workers(client: StorageClient) -> int:
    return int(getattr(client, "workers", 1) or 1)


def upload_tree(client: StorageClient, src: str, key: str) -> int:
    """Upload each file under the directory ``src`` as ``key/<relative path>``; return the count.

    Symlinks are followed (as dflow does), so a catalog of links uploads the files they name.
    """
    pairs: list[tuple[str, str]] = []
    for dirpath, _dirs, files in os.walk(src, followlinks=True):
        rel = os.path.relpath(dirpath, src)
        for f in files:
            sub = f if rel == "." else f"{rel.replace(os.sep, '/')}/{f}"
            pairs.append((f"{key.rstrip('/')}/{sub}", os.path.join(dirpath, f)))
    run_all(lambda kp: client.upload(kp[0], kp[1]), pairs, _workers(client))
    return len(pairs)


def objects_under(client: StorageClient, key: str) -> list[str]:
    """The objects of an artifact at ``key``: ``[key]`` for one object, else those under ``key/``."""
    found = client.list(key, recursive=True)
    if key in found:
        return [key]
    prefix = key.rstrip("/") + "/"
    return [o for o in found if o.startswith(prefix) and not o.endswith("/")]


def local_parts(rel: str, key: str) -> list[str]:
    """The path components of an object's relative key, refusing ``..`` (a key must never make a
    download write outside its target)."""
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"object {key!r} has a '..' component: refusing to write it outside the target")
    return parts


def download_objects(
    client: StorageClient, pairs: list[tuple[str, str]], skip_exists: bool = False
) -> None:
    """Download each ``(key, path)``; with ``skip_exists``, keep a local file whose MD5 matches."""

    def one(kp: tuple[str, str]) -> None:
        key, path = kp
        if skip_exists and os.path.isfile(path) and client.get_md5(key) == file_md5(path):
            return
        client.download(key, path)

    run_all(one, pairs, _workers(client))
