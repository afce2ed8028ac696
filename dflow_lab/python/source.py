"""Self-contained source of an OP defined in ``__main__`` (a script or a notebook), to embed in a step.

``embed_source(obj)`` returns the definition of the class or function (decorators included) preceded
by what it needs from its module: imports of the modules and importable objects it names, the
definitions of other functions and classes of ``__main__`` it uses (recursively), and constants that
are plain literals.  Definitions are found through the code objects' file names and ``linecache``,
so cells of a Jupyter notebook work as well as scripts.

Limits: a global it uses that is neither importable, nor a function/class of ``__main__``, nor a
literal (an open file, a client object, a DataFrame…) cannot be embedded and raises ``ValueError``
naming it; names created at run time by ``exec``/``globals()`` are not seen; the OP must be defined
at module level.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import logging
import symtable
import sys
import textwrap
import types
from typing import Any, Dict, List, Set

__all__ = ["embed_source", "definition_source"]


def _code_objects(obj: Any) -> List[types.CodeType]:
    if inspect.isfunction(obj):
        return [obj.__code__]
    codes = []
    for v in vars(obj).values():
        f = getattr(v, "__func__", v)  # classmethod / staticmethod
        if inspect.isfunction(f) and f.__qualname__.startswith(obj.__qualname__ + "."):
            codes.append(f.__code__)
    return codes


def definition_source(obj: Any) -> str:
    """The source text of a module-level function or class, decorators included."""
    name = obj.__name__
    if "<locals>" in obj.__qualname__ or "." in obj.__qualname__:
        raise ValueError(f"{obj.__qualname__!r} is not defined at module level; an OP defined in "
                         "__main__ must be a top-level class or function to be embedded")
    for code in _code_objects(obj):
        lines = linecache.getlines(code.co_filename)
        if not lines:
            continue
        try:
            tree = ast.parse("".join(lines))
        except SyntaxError:
            continue
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef) if inspect.isfunction(obj) else (ast.ClassDef,)
        for node in tree.body:
            if isinstance(node, kinds) and node.name == name:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                if start <= code.co_firstlineno <= node.end_lineno:
                    return textwrap.dedent("".join(lines[start - 1: node.end_lineno]))
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        found = _search_linecache(name, inspect.isfunction(obj))
        if found is None:
            raise
        return found


def _search_linecache(name: str, function: bool) -> str | None:
    """The last top-level definition of ``name`` among the sources ``linecache`` holds (the cells of
    a notebook, in the order they ran), for a class that has no method of its own to locate it by."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef) if function else (ast.ClassDef,)
    found = None
    for filename in list(linecache.cache):
        lines = linecache.getlines(filename)
        try:
            tree = ast.parse("".join(lines))
        except (SyntaxError, ValueError):
            continue
        for node in tree.body:
            if isinstance(node, kinds) and node.name == name:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                found = textwrap.dedent("".join(lines[start - 1: node.end_lineno]))
    return found


def _free_globals(source: str) -> List[str]:
    """Names the source reads from its module's globals (not assigned or imported in it)."""
    found: Dict[str, None] = {}

    def walk(table: symtable.SymbolTable) -> None:
        for sym in table.get_symbols():
            if not sym.is_referenced():
                continue
            if table.get_type() == "module":
                if not (sym.is_assigned() or sym.is_imported()):
                    found[sym.get_name()] = None
            elif sym.is_global():
                found[sym.get_name()] = None
        for child in table.get_children():
            walk(child)

    walk(symtable.symtable(source, "<op>", "exec"))
    defined_here = {n.name for n in ast.parse(source).body if hasattr(n, "name")}
    return [n for n in found if n not in defined_here]


def _is_literal(value: Any) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _import_name(value: Any) -> tuple | None:
    """``(module, attribute)`` through which ``value`` can be imported, if any."""
    module = getattr(value, "__module__", None)
    if not isinstance(module, str) or module in ("__main__", "__mp_main__", "builtins"):
        return None
    mod = sys.modules.get(module)
    if mod is None:
        return None
    qualname = getattr(value, "__qualname__", None)
    attr = qualname if isinstance(qualname, str) and "." not in qualname and getattr(
        mod, qualname, None) is value else next(
        (k for k, v in vars(mod).items() if v is value and not k.startswith("_")), None)
    if attr is None:
        return None
    while "." in module:  # prefer the package that re-exports it: dflow_lab.python over dflow_lab.python.op
        parent = sys.modules.get(module.rsplit(".", 1)[0])
        if parent is None or getattr(parent, attr, None) is not value:
            break
        module = parent.__name__
    return module, attr


