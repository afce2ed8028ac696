"""DAG dependency logic: ``dependencies`` lists and enhanced ``depends`` expressions.

``depends`` is parsed into a small boolean AST over ``task`` / ``task.Result`` terms with ``&&``, ``||``,
``!`` and parentheses (Argo's grammar); nothing is evaluated as code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Depends", "DependsError", "parse_depends", "from_dependencies", "find_cycle"]

_RESULTS = {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}
_TOKEN = re.compile(r"\s*(?:(&&|\|\|)|(!)|(\()|(\))|([A-Za-z0-9_][A-Za-z0-9_\-]*)(?:\.([A-Za-z]+))?)")


class DependsError(ValueError):
    """A ``depends`` expression that does not parse or names an unknown task."""


@dataclass
class Depends:
    """A parsed ``depends`` expression."""

    ast: tuple
    text: str

    def tasks(self) -> set[str]:
        """The task names the expression mentions."""
        out: set[str] = set()

        def walk(n: tuple) -> None:
            if n[0] == "term":
                out.add(n[1])
            else:
                for c in n[1:]:
                    walk(c)

        walk(self.ast)
        return out

    def handled_failures(self) -> set[str]:
        """Tasks whose failure this expression explicitly reacts to (``a.Failed``, ``a.Errored``…)."""
        out: set[str] = set()

        def walk(n: tuple) -> None:
            if n[0] == "term":
                if n[2] in ("Failed", "Errored", "AllFailed"):
                    out.add(n[1])
            else:
                for c in n[1:]:
                    walk(c)

        walk(self.ast)
        return out

    def evaluate(self, results: dict[str, dict]) -> bool:
        """Evaluate against ``{task: {"phase": …, "children_phases": [...]}}`` of finished tasks."""

        def term(name: str, result: str | None) -> bool:
            r = results[name]
            phase = r["phase"]
            if result is None:
                return phase in ("Succeeded", "Skipped", "Daemoned") or (
                    bool(r.get("continue_failed")) and phase == "Failed") or (
                    bool(r.get("continue_error")) and phase == "Error")
            if result == "Errored":
                return phase == "Error"
            if result == "AnySucceeded":
                return any(p == "Succeeded" for p in r.get("children_phases", [phase]))
            if result == "AllFailed":
                kids = r.get("children_phases", [phase])
                return bool(kids) and all(p in ("Failed", "Error") for p in kids)
            return phase == result

        def ev(n: tuple) -> bool:
            kind = n[0]
            if kind == "term":
                return term(n[1], n[2])
            if kind == "not":
                return not ev(n[1])
            if kind == "and":
                return ev(n[1]) and ev(n[2])
            return ev(n[1]) or ev(n[2])

        return ev(self.ast)


def parse_depends(text: str) -> Depends:
    """Parse an enhanced ``depends`` expression."""
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise DependsError(f"depends {text!r}: cannot parse at {text[pos:]!r}")
        pos = m.end()
        op, bang, lp, rp, name, result = m.groups()
        if op:
            tokens.append(("op", op))
        elif bang:
            tokens.append(("not", None))
        elif lp:
            tokens.append(("(", None))
        elif rp:
            tokens.append((")", None))
        elif name:
            if result is not None and result not in _RESULTS:
                raise DependsError(f"depends {text!r}: {name}.{result} is not one of {sorted(_RESULTS)}")
            tokens.append(("term", (name, result)))
    i = 0

    def peek() -> tuple[str | None, Any]:
        return tokens[i] if i < len(tokens) else (None, None)

    def parse_or() -> tuple[Any, ...]:
        nonlocal i
        left = parse_and()
        while peek() == ("op", "||"):
            i += 1
            left = ("or", left, parse_and())
        return left

    def parse_and() -> tuple[Any, ...]:
        nonlocal i
        left = parse_unary()
        while peek() == ("op", "&&"):
            i += 1
            left = ("and", left, parse_unary())
        return left

    def parse_unary() -> tuple[Any, ...]:
        nonlocal i
        kind, val = peek()
        if kind == "not":
            i += 1
            return ("not", parse_unary())
        if kind == "(":
            i += 1
            inner = parse_or()
            if peek()[0] != ")":
                raise DependsError(f"depends {text!r}: missing ')'")
            i += 1
            return inner
        if kind == "term":
            i += 1
            return ("term", val[0], val[1])
        raise DependsError(f"depends {text!r}: unexpected {'end' if kind is None else kind}")

    if not tokens:
        raise DependsError("depends is empty")
    ast = parse_or()
    if i != len(tokens):
        raise DependsError(f"depends {text!r}: unexpected trailing input")
    return Depends(ast, text)


def from_dependencies(names: list[str]) -> Depends | None:
    """The ``depends`` equivalent of a ``dependencies`` list (all must succeed or be skipped)."""
    if not names:
        return None
    ast: tuple = ("term", names[0], None)
    for n in names[1:]:
        ast = ("and", ast, ("term", n, None))
    return Depends(ast, " && ".join(names))


def find_cycle(deps: dict[str, Depends | None]) -> list[str] | None:
    """One dependency cycle among the tasks (``["a", "b", "a"]``; a self-dependency is ``["a", "a"]``), or
    None. Iterative: a 10,000-task chain is fine. The engine runs it before a DAG starts and
    ``check_manifest`` before a workflow is stored, so ``dflow-lab lint`` reports what ``run`` would."""
    state: dict[str, int] = {}
    for root in deps:
        if state.get(root):
            continue
        path: list[str] = []
        stack: list[tuple[str, list[str]]] = [(root, [])]
        while stack:
            n, rest = stack[-1]
            if n not in state:
                state[n] = 1
                path.append(n)
                d = deps.get(n)
                rest.extend(sorted(d.tasks(), reverse=True) if d else ())
            if rest:
                m = rest.pop()
                if state.get(m) == 1:
                    return path[path.index(m):] + [m]
                if not state.get(m):
                    stack.append((m, []))
                continue
            state[n] = 2
            path.pop()
            stack.pop()
    return None
