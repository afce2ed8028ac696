"""Finding Python OPs without configuration: ``.py`` modules in a folder (the document's folder, the
server's root) that define ``OP`` subclasses or ``@OP.function``s, modules named by import path, and
installed packages that register a ``dflow_lab.ops`` entry point.

Semantics and limits:

- A folder is scanned, not walked: its own ``*.py`` files (at most ``MAX_FILES``, each at most
  ``MAX_BYTES``), in name order. A file is imported only when its text, parsed with ``ast`` (never
  executed for the look), defines a class with a base named ``OP`` or a function decorated with
  ``OP.function``. Files whose stem is not a Python identifier, and symbolic links that lead out of the
  folder, are skipped.
- A file ``F/name.py`` is imported as the top-level module ``name`` with ``F`` on ``sys.path`` for the
  time of the import only (under a lock). When ``name`` is already a different module (an installed
  package, the standard library, a same-named file of another folder) the file is not imported: its
  entry reports the clash and asks for a rename. An edited file is re-imported on the next look.
- Each entry is ``{"name", "source", "template", "file"?, "line"?}``: the graph template of the OP (its
  ``op`` import path and sign), the palette group (``source``: the file's path relative to the root
  given, the module, or ``dist (entry point)``), and where the OP is defined. A module that fails to
  import is one error ``{"source", "message", "file"?, "line"?}`` (the line of the failure in that file
  when the traceback passes through it); the other modules' entries are still returned.
- ``folder_stamp(folders)`` is a cheap fingerprint of the ``.py`` files the scan would look at (names,
  sizes, modification times; nothing is read or imported), for watchers that poll for OPs written
  outside the editor: at most ``MAX_SCAN`` directory entries per folder are looked at.
- ``importable(graph, folders)`` makes the modules a graph's Python templates name importable from those
  folders before the graph becomes a model (a run), with the same rules.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import importlib.util
import inspect
import keyword
import os
import sys
import threading
import traceback
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..graph.convert import to_graph
from ..op_template import kebab
from .op import OP
from .python_op_template import PythonOPTemplate

ENTRY_POINT_GROUP = "dflow_lab.ops"
MAX_FILES = 200
MAX_BYTES = 1_000_000
MAX_SCAN = 5_000  # directory entries a stamp looks at per folder

_LOCK = threading.RLock()
_STAMPS: dict[str, int] = {}


class DiscoveryError(ImportError):
    """A module of OPs that cannot be offered: ``file`` and ``line`` say where, when known."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.file, self.line = file, line


def _is_op_base(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "OP") or (isinstance(node, ast.Attribute) and node.attr == "OP")


def _is_op_function(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return isinstance(target, ast.Attribute) and target.attr == "function" and _is_op_base(target.value)


def defines_ops(text: str, filename: str = "<text>") -> bool:
    """Whether module source ``text`` defines an ``OP`` subclass or an ``@OP.function`` (parsed, not run).

    A syntax error is raised as ``DiscoveryError`` with its line."""
    try:
        tree = ast.parse(text, filename)
    except SyntaxError as e:
        raise DiscoveryError(f"{filename}, line {e.lineno}: SyntaxError: {e.msg}", filename, e.lineno) from None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(_is_op_base(b) for b in node.bases):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                _is_op_function(d) for d in node.decorator_list):
            return True
    return False


def _same_file(a: str | None, b: Path) -> bool:
    try:
        return a is not None and os.path.samefile(a, b)
    except OSError:
        return False


def _failure_line(e: BaseException, file: Path) -> int | None:
    if isinstance(e, SyntaxError) and e.filename and _same_file(e.filename, file):
        return e.lineno
    line = None
    for frame in traceback.extract_tb(e.__traceback__):
        if _same_file(frame.filename, file):
            line = frame.lineno
    return line


