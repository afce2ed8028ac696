"""Tar (and zip) archives as Argo makes and unpacks them, with safe extraction.

Argo archives an output path ``P`` as a gzipped tar whose single top entry is ``basename(P)``; on
input it extracts into a temporary directory and, when that holds exactly one entry, renames the
entry to the destination path, otherwise renames the whole directory there. We do the same.

Extraction never writes outside its target: members with absolute names or ``..`` components,
hard links to anything but an earlier member, device files, and symlinks that resolve outside the
target are rejected (:class:`UnsafeArchiveError`), and nothing of the archive is left behind.

Extraction is bounded (archives are untrusted, docs/security.md): at most
``config["archive_max_members"]`` members (default 100,000) and ``config["archive_max_bytes"]``
bytes (default 16 GiB) per archive, counted while streaming — a member is refused before the byte
that would pass the bound is written (:class:`ArchiveBoundError`). A malformed archive (bad gzip or
zip data, a truncated tar, a header that sends the reader into endless recursion, an ``OSError``
while writing) gives :class:`ArchiveError`. All three are :class:`~.client.StorageError` (and
``ValueError``); their message names the archive and the member, and nothing extracted is kept.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import posixpath
import shutil
import stat
import tarfile
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO

from ..bounds import archive_max_bytes, archive_max_members, cut_text
from .client import StorageError
from .links import remove_path

__all__ = [
    "ArchiveError",
    "ArchiveBoundError",
    "UnsafeArchiveError",
    "make_tar",
    "make_zip",
    "is_tarball",
    "safe_extract",
    "safe_unzip",
    "unpack",
    "place",
]

DEFAULT_COMPRESSION = 6  # gzip's default, and Argo's


class ArchiveError(StorageError, ValueError):
    """An archive cannot be extracted (malformed, or see the subclasses); names the archive and member."""


class UnsafeArchiveError(ArchiveError):
    """An archive member would be written, or point, outside the extraction target."""


class ArchiveBoundError(ArchiveError):
    """An archive holds more members or bytes than the configured bounds allow."""


# what a malformed archive raises from tarfile/gzip/zlib/zipfile, or writing its members
_MALFORMED = (tarfile.TarError, zipfile.BadZipFile, zlib.error, EOFError, OSError, RecursionError,
              UnicodeError, ValueError, OverflowError)


class _Budget:
    """What an extraction may still write: members and bytes, from the configured bounds."""

    def __init__(self) -> None:
        self.max_members = archive_max_members()
        self.max_bytes = archive_max_bytes()
        self.members = 0
        self.bytes = 0
        self.current = ""

    def member(self, name: str) -> None:
        self.current = name
        self.members += 1
        if self.members > self.max_members:
            raise ArchiveBoundError(
                f"it holds more than {self.max_members:,} members, the bound config['archive_max_members'] "
                "(DFLOW_ARCHIVE_MAX_MEMBERS); pack fewer, larger files or raise the bound")

    def take(self, size: int) -> None:
        if self.bytes + size > self.max_bytes:
            raise ArchiveBoundError(
                f"it extracts to more than {self.max_bytes:,} bytes, the bound config['archive_max_bytes'] "
                f"(DFLOW_ARCHIVE_MAX_BYTES; {self.bytes:,} bytes before this member); raise the bound if the "
                "archive is trusted")
        self.bytes += size


def _named(archive: str, budget: _Budget | None, e: BaseException) -> ArchiveError:
    """``e`` as an :class:`ArchiveError` whose message names the archive and the member."""
    member = f", member {budget.current!r}" if budget is not None and budget.current else ""
    if isinstance(e, ArchiveError):
        cls, text = type(e), str(e)
    else:
        cls, text = ArchiveError, f"malformed archive ({type(e).__name__}: {e})"
    return cls(cut_text(f"archive {archive!r}{member}: {text}", 1024))


def make_tar(src: str, dest: str, compresslevel: int = DEFAULT_COMPRESSION) -> None:
    """Write ``src`` (file or directory) to the gzipped tar ``dest`` under the top entry ``basename(src)``.

    Symlinks are followed, as Argo does when archiving outputs.
    """
    with open(dest, "wb") as raw, gzip.GzipFile(
        filename="", fileobj=raw, mode="wb", compresslevel=compresslevel, mtime=0
    ) as gz, tarfile.open(fileobj=gz, mode="w", dereference=True, format=tarfile.GNU_FORMAT) as tf:
        tf.add(src, arcname=os.path.basename(os.path.normpath(src)), filter=_anonymous)


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Drop owners, so that one tree always gives the same bytes (tarfile sorts the entries)."""
    info.uname = info.gname = ""
    info.uid = info.gid = 0
    return info


