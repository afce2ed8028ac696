"""The server extension's settings: what the JupyterLab settings editor holds (Argo host, namespace,
artifact repository, default image, OP modules) plus the secrets (Argo token, S3 secret key).

Secrets are kept here, in the server process, and in a file readable by its owner only; the browser can
only learn whether one is set. Every text the extension sends back goes through ``redact`` so that a secret
quoted in an exception never reaches the page.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

#: Public settings (the lab's settings schema, js/lab/schema/plugin.json) and their defaults.
PUBLIC_DEFAULTS: dict[str, Any] = {
    "argoHost": "",
    "namespace": "argo",
    "artifactEndpoint": "",
    "artifactBucket": "",
    "artifactSecure": False,
    "artifactAccessKey": "",
    "defaultImage": "",
    "opModules": [],
}
#: Secret settings: written from the browser, never read back.
SECRET_KEYS = ("argoToken", "artifactSecretKey")

_TYPES: dict[str, type] = {
    "argoHost": str, "namespace": str, "artifactEndpoint": str, "artifactBucket": str, "artifactSecure": bool,
    "artifactAccessKey": str, "defaultImage": str, "opModules": list, "argoToken": str, "artifactSecretKey": str,
}


class SettingsError(ValueError):
    """A settings update naming an unknown key or a value of the wrong type."""


class ServerSettings:
    """Settings of one Jupyter server; ``secrets_file`` keeps the secrets across restarts (mode 0600)."""

    def __init__(self, secrets_file: str | os.PathLike | None = None) -> None:
        self._lock = threading.Lock()
        self._public: dict[str, Any] = dict(PUBLIC_DEFAULTS)
        self._secrets: dict[str, str] = {}
        self._file = Path(secrets_file) if secrets_file else None
        if self._file is not None and self._file.is_file():
            data = json.loads(self._file.read_text() or "{}")
            self._secrets = {k: str(v) for k, v in data.items() if k in SECRET_KEYS and v}

    def __repr__(self) -> str:
        return f"ServerSettings(public={self._public!r}, secrets={sorted(self._secrets)})"

    def get(self, key: str) -> Any:
        """A public setting's value."""
        return self._public[key]

    def secret(self, key: str) -> str | None:
        """A secret's value (server side only), or ``None`` when it is not set."""
        return self._secrets.get(key)

    def public(self) -> dict[str, Any]:
        """What the browser may see: the public settings and, for each secret, whether it is set."""
        with self._lock:
            return {**self._public, "secrets": {k: k in self._secrets for k in SECRET_KEYS}}

    def update(self, values: dict[str, Any]) -> None:
        """Apply an update from the browser; a secret set to ``""`` or ``None`` is removed.

        The whole update is checked before anything changes: an unknown key or a wrong type is an error.
        """
        if not isinstance(values, dict):
            raise SettingsError("settings: the body must be a JSON object")
        for key, value in values.items():
            if key not in _TYPES:
                raise SettingsError(f"settings: unknown key {key!r}; known keys are {sorted(_TYPES)}")
            if value is not None and not isinstance(value, _TYPES[key]):
                raise SettingsError(f"settings: {key!r} must be a {_TYPES[key].__name__}, not {type(value).__name__}")
            if key == "opModules" and isinstance(value, list) and not all(isinstance(m, str) and m for m in value):
                raise SettingsError("settings: 'opModules' must be a list of module import paths")
        with self._lock:
            for key, value in values.items():
                if key in SECRET_KEYS:
                    if value:
                        self._secrets[key] = value
                    else:
                        self._secrets.pop(key, None)
                else:
                    self._public[key] = PUBLIC_DEFAULTS[key] if value is None else value
            if any(k in SECRET_KEYS for k in values):
                self._save_secrets()

    def _save_secrets(self) -> None:
        if self._file is None:
            return
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(self._secrets, f)
        os.replace(tmp, self._file)

    def redact(self, text: str) -> str:
        """``text`` with every secret value replaced by ``***``."""
        for value in self._secrets.values():
            if value:
                text = text.replace(value, "***")
        return text
