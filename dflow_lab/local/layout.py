"""Per-step directories: where a step attempt's declared container paths live on the host.

Every attempt gets ``STEPDIR``; a declared absolute path ``P`` maps to ``STEPDIR/root/P`` and
``DFLOW_LAB_ROOT`` is ``STEPDIR/root`` (see docs/internals.md, "Paths inside a step").
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

__all__ = ["StepDir", "declared_paths", "replace_paths"]

_SYSTEM_DIRS = ("/usr/", "/bin/", "/sbin/", "/lib", "/etc/", "/opt/", "/var/", "/proc/", "/sys/", "/dev/",
                "/home/", "/root/", "/run/", "/boot/", "/srv/")
# never mapped as mere parents: system directories, and /tmp itself (host paths under /tmp that a
# script names stay the host's; the declared paths under /tmp are still mapped)
_SYSTEM_DIRS_EXACT = {d.rstrip("/") for d in _SYSTEM_DIRS} | {"/tmp"}


class StepDir:
    """The directory of one step attempt."""

    def __init__(self, base: Path):
        self.base = base
        self.root = base / "root"
        self.log = base / "main.log"
        self._root = str(self.root)

    def create(self) -> StepDir:
        """Create (or re-create, after a resume) the directory tree (its parent exists)."""
        try:
            os.mkdir(self.base)
        except FileExistsError:
            shutil.rmtree(self.base)
            os.mkdir(self.base)
        os.mkdir(self.root)
        return self

    def map(self, declared: str) -> Path:
        """Host path of a declared container path (relative paths are relative to ``/``, the working
        directory of a container without ``workingDir``)."""
        return self.root / declared.lstrip("/")

    def map_str(self, declared: str) -> str:
        """``str(self.map(declared))`` without building a ``Path`` (the per-step hot path)."""
        parts = [p for p in declared.split("/") if p not in ("", ".")]  # as pathlib parses it ('..' kept)
        return "/".join([self._root, *parts])


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
    declared = {p.rstrip("/") for p in paths if os.path.isabs(p) and p.rstrip("/")}
    parents = set()
    for p in declared:  # a script also names the directories of its declared files (mkdir /mnt/out)
        parent = os.path.dirname(p.rstrip("/"))
        while parent not in ("/", "") and not parent.startswith(_SYSTEM_DIRS) and parent not in _SYSTEM_DIRS_EXACT:
            parents.add(parent)
            parent = os.path.dirname(parent)
    return sorted(declared | parents, key=lambda p: (-len(p), p))


def replace_paths(text: str, paths: list[str], stepdir: StepDir) -> str:
    """Replace each declared path written in ``text`` (as a whole path, or the start of a longer one)
    by its mapped host path."""
    if not paths or "/" not in text:
        return text
    present = [p for p in paths if p in text]
    if not present:
        return text
    pattern = re.compile(r"(?<![\w./-])(" + "|".join(re.escape(p) for p in present) + r")(?![\w.-])")

    def mapped(m: re.Match) -> str:
        return stepdir.map_str(m.group(1))

    return pattern.sub(mapped, text)