def is_tarball(path: str) -> bool:
    """True when ``path`` is a gzipped tar with at least one member (Argo's test before untarring)."""
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                return False
        with tarfile.open(path, "r:gz") as tf:
            return tf.next() is not None
    except (OSError, tarfile.TarError, EOFError, zlib.error, RecursionError):
        return False


def _member_path(name: str, what: str) -> str:
    """Normalise an archive member name to a relative POSIX path, rejecting escapes."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"{what} {name!r} has an absolute path")
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"{what} {name!r} has a '..' component")
    return "/".join(parts)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


@contextlib.contextmanager
def _staged_extraction(target: str) -> Iterator[str]:
    """A private directory inside ``target`` to extract into; its entries move into ``target``
    when the block succeeds, and it is removed in any case."""
    os.makedirs(target, exist_ok=True)
    root = os.path.realpath(target)
    stage = os.path.join(root, f".extract-{uuid.uuid4().hex}")
    os.mkdir(stage)
    try:
        yield stage
        for name in os.listdir(stage):
            dst = os.path.join(root, name)
            remove_path(dst)
            os.rename(os.path.join(stage, name), dst)
    finally:
        remove_path(stage)


def _write_member(src: IO[bytes], dst: str, mode: int, mtime: float | None, budget: _Budget) -> None:
    """Write one regular member (never through a symlink), with safe permission bits, counting its
    bytes against ``budget`` as they stream (nothing past the bound is written)."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.isdir(dst) and not os.path.islink(dst):
        shutil.rmtree(dst)
    fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with src, os.fdopen(fd, "wb") as out:
        while chunk := src.read(1 << 20):
            budget.take(len(chunk))
            out.write(chunk)
    os.chmod(dst, (mode & 0o755) | stat.S_IRUSR | stat.S_IWUSR)
    if mtime is not None:
        os.utime(dst, (mtime, mtime))


def safe_extract(archive: str, target: str, name: str | None = None) -> None:
    """Extract the tar ``archive`` into the directory ``target`` (created if missing).

    Files and directories go first; links last, each checked to resolve inside ``target``. On any
    unsafe member :class:`UnsafeArchiveError`, over a bound :class:`ArchiveBoundError`, on a malformed
    archive :class:`ArchiveError` is raised (naming ``name``, default the archive's path, and the member)
    and everything extracted is removed.
    """
    budget = None
    try:
        budget = _Budget()
        _extract_tar(archive, target, budget)
    except _MALFORMED as e:
        raise _named(name or archive, budget, e) from (None if isinstance(e, ArchiveError) else e)


