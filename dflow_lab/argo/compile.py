"""Compile the model into an Argo Workflow manifest (a plain dict), and dump it as YAML/JSON."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Set

import yaml

from ..config import config
from ..dag import DAG
from ..errors import WorkflowError, WorkflowValueError
from ..io import convert_value_to_str
from ..op_template import int_or_string
from ..steps import Steps
from ..yamlsafe import load_yaml as _load_yaml
from .yaml_emit import emit_yaml

if TYPE_CHECKING:
    from ..op_template import OPTemplate
    from ..workflow import Workflow

API_VERSION = "argoproj.io/v1alpha1"

_SCOPE_REF_RE = re.compile(
    r"(?<![\w.])(steps|tasks)(?:\.([a-zA-Z0-9][-a-zA-Z0-9]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])"
)
_INPUT_REF_RE = re.compile(
    r"(?<![\w.])inputs(?:\.(parameters|artifacts)\.([-\w]+)|\.(parameters|artifacts)\[\s*['\"]([^'\"]+)['\"]\s*\])"
)


def _strings(obj: Any) -> Iterable[str]:
    if isinstance(obj, str):
        if "{{" in obj or "steps" in obj or "tasks" in obj or "inputs" in obj:
            yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def check_scope_references(
    container: OPTemplate, step: Optional[str], compiled: Any, allowed: Set[str], word: str
) -> None:
    """Each ``steps.X``/``tasks.X``/``inputs.*.Y`` reference in ``compiled`` must resolve in ``container``.

    In a Steps template a step may use only steps of earlier stages; in a DAG any other task of
    the DAG; both may use the container's own inputs. Anything else is a reference Argo rejects.
    """
    kind = "Steps" if word == "steps" else "DAG"
    params = container.inputs.parameters
    arts = container.inputs.artifacts
    if isinstance(compiled, dict) and "hooks" in compiled:  # hooks may look at their own step
        compiled = {k: v for k, v in compiled.items() if k != "hooks"}
    for text in _strings(compiled):
        for scope, a, b in _SCOPE_REF_RE.findall(text):
            name = a or b
            if name in ("name", "status") and b == "":  # Argo's own {{steps.name}}, {{steps.status}}
                continue
            if scope != word:
                raise WorkflowValueError(
                    f"references {scope}.{name}, but a {kind} template refers to its own {word}.*",
                    template=container.name,
                    step=step,
                )
            if name not in allowed or name == step:
                where = "an earlier step of" if word == "steps" else "another task of"
                raise WorkflowValueError(
                    f"references {word[:-1]} {name!r}, which is not {where} {kind} {container.name!r}",
                    template=container.name,
                    step=step,
                )
        for k1, n1, k2, n2 in _INPUT_REF_RE.findall(text):
            kind_io, name = (k1 or k2), (n1 or n2)
            table = params if kind_io == "parameters" else arts
            big = name[len("dflow_bigpar_"):] if name.startswith("dflow_bigpar_") else None
            if kind_io == "artifacts" and big is not None and getattr(params.get(big), "save_as_artifact", False):
                continue  # a big parameter input travels as the artifact dflow_bigpar_<name>
            if name not in table:
                raise WorkflowValueError(
                    f"references inputs.{kind_io}.{name}, which template {container.name!r} does not declare",
                    template=container.name,
                    step=step,
                )


def camelize(obj: Any) -> Any:
    """snake_case keys (as Kubernetes client models give) to camelCase, recursively; ``None`` dropped."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if v is None:
                continue
            parts = str(k).split("_")
            out[parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])] = camelize(v)
        return out
    if isinstance(obj, list):
        return [camelize(v) for v in obj]
    return obj


def collect_templates(entry: OPTemplate, context: Any = None) -> List[OPTemplate]:
    """All templates reachable from ``entry``, each once, in discovery order (recursion allowed)."""
    seen: Dict[int, OPTemplate] = {}
    order: List[OPTemplate] = []
    stack = [entry]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        order.append(t)
        if isinstance(t, Steps):
            children = [s.effective_template(context) for s in t.all_steps()]
        elif isinstance(t, DAG):
            children = [s.effective_template(context) for s in t.tasks]
        else:
            children = []
        for c in reversed(children):
            if id(c) not in seen:
                stack.append(c)
    return order


def unique_names(templates: List[OPTemplate], memo: Dict[int, Dict[str, Any]]) -> Dict[int, str]:
    """Give each distinct template a distinct name; identical leaf templates share one."""
    names: Dict[int, str] = {}
    by_name: Dict[str, List[OPTemplate]] = {}
    for t in templates:
        by_name.setdefault(t.name, []).append(t)
    taken = set(by_name)
    for name, group in by_name.items():
        if len(group) == 1:
            names[id(group[0])] = name
            continue
        kept: List[tuple] = []  # (compiled without name, assigned name)
        for t in group:
            assigned = None
            if not isinstance(t, (Steps, DAG)):
                body = memo.setdefault(id(t), t.convert_to_argo())
                for other_body, other_name in kept:
                    if other_body == body:
                        assigned = other_name
                        break
            if assigned is None:
                if not kept:
                    assigned = name
                else:
                    i = 2
                    while f"{name}-{i}" in taken:
                        i += 1
                    assigned = f"{name}-{i}"
                    taken.add(assigned)
                if not isinstance(t, (Steps, DAG)):
                    kept.append((memo[id(t)], assigned))
                else:
                    kept.append((None, assigned))
            names[id(t)] = assigned
    return names


