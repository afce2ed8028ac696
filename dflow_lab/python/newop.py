"""Writing a new function OP (``@OP.function``) into a module beside a document: the canvas's
"New Python OP…" form.

The form gives a name, typed inputs and outputs and a body; ``write_function_op`` checks every name (a Python
identifier, not a keyword, unique), takes types from a fixed list only (``TYPES``: ``str``, ``int``,
``float``, ``bool``, ``dict``, ``list``, and ``artifact`` for a file or folder passed as a path), and appends
the function to ``<folder>/<module>.py`` (created, with its imports, when absent). The body is the user's own
code for their own file; the module as written must parse (``ast``) or nothing is written and the error
names the line of the body. A function of that name already in the module is refused. The body is at most
``MAX_BODY`` characters and a form at most ``MAX_PORTS`` ports a side.
"""

from __future__ import annotations

import ast
import keyword
import textwrap
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..errors import WorkflowValueError

TYPES = ("str", "int", "float", "bool", "dict", "list", "artifact")
MAX_BODY = 100_000
MAX_PORTS = 64

_HEADER = '"""Python OPs of this folder (written by the canvas\'s "New Python OP…"; edit them freely)."""\n'


def _identifier(name: Any, what: str, field: str | None = None) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise WorkflowValueError(f"New Python OP: {what} {name!r} is not a Python name (letters, digits, '_', "
                                 "not starting with a digit, not a keyword)", field=field or what)
    return name


def _ports(ports: Any, side: str) -> list[tuple[str, str]]:
    if not isinstance(ports, Sequence) or isinstance(ports, (str, bytes)) or len(ports) > MAX_PORTS:
        raise WorkflowValueError(f"New Python OP: {side} must be a list of at most {MAX_PORTS} ports", field=side)
    out: list[tuple[str, str]] = []
    for port in ports:
        if not isinstance(port, Mapping):
            raise WorkflowValueError(f"New Python OP: each of {side} is {{'name', 'type'}}", field=side)
        name = _identifier(port.get("name"), f"{side[:-1]} name", side)
        kind = port.get("type") or "str"
        if kind not in TYPES:
            raise WorkflowValueError(f"New Python OP: type {kind!r} of {name!r} is not one of {list(TYPES)}",
                                     field=side)
        if name in {n for n, _ in out}:
            raise WorkflowValueError(f"New Python OP: two {side} are named {name!r}", field=side)
        out.append((name, kind))
    return out


def _annotation(kind: str) -> str:
    return "Artifact(Path)" if kind == "artifact" else kind


def render_function_op(name: Any, inputs: Any, outputs: Any, body: str | None = None) -> str:
    """The source of the function OP (decorator, signature, body) that the form describes."""
    name = _identifier(name, "name")
    ins, outs = _ports(inputs, "inputs"), _ports(outputs, "outputs")
    clash = {n for n, _ in ins} & {n for n, _ in outs}
    if clash:
        raise WorkflowValueError(f"New Python OP: {sorted(clash)} is both an input and an output", field="outputs")
    if body is not None and (not isinstance(body, str) or len(body) > MAX_BODY):
        raise WorkflowValueError(f"New Python OP: the body must be text of at most {MAX_BODY} characters",
                                 field="body")
    args = ", ".join(f"{n}: {_annotation(k)}" for n, k in ins)
    ret = "{" + ", ".join(f'"{n}": {_annotation(k)}' for n, k in outs) + "}"
    if not body or not body.strip():
        if outs:
            values = ", ".join(f'"{n}": ' + (f'Path("{n}")' if k == "artifact" else "None") for n, k in outs)
            body = f"# compute the outputs from the inputs\nreturn {{{values}}}\n"
        else:
            body = "pass\n"
    lines = ["@OP.function", f"def {name}({args}) -> {ret}:", textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")]
    return "\n".join(lines) + "\n"


def _imports_needed(tree: ast.Module | None, source: str) -> str:
    have: set[str] = set()
    for node in (tree.body if tree else []):
        if isinstance(node, ast.ImportFrom):
            have.update(a.asname or a.name for a in node.names)
    lines = []
    want_python = [n for n in ("OP", "Artifact") if n not in have and (n == "OP" or "Artifact(" in source)]
    if want_python:
        lines.append(f"from dflow_lab.python import {', '.join(want_python)}")
    if "Path" not in have and "Path" in source:
        lines.append("from pathlib import Path")
    return "\n".join(lines)


def write_function_op(folder: Path, module: str, name: Any, inputs: Any, outputs: Any,
                      body: str | None = None) -> dict[str, Any]:
    """Append the function OP to ``folder/<module>.py``; ``{"file": Path, "line": int}`` of its definition."""
    module = _identifier(module, "module")
    source = render_function_op(name, inputs, outputs, body)
    file = Path(folder) / f"{module}.py"
    old = file.read_text() if file.exists() else ""
    try:
        tree = ast.parse(old) if old else None
    except SyntaxError as e:
        raise WorkflowValueError(f"New Python OP: {file.name} does not parse (line {e.lineno}: {e.msg}); fix it "
                                 "first", field="module") from None
    for node in (tree.body if tree else []):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            raise WorkflowValueError(f"New Python OP: {file.name} already defines {name!r} (line {node.lineno}); "
                                     "choose another name", field="name")
    imports = _imports_needed(tree, source)
    prefix = old if old else _HEADER
    if prefix and not prefix.endswith("\n"):
        prefix += "\n"
    head = prefix + ("\n" + imports + "\n" if imports else "") + "\n\n"
    text = head + source
    try:
        ast.parse(text)
    except SyntaxError as e:
        line = (e.lineno or 0) - head.count("\n") - 2  # the body starts two lines into the function
        raise WorkflowValueError(f"New Python OP: the body does not parse: {e.msg} (line {max(line, 1)} of the "
                                 "body)", field="body") from None
    file.write_text(text)
    return {"file": file, "line": head.count("\n") + 1}