def _extract_tar(archive: str, target: str, budget: _Budget) -> None:
    with _staged_extraction(target) as stage:
        symlinks: list[tuple[str, str]] = []
        with tarfile.open(archive, "r:*") as tf:
            for m in tf:
                budget.member(m.name)
                rel = _member_path(m.name, "archive member")
                if not rel:
                    continue
                dst = os.path.join(stage, rel)
                if m.isdir():
                    os.makedirs(dst, exist_ok=True)
                elif m.isreg():
                    if budget.bytes + m.size > budget.max_bytes:
                        budget.take(m.size)  # the header's size: refused before a byte of it is written
                    src = tf.extractfile(m)
                    assert src is not None
                    _write_member(src, dst, m.mode, m.mtime, budget)
                elif m.islnk():
                    link = _member_path(m.linkname, f"hard link {m.name!r} to")
                    src_path = os.path.join(stage, link)
                    if not link or os.path.islink(src_path) or not os.path.isfile(src_path):
                        raise UnsafeArchiveError(
                            f"hard link {m.name!r} points to {m.linkname!r}, which is not a file of the archive"
                        )
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    remove_path(dst)
                    os.link(src_path, dst)
                elif m.issym():
                    if posixpath.isabs(m.linkname):
                        raise UnsafeArchiveError(f"symlink {m.name!r} points to the absolute path {m.linkname!r}")
                    lexical = posixpath.normpath(posixpath.join(posixpath.dirname(rel), m.linkname))
                    if lexical == ".." or lexical.startswith("../"):
                        raise UnsafeArchiveError(f"symlink {m.name!r} -> {m.linkname!r} escapes the target")
                    symlinks.append((rel, m.linkname))
                else:
                    raise UnsafeArchiveError(f"archive member {m.name!r} is a device or fifo")
            budget.current = ""
            while tf.fileobj.read(1 << 20):  # to the end: gzip checks its CRC and length only there
                pass
        for rel, linkname in symlinks:
            budget.current = rel
            dst = os.path.join(stage, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.lexists(dst):
                raise UnsafeArchiveError(f"symlink {rel!r} would replace another member")
            os.symlink(linkname, dst)
        for rel, linkname in symlinks:  # resolve through the links now all exist
            budget.current = rel
            if not _inside(os.path.realpath(os.path.join(stage, rel)), stage):
                raise UnsafeArchiveError(f"symlink {rel!r} -> {linkname!r} escapes the target")


def make_zip(src: str, dest: str) -> None:
    """Write ``src`` (file or directory) to the zip ``dest``: files under ``basename(src)/``, as
    Argo's zip archive strategy does (symlinks followed, directories implied by their files)."""
    base = os.path.basename(os.path.normpath(src))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        if not os.path.isdir(src):
            zf.write(src, arcname=base)
            return
        for dirpath, dirs, files in os.walk(src, followlinks=True):
            dirs.sort()
            rel = os.path.relpath(dirpath, src)
            for f in sorted(files):
                name = f if rel == "." else os.path.join(rel, f)
                zf.write(os.path.join(dirpath, f), arcname=f"{base}/{name.replace(os.sep, '/')}")


def safe_unzip(archive: str, target: str, name: str | None = None) -> None:
    """Extract the zip ``archive`` into ``target`` with the same guarantees as :func:`safe_extract`
    (zip members that are symlinks are refused; the bounds are checked on the zip's directory first)."""
    budget = None
    try:
        budget = _Budget()
        _extract_zip(archive, target, budget)
    except _MALFORMED as e:
        raise _named(name or archive, budget, e) from (None if isinstance(e, ArchiveError) else e)


def _extract_zip(archive: str, target: str, budget: _Budget) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > budget.max_members:  # the directory says so: refused before anything is written
            budget.members = len(infos) - 1
            budget.member(infos[budget.max_members].filename)
        declared = sum(max(i.file_size, 0) for i in infos)
        if declared > budget.max_bytes:
            budget.take(declared)
    with _staged_extraction(target) as stage, zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            budget.member(info.filename)
            rel = _member_path(info.filename, "archive member")
            if not rel:
                continue
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeArchiveError(f"zip member {info.filename!r} is a symlink")
            dst = os.path.join(stage, rel)
            if info.is_dir():
                os.makedirs(dst, exist_ok=True)
            else:
                _write_member(zf.open(info), dst, mode or 0o644, None, budget)


def place(src: str, dest: str) -> None:
    """Move ``src`` to ``dest``, replacing whatever is there (parents created)."""
    os.makedirs(os.path.dirname(os.path.abspath(dest)) or ".", exist_ok=True)
    remove_path(dest)
    os.rename(src, dest)


def unpack(archive: str, dest: str, kind: str = "tar", name: str | None = None) -> None:
    """Extract the ``"tar"`` or ``"zip"`` ``archive`` at ``dest`` as Argo does: a single top entry
    becomes ``dest`` itself, several fill ``dest`` as a directory. ``name`` (the artifact's key) names
    the archive in errors."""
    tmp = f"{dest.rstrip(os.sep)}.tmpdir-{uuid.uuid4().hex[:8]}"
    try:
        (safe_unzip if kind == "zip" else safe_extract)(archive, tmp, name)
        entries = os.listdir(tmp)
        if len(entries) == 1:
            place(os.path.join(tmp, entries[0]), dest)
        else:
            place(tmp, dest)
    finally:
        remove_path(tmp)
