"""Partial re-runs: which steps of an earlier run a new run of the same manifest reuses.

dflow reuses a step of an earlier run through its key: ``submit(reuse_step=[…])`` hands the engine the
earlier steps, and a step of the new run whose ``dflow_key`` equals one of theirs is not run; it takes
their outputs (the local engine copies them, Argo reads them from a memoization cache). This module adds
what an iterate loop needs on top, on the manifest and status dicts only (no model import):

- **Derived keys.** ``derive_keys(manifest)`` gives every step or task that has no ``dflow_key`` argument a
  stable one made of its place in the workflow: ``<parent key or entry template>.<step name>`` plus
  ``.{{item}}`` for a fan-out item. ``node_keys(run)`` computes the same key for every node of an earlier
  run from the node's boundary, display name and explicit key, so a run made *without* derived keys can be
  reused by one made with them. Limits: an item whose value is a map or a list displays differently from
  how ``{{item}}`` renders it, so such a fan-out is reused only when it has an explicit key; steps in a
  template that is both an entry point (entrypoint, onExit, hooks) and called by steps (recursion) get no
  derived key; ``templateRef`` steps get none either.
- **The reuse plan.** ``plan(manifest, run, mode, targets)`` computes, for ``mode``:

  - ``"only"``: the target steps run, every other step that succeeded in ``run`` is reused;
  - ``"from"``: the targets and everything downstream of them run, the rest is reused;
  - ``"failed"``: the steps that failed or errored in ``run`` and everything downstream of them run.

  Downstream means: in a DAG, the tasks that depend on it (``dependencies``, ``depends``,
  ``tasks.X.…`` references), transitively; in a steps template, every step of a later group (groups run
  in order); and a step that calls a template holding a re-run step has its own downstream re-run.
  In ``only``/``from`` a target whose upstream steps have no successful node in ``run`` is refused with an
  ``UpstreamMissing`` error naming them (they never ran, failed, or the run was cut short).

Targets are step names as the manifest spells them, ``step`` or ``template.step`` when a name is used in
more than one template. The manifest must be the one the new run submits; ``run`` is the earlier run's
workflow object (``metadata``, ``spec``, ``status.nodes``), from either engine.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Iterable

__all__ = [
    "KEY_PARAM",
    "MODES",
    "REUSED_FROM",
    "ReusePlan",
    "UpstreamMissing",
    "derive_keys",
    "node_keys",
    "plan",
    "with_reuse",
]

KEY_PARAM = "dflow_key"
MODES = ("only", "from", "failed")
REUSED_FROM = "dflow-lab/reused-from"  # annotation: the run(s) a workflow's reused steps come from
_LEAF_KINDS = ("script", "container", "resource", "data", "http", "plugin", "containerSet", "suspend")
_ITEM_RE = re.compile(r"^(.*?)\((\d+):(.*)\)$", re.S)
_REF_RE = {"steps": re.compile(r"steps\.([A-Za-z0-9_-]+)\."), "tasks": re.compile(r"tasks\.([A-Za-z0-9_-]+)\.")}
_DEPENDS_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z]+)?")
_OK = ("Succeeded",)
_FAILED = ("Failed", "Error")


class UpstreamMissing(ValueError):
    """A step cannot run on an earlier run's outputs: the steps it needs have none there."""

    def __init__(self, workflow: str, run: str, steps: list[str], missing: list[str]):
        self.workflow, self.run, self.steps, self.missing = workflow, run, steps, missing
        super().__init__(
            f"workflow {workflow!r}: cannot run {', '.join(steps)} on the outputs of run {run!r}: the upstream "
            f"step(s) {', '.join(missing)} have no successful result there (never ran, failed or were cut "
            f"short); run from {missing[0]!r} instead, or pick a run in which they succeeded")


# -- manifest structure ---------------------------------------------------------------------------------

def _templates(manifest: dict) -> dict[str, dict]:
    return {t.get("name"): t for t in (manifest.get("spec") or {}).get("templates") or [] if isinstance(t, dict)}


def _calls(tmpl: dict) -> list[dict]:
    """The steps (flattened groups) or DAG tasks of a template."""
    if isinstance(tmpl.get("steps"), list):
        return [s for group in tmpl["steps"] for s in (group if isinstance(group, list) else [group])
                if isinstance(s, dict)]
    dag = tmpl.get("dag")
    if isinstance(dag, dict):
        return [t for t in dag.get("tasks") or [] if isinstance(t, dict)]
    return []