def import_file(file: Path, label: str | None = None) -> Any:
    """Import ``file`` (``F/name.py``) as module ``name`` with ``F`` on ``sys.path`` during the import.

    Re-imports it when it changed since; refuses (``DiscoveryError``) a name that is another module."""
    file = Path(file)
    label = label or str(file)
    name = file.stem
    if not name.isidentifier() or keyword.iskeyword(name):
        raise DiscoveryError(f"{label}: '{name}' is not a Python module name; rename the file", label)
    with _LOCK:
        stamp = file.stat().st_mtime_ns
        mod = sys.modules.get(name)
        if mod is not None:
            if not _same_file(getattr(mod, "__file__", None), file):
                raise DiscoveryError(
                    f"{label}: a module named '{name}' is already imported from "
                    f"{getattr(mod, '__file__', None) or 'a built-in'}; rename {file.name}", label)
            if _STAMPS.get(str(file)) == stamp:
                return mod
        else:
            spec = importlib.util.find_spec(name)
            if spec is not None and not _same_file(spec.origin, file):
                raise DiscoveryError(
                    f"{label}: '{name}' is already the module {spec.origin or name} of this Python; "
                    f"rename {file.name} so that it does not hide it", label)
        folder = str(file.parent)
        sys.path.insert(0, folder)
        try:
            if mod is not None:
                try:  # the bytecode cache compares whole seconds: an edit within one would be missed
                    os.remove(importlib.util.cache_from_source(str(file)))
                except (OSError, ValueError):
                    pass
                mod = importlib.reload(mod)
            else:
                importlib.invalidate_caches()
                mod = importlib.import_module(name)
        except Exception as e:
            sys.modules.pop(name, None)
            line = _failure_line(e, file)
            where = f"{label}, line {line}" if line else label
            raise DiscoveryError(f"{where}: {type(e).__name__}: {e}", label, line) from None
        finally:
            try:
                sys.path.remove(folder)
            except ValueError:
                pass
        _STAMPS[str(file)] = stamp
        return mod


def _where(obj: Any, root: Path | None) -> dict[str, Any]:
    target = getattr(type(obj), "func", None) if not isinstance(obj, type) else obj
    target = target or obj
    try:
        file = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    except (OSError, TypeError):
        return {}
    if not file:
        return {}
    out: dict[str, Any] = {"line": line}
    path = Path(file).resolve()
    if root is not None:
        try:
            out["file"] = path.relative_to(root.resolve()).as_posix()
        except ValueError:
            out["file"] = str(path)
    else:
        out["file"] = str(path)
    return out


def module_entries(module: Any, source: str, root: Path | None = None) -> list[dict[str, Any]]:
    """Palette entries for the OP classes and function OPs defined in ``module`` (not imported into it)."""
    entries = []
    for attr, obj in sorted(vars(module).items()):
        if attr.startswith("_"):
            continue
        if isinstance(obj, type):
            if not issubclass(obj, OP) or obj is OP or obj.__module__ != module.__name__ or inspect.isabstract(obj):
                continue
            if getattr(obj, "func", None) is not None:  # the class of a function OP: listed as its instance
                continue
            name = kebab(obj.__name__)
        elif isinstance(obj, OP) and getattr(type(obj), "func", None) is not None \
                and type(obj).__module__ == module.__name__:
            name = kebab(type(obj).func.__name__)
        else:
            continue
        template = to_graph(PythonOPTemplate(obj))
        template.pop("name", None)  # the palette entry names it; the graph keys templates by name
        entries.append({"name": name, "source": source, "template": template, **_where(obj, root)})
    return entries


def folder_entries(folder: Path, root: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(entries, errors)`` of the OP modules among ``folder``'s ``*.py`` files; paths relative to ``root``."""
    entries: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    folder, root = Path(folder).resolve(), Path(root).resolve()
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == ".py" and p.is_file())[:MAX_FILES]
    except OSError as e:
        return [], [{"source": str(folder), "message": f"cannot list {folder}: {e}"}]
    for file in files:
        if file.resolve().parent != folder:  # a link leading elsewhere
            continue
        try:
            label = file.relative_to(root).as_posix()
        except ValueError:
            label = str(file)
        try:
            if file.stat().st_size > MAX_BYTES:
                continue
            if not file.stem.isidentifier() or keyword.iskeyword(file.stem):
                continue
            if not defines_ops(file.read_text(errors="replace"), label):
                continue
            module = import_file(file, label)
            entries.extend(module_entries(module, label, root))
        except DiscoveryError as e:
            errors.append({"source": label, "message": str(e), "file": e.file or label,
                           **({"line": e.line} if e.line else {})})
        except Exception as e:  # an OP whose sign cannot be read: the module's entry says so
            errors.append({"source": label, "message": f"{label}: {type(e).__name__}: {e}", "file": label})
    return entries, errors


