"""Checks of a manifest before the local engine stores or runs anything.

Errors name the workflow, the template or step, and the field (``WorkflowValueError``).
"""

from __future__ import annotations

import importlib.util
import json

from ..errors import WorkflowValueError
from ..names import check_claim_name, check_field_name, check_generate_name, check_workflow_name
from .depends import DependsError, find_cycle, from_dependencies, parse_depends
from .scope import StepError, sequence_bounds, too_many_items

__all__ = ["check_manifest"]

_RUNNABLE = ("steps", "dag", "script", "container", "suspend")


def check_manifest(manifest: dict) -> None:
    """Raise ``WorkflowValueError`` if the manifest cannot run locally."""
    if not isinstance(manifest, dict):
        raise WorkflowValueError(f"a workflow manifest is a dict, not {type(manifest).__name__}")
    meta = manifest.get("metadata") or {}
    if not isinstance(meta, dict):
        raise WorkflowValueError(f"metadata is a map, not {type(meta).__name__}", field="metadata")
    # names become paths (runs/<name>, locks/<name>.lock): checked before anything else uses them
    if meta.get("name") is not None:
        check_workflow_name(meta["name"], field="metadata.name")
    elif meta.get("generateName") is not None:
        check_generate_name(meta["generateName"], field="metadata.generateName")
    wf = meta.get("name") or meta.get("generateName") or "<unnamed>"
    if manifest.get("kind", "Workflow") != "Workflow":
        raise WorkflowValueError(f"kind {manifest.get('kind')!r} cannot run: only Workflow manifests run",
                                 workflow=wf, field="kind")
    if not (meta.get("name") or meta.get("generateName")):
        raise WorkflowValueError("the manifest needs metadata.name or metadata.generateName", field="metadata")
    spec = manifest.get("spec")
    if not isinstance(spec, dict):
        raise WorkflowValueError("the manifest has no spec", workflow=wf, field="spec")
    if "workflowTemplateRef" in spec:
        raise WorkflowValueError("workflowTemplateRef needs a cluster's WorkflowTemplates; not available locally",
                                 workflow=wf, field="spec.workflowTemplateRef")
    templates = spec.get("templates") or []
    names = [t.get("name") for t in templates]
    for i, t in enumerate(templates):
        if not t.get("name"):
            raise WorkflowValueError("template has no name", workflow=wf, field=f"spec.templates[{i}].name")
        check_field_name(t["name"], "template", workflow=wf, field=f"spec.templates[{i}].name")
    _check_claims(wf, spec)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise WorkflowValueError(f"templates defined twice: {dup}", workflow=wf, field="spec.templates")
    known = set(names)
    entry = spec.get("entrypoint")
    if not entry:
        raise WorkflowValueError("spec.entrypoint is missing", workflow=wf, field="spec.entrypoint")
    if entry not in known:
        raise WorkflowValueError(f"entrypoint {entry!r} is not a template (templates: {sorted(known)})",
                                 workflow=wf, field="spec.entrypoint")
    for handler_field, handler in (("spec.onExit", spec.get("onExit")),
                                   ("spec.hooks.exit.template", ((spec.get("hooks") or {}).get("exit") or {})
                                    .get("template"))):
        if handler and handler not in known:
            raise WorkflowValueError(f"exit handler {handler!r} is not a template", workflow=wf, field=handler_field)
    for i, p in enumerate((spec.get("arguments") or {}).get("parameters") or []):
        vf = p.get("valueFrom") or {}
        if "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not isinstance(ref.get("key"), str):
                raise WorkflowValueError(f"parameter {p.get('name')!r}: configMapKeyRef needs a name and a key",
                                         workflow=wf, field=f"spec.arguments.parameters[{i}].valueFrom.configMapKeyRef")
        elif "value" not in p and "default" not in vf:
            raise WorkflowValueError(f"parameter {p.get('name')!r} has no value (give value, valueFrom.default or "
                                     "valueFrom.configMapKeyRef)", workflow=wf, field=f"spec.arguments.parameters[{i}]")
    for t in templates:
        _check_template(wf, t, known)
    _check_dispatcher(wf, templates)


def _dispatcher_missing() -> str | None:
    """Why dpdispatcher cannot be imported here (``None`` when it can). Found, not imported: importing
    it opens a ``dpdispatcher.log`` in the current directory (the step imports it in its own)."""
    try:
        found = importlib.util.find_spec("dpdispatcher") is not None
    except (ImportError, ValueError) as e:
        return str(e) or "not importable"
    return None if found else "No module named 'dpdispatcher'"


def _check_dispatcher(wf: str, templates: list) -> None:
    """A step rendered by ``DispatcherExecutor`` runs dpdispatcher on this machine: refuse the workflow
    before anything is stored when dpdispatcher cannot be imported, naming the first such step."""
    marked = set()
    for t in templates:
        note = ((t.get("metadata") or {}).get("annotations") or {}).get("dflow-lab/executor") or "{}"
        try:
            kind = json.loads(note).get("kind") if isinstance(note, str) else None
        except (ValueError, AttributeError):
            kind = None
        if kind == "DispatcherExecutor":
            marked.add(t["name"])
    if not marked:
        return
    missing = _dispatcher_missing()
    if missing is None:
        return
    for t in templates:
        items = [s for group in t.get("steps") or [] if isinstance(group, list) for s in group]
        items += ((t.get("dag") or {}).get("tasks") or []) if "dag" in t else []
        for item in items:
            if item.get("template") in marked:
                raise WorkflowValueError(
                    "the step runs through DispatcherExecutor, which needs the dpdispatcher package where the "
                    f"local engine runs it, and it cannot be imported ({missing}); install it "
                    "(pip install dpdispatcher, or pip install 'dflow-lab[executors]')",
                    workflow=wf, template=t["name"], step=item.get("name"), field="executor")


