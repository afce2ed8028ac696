"""The workflow archive of ``dflow-lab server``: finished workflows kept after they are deleted, as Argo's.

One JSON file per workflow (``<workspace>/argo-archive/<uid>.json``, written atomically) holding the
workflow object as it was when deleted: metadata, spec and status with its nodes. Logs and step
directories are not kept.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["WorkflowArchive"]

_UID_RE = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9]{0,127}\Z")


class WorkflowArchive:
    """Archived workflow objects under ``root``, by uid."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def _path(self, uid: str) -> Path | None:
        return self.root / f"{uid}.json" if isinstance(uid, str) and _UID_RE.match(uid) else None

    def put(self, wf: dict[str, Any]) -> None:
        """Archive a workflow object (replacing an earlier record of the same uid)."""
        path = self._path((wf.get("metadata") or {}).get("uid", ""))
        if path is None:
            raise ValueError(f"workflow {wf.get('metadata', {}).get('name')!r} has no valid uid to archive it by")
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(wf, f)
        os.replace(tmp, path)

    def get(self, uid: str) -> dict[str, Any] | None:
        """The archived workflow with this uid, if any."""
        path = self._path(uid)
        if path is None or not path.is_file():
            return None
        data: dict[str, Any] = json.loads(path.read_text())  # written by put()
        return data

    def delete(self, uid: str) -> bool:
        """Remove a record; whether there was one."""
        path = self._path(uid)
        if path is None or not path.is_file():
            return False
        path.unlink()
        return True

    def all(self) -> list[dict[str, Any]]:
        """Every archived workflow, newest first."""
        if not self.root.is_dir():
            return []
        items = [json.loads(p.read_text()) for p in self.root.glob("*.json")]
        return sorted(items, key=lambda wf: (wf.get("metadata") or {}).get("creationTimestamp", ""), reverse=True)