def _entry_templates(manifest: dict) -> set[str]:
    """Templates started by the workflow itself: the entrypoint, the exit handler, workflow hooks."""
    spec = manifest.get("spec") or {}
    out = {spec.get("entrypoint"), spec.get("onExit")}
    for hook in (spec.get("hooks") or {}).values():
        if isinstance(hook, dict):
            out.add(hook.get("template"))
    for tmpl in _templates(manifest).values():  # step hooks and onExit of steps start their templates alone
        for call in _calls(tmpl):
            out.add(call.get("onExit"))
            for hook in (call.get("hooks") or {}).values():
                if isinstance(hook, dict):
                    out.add(hook.get("template"))
    out.discard(None)
    return out


def _called_templates(manifest: dict) -> set[str]:
    return {c.get("template") for t in _templates(manifest).values() for c in _calls(t) if c.get("template")}


def _is_loop(call: dict) -> bool:
    return any(k in call for k in ("withItems", "withParam", "withSequence"))


def _key_arg(call: dict) -> str | None:
    for p in (call.get("arguments") or {}).get("parameters") or []:
        if isinstance(p, dict) and p.get("name") == KEY_PARAM:
            return str(p.get("value", ""))
    return None


def derive_keys(manifest: dict) -> dict:
    """A copy of ``manifest`` in which every step/task without a ``dflow_key`` argument has a derived one."""
    m = copy.deepcopy(manifest)
    templates = _templates(m)
    entries = _entry_templates(m)
    called = _called_templates(m)
    for tname, tmpl in templates.items():
        if tname in entries and tname in called:
            continue  # recursion through an entry template: the prefix would repeat, so no derived key
        prefix = tname if tname in entries else "{{inputs.parameters.%s}}" % KEY_PARAM
        for call in _calls(tmpl):
            target = templates.get(call.get("template"))
            if target is None or _key_arg(call) is not None or not call.get("name"):
                continue
            key = f"{prefix}.{call['name']}" + (".{{item}}" if _is_loop(call) else "")
            call.setdefault("arguments", {}).setdefault("parameters", []).append({"name": KEY_PARAM, "value": key})
            params = target.setdefault("inputs", {}).setdefault("parameters", [])
            if not any(p.get("name") == KEY_PARAM for p in params):
                params.append({"name": KEY_PARAM, "value": ""})
    return m


def with_reuse(manifest: dict, reuse_step: list) -> dict:
    """The manifest a run reusing ``reuse_step`` (``ArgoStep`` objects) submits: derived keys for the steps
    that have none, and the annotation ``dflow-lab/reused-from`` naming the run(s) the steps come from."""
    manifest = derive_keys(manifest)
    sources = sorted({str(w) for w in (getattr(s, "workflow", None) for s in reuse_step) if w})
    if sources:
        manifest.setdefault("metadata", {}).setdefault("annotations", {})[REUSED_FROM] = ",".join(sources)
    return manifest


# -- run structure ----------------------------------------------------------------------------------------

def _explicit_key(node: dict) -> str | None:
    for p in (node.get("inputs") or {}).get("parameters") or []:
        if isinstance(p, dict) and p.get("name") == KEY_PARAM and p.get("value"):
            return str(p["value"])
    return None


def split_display(display: str) -> tuple[str, str | None]:
    """``"square(3:3)"`` → ``("square", "3")``; ``"square"`` → ``("square", None)``."""
    m = _ITEM_RE.match(display or "")
    return (m.group(1), m.group(3)) if m else (display or "", None)


