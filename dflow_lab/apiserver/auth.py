"""Bearer-token authentication of ``dflow-lab server``.

The token is generated once per workspace (``secrets.token_urlsafe``), stored in
``<workspace>/argo-server.token`` readable by its owner only (0600), and compared in constant time.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

__all__ = ["TOKEN_FILE", "load_or_create_token", "check_bearer"]

TOKEN_FILE = "argo-server.token"


def load_or_create_token(workdir: str | os.PathLike[str]) -> tuple[str, bool]:
    """The workspace's server token and whether it was just created.

    A token file readable by others is refused (``PermissionError``): a leaked token must be replaced.
    """
    path = Path(workdir) / TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PermissionError(f"{path} is readable by other users (mode {mode:o}); delete it to get a new "
                                  "token, or chmod 600 it") from None
        token = path.read_text().strip()
        if not token:
            raise PermissionError(f"{path} is empty; delete it to get a new token") from None
        return token, False
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, True


def check_bearer(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>``."""
    if not header:
        return False
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), token.encode())
