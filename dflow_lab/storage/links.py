"""Placing files without copying them: hard links where possible, copies otherwise.

Also dflow's small file helpers (``force_move``, ``merge_dir``, ``copy_file``, ``linktree``), which
``dflow_lab.utils`` re-exports under their dflow names.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from functools import partial

__all__ = [
    "link_or_copy",
    "copy_real",
    "link_tree",
    "mirror",
    "try_link",
    "force_link",
    "force_move",
    "merge_dir",
    "copy_file",
    "linktree",
    "remove_path",
]


def remove_path(path: str) -> None:
    """Remove a file, a symlink or a directory tree; a missing path is not an error."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def link_or_copy(src: str, dst: str) -> None:
    """Place the file ``src`` at ``dst`` (which must not exist): a hard link when both are on one
    file system, else a copy. A symlink ``src`` is resolved first, so ``dst`` is always a regular file."""
    real = os.path.realpath(src)
    try:
        os.link(real, dst)
    except OSError:
        shutil.copy2(real, dst)


def copy_real(src: str, dst: str) -> None:
    """Copy the file ``src`` (a symlink is resolved) to ``dst``, with its times and mode."""
    shutil.copy2(os.path.realpath(src), dst)


def link_tree(src: str, dst: str, place_file: Callable[[str, str], None] = link_or_copy) -> None:
    """Mirror the directory ``src`` at ``dst`` (created; must not exist), placing each file with
    ``place_file`` (:func:`link_or_copy` by default).

    Symlinks are followed (as ``tar --dereference`` does when Argo archives outputs); a symlink
    loop or a link to a directory above itself raises ``OSError`` instead of recursing forever.
    """
    os.makedirs(dst)
    seen = {os.stat(src).st_ino}
    stack = [(src, dst)]
    while stack:
        s, d = stack.pop()
        with os.scandir(s) as it:
            for entry in it:
                target = os.path.join(d, entry.name)
                if entry.is_dir():  # follows symlinks
                    ino = entry.stat().st_ino
                    if entry.is_symlink() and ino in seen:
                        raise OSError(f"symlink loop at {entry.path}")
                    seen.add(ino)
                    os.mkdir(target)
                    stack.append((entry.path, target))
                elif entry.is_file():
                    place_file(entry.path, target)
                elif entry.is_symlink():
                    raise FileNotFoundError(f"dangling symlink {entry.path}")


def mirror(src: str, dst: str, link: bool = True) -> None:
    """Place the file or directory ``src`` at ``dst`` (which must not exist): hard links when
    ``link`` (falling back to copies across file systems), else copies."""
    place_file = link_or_copy if link else copy_real
    if os.path.isdir(src):
        link_tree(src, dst, place_file=place_file)
    else:
        place_file(src, dst)


def try_link(src: str, dst: str) -> None:
    """Hard-link ``src`` to ``dst`` (replacing a file there), falling back to a copy (dflow's ``try_link``)."""
    if os.path.isfile(dst) or os.path.islink(dst):
        os.remove(dst)
    link_or_copy(src, dst)


def force_link(src: str, dst: str, func: Callable[[str, str], None] = os.symlink) -> None:
    """Link ``src`` at ``dst`` with ``func`` (a symlink by default), replacing a symlink already there."""
    if os.path.exists(dst) and os.path.samefile(src, dst):
        return
    if os.path.islink(dst):
        os.remove(dst)
    func(src, dst)


def force_move(src: str, dst: str) -> None:
    """Move ``src`` to ``dst``, replacing a file at ``dst``."""
    if os.path.exists(dst):
        if os.path.samefile(src, dst):
            return
        os.remove(dst)
    shutil.move(src, dst)


def merge_dir(src: str, dst: str, func: Callable[[str, str], object] = force_move) -> None:
    """Merge the tree ``src`` into ``dst``, placing each file with ``func`` (a move by default)."""
    for name in os.listdir(src):
        s = os.path.join(src, name)
        d = os.path.join(dst, name)
        if func is force_move and not os.path.lexists(d):
            try:  # nothing to merge with: move the whole entry at once
                os.rename(s, d)
                continue
            except OSError:  # another file system: move file by file below
                pass
        if os.path.isdir(s):
            if os.path.isfile(d) or os.path.islink(d):
                os.remove(d)
            os.makedirs(d, exist_ok=True)
            merge_dir(s, d, func)
        elif os.path.isfile(s):
            if os.path.isdir(d) and not os.path.islink(d):
                shutil.rmtree(d)
            func(s, d)


def copy_file(src: str, dst: str, func: Callable[[str, str], object] = try_link) -> None:
    """Place the file or tree ``src`` at ``dst`` with ``func`` (hard link, else copy), replacing ``dst``."""
    os.makedirs(os.path.dirname(os.path.abspath(dst)), exist_ok=True)
    if os.path.isdir(src):
        remove_path(dst)
        shutil.copytree(src, dst, copy_function=func)
    elif os.path.isfile(src):
        func(src, dst)
    else:
        raise FileNotFoundError(f"File {src} not found")


def linktree(src: str, dst: str, func: Callable[[str, str], None] = os.symlink) -> None:
    """Mirror ``src`` into ``dst`` with one link per file (symlinks by default), as dflow's ``linktree``."""
    merge_dir(src, dst, partial(force_link, func=func))