def compile_workflow(wf: Workflow) -> Dict[str, Any]:
    """The Argo Workflow manifest of ``wf``; raises a WorkflowError naming the workflow on bad input."""
    try:
        return _compile(wf)
    except WorkflowError as e:
        raise e.in_workflow(wf.name) from None


def _compile(wf: Workflow) -> Dict[str, Any]:
    context = wf.context
    entry = wf.entrypoint
    templates = collect_templates(entry, context)
    for extra in wf.extra_templates:  # exit handlers and hook templates no step uses
        for t in collect_templates(extra, context):
            if all(t is not u for u in templates):
                templates.append(t)
    if context is not None and hasattr(context, "render"):
        rendered = {id(t): context.render(t) for t in templates if not _is_container(t)}
    else:
        rendered = {}
    memo: Dict[int, Dict[str, Any]] = {}
    names = unique_names(templates, memo)
    originals = {id(t): t.name for t in templates}
    try:
        for t in templates:
            t.name = names[id(t)]
        compiled: List[Dict[str, Any]] = []
        emitted: Set[str] = set()
        for t in templates:
            if t.name in emitted:
                continue
            emitted.add(t.name)
            target = rendered.get(id(t), t)
            if target is not t:
                target.name = t.name
            reuse = target is t and originals[id(t)] == t.name
            body = memo.get(id(t)) if reuse else None
            compiled.append(body if body is not None else target.convert_to_argo())
    finally:
        for t in templates:
            t.name = originals[id(t)]

    metadata: Dict[str, Any] = {}
    if wf.id:
        metadata["name"] = wf.id
    else:
        metadata["generateName"] = wf.name + "-"
    annotations = {**(config.get("workflow_annotations") or {}), **wf.annotations}
    if annotations:
        metadata["annotations"] = annotations
    if wf.labels:
        metadata["labels"] = dict(wf.labels)

    spec: Dict[str, Any] = {"entrypoint": names[id(entry)], "templates": compiled}
    if wf.parameters:
        spec["arguments"] = {
            "parameters": [{"name": k, "value": convert_value_to_str(v)} for k, v in wf.parameters.items()]
        }
    if wf.parallelism is not None:
        spec["parallelism"] = wf.parallelism
    if wf.pod_gc_strategy is not None:
        spec["podGC"] = {"strategy": wf.pod_gc_strategy}
    if wf.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": getattr(s, "name", s)} for s in wf.image_pull_secrets]
    if wf.artifact_repo_key is not None:
        spec["artifactRepositoryRef"] = {"key": wf.artifact_repo_key}
    if wf.on_exit is not None:
        spec["onExit"] = wf.on_exit
    claims = _volume_claims(templates)
    if claims:
        spec["volumeClaimTemplates"] = claims
    for k, v in wf.spec_extra.items():
        spec.setdefault(k, v)
    _int_or_string_fields(spec)
    return {"apiVersion": API_VERSION, "kind": "Workflow", "metadata": metadata, "spec": spec}


def _int_or_string_fields(spec: Dict[str, Any]) -> None:
    """Write the IntOrString fields a hand-written manifest may give as numbers as strings (the schema's form)."""
    for t in spec["templates"]:
        if isinstance(t.get("activeDeadlineSeconds"), int):
            t["activeDeadlineSeconds"] = str(t["activeDeadlineSeconds"])
    if "podDisruptionBudget" in spec:
        spec["podDisruptionBudget"] = int_or_string(
            spec, ("podDisruptionBudget.minAvailable", "podDisruptionBudget.maxUnavailable"))["podDisruptionBudget"]


def _is_container(t: Any) -> bool:
    return isinstance(t, (Steps, DAG))


def _volume_claims(templates: List[OPTemplate]) -> List[Dict[str, Any]]:
    claims: Dict[str, Dict[str, Any]] = {}
    for t in templates:
        for pvc in t.pvcs or []:
            spec: Dict[str, Any] = {
                "accessModes": list(pvc.access_modes),
                "resources": {"requests": {"storage": pvc.size}},
            }
            if pvc.storage_class is not None:
                spec["storageClassName"] = pvc.storage_class
            claims[pvc.name] = {"metadata": {"name": pvc.name}, "spec": spec}
    return list(claims.values())


try:  # libyaml when available: an order of magnitude faster on big manifests
    _Dumper: Any = yaml.CSafeDumper
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Dumper = yaml.SafeDumper
    _Loader = yaml.SafeLoader


def dump_yaml(d: Any, **kwargs: Any) -> str:
    """YAML text of a manifest: keys sorted, block style, unicode kept.

    Without PyYAML-specific options it uses the fast emitter (:mod:`.yaml_emit`)."""
    if set(kwargs) <= {"sort_keys"}:
        return emit_yaml(d, sort_keys=kwargs.get("sort_keys", True))
    kwargs.setdefault("sort_keys", True)
    kwargs.setdefault("default_flow_style", False)
    kwargs.setdefault("allow_unicode", True)
    return yaml.dump(d, Dumper=_Dumper, **kwargs)


def load_yaml(s: str) -> Any:
    """A manifest's data: the one bounded safe YAML loader (:func:`dflow_lab.yamlsafe.load_yaml`)."""
    return _load_yaml(s, source="manifest")


def dump_json(d: Any, **kwargs: Any) -> str:
    kwargs.setdefault("sort_keys", True)
    return json.dumps(d, **kwargs)
