"""Parse an Argo Workflow manifest back into the model (``Workflow.from_dict``)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from ..dag import DAG
from ..errors import WorkflowValueError
from ..io import artifact_source_from_dict
from ..op_template import (
    ContainerOPTemplate,
    OPTemplate,
    PythonScriptOPTemplate,
    RawOPTemplate,
    ScriptOPTemplate,
    ShellOPTemplate,
)
from ..python import PythonOPTemplate
from ..step import ArgoSequence, Step
from ..steps import Steps
from ..task import Task

PYTHON_OP_MARKER = "# dflow-lab: python-op"


def _script_class(d: Dict[str, Any]) -> Any:
    script = d.get("script") or {}
    source = script.get("source") or ""
    if source.startswith(PYTHON_OP_MARKER):
        return PythonOPTemplate
    command = " ".join(script.get("command") or [])
    if "python" in command:
        return PythonScriptOPTemplate
    if command in ("sh", "bash", "/bin/sh", "/bin/bash", "sh -c", "bash -c"):
        return ShellOPTemplate
    return ScriptOPTemplate


def template_from_dict(d: Dict[str, Any], templates: Dict[str, Any], raw: Optional[Dict[str, Dict]] = None) -> OPTemplate:
    """One template from its Argo form. Steps/DAG resolve their steps' templates through ``templates``
    (already parsed) and ``raw`` (the manifest's templates by name, parsed on demand)."""
    name = d.get("name")
    if name in templates:
        return templates[name]
    if "steps" in d:
        t: OPTemplate = Steps(name=name, parallelism=d.get("parallelism"))
        t._load_base(d)
        templates[name] = t
        for stage in d.get("steps") or []:
            t.add([step_from_dict(_step_class(), s, templates, raw) for s in stage])
        return t
    if "dag" in d:
        t = DAG(name=name, parallelism=d.get("parallelism"))
        t._load_base(d)
        templates[name] = t

        t.add([step_from_dict(Task, s, templates, raw) for s in (d["dag"].get("tasks") or [])])
        for k, v in d["dag"].items():
            if k != "tasks":
                t._extra.setdefault("dag_extra", {})[k] = v
        return t
    if "script" in d:
        t = _script_class(d).from_dict(d)
    elif "container" in d:
        t = ContainerOPTemplate.from_dict(d)
    else:
        t = RawOPTemplate(d)
    templates[name] = t
    return t


def _step_class():
    return Step


def step_from_dict(cls: Any, d: Dict[str, Any], templates: Dict[str, Any], raw: Optional[Dict[str, Dict]] = None) -> Any:
    """A Step/Task from its Argo form; its template is looked up (or parsed) by name."""
    tname = d.get("template")
    if tname is None:
        raise WorkflowValueError(
            "steps that reference templateRef or inline templates are not supported by the model",
            step=d.get("name"),
            field="template",
        )
    if tname not in templates:
        if raw is None or tname not in raw:
            raise WorkflowValueError(f"uses template {tname!r}, which the manifest does not define",
                                     step=d.get("name"), field="template")
        template_from_dict(raw[tname], templates, raw)
    template = templates[tname]
    args = d.get("arguments") or {}
    params: Dict[str, Any] = {}
    key = None
    for p in args.get("parameters") or []:
        if p["name"] == "dflow_key":
            key = p.get("value")
        else:
            params[p["name"]] = p.get("value", "")

    arts = {a["name"]: artifact_source_from_dict(a) for a in args.get("artifacts") or []}
    # arguments naming inputs the template does not declare are kept (Argo ignores them)
    unknown_p = {k: v for k, v in params.items() if k not in template.inputs.parameters}
    unknown_a = {k: v for k, v in arts.items() if k not in template.inputs.artifacts}
    cont = d.get("continueOn") or {}
    step = cls(
        name=d["name"],
        template=template,
        parameters={k: v for k, v in params.items() if k not in unknown_p},
        artifacts={k: v for k, v in arts.items() if k not in unknown_a and v is not None},
        when=d.get("when"),
        with_param=d.get("withParam"),
        with_sequence=ArgoSequence.from_dict(d.get("withSequence")),
        continue_on_failed=bool(cont.get("failed", False)),
        continue_on_error=bool(cont.get("error", False)),
    )
    if key is not None:
        step.key = key
        step.inputs.parameters.data.setdefault("dflow_key", template.inputs.parameters.get("dflow_key"))
        step._given_parameters["dflow_key"] = key
    if "withItems" in d:
        step.with_items = d["withItems"]
    if unknown_p or unknown_a:
        step._extra_arguments = {
            "parameters": [p for p in args.get("parameters") or [] if p["name"] in unknown_p],
            "artifacts": [a for a in args.get("artifacts") or [] if a["name"] in unknown_a],
        }
    if "dependencies" in d:
        step.dependencies = list(d["dependencies"])
        step._legacy_dependencies = True
    elif d.get("depends"):
        step.dependencies = [_strip_parens(term) for term in _split_depends(d["depends"])]
    known = {"name", "template", "arguments", "when", "withParam", "withSequence", "withItems", "continueOn",
             "dependencies", "depends"}
    step._extra = {k: v for k, v in d.items() if k not in known}
    return step


def _split_depends(expr: str) -> list:
    """Split a ``depends`` expression on its top-level ``&&``."""
    terms, depth, cur = [], 0, ""
    i = 0
    while i < len(expr):
        ch = expr[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if depth == 0 and expr.startswith("&&", i):
            terms.append(cur.strip())
            cur = ""
            i += 2
            continue
        cur += ch
        i += 1
    if cur.strip():
        terms.append(cur.strip())
    return terms


def _strip_parens(term: str) -> str:
    term = term.strip()
    while term.startswith("(") and term.endswith(")") and _balanced(term[1:-1]):
        term = term[1:-1].strip()
    return term


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def workflow_from_dict(cls: Any, d: Dict[str, Any]) -> Any:
    """A Workflow object from an Argo Workflow manifest."""
    if d.get("kind") not in (None, "Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate"):
        raise WorkflowValueError(f"expected an Argo Workflow, got kind {d.get('kind')!r}")
    meta = d.get("metadata") or {}
    spec = d.get("spec") or {}
    raw = {t["name"]: t for t in spec.get("templates") or []}
    entry_name = spec.get("entrypoint")
    if entry_name not in raw:
        raise WorkflowValueError(f"entrypoint {entry_name!r} is not one of the manifest's templates",
                                 workflow=meta.get("name") or meta.get("generateName"), field="spec.entrypoint")
    templates: Dict[str, Any] = {}
    entry = template_from_dict(raw[entry_name], templates, raw)
    for t in spec.get("templates") or []:  # templates no step uses (exit handlers, hooks) are parsed too
        template_from_dict(t, templates, raw)
    name = meta.get("name") or (meta.get("generateName") or "workflow").rstrip("-")

    params = {p["name"]: p.get("value", "") for p in (spec.get("arguments") or {}).get("parameters") or []}

    wf = cls(
        name=name if not meta.get("name") else (meta.get("generateName") or name).rstrip("-"),
        steps=entry if isinstance(entry, Steps) else None,
        dag=entry if isinstance(entry, DAG) else None,
        annotations=meta.get("annotations"),
        labels=meta.get("labels"),
        parallelism=spec.get("parallelism"),
        pod_gc_strategy=(spec.get("podGC") or {}).get("strategy"),
        image_pull_secrets=[s["name"] for s in spec.get("imagePullSecrets") or []] or None,
        artifact_repo_key=(spec.get("artifactRepositoryRef") or {}).get("key"),
        parameters=params or None,
    )
    if not isinstance(entry, (Steps, DAG)):
        wf.entrypoint = entry  # a single-template workflow (Argo allows any template as the entrypoint)
    if meta.get("name"):
        wf.id = meta["name"]
    wf.on_exit = spec.get("onExit")
    wf.extra_templates = [templates[n] for n in raw if templates[n] is not entry]
    known = {"entrypoint", "templates", "arguments", "parallelism", "podGC", "imagePullSecrets",
             "artifactRepositoryRef", "onExit", "volumeClaimTemplates"}
    wf.spec_extra = {k: v for k, v in spec.items() if k not in known}
    return wf
