"""Previews of artifacts for the monitor's step panel: text and JSON heads, CSV/TSV tables, images, NumPy
array summaries and directory listings. A preview is a small JSON-able dict (``kind`` + fields) that the
canvas draws; it never holds more than a bounded head of the file."""

from __future__ import annotations

import base64
import csv
import io
import json
from pathlib import Path
from typing import Any

TEXT_BYTES = 16 * 1024
IMAGE_BYTES = 2 * 1024 * 1024
TABLE_ROWS = 20
DIR_ENTRIES = 50

_IMAGE_SUFFIX = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
                 ".svg": "image/svg+xml", ".webp": "image/webp"}
_MAGIC = [(b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif")]


def preview_path(path: str | Path) -> dict[str, Any]:
    """A preview of the file or directory at ``path``."""
    p = Path(path)
    if not p.exists():
        return {"kind": "missing", "message": f"{p.name}: not found"}
    if p.is_dir():
        files = [c for c in p.iterdir()]
        if len(files) == 1 and files[0].is_file():  # an artifact saved as a directory holding one file
            return preview_path(files[0])
        return _directory(p)
    return _file(p)


def _directory(p: Path) -> dict[str, Any]:
    children = sorted(p.iterdir(), key=lambda c: (not c.is_dir(), c.name))
    entries = [{"name": c.name, "dir": c.is_dir(), "size": None if c.is_dir() else c.stat().st_size}
               for c in children[:DIR_ENTRIES]]
    return {"kind": "directory", "entries": entries, "truncated": len(children) > DIR_ENTRIES}


def _file(p: Path) -> dict[str, Any]:
    suffix = p.suffix.lower()
    size = p.stat().st_size
    with open(p, "rb") as f:
        head = f.read(TEXT_BYTES + 1)
    mime = _IMAGE_SUFFIX.get(suffix) or next((m for magic, m in _MAGIC if head.startswith(magic)), None)
    if mime:
        if size > IMAGE_BYTES:
            return {"kind": "binary", "size": size}
        return {"kind": "image", "mime": mime, "data": base64.b64encode(p.read_bytes()).decode()}
    if suffix == ".npy" or head.startswith(b"\x93NUMPY"):
        return _numpy(p, size)
    if b"\x00" in head:
        return {"kind": "binary", "size": size}
    truncated = len(head) > TEXT_BYTES
    text = head[:TEXT_BYTES].decode("utf-8", errors="replace")
    if suffix in (".csv", ".tsv"):
        return _table(text, "\t" if suffix == ".tsv" else ",", truncated)
    if suffix == ".json" or text.lstrip()[:1] in ("{", "["):
        if not truncated:
            try:
                return {"kind": "json", "text": json.dumps(json.loads(text), indent=2)[:TEXT_BYTES],
                        "truncated": False}
            except ValueError:
                pass
        if suffix == ".json":
            return {"kind": "json", "text": text, "truncated": truncated}
    return {"kind": "text", "text": text, "truncated": truncated}


def _table(text: str, delimiter: str, truncated: bool) -> dict[str, Any]:
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    if truncated and rows:
        rows = rows[:-1]  # the last line may be cut
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {"kind": "table", "columns": header, "rows": body[:TABLE_ROWS],
            "truncated": truncated or len(body) > TABLE_ROWS}


def _numpy(p: Path, size: int) -> dict[str, Any]:
    try:
        # lazy: optional dependency: numpy, for array previews only
        import numpy as np
    except ImportError:
        return {"kind": "binary", "size": size}
    try:
        a = np.load(p, mmap_mode="r", allow_pickle=False)
    except ValueError:
        return {"kind": "binary", "size": size}
    summary = np.array2string(np.asarray(a[:5] if a.ndim else a), threshold=50, edgeitems=3)
    if a.size and np.issubdtype(a.dtype, np.number):
        summary += f"\nmin {a.min():.6g}  max {a.max():.6g}  mean {a.mean():.6g}"
    return {"kind": "array", "shape": list(a.shape), "dtype": str(a.dtype), "summary": summary}
