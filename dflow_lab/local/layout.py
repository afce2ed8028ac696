"""Per-step directories: where a step attempt's declared container paths live on the host.

Every attempt gets ``STEPDIR``; a declared absolute path ``P`` maps to ``STEPDIR/root/P`` and
``DFLOW_LAB_ROOT`` is ``STEPDIR/root`` (see docs/internals.md, "Paths inside a step").
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["StepDir", "declared_paths", "replace_paths"]


class StepDir:
    """The directory of one step attempt."""

    def __init__(self, base: Path):
        self.base = base
        self.root = base / "root"
        self.work = base / "work"
        self.log = base / "main.log"

    def create(self) -> StepDir:
        """Create (or re-create, after a resume) the directory tree."""
        if self.base.exists():
            shutil.rmtree(self.base)
        self.root.mkdir(parents=True)
        self.work.mkdir()
        return self

    def map(self, declared: str) -> Path:
        """Host path of a declared container path (absolute paths go under ``root``, others under ``work``)."""
        if os.path.isabs(declared):
            return self.root / declared.lstrip("/")
        return self.work / declared


def declared_paths(template: dict) -> list[str]:
    """The container paths a template declares: input/output artifact paths, output parameter files,
    volume mounts and the working directory."""
    paths: list[str] = []
    body = template.get("script") or template.get("container") or {}
    for art in (template.get("inputs") or {}).get("artifacts") or []:
        if art.get("path"):
            paths.append(art["path"])
    outputs = template.get("outputs") or {}
    for par in outputs.get("parameters") or []:
        path = (par.get("valueFrom") or {}).get("path")
        if path:
            paths.append(path)
    for art in outputs.get("artifacts") or []:
        if art.get("path"):
            paths.append(art["path"])
    for mount in body.get("volumeMounts") or []:
        if mount.get("mountPath"):
            paths.append(mount["mountPath"])
    if body.get("workingDir"):
        paths.append(body["workingDir"])
    return sorted({p for p in paths if os.path.isabs(p) and p != "/"}, key=len, reverse=True)


def replace_paths(text: str, paths: list[str], stepdir: StepDir) -> str:
    """Replace each declared path occurring literally in ``text`` by its mapped host path."""
    if not paths or "/" not in text:
        return text
    marks: dict[str, str] = {}
    for i, p in enumerate(paths):  # longest first, through placeholders so a mapped path is not re-mapped
        if p in text:
            mark = f"\x00{i}\x00"
            text = text.replace(p, mark)
            marks[mark] = str(stepdir.map(p))
    for mark, host in marks.items():
        text = text.replace(mark, host)
    return text