class _Embedder:
    def __init__(self, namespace: Dict[str, Any], op_name: str) -> None:
        self.ns = namespace
        self.op_name = op_name
        self.imports: Dict[str, None] = {}
        self.from_imports: Dict[str, Dict[str, None]] = {}
        self.constants: Dict[str, None] = {}
        self.definitions: List[str] = []
        self.seen: Set[str] = set()

    def add_definition(self, name: str, obj: Any) -> None:
        self.seen.add(name)
        source = definition_source(obj)
        for dep in _free_globals(source):
            self.resolve(dep)
        self.definitions.append(source)

    def resolve(self, name: str) -> None:
        if name in self.seen:
            return
        self.seen.add(name)
        if name not in self.ns:
            return  # a builtin, or a name the code defines at run time
        value = self.ns[name]
        if hasattr(builtins, name) and getattr(builtins, name) is value:
            return
        if isinstance(value, types.ModuleType):
            mod = value.__name__
            line = f"import {mod}" if mod == name else (
                f"import {mod} as {name}" if "." not in mod else f"from {mod.rsplit('.', 1)[0]} import "
                f"{mod.rsplit('.', 1)[1]} as {name}")
            self.imports[line] = None
            return
        target = value
        func = getattr(type(value), "func", None)
        if func is not None and getattr(type(value), "__module__", None) in ("__main__", "__mp_main__"):
            target = func  # an ``OP.function`` instance: embed its decorated function
        if (inspect.isfunction(target) or inspect.isclass(target)) and target.__module__ in (
                "__main__", "__mp_main__"):
            self.add_definition(name, target)
            return
        if isinstance(value, logging.Logger):  # logger = logging.getLogger(__name__), a common global
            self.imports["import logging"] = None
            self.constants[f"{name} = logging.getLogger({value.name!r})"] = None
            return
        if type(value).__module__ in ("typing", "types") and not isinstance(value, types.ModuleType):
            self.add_type_alias(name, value)
            return
        where = _import_name(value)
        if where is not None:
            module, attr = where
            self.from_imports.setdefault(module, {})[attr if attr == name else f"{attr} as {name}"] = None
            return
        if _is_literal(value):
            self.constants[f"{name} = {value!r}"] = None
            return
        raise ValueError(
            f"cannot embed OP {self.op_name!r}: it uses the global {name!r} ({type(value).__name__}), "
            "which is not importable, not a function or class of __main__ and not a literal; "
            "move the OP (or that object) into a module, or create the object inside the OP"
        )

    def add_type_alias(self, name: str, value: Any) -> None:
        """``Names = typing.List[str]``: the alias from its repr, with the modules it names imported
        and the classes of ``__main__`` it names embedded."""
        text = repr(value).replace("__main__.", "").replace("__mp_main__.", "")
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError:
            raise ValueError(f"cannot embed OP {self.op_name!r}: the type alias {name!r} ({text}) cannot be "
                             "written as source; move the OP into a module") from None
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                root = node
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in sys.modules:
                    self.imports[f"import {root.id}"] = None
            elif isinstance(node, ast.Name) and not hasattr(builtins, node.id):
                self.resolve(node.id)
        self.definitions.append(f"{name} = {text}\n")  # after the classes it names

    def render(self) -> str:
        parts = []
        lines = list(self.imports) + [f"from {m} import {', '.join(names)}" for m, names in self.from_imports.items()]
        if lines:
            parts.append("\n".join(lines))
        if self.constants:
            parts.append("\n".join(self.constants))
        parts.extend(d.rstrip("\n") for d in self.definitions)
        return "\n\n\n".join(parts) + "\n"


def _namespace_of(obj: Any) -> Dict[str, Any]:
    """The globals ``obj`` was defined with (an IPython shell's user namespace need not be
    ``sys.modules["__main__"]``)."""
    funcs = [obj] if inspect.isfunction(obj) else [
        getattr(v, "__func__", v) for v in vars(obj).values() if inspect.isfunction(getattr(v, "__func__", v))]
    for f in funcs:
        return f.__globals__
    module = sys.modules.get(obj.__module__)
    return vars(module) if module is not None else {}


def embed_source(obj: Any) -> str:
    """Self-contained source defining ``obj`` (a class or function of ``__main__``) under its name."""
    namespace = _namespace_of(obj)
    embedder = _Embedder(namespace, obj.__name__)
    embedder.add_definition(obj.__name__, obj)
    return embedder.render()
