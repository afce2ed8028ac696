"""Artifacts and storage: the ``StorageClient`` interface, the local store, ``MinioClient`` for
S3-compatible repositories, safe archives, and the repository the engines move artifacts with."""

from .archive import ArchiveBoundError, ArchiveError, UnsafeArchiveError
from .client import ObjectNotFound, StorageClient, StorageError
from .local import LocalStorageClient
from .repository import ArtifactRepository, artifact_repository
from .retry import RetryPolicy

__all__ = [
    "StorageClient",
    "StorageError",
    "ObjectNotFound",
    "LocalStorageClient",
    "ArtifactRepository",
    "artifact_repository",
    "RetryPolicy",
    "UnsafeArchiveError",
    "ArchiveError",
    "ArchiveBoundError",
]


def __getattr__(name: str) -> type:
    if name == "MinioClient":  # imported lazily: it pulls in the minio package
        # lazy: minio (~0.3-0.9 s to import) is needed by S3 stores only, and is not in a step's bare interpreter
        from .minio_client import MinioClient

        return MinioClient
    raise AttributeError(name)
