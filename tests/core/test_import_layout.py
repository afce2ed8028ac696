"""The import layout of ``dflow_lab`` (issue 13): imports sit at module top; a function-local import is
allowed only with a one-line ``# lazy: <reason>`` comment on its line, or above it (one comment may head a
block of consecutive imports): a real cycle, an optional or heavy dependency, a step's bare interpreter. The layer contracts themselves are checked
by import-linter (``.importlinter``, run by ``scripts/test.sh``)."""

from __future__ import annotations

import ast
from pathlib import Path

import dflow_lab

ROOT = Path(dflow_lab.__file__).parent


def _function_local_imports(source: str) -> list[ast.stmt]:
    """Every ``import``/``from … import`` inside a function (nested functions included), once."""
    seen: dict[int, ast.stmt] = {}
    for fn in ast.walk(ast.parse(source)):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    seen.setdefault(id(node), node)
    return sorted(seen.values(), key=lambda n: n.lineno)


def _has_reason(lines: list[str], node: ast.stmt) -> bool:
    """A ``# lazy: <reason>`` on the import's lines, or on the line above it or above the block of
    consecutive import lines it ends."""
    end = node.end_lineno or node.lineno
    candidates = lines[node.lineno - 1:end]
    i = node.lineno - 2
    while i >= 0 and lines[i].strip().startswith(("import ", "from ")):
        candidates.append(lines[i])
        i -= 1
    if i >= 0:
        candidates.append(lines[i])
    for line in candidates:
        _, sep, reason = line.partition("# lazy:")
        if sep and reason.strip():
            return True
    return False


def unexplained_lazy_imports(root: Path) -> list[str]:
    """``path:line: statement`` of each function-local import under ``root`` without a ``# lazy:`` reason."""
    out = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in _function_local_imports(source):
            if not _has_reason(lines, node):
                out.append(f"{path.relative_to(root.parent)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return out


def test_every_function_local_import_says_why():
    missing = unexplained_lazy_imports(ROOT)
    assert not missing, (
        "function-local imports without a '# lazy: <reason>' comment (move them to the module top, or say "
        "why they cannot be there):\n" + "\n".join(missing))


def test_the_checker_finds_an_unexplained_import(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "mod.py").write_text(
        "import os\n\n\n"
        "def f():\n    import json\n    return json\n\n\n"
        "def g():\n    # lazy: an optional dependency\n    import yaml\n    return yaml\n\n\n"
        "def h():\n    import re  # lazy: a reason on the line itself\n\n\n"
        "class C:\n    def m(self):\n        def inner():\n            from x import y\n            return y\n"
        "        return inner\n\n\n"
        "def k():\n    import csv  # lazy:\n\n\n"
        "def b():\n    # lazy: one reason for a block\n    import a\n    from b import c\n\n    import d\n"
    )
    assert unexplained_lazy_imports(pkg) == [
        "pkg/mod.py:5: import json",
        "pkg/mod.py:22: from x import y",
        "pkg/mod.py:28: import csv  # lazy:",
        "pkg/mod.py:36: import d",
    ]
