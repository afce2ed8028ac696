"""WorkflowTemplate, ClusterWorkflowTemplate and ConfigMap operations of ``dflow-lab server``.

Argo's WorkflowTemplateService and ClusterWorkflowTemplateService (``/api/v1/workflow-templates/{namespace}``,
``…/{namespace}/{name}``, ``…/{namespace}/lint``; ``/api/v1/cluster-workflow-templates``, ``…/{name}``,
``…/lint``), in the request and response shapes of Argo's swagger, over the workspace's template store
(``dflow_lab.local.objects.ObjectStore``, the one ``dflow-lab template`` and the engine's
``workflowTemplateRef``/``templateRef`` use).  Config maps are Kubernetes objects (no Argo endpoint): the
server answers Kubernetes' core paths ``GET /api/v1/namespaces/{ns}/configmaps`` (a ``ConfigMapList``),
``GET``/``DELETE …/configmaps/{name}``; creation is ``ArgoApi.create_configmap``.

Semantics and limits: the store has one namespace, as the engine reads it; an object keeps the namespace
it was created in, and the namespaced endpoints answer the objects of their namespace and those kept
without one (by ``dflow-lab template|configmap create``); a name is unique across namespaces (creating
``t`` in ``a`` while ``b`` has one is a 409).  ``create`` refuses an
existing name (409), ``update`` a missing one (404); ``lint`` runs the checks ``create`` makes (and, for a
template with an ``entrypoint``, the local engine's workflow checks) and stores nothing.  Selectors:
``listOptions.labelSelector`` (Kubernetes' equality and set syntax) and ``namePattern`` (a substring).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from ..errors import WorkflowError, WorkflowValueError
from ..local.objects import ObjectStore
from ..local.state import now_iso
from ..local.validate import check_manifest
from .api import ApiError, check_name, clean_object
from .selection import SelectorError, label_matcher

__all__ = ["TemplateApi"]

_WFT, _CWFT, _CM = "WorkflowTemplate", "ClusterWorkflowTemplate", "ConfigMap"
_RESOURCE = {_WFT: "workflowtemplates.argoproj.io", _CWFT: "clusterworkflowtemplates.argoproj.io",
             _CM: "configmaps"}


def _in_namespace(obj: dict[str, Any], namespace: str | None) -> bool:
    """Whether a kept object is seen in ``namespace``: one created there, or one kept without a namespace
    (``dflow-lab template|configmap create``), which the engine reads from every namespace."""
    own = (obj.get("metadata") or {}).get("namespace")
    return namespace is None or own in (None, "", namespace)


class TemplateApi:
    """Template and config-map operations over a workspace's object store."""

    def __init__(self, workdir: Any):
        self.store = ObjectStore(workdir)

    # -- shared ------------------------------------------------------------------------------------

    def _not_found(self, kind: str, name: str, namespace: str | None) -> ApiError:
        where = f" in namespace {namespace!r}" if namespace else ""
        return ApiError(404, f'{_RESOURCE[kind]} "{name}" not found{where}')

    def _kept(self, kind: str, name: str, namespace: str | None) -> dict[str, Any]:
        try:
            obj = self.store.get(kind, name)
        except WorkflowValueError as e:
            raise ApiError(400, str(e)) from None
        if obj is None or not _in_namespace(obj, namespace):
            raise self._not_found(kind, name, namespace)
        return obj

    def _template_of(self, kind: str, namespace: str | None, body: Any) -> dict[str, Any]:
        """The template of a Create/Update/Lint request, checked, with its kind and namespace set."""
        if not isinstance(body, dict) or not isinstance(body.get("template"), dict):
            raise ApiError(400, f"the request body needs a 'template' object ({kind}CreateRequest)")
        tmpl: dict[str, Any] = copy.deepcopy(body["template"])
        meta = tmpl.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "template.metadata must be an object")
        if tmpl.get("kind") not in (None, kind):
            raise ApiError(400, f"template.kind is {tmpl.get('kind')!r}; this endpoint takes {kind}")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = check_name(meta["generateName"], "template generateName") + uuid.uuid4().hex[:5]
        check_name(meta.get("name", ""), "template name")
        if namespace is not None:
            if meta.get("namespace") not in (None, "", namespace):
                raise ApiError(400, f"template.metadata.namespace {meta['namespace']!r} does not match the "
                                    f"request's namespace {namespace!r}")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        tmpl["apiVersion"] = tmpl.get("apiVersion") or "argoproj.io/v1alpha1"
        tmpl["kind"] = kind
        spec = tmpl.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("templates"), list) or not spec["templates"]:
            raise ApiError(400, f"{kind} {meta['name']!r}: spec.templates must be a non-empty list")
        if spec.get("entrypoint"):  # runnable on its own: the engine's checks of a workflow
            try:
                check_manifest({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
                                "metadata": {"name": meta["name"]}, "spec": spec})
            except WorkflowError as e:
                raise ApiError(400, f"{kind} {meta['name']!r}: {e}") from None
        return tmpl

    def _keep(self, obj: dict[str, Any]) -> dict[str, Any]:
        try:
            return clean_object(self.store.create(obj))
        except WorkflowValueError as e:
            raise ApiError(400, str(e)) from None

    def _list(self, kind: str, namespace: str | None, query: dict[str, str]) -> dict[str, Any]:
        try:
            matches = label_matcher(query.get("listOptions.labelSelector"))
        except SelectorError as e:
            raise ApiError(400, str(e)) from None
        pattern = query.get("namePattern") or ""
        items = []
        for name in self.store.list(kind):
            obj = self.store.get(kind, name)
            if obj is None:  # deleted meanwhile
                continue
            meta = obj.get("metadata") or {}
            if not _in_namespace(obj, namespace):
                continue
            if pattern not in name or not matches(meta.get("labels") or {}):
                continue
            items.append(clean_object(obj))
        api = "v1" if kind == _CM else "argoproj.io/v1alpha1"
        return {"apiVersion": api, "kind": kind + "List", "metadata": {}, "items": items}

    # -- WorkflowTemplates (namespace given) and ClusterWorkflowTemplates (namespace None) ---------------

    def create(self, kind: str, namespace: str | None, body: Any) -> dict[str, Any]:
        tmpl = self._template_of(kind, namespace, body)
        name = tmpl["metadata"]["name"]
        if self.store.get(kind, name) is not None:
            raise ApiError(409, f'{_RESOURCE[kind]} "{name}" already exists')
        if (body.get("createOptions") or {}).get("dryRun"):
            return clean_object(tmpl)
        tmpl["metadata"].setdefault("uid", str(uuid.uuid4()))
        tmpl["metadata"]["creationTimestamp"] = now_iso()
        return self._keep(tmpl)

    def lint(self, kind: str, namespace: str | None, body: Any) -> dict[str, Any]:
        return clean_object(self._template_of(kind, namespace, body))

    def list(self, kind: str, namespace: str | None, query: dict[str, str]) -> dict[str, Any]:
        return self._list(kind, namespace, query)

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        return clean_object(self._kept(kind, check_name(name, "template name"), namespace))

    def update(self, kind: str, namespace: str | None, name: str, body: Any) -> dict[str, Any]:
        old = self._kept(kind, check_name(name, "template name"), namespace)
        if isinstance(body, dict) and body.get("name") not in (None, "", name):
            raise ApiError(400, f"the request's name {body['name']!r} does not match the path's {name!r}")
        tmpl = self._template_of(kind, namespace, body)
        if tmpl["metadata"]["name"] != name:
            raise ApiError(400, f"template.metadata.name {tmpl['metadata']['name']!r} does not match the path's "
                                f"{name!r}")
        old_meta = old.get("metadata") or {}
        for key in ("uid", "creationTimestamp"):
            if key in old_meta:
                tmpl["metadata"][key] = old_meta[key]
        return self._keep(tmpl)

    def delete(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        self._kept(kind, check_name(name, "template name"), namespace)
        self.store.delete(kind, name)
        return {}

    # -- config maps (Kubernetes' core API) ------------------------------------------------------------

    def list_configmaps(self, namespace: str, query: dict[str, str]) -> dict[str, Any]:
        return self._list(_CM, namespace, query)

    def get_configmap(self, namespace: str, name: str) -> dict[str, Any]:
        return clean_object(self._kept(_CM, check_name(name, "configmap name"), namespace))

    def delete_configmap(self, namespace: str, name: str) -> dict[str, Any]:
        self._kept(_CM, check_name(name, "configmap name"), namespace)
        self.store.delete(_CM, name)
        return {"apiVersion": "v1", "kind": "Status", "status": "Success"}