class _Run:
    """The nodes of an earlier run, with each node's step identity and key."""

    def __init__(self, run: dict):
        self.name = (run.get("metadata") or {}).get("name") or ""
        self.manifest = {"spec": run.get("spec") or {}}
        self.nodes: dict[str, dict] = ((run.get("status") or {}).get("nodes")) or {}
        self.entries = _entry_templates(self.manifest)
        self.called = _called_templates(self.manifest)
        self.parent: dict[str, str] = {}
        for nid, node in self.nodes.items():
            for c in node.get("children") or []:
                self.parent.setdefault(c, nid)
        self._keys: dict[str, str | None] = {}

    def is_attempt(self, node: dict) -> bool:
        parent = self.nodes.get(self.parent.get(node.get("id", ""), ""))
        return parent is not None and parent.get("type") == "Retry"

    def is_call(self, node: dict) -> bool:
        """A node that is one step/task (or one item of it): not the root, a group or a retry attempt."""
        if node.get("id") == self.name or node.get("type") in ("StepGroup", "TaskGroup"):
            return False
        if not node.get("boundaryID") or self.is_attempt(node):
            return False
        return node.get("boundaryID") in self.nodes

    def identity(self, node: dict) -> tuple[str, str] | None:
        """(template holding the step, step name)."""
        if not self.is_call(node):
            return None
        boundary = self.nodes[node["boundaryID"]]
        return boundary.get("templateName") or "", split_display(node.get("displayName") or "")[0]

    def key(self, node: dict) -> str | None:
        nid = node.get("id", "")
        if nid not in self._keys:
            self._keys[nid] = None  # a cycle of boundaries (a broken status) ends here
            self._keys[nid] = _explicit_key(node) or self._derived(node)
        return self._keys[nid]

    def _derived(self, node: dict) -> str | None:
        ident = self.identity(node)
        if ident is None:
            return None
        tname, step = ident
        if tname in self.entries and tname in self.called:
            return None
        if tname in self.entries:
            prefix = tname
        else:
            prefix = self.key(self.nodes[node["boundaryID"]])
            if not prefix:
                return None
        _, item = split_display(node.get("displayName") or "")
        return f"{prefix}.{step}" + (f".{item}" if item is not None else "")

    def ancestors(self, node: dict) -> Iterable[dict]:
        seen = set()
        b = node.get("boundaryID")
        while b and b in self.nodes and b not in seen:
            seen.add(b)
            yield self.nodes[b]
            b = self.nodes[b].get("boundaryID")

    def leaves(self) -> Iterable[dict]:
        for node in self.nodes.values():
            if self.is_call(node) and node.get("type") in ("Pod", "Retry", "Suspend"):
                yield node


def node_keys(run: dict) -> dict[str, str]:
    """The key (explicit, or derived as ``derive_keys`` would) of each step node of a run, by node id."""
    r = _Run(run)
    out = {}
    for nid, node in r.nodes.items():
        if r.is_call(node):
            k = r.key(node)
            if k:
                out[nid] = k
    return out


# -- dependencies -------------------------------------------------------------------------------------------

def _deps(tmpl: dict) -> dict[str, set[str]]:
    """Step name → the names of the steps of the same template it comes after."""
    out: dict[str, set[str]] = {}
    if isinstance(tmpl.get("steps"), list):
        before: set[str] = set()
        for group in tmpl["steps"]:
            names = [s.get("name") for s in (group if isinstance(group, list) else [group]) if isinstance(s, dict)]
            for n in names:
                out.setdefault(n, set()).update(before)
            before |= set(names)
        return out
    tasks = _calls(tmpl)
    names = {t.get("name") for t in tasks}
    for t in tasks:
        deps = set(t.get("dependencies") or [])
        if isinstance(t.get("depends"), str):
            deps |= {w.split(".")[0] for w in _DEPENDS_NAME.findall(t["depends"])}
        text = repr({k: v for k, v in t.items() if k not in ("name", "template")})
        deps |= set(_REF_RE["tasks"].findall(text))
        out[t.get("name")] = {d for d in deps if d in names and d != t.get("name")}
    return out


def _closure_down(deps: dict[str, set[str]], start: set[str]) -> set[str]:
    out = set(start)
    changed = True
    while changed:
        changed = False
        for n, ds in deps.items():
            if n not in out and ds & out:
                out.add(n)
                changed = True
    return out


def _closure_up(deps: dict[str, set[str]], start: set[str]) -> set[str]:
    out: set[str] = set()
    todo = list(start)
    while todo:
        for d in deps.get(todo.pop(), ()):
            if d not in out:
                out.add(d)
                todo.append(d)
    return out


# -- the plan ---------------------------------------------------------------------------------------------------

@dataclass
class ReusePlan:
    """What a partial re-run reuses (``reuse``: status nodes of ``run``, each with its ``key``) and re-runs."""

    run: str
    mode: str
    targets: list[str]
    rerun: list[str]
    reuse: list[dict] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)