def _check_ref(wf: str, tname: str, item: dict, field: str, known: set[str]) -> None:
    if "inline" in item or "templateRef" in item:
        return
    ref = item.get("template")
    if not ref:
        raise WorkflowValueError("step has no template", workflow=wf, template=tname, step=item.get("name"),
                                 field=field)
    if ref not in known:
        raise WorkflowValueError(f"template {ref!r} is not defined", workflow=wf, template=tname,
                                 step=item.get("name"), field=f"{field}.template")
    for hook_field, hook in (("onExit", item.get("onExit")),
                             ("hooks.exit.template", ((item.get("hooks") or {}).get("exit") or {}).get("template"))):
        if hook and hook not in known:
            raise WorkflowValueError(f"exit handler {hook!r} is not defined", workflow=wf, template=tname,
                                     step=item.get("name"), field=f"{field}.{hook_field}")


def _check_claims(wf: str, spec: dict) -> None:
    """Volume claim names name directories of the workspace (runs/<workflow>/volumes/<claim>, volumes/<claim>)."""
    for i, claim in enumerate(spec.get("volumeClaimTemplates") or []):
        name = (claim.get("metadata") or {}).get("name") if isinstance(claim, dict) else None
        if name is not None:
            check_claim_name(name, workflow=wf, field=f"spec.volumeClaimTemplates[{i}].metadata.name")
    for i, vol in enumerate(spec.get("volumes") or []):
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName") if isinstance(vol, dict) else None
        if claim is not None:
            check_claim_name(claim, workflow=wf, field=f"spec.volumes[{i}].persistentVolumeClaim.claimName")


def _check_loop(wf: str, tname: str, item: dict, field: str) -> None:
    """A loop whose size the manifest states (a literal ``withItems`` list, a ``withSequence`` without
    ``{{…}}``) is refused here when it is over ``config["local_max_items"]``; others when they expand."""
    count = None
    where = f"{field}.withItems"
    if isinstance(item.get("withItems"), list):
        count = len(item["withItems"])
    seq = item.get("withSequence")
    if isinstance(seq, dict) and "{{" not in repr(seq):
        where = f"{field}.withSequence"
        try:
            count = sequence_bounds(seq, where)[2]
        except StepError as e:
            raise WorkflowValueError(str(e).split(": ", 1)[-1], workflow=wf, template=tname, step=item.get("name"),
                                     field=where) \
                from None
    refusal = too_many_items(count, where) if count is not None else None
    if refusal:
        raise WorkflowValueError(refusal.split(": ", 1)[1], workflow=wf, template=tname, step=item.get("name"),
                                 field=where)


def _check_template(wf: str, t: dict, known: set[str]) -> None:
    name = t["name"]
    if "steps" in t:
        for gi, group in enumerate(t["steps"] or []):
            if not isinstance(group, list):
                raise WorkflowValueError("each entry of steps is a list of parallel steps", workflow=wf,
                                         template=name, field=f"steps[{gi}]")
            seen = set()
            for si, step in enumerate(group):
                if not step.get("name"):
                    raise WorkflowValueError("step has no name", workflow=wf, template=name,
                                             field=f"steps[{gi}][{si}].name")
                check_field_name(step["name"], "step", workflow=wf, template=name, field=f"steps[{gi}][{si}].name")
                if step["name"] in seen:
                    raise WorkflowValueError(f"step name {step['name']!r} used twice in one group", workflow=wf,
                                             template=name, field=f"steps[{gi}]")
                seen.add(step["name"])
                _check_ref(wf, name, step, f"steps[{gi}][{si}]", known)
                _check_loop(wf, name, step, f"steps[{gi}][{si}]")
    elif "dag" in t:
        tasks = (t["dag"] or {}).get("tasks") or []
        tnames = {task.get("name") for task in tasks}
        graph: dict = {}
        for ti, task in enumerate(tasks):
            if not task.get("name"):
                raise WorkflowValueError("task has no name", workflow=wf, template=name,
                                         field=f"dag.tasks[{ti}].name")
            check_field_name(task["name"], "task", workflow=wf, template=name, field=f"dag.tasks[{ti}].name")
            _check_ref(wf, name, task, f"dag.tasks[{ti}]", known)
            _check_loop(wf, name, task, f"dag.tasks[{ti}]")
            try:
                deps = parse_depends(str(task["depends"])) if "depends" in task else \
                    from_dependencies(list(task.get("dependencies") or []))
            except DependsError as e:
                raise WorkflowValueError(str(e), workflow=wf, template=name, step=task["name"],
                                         field="depends") from None
            for d in sorted(deps.tasks()) if deps else ():
                if d not in tnames:
                    raise WorkflowValueError(f"depends on unknown task {d!r}", workflow=wf, template=name,
                                             step=task["name"], field="depends" if "depends" in task else
                                             "dependencies")
            graph[task["name"]] = deps
        cycle = find_cycle(graph)  # the engine's own check, before anything is stored (and in lint)
        if cycle:
            raise WorkflowValueError(f"dependency cycle {' -> '.join(cycle)}", workflow=wf, template=name,
                                     step=cycle[0], field="depends")
    elif not any(k in t for k in _RUNNABLE):
        kinds = sorted(k for k in ("resource", "data", "http", "plugin", "containerSet") if k in t)
        if not kinds:
            raise WorkflowValueError("template has no steps, dag, script, container or suspend", workflow=wf,
                                     template=name)