def folder_stamp(folders: Iterable[Path]) -> str:
    """A fingerprint of the ``*.py`` files of ``folders`` (name, size, mtime in ns): it changes when such a
    file is written, added, removed or renamed. Bounded: ``MAX_SCAN`` entries per folder, ``MAX_FILES``
    ``.py`` files; an unreadable folder counts as empty."""
    digest = hashlib.sha256()
    for folder in folders:
        digest.update(os.fsencode(str(folder)) + b"\0")
        seen: list[tuple[str, int, int]] = []
        try:
            with os.scandir(folder) as it:
                for i, entry in enumerate(it):
                    if i >= MAX_SCAN or len(seen) >= MAX_FILES:
                        break
                    if not entry.name.endswith(".py"):
                        continue
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    seen.append((entry.name, st.st_size, st.st_mtime_ns))
        except OSError:
            pass
        for name, size, mtime in sorted(seen):
            digest.update(f"{name}\0{size}\0{mtime}\n".encode(errors="surrogateescape"))
    return digest.hexdigest()[:32]


def _named_module_entries(module: str, root: Path | None) -> list[dict[str, Any]]:
    try:
        if module in sys.modules:  # the user's own modules: pick up OPs edited since the last look
            mod = importlib.reload(sys.modules[module])
        else:
            mod = importlib.import_module(module)
    except Exception as e:
        raise DiscoveryError(f"cannot import OP module {module!r}: {type(e).__name__}: {e}") from e
    return module_entries(mod, module, root)


def _entry_point_entries(value: str, source: str, root: Path | None) -> list[dict[str, Any]]:
    module, _, attr = value.partition(":")
    try:
        mod = importlib.import_module(module.strip())
    except Exception as e:
        raise DiscoveryError(f"cannot import OP module {module.strip()!r}: {type(e).__name__}: {e}") from e
    entries = module_entries(mod, source, root)
    if not attr:
        return entries
    obj: Any = mod
    for part in attr.strip().split("."):
        obj = getattr(obj, part)
    wanted = f"{module.strip()}:{attr.strip()}"
    found = [e for e in entries if e["template"].get("op") == wanted]
    if not found:
        raise DiscoveryError(f"{value} is not an OP class or function OP defined in {module.strip()}")
    return found


def discover(modules: Iterable[str] = (), folders: Iterable[Path] = (), root: Path | None = None,
             entry_point_group: str = ENTRY_POINT_GROUP) -> dict[str, Any]:
    """``{"entries": [...], "errors": [...]}``: the OPs of ``folders`` (scanned), ``modules`` (import
    paths) and the ``dflow_lab.ops`` entry points. An OP found twice is listed once (first place wins)."""
    entries: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(found: list[dict[str, Any]]) -> None:
        for entry in found:
            key = entry["template"].get("op", entry["name"])
            if key not in seen:
                seen.add(key)
                entries.append(entry)

    for folder in dict.fromkeys(Path(f).resolve() for f in folders):
        found, bad = folder_entries(folder, root or folder)
        add(found)
        errors.extend(bad)
    for module in dict.fromkeys(modules):
        try:
            add(_named_module_entries(module, root))
        except Exception as e:  # report it and keep the other modules
            errors.append({"source": module, "message": str(e)})
    for ep in sorted(entry_points(group=entry_point_group), key=lambda ep: (ep.name, ep.value)):
        source = f"{ep.dist.name if ep.dist else '?'} ({ep.name})"
        try:
            add(_entry_point_entries(ep.value, source, root))
        except Exception as e:
            errors.append({"source": source, "message": str(e)})
    return {"entries": entries, "errors": errors}


def importable(graph: Mapping[str, Any], folders: Iterable[Path]) -> None:
    """Import, from ``folders`` (first match wins), the modules of ``graph``'s Python templates that are not
    importable as they are: a graph drawn from OPs found next to its document runs without ``PYTHONPATH``.
    A module found nowhere is left for the model to report."""
    folders = [Path(f).resolve() for f in folders]
    for template in (graph.get("templates") or {}).values():
        if not isinstance(template, Mapping) or template.get("kind") != "python":
            continue
        module = str(template.get("op") or "").partition(":")[0]
        if not module or "." in module or module in sys.modules:
            continue
        if importlib.util.find_spec(module) is not None:
            continue
        for folder in folders:
            file = folder / f"{module}.py"
            if file.is_file():
                import_file(file)
                break
