"""Local stores of the Kubernetes objects Argo workflows refer to: ConfigMaps and (Cluster)WorkflowTemplates
(and the CronWorkflows ``dflow_lab.local.cron`` schedules).

Semantics: on Argo, a workflow reads ``valueFrom.configMapKeyRef`` (input and global parameters) from a
ConfigMap of its namespace, and ``workflowTemplateRef``/``templateRef`` from WorkflowTemplates and
ClusterWorkflowTemplates.  The local engine keeps these objects in the workspace, one JSON file each
under ``<workdir>/objects/<kind>/<name>.json``, written by ``dflow-lab configmap create FILE`` /
``dflow-lab template create FILE`` (or :class:`ObjectStore` from Python) and read by the engine when the
reference is resolved (global parameters when the workflow starts, input parameters when the template
runs, templates at submission).

Limits: one namespace (a namespace in a manifest is ignored); names are lowercase RFC 1123 subdomains
(checked before they become paths); an object is at most :data:`MAX_OBJECT_BYTES` of JSON; a ConfigMap's
``data`` holds strings only (``binaryData`` is refused).  Config maps are not secrets: their values are
stored in plain files, as Kubernetes stores them in plain objects.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import WorkflowValueError
from ..names import SUBDOMAIN_RE, remove_in_workspace, workspace_path

__all__ = ["KINDS", "MAX_OBJECT_BYTES", "ObjectStore", "with_workflow_template"]

#: kind -> directory under <workdir>/objects
KINDS = {"ConfigMap": "configmaps", "WorkflowTemplate": "workflowtemplates",
         "ClusterWorkflowTemplate": "clusterworkflowtemplates", "CronWorkflow": "cronworkflows"}
MAX_OBJECT_BYTES = 4 * 1024 * 1024
_NAME_MAX = 253


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not name or len(name) > _NAME_MAX or not SUBDOMAIN_RE.match(name):
        raise WorkflowValueError(f"{kind} name {name!r} is invalid: a name is a lowercase RFC 1123 subdomain "
                                 f"(a-z, 0-9, '-', '.') of at most {_NAME_MAX} characters", field="metadata.name")
    return name


def _check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise WorkflowValueError(f"kind {kind!r} is not kept in the local object store: one of {sorted(KINDS)}",
                                 field="kind")
    return kind


class ObjectStore:
    """The ConfigMaps and (Cluster)WorkflowTemplates of a local workspace."""

    def __init__(self, workdir: str | os.PathLike):
        self.workdir = Path(workdir).resolve()

    def _path(self, kind: str, name: str) -> Path:
        return workspace_path(self.workdir, "objects", KINDS[_check_kind(kind)], _check_name(kind, name) + ".json")

    def create(self, manifest: Any) -> dict:
        """Keep ``manifest`` (a ConfigMap, WorkflowTemplate or ClusterWorkflowTemplate), replacing one of the
        same kind and name; returns it as kept."""
        if not isinstance(manifest, dict):
            raise WorkflowValueError(f"an object is a mapping with kind and metadata.name, not {type(manifest).__name__}")
        kind = _check_kind(manifest.get("kind"))
        meta = manifest.get("metadata")
        if not isinstance(meta, dict):
            raise WorkflowValueError(f"{kind}: metadata is missing", field="metadata")
        name = _check_name(kind, meta.get("name"))
        where = f"{kind} {name!r}"
        if kind == "ConfigMap":
            if manifest.get("binaryData"):
                raise WorkflowValueError(f"{where}: binaryData is not supported locally (use data)", field="binaryData")
            data = manifest.get("data") or {}
            if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
                raise WorkflowValueError(f"{where}: data maps key names to string values", field="data")
        else:
            spec = manifest.get("spec")
            if not isinstance(spec, dict) or not isinstance(spec.get("templates", []), list):
                raise WorkflowValueError(f"{where}: spec.templates is a list of templates", field="spec.templates")
        text = json.dumps(manifest)
        if len(text.encode()) > MAX_OBJECT_BYTES:
            raise WorkflowValueError(f"{where} is larger than {MAX_OBJECT_BYTES} bytes of JSON", field="metadata.name")
        path = self._path(kind, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
        return manifest

    def get(self, kind: str, name: str) -> dict | None:
        """The object, or ``None`` when the workspace has none of that kind and name."""
        path = self._path(kind, name)
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None

    def list(self, kind: str) -> list[str]:
        """Names of the kept objects of ``kind``, sorted."""
        try:
            directory = workspace_path(self.workdir, "objects", KINDS[_check_kind(kind)])
        except Exception:  # noqa: BLE001 — no directory yet
            return []
        if not directory.is_dir():
            return []
        return sorted(p.stem for p in directory.glob("*.json"))

    def delete(self, kind: str, name: str) -> bool:
        """Remove the object; returns whether there was one."""
        self._path(kind, name)  # validates
        return remove_in_workspace(self.workdir, "objects", KINDS[kind], name + ".json")

    # -- lookups the engine makes ------------------------------------------------------------------

    def config_value(self, ref: Any, where: str) -> str | None:
        """The value a ``configMapKeyRef`` ({name, key, optional}) names; ``None`` when it is optional (or
        the caller has a default) and missing.  Raises naming ``where`` when the reference is malformed
        or a required value is missing."""
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not isinstance(ref.get("key"), str):
            raise WorkflowValueError(f"{where}: configMapKeyRef needs a name and a key")
        cm = self.get("ConfigMap", ref["name"])
        if cm is None:
            if ref.get("optional"):
                return None
            raise WorkflowValueError(f"{where}: config map {ref['name']!r} does not exist in the local workspace "
                                     f"{self.workdir} (create it with `dflow-lab configmap create FILE`)")
        value = (cm.get("data") or {}).get(ref["key"])
        if value is None and not ref.get("optional"):
            raise WorkflowValueError(f"{where}: config map {ref['name']!r} has no key {ref['key']!r}")
        return value

    def template(self, ref: Any, where: str) -> dict:
        """The template a ``templateRef`` ({name, template, clusterScope}) names."""
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str) or not isinstance(ref.get("template"), str):
            raise WorkflowValueError(f"{where}: templateRef needs a name and a template")
        kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
        wft = self.get(kind, ref["name"])
        if wft is None:
            raise WorkflowValueError(f"{where}: {kind} {ref['name']!r} does not exist in the local workspace "
                                     f"{self.workdir} (create it with `dflow-lab template create FILE`)")
        for t in (wft.get("spec") or {}).get("templates") or []:
            if isinstance(t, dict) and t.get("name") == ref["template"]:
                return t
        raise WorkflowValueError(f"{where}: {kind} {ref['name']!r} has no template {ref['template']!r}")


def with_workflow_template(manifest: dict, store: ObjectStore) -> dict:
    """``manifest`` with its ``spec.workflowTemplateRef`` resolved as Argo resolves it: the referenced
    template's spec, overlaid by the workflow's own spec fields (``arguments.parameters`` and
    ``arguments.artifacts`` merged by name, the workflow's winning); the workflow is labelled
    ``workflows.argoproj.io/workflow-template`` (or ``cluster-workflow-template``) with the name.
    A manifest without the reference is returned unchanged."""
    spec = manifest.get("spec") if isinstance(manifest, dict) else None
    if not isinstance(spec, dict) or "workflowTemplateRef" not in spec:
        return manifest
    ref = spec["workflowTemplateRef"]
    if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
        raise WorkflowValueError("spec.workflowTemplateRef needs a name", field="spec.workflowTemplateRef")
    kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
    wft = store.get(kind, ref["name"])
    if wft is None:
        raise WorkflowValueError(f"{kind} {ref['name']!r} does not exist in the local workspace {store.workdir} "
                                 "(create it with `dflow-lab template create FILE`)", field="spec.workflowTemplateRef")
    merged = json.loads(json.dumps(wft.get("spec") or {}))
    for key, value in spec.items():
        if key == "workflowTemplateRef":
            continue
        if key == "arguments" and isinstance(value, dict):
            args = merged.setdefault("arguments", {})
            for part in ("parameters", "artifacts"):
                mine = {p.get("name"): p for p in value.get(part) or [] if isinstance(p, dict)}
                theirs = [p for p in args.get(part) or [] if p.get("name") not in mine]
                if mine or theirs:
                    args[part] = theirs + list(mine.values())
        else:
            merged[key] = value
    out = dict(manifest)
    out["spec"] = merged
    meta = dict(out.get("metadata") or {})
    label = "workflows.argoproj.io/" + ("cluster-workflow-template" if kind == "ClusterWorkflowTemplate"
                                        else "workflow-template")
    meta["labels"] = {**(meta.get("labels") or {}), label: ref["name"]}
    out["metadata"] = meta
    return out