def resolve_targets(manifest: dict, steps: Iterable[str], workflow: str = "") -> set[tuple[str, str]]:
    """``step`` or ``template.step`` names → (template, step) pairs; unknown or ambiguous names are refused."""
    templates = _templates(manifest)
    every = [(tn, c.get("name")) for tn, t in templates.items() for c in _calls(t)]
    out = set()
    for want in steps:
        tname, _, sname = want.rpartition(".")
        found = [(t, s) for t, s in every if s == sname and (not tname or t == tname)]
        if not found:
            names = sorted({s for _, s in every if s})
            raise ValueError(f"workflow {workflow!r}: no step {want!r} (its steps: {', '.join(names[:40])})")
        if len(found) > 1 and not tname:
            raise ValueError(f"workflow {workflow!r}: step name {want!r} is used in templates "
                             f"{', '.join(sorted(t for t, _ in found))}; say which as TEMPLATE.{want}")
        out |= set(found)
    return out


def plan(manifest: dict, run: dict, mode: str, targets: Iterable[str] = ()) -> ReusePlan:
    """The reuse plan of a re-run of ``manifest`` on the results of ``run`` (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"re-run mode {mode!r}: expected one of {', '.join(MODES)}")
    wf_name = (manifest.get("metadata") or {}).get("name") or (manifest.get("metadata") or {}).get(
        "generateName", "") or ""
    r = _Run(run)
    templates = _templates(manifest)
    deps = {tn: _deps(t) for tn, t in templates.items()}
    callers: dict[str, set[tuple[str, str]]] = {}
    for tn, t in templates.items():
        for c in _calls(t):
            if c.get("template"):
                callers.setdefault(c["template"], set()).add((tn, c.get("name")))
    targets = list(targets)
    if mode == "failed":
        if targets:
            raise ValueError("re-run mode 'failed' takes its steps from the run; name no step")
        chosen = {r.identity(n) for n in r.leaves() if n.get("phase") in _FAILED}
        chosen.discard(None)
        if not chosen:
            raise ValueError(f"run {r.name!r} has no failed or errored step: nothing to re-run")
        start: set[tuple[str, str]] = chosen  # type: ignore[assignment]
    else:
        if not targets:
            raise ValueError(f"re-run mode {mode!r} needs a step")
        start = resolve_targets(manifest, targets, wf_name)
    # R: steps that re-run with all they contain; C: steps that contain a re-run step (they run, their
    # children are reused or re-run one by one)
    rerun = set(start)
    if mode != "only":
        for tn in {t for t, _ in start}:
            rerun |= {(tn, s) for s in _closure_down(deps.get(tn, {}), {s for t, s in start if t == tn})}
    contain: set[tuple[str, str]] = set()
    todo = list({t for t, _ in rerun})
    seen_t: set[str] = set()
    while todo:
        tn = todo.pop()
        if tn in seen_t:
            continue
        seen_t.add(tn)
        for ptn, pstep in callers.get(tn, ()):
            contain.add((ptn, pstep))
            if mode != "only":
                down = _closure_down(deps.get(ptn, {}), {pstep}) - {pstep}
                rerun |= {(ptn, s) for s in down}
            todo.append(ptn)
    if mode != "failed":
        _check_upstream(r, deps, rerun | contain, rerun, wf_name, targets)
    reuse, keys = [], {}
    for node in r.leaves():
        if node.get("phase") not in _OK:
            continue
        if r.identity(node) in rerun or any(r.identity(a) in rerun for a in r.ancestors(node)):
            continue
        k = r.key(node)
        if not k:
            continue
        reuse.append(node)
        keys[node["id"]] = k
    return ReusePlan(run=r.name, mode=mode, targets=sorted(f"{t}.{s}" for t, s in start),
                     rerun=sorted(f"{t}.{s}" for t, s in rerun), reuse=reuse, keys=keys)


def _check_upstream(r: _Run, deps: dict, scope: set, rerun: set, wf_name: str, targets: list[str]) -> None:
    """Refuse when a step the re-run steps need has no successful node in the run."""
    needed: set[tuple[str, str]] = set()
    for tn, s in scope:
        needed |= {(tn, u) for u in _closure_up(deps.get(tn, {}), {s})}
    needed -= rerun
    needed -= scope
    phases: dict[tuple[str, str], list[str]] = {}
    for node in r.nodes.values():
        ident = r.identity(node)
        if ident in needed:
            phases.setdefault(ident, []).append(node.get("phase") or "")
    missing = []
    for ident in sorted(needed):
        got = phases.get(ident)
        if not got or any(p not in ("Succeeded", "Skipped", "Omitted") for p in got):
            missing.append(ident[1])
    if missing:
        raise UpstreamMissing(wf_name, r.name, targets, sorted(set(missing)))
