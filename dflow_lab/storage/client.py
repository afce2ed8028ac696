"""The object-store interface every artifact repository implements (dflow's ``StorageClient``)."""

from __future__ import annotations

import abc
from typing import List, Optional

__all__ = ["StorageClient", "StorageError", "ObjectNotFound"]


class StorageError(OSError):
    """A storage operation failed for good (after its retries); the message names the key and store.

    ``code`` is the store's error code when it gave one (``"AccessDenied"``, ``"NoSuchKey"``…).
    """

    def __init__(self, message: str, code: Optional[str] = None) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ObjectNotFound(StorageError, FileNotFoundError):
    """The key (or its bucket) does not exist in the store."""


class StorageClient(abc.ABC):
    """An object store: keys are ``/``-separated strings, objects are files.

    Implement the five methods to plug in your own store with ``s3_config["storage_client"]``.
    """

    @abc.abstractmethod
    def upload(self, key: str, path: str) -> None:
        """Store the file ``path`` as the object ``key``."""

    @abc.abstractmethod
    def download(self, key: str, path: str) -> None:
        """Write the object ``key`` to the file ``path`` (parent directories are created)."""

    @abc.abstractmethod
    def list(self, prefix: str, recursive: bool = False) -> List[str]:
        """Keys starting with ``prefix``; without ``recursive``, deeper levels are folded into
        ``"<dir>/"`` entries, as S3 lists with the ``/`` delimiter."""

    @abc.abstractmethod
    def copy(self, src: str, dst: str) -> None:
        """Copy the object ``src`` to ``dst`` inside the store."""

    @abc.abstractmethod
    def get_md5(self, key: str) -> str:
        """The MD5 (hex) of the object ``key``, as S3's ETag of a single-part upload."""
