"""``MinioClient``: the :class:`StorageClient` for any S3-compatible repository (the ``minio`` package).

Every call is retried with exponential backoff on network errors and 5xx answers, a bounded number
of times (:class:`RetryPolicy`); a download goes to a temporary file renamed into place only when
complete, and an upload is one S3 object, visible only once the (multipart) upload is complete.
Credentials are kept out of ``repr``, ``to_dict`` and every error message.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any, List, NoReturn, TypeVar

import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.error import InvalidResponseError, S3Error, ServerError

from ..config import s3_config
from .client import ObjectNotFound, StorageClient, StorageError
from .retry import RetryPolicy

__all__ = ["MinioClient"]

_T = TypeVar("_T")

TRANSIENT_S3_CODES = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "NoSuchUpload"}


def _split_endpoint(endpoint: str, secure: bool) -> tuple[str, bool]:
    for scheme, sec in (("https://", True), ("http://", False)):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme):].rstrip("/"), sec
    return endpoint.rstrip("/"), secure


class MinioClient(StorageClient):
    """A :class:`StorageClient` on an S3/MinIO bucket; unset arguments come from ``s3_config``.

    ``part_size`` (bytes, ≥ 5 MiB; 0 lets minio choose) sets the multipart chunk and
    ``parallel_uploads`` how many parts of one file are sent at once; ``retry`` is the retry
    policy; ``workers`` the number of concurrent transfers used for many-object artifacts.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        secure: bool | None = None,
        bucket_name: str | None = None,
        *,
        region: str | None = None,
        part_size: int = 0,
        parallel_uploads: int = 3,
        retry: RetryPolicy | None = None,
        workers: int = 16,
        timeout: float = 120.0,
        **kwargs: Any,
    ) -> None:
        endpoint = endpoint if endpoint is not None else s3_config["endpoint"]
        secure = secure if secure is not None else bool(s3_config["secure"])
        self.endpoint, self.secure = _split_endpoint(str(endpoint), secure)
        self.bucket_name: str = bucket_name if bucket_name is not None else s3_config["bucket_name"]
        self.part_size = part_size
        self.parallel_uploads = max(1, parallel_uploads)
        self.retry = retry or RetryPolicy()
        self.workers = max(1, workers)
        self._secrets = [
            s
            for s in (
                access_key if access_key is not None else s3_config["access_key"],
                secret_key if secret_key is not None else s3_config["secret_key"],
            )
            if s
        ]
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=10.0, read=timeout),
            maxsize=self.workers + 4,
            retries=False,  # retries are ours, around whole operations
            cert_reqs="CERT_REQUIRED" if self.secure else "CERT_NONE",
        )
        self.client = Minio(
            self.endpoint,
            access_key=self._secrets[0] if self._secrets else None,
            secret_key=self._secrets[1] if len(self._secrets) > 1 else None,
            secure=self.secure,
            region=region,
            http_client=http,
        )
        self._bucket_seen = False
        self._last_drop = float("-inf")

    def __repr__(self) -> str:
        scheme = "https" if self.secure else "http"
        return f"MinioClient(endpoint='{scheme}://{self.endpoint}', bucket_name={self.bucket_name!r})"

    def __reduce__(self) -> NoReturn:  # pickling must not carry the credentials either
        raise TypeError("MinioClient is not picklable (it holds credentials); build one from s3_config")

    def __copy__(self) -> MinioClient:
        return self  # a client is shared, not copied (it holds a connection pool)

    def __deepcopy__(self, memo: dict) -> MinioClient:
        return self

    def to_dict(self) -> dict:
        """Where the repository is (endpoint, bucket, secure); never the credentials."""
        return {"endpoint": self.endpoint, "secure": self.secure, "bucket_name": self.bucket_name}

    # -- retries ------------------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _transient(self, exc: BaseException) -> bool:
        """Whether a failed try is worth another one.

        Network errors and 5xx answers are. A missing bucket or key is too, for as long as the
        retry policy's patience after the server last dropped out (a restarting server may answer
        before its data is back), and a bucket this client has used before that vanished.
        """
        if isinstance(exc, S3Error):
            if exc.code in TRANSIENT_S3_CODES:
                return True
            if exc.code == "NoSuchBucket" and self._bucket_seen:
                return True
            recently_dropped = time.monotonic() - self._last_drop < sum(self.retry.delays())
            return exc.code in ("NoSuchBucket", "NoSuchKey") and recently_dropped
        if isinstance(
            exc, (urllib3.exceptions.HTTPError, ServerError, InvalidResponseError, ConnectionError, TimeoutError)
        ):
            self._last_drop = time.monotonic()
            return True
        return False

    def _run(self, what: str, op: Callable[[], _T]) -> _T:
        where = f"{what} on {self!r}"
        try:
            result = self.retry.run(op, where, self._transient, lambda e: self._scrub(str(e)))
        except S3Error as exc:
            cls = ObjectNotFound if exc.code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject") else StorageError
            raise cls(self._scrub(f"{where} failed: {exc.code}: {exc.message}"), code=exc.code) from None
        self._bucket_seen = True
        return result

    # -- StorageClient ------------------------------------------------------------------------
    def upload(self, key: str, path: str) -> None:
        """Upload the file ``path`` as ``key`` (multipart above ``part_size``)."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"upload of {key!r}: no such file {path!r}")
        self._run(
            f"upload of {key!r}",
            lambda: self.client.fput_object(
                self.bucket_name, key, path, part_size=self.part_size, num_parallel_uploads=self.parallel_uploads
            ),
        )

    def download(self, key: str, path: str) -> None:
        """Download ``key`` to ``path``: one GET into a temporary file, renamed when complete.

        A retry after a dropped connection resumes where the file stopped (a ranged GET that
        requires the same ETag); if the object changed meanwhile, it starts over.
        """
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        part = f"{path}.part-{uuid.uuid4().hex[:8]}"
        etag: list[str] = []

        def attempt() -> None:
            offset = os.path.getsize(part) if os.path.exists(part) else 0
            if offset and not etag:  # no ETag to check a resumed range against: start over
                os.remove(part)
                offset = 0
            headers: dict[str, str | list[str] | tuple[str]] | None = {"If-Match": etag[0]} if etag and offset else None
            try:
                resp = self.client.get_object(self.bucket_name, key, offset=offset, request_headers=headers)
            except S3Error as exc:
                if exc.code == "PreconditionFailed":  # changed since the first try: start over
                    os.remove(part)
                    etag.clear()
                    raise ConnectionError(f"{key!r} changed during its download") from None
                raise
            try:
                if not etag and resp.headers.get("ETag"):
                    etag.append(resp.headers["ETag"])
                with open(part, "ab") as out:
                    for chunk in resp.stream(1 << 20):
                        out.write(chunk)
            finally:
                resp.close()
                resp.release_conn()

        try:
            self._run(f"download of {key!r}", attempt)
            os.replace(part, path)
        finally:
            if os.path.exists(part):
                os.remove(part)

    def list(self, prefix: str, recursive: bool = False) -> List[str]:
        """Object keys under ``prefix`` (with ``"<dir>/"`` entries unless ``recursive``)."""
        return self._run(
            f"listing of {prefix!r}",
            lambda: [
                o.object_name
                for o in self.client.list_objects(self.bucket_name, prefix=prefix, recursive=recursive)
            ],
        )

    def copy(self, src: str, dst: str) -> None:
        """Server-side copy of ``src`` to ``dst``."""
        self._run(
            f"copy of {src!r} to {dst!r}",
            lambda: self.client.copy_object(self.bucket_name, dst, CopySource(self.bucket_name, src)),
        )

    def get_md5(self, key: str) -> str:
        """The object's ETag (its MD5 for a single-part upload)."""
        return self._run(
            f"stat of {key!r}", lambda: (self.client.stat_object(self.bucket_name, key).etag or "").strip('"')
        )

    def exists(self, key: str) -> bool:
        """True when the object ``key`` exists."""

        def stat() -> bool:
            try:
                self.client.stat_object(self.bucket_name, key)
                return True
            except S3Error as exc:
                if exc.code in ("NoSuchKey", "NoSuchObject", "NotFound"):
                    return False
                raise

        return self._run(f"stat of {key!r}", stat)
