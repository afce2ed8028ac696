"""The Argo Server operations of ``dflow-lab server``, over an engine (:class:`dflow_lab.engine.Engine`;
the server gives it the local engine).

Each method takes already-validated path values and a decoded JSON body and returns the response
object in the shape of Argo's swagger (``io.argoproj.workflow.v1alpha1.*``), or raises ``ApiError``
(an HTTP status and a message). Streams (watch, logs) are generators of response objects.
All workflows of the server live in one local workspace; their ``metadata.namespace`` is the
namespace they were created in, and names are unique across namespaces. Besides the engine contract the
operations use the workspace itself: its workflow archive, its config maps and its memoization caches.
"""

from __future__ import annotations

import builtins
import copy
import json
import re
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any, Protocol

from ..engine import Engine, WorkflowObject, control
from ..errors import WorkflowError, WorkflowValueError
from ..local.objects import ObjectStore, with_workflow_template
from ..local.validate import check_manifest
from ..names import LABEL_RE, SUBDOMAIN_RE, check_generate_name, check_workflow_name, get_pod_name
from .archive import WorkflowArchive
from .selection import SelectorError, field_matcher, label_matcher, project_fields

__all__ = ["ApiError", "ArgoApi", "NAME_RE", "check_name", "clean_object"]

NAME_RE = SUBDOMAIN_RE
NAMESPACE_RE = LABEL_RE
_TERMINAL = ("Succeeded", "Failed", "Error")
_CACHE_LABEL = "workflows.argoproj.io/configmap-type"
_LOCAL_ONLY_NODE_KEYS = ("hostDir",)  # paths on the server's host mean nothing to a client
VERSION = {
    "version": "v4.1.2+dflow-lab", "buildDate": "", "gitCommit": "", "gitTag": "v4.1.2", "gitTreeState": "clean",
    "goVersion": "", "compiler": "dflow-lab", "platform": "local",
}


class ApiError(Exception):
    """An error answered to the client: HTTP ``status`` and a message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def check_name(value: str, what: str) -> str:
    """Refuse a name that is not a Kubernetes name (no path characters, at most 253 characters)."""
    if what in ("workflow name", "workflow generateName"):  # the one validator of workflow names

        try:
            return (check_workflow_name if what == "workflow name" else check_generate_name)(value, field=what)
        except ValueError as e:
            raise ApiError(400, str(e)) from None
    rule = NAMESPACE_RE if what == "namespace" else NAME_RE
    limit = 63 if what == "namespace" else 253
    if not isinstance(value, str) or len(value) > limit or not rule.match(value):
        raise ApiError(400, f"invalid {what} {value!r}: a {what} is a lowercase RFC 1123 "
                            f"{'label' if what == 'namespace' else 'subdomain'} of at most {limit} characters "
                            "(lowercase letters, digits, '-'" + ("" if what == "namespace" else ", '.'") + ")")
    return value


def _clean(obj: Any) -> Any:
    """Drop ``None`` values (Go's omitempty) so that responses validate against the swagger schemas."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def clean_object(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` without its ``None`` values, at every depth (a copy)."""
    cleaned: dict[str, Any] = _clean(obj)
    return cleaned


def _public(wf: dict[str, Any]) -> dict[str, Any]:
    wf = clean_object(wf)
    for node in ((wf.get("status") or {}).get("nodes") or {}).values():
        for k in _LOCAL_ONLY_NODE_KEYS:
            node.pop(k, None)
    return wf


class MemoCaches(Protocol):
    """Where Argo's memoization caches (ConfigMaps) go: the workspace's memo table."""

    def memo_put(self, cache: str, key: str, outputs: dict[str, Any], node_id: str) -> None: ...


class ArgoApi:
    """Argo Server operations over ``engine``, with the workspace ``workdir`` (archive, config maps) and its
    memoization ``caches``."""

    def __init__(self, engine: Engine, workdir: Path, caches: MemoCaches, stopping: threading.Event | None = None):
        self.engine = engine
        self.workdir = workdir
        self.caches = caches
        self.archive = WorkflowArchive(workdir / "argo-archive")
        self.stopping = stopping or threading.Event()

    # -- lookups -----------------------------------------------------------------------------------

    def _summary(self, name: str) -> WorkflowObject | None:
        """The workflow's metadata and status (without nodes), ``None`` when there is no such workflow."""
        try:
            return self.engine.get(name, ["metadata", "status.phase"])
        except WorkflowError:
            return None

    def _record(self, namespace: str, name: str) -> WorkflowObject:
        """The workflow's metadata and status; 404 unless it exists in ``namespace``."""
        wf = self._summary(name)
        meta = (wf or {}).get("metadata") or {}
        if wf is None or meta.get("namespace", "default") != namespace:
            raise ApiError(404, f'workflows.argoproj.io "{name}" not found in namespace {namespace!r}')
        return wf

    def _get(self, name: str) -> WorkflowObject:
        return _public(self.engine.get(name))

    def _nodes(self, name: str) -> dict[str, dict[str, Any]]:
        """The workflow's status nodes by ID (none when it is gone)."""
        try:
            return dict((self.engine.get(name).get("status") or {}).get("nodes") or {})
        except WorkflowError:
            return {}

    # -- workflows ---------------------------------------------------------------------------------

    def create(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/workflows/{namespace}`` (WorkflowCreateRequest → Workflow)."""
        manifest = self._manifest_of(namespace, body)
        dry_run = body.get("serverDryRun") or (body.get("createOptions") or {}).get("dryRun")
        if dry_run:
            return clean_object(manifest)
        name = (manifest.get("metadata") or {}).get("name")
        if name and self._summary(name) is not None:
            raise ApiError(409, f'workflows.argoproj.io "{name}" already exists')
        try:
            wf = self.engine.submit(manifest, wait=False)
        except WorkflowError as e:
            raise ApiError(400, str(e)) from None
        return _public(wf)

    def lint(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/workflows/{namespace}/lint``: the checks ``create`` makes, nothing stored."""
        return clean_object(self._manifest_of(namespace, body))

    def _manifest_of(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        manifest = body.get("workflow")
        if not isinstance(manifest, dict):
            raise ApiError(400, "the request body needs a 'workflow' object (WorkflowCreateRequest)")
        manifest = copy.deepcopy(manifest)
        meta = manifest.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "workflow.metadata must be an object")
        if meta.get("namespace") not in (None, "", namespace):
            raise ApiError(400, f"workflow.metadata.namespace {meta['namespace']!r} does not match the request's "
                                f"namespace {namespace!r}")
        meta["namespace"] = namespace
        if meta.get("name"):
            check_name(meta["name"], "workflow name")
        elif meta.get("generateName"):
            check_name(meta["generateName"], "workflow generateName")
        manifest.setdefault("apiVersion", "argoproj.io/v1alpha1")
        manifest.setdefault("kind", "Workflow")
        try:
            # a workflowTemplateRef resolves against the workspace's templates (the template endpoints' store)
            manifest = with_workflow_template(manifest, ObjectStore(self.workdir))
            check_manifest(manifest)
        except WorkflowError as e:
            raise ApiError(400, str(e)) from None
        return manifest

    def list(self, namespace: str | None, query: dict[str, str], archived: bool = False) -> dict[str, Any]:
        """``GET /api/v1/workflows/{namespace}`` and ``GET /api/v1/archived-workflows`` (WorkflowList).

        The archive holds the finished workflows, those still there and those deleted since."""
        try:
            labels_ok = label_matcher(query.get("listOptions.labelSelector"))
            fields_ok = field_matcher(query.get("listOptions.fieldSelector"))
        except SelectorError as e:
            raise ApiError(400, str(e)) from None
        prefix = query.get("namePrefix") or ""
        items = []
        for wf in self._archived() if archived else self.engine.list():
            meta = wf.get("metadata") or {}
            if namespace is not None and meta.get("namespace", "default") != namespace:
                continue
            if not meta.get("name", "").startswith(prefix):
                continue
            if labels_ok(meta.get("labels") or {}) and fields_ok(wf):
                items.append(_public(wf))
        limit = _int(query.get("listOptions.limit"), "listOptions.limit")
        start = _int(query.get("listOptions.continue"), "listOptions.continue") or 0
        meta_out: dict[str, Any] = {"resourceVersion": str(len(items))}
        if limit:
            if start + limit < len(items):
                meta_out["continue"] = str(start + limit)
            items = items[start:start + limit]
        out = {"apiVersion": "argoproj.io/v1alpha1", "kind": "WorkflowList", "metadata": meta_out, "items": items}
        return project_fields(out, query.get("fields"))

    def _archived(self) -> builtins.list[dict[str, Any]]:
        live = [wf for wf in self.engine.list() if (wf.get("status") or {}).get("phase") in _TERMINAL]
        uids = {(wf.get("metadata") or {}).get("uid") for wf in live}
        return live + [wf for wf in self.archive.all() if wf["metadata"].get("uid") not in uids]

    def get(self, namespace: str, name: str, fields: str | None = None) -> dict[str, Any]:
        """``GET /api/v1/workflows/{namespace}/{name}``."""
        self._record(namespace, name)
        return project_fields(self._get(name), fields)

    def get_archived(self, uid: str) -> dict[str, Any]:
        """``GET /api/v1/archived-workflows/{uid}``: a finished workflow, still there or deleted since."""
        for wf in self.engine.list():
            if (wf.get("metadata") or {}).get("uid") == uid and (wf.get("status") or {}).get("phase") in _TERMINAL:
                return self._get(wf["metadata"]["name"])
        archived = self.archive.get(uid)
        if archived is None:
            raise ApiError(404, f"archived workflow {uid!r} not found")
        return archived

    def delete(self, namespace: str, name: str) -> dict[str, Any]:
        """``DELETE /api/v1/workflows/{namespace}/{name}`` (terminates a running workflow first; a finished
        one stays in the archive)."""
        record = self._record(namespace, name)
        if record["status"].get("phase") in _TERMINAL:
            self.archive.put(self._get(name))
        self.engine.delete(name)
        return {}

    def delete_archived(self, uid: str) -> dict[str, Any]:
        """``DELETE /api/v1/archived-workflows/{uid}``: forget a deleted workflow."""
        if self.archive.delete(uid):
            return {}
        self.get_archived(uid)  # 404 when unknown
        raise ApiError(409, f"workflow {uid!r} is not deleted: delete it (DELETE /api/v1/workflows/…) first")

    def action(self, namespace: str, name: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        """``PUT /api/v1/workflows/{namespace}/{name}/{action}`` → the workflow (for resubmit: the new one)."""
        record = self._record(namespace, name)
        try:
            if action == "resubmit":
                return _public(self.engine.resubmit(name, memoized=bool(body.get("memoized"))))
            if action == "retry":
                self.engine.retry(name, node_ids=self._selected_nodes(name, body.get("nodeFieldSelector")))
            elif action in ("stop", "terminate", "suspend", "resume"):
                if record["status"].get("phase") in _TERMINAL:
                    raise ApiError(409, f"workflow {name!r} is {record['status']['phase']}: cannot {action} it")
                control(self.engine, action, name)
            else:
                raise ApiError(404, f"no action {action!r}: use retry, resubmit, stop, terminate, suspend or resume")
        except WorkflowError as e:
            raise ApiError(400, str(e)) from None
        return self._get(name)

    def _selected_nodes(self, name: str, selector: str | None) -> builtins.list[str] | None:
        if not selector:
            return None
        try:
            matches = field_matcher(selector)
        except SelectorError as e:
            raise ApiError(400, f"nodeFieldSelector: {e}") from None
        ids = [n["id"] for n in self._nodes(name).values() if matches(n)]
        if not ids:
            raise ApiError(400, f"nodeFieldSelector {selector!r} selects no node of workflow {name!r}")
        return ids

    # -- memoization cache (Kubernetes ConfigMaps) ---------------------------------------------------

    def create_configmap(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /api/v1/namespaces/{namespace}/configmaps``: an Argo memoization cache, into the engine's memo.

        Only cache ConfigMaps (label ``workflows.argoproj.io/configmap-type: Cache``) are accepted; each data
        entry is Argo's cache entry JSON (``nodeID``, ``outputs``, ``creationTimestamp``).
        """
        meta = body.get("metadata") or {}
        name = check_name(meta.get("name", ""), "configmap name")
        kind = (meta.get("labels") or {}).get(_CACHE_LABEL)
        if kind == "Parameter":  # parameters' configMapKeyRef: into the workspace's config maps
            try:
                return ObjectStore(self.workdir).create({**body, "kind": "ConfigMap",
                                                                 "metadata": {**meta, "namespace": namespace}})
            except WorkflowValueError as e:
                raise ApiError(400, str(e)) from None
        if kind != "Cache":
            raise ApiError(422, f"configmap {name!r}: only memoization caches (label {_CACHE_LABEL}: Cache) and "
                                f"parameter config maps ({_CACHE_LABEL}: Parameter) can be created on a dflow-lab server")
        data = body.get("data") or {}
        if not isinstance(data, dict):
            raise ApiError(400, f"configmap {name!r}: data must be an object of strings")
        entries = []
        for key, text in data.items():
            try:
                entry = json.loads(text)
                outputs, node_id = entry["outputs"], str(entry.get("nodeID", ""))
                if not isinstance(outputs, dict):
                    raise TypeError("outputs is not an object")
            except (TypeError, ValueError, KeyError) as e:
                raise ApiError(400, f"configmap {name!r}: data[{key!r}] is not a cache entry ({e})") from None
            entries.append((key, outputs, node_id))
        for key, outputs, node_id in entries:
            self.caches.memo_put(name, key, outputs, node_id)
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {**meta, "namespace": namespace},
                "data": data}

    # -- streams -----------------------------------------------------------------------------------

    def _ended(self, cancel: threading.Event | None) -> bool:
        """Whether a stream should end: the server stops, or its client went away (``cancel``)."""
        return self.stopping.is_set() or (cancel is not None and cancel.is_set())

    def watch(self, namespace: str, query: dict[str, str], cancel: threading.Event | None = None) -> Generator[dict[str, Any], None, None]:
        """``GET /api/v1/workflow-events/{namespace}``: ADDED for existing workflows, then MODIFIED/DELETED.
        Ends when the server stops or ``cancel`` is set."""
        try:
            labels_ok = label_matcher(query.get("listOptions.labelSelector"))
            field_sel = query.get("listOptions.fieldSelector") or ""
            fields_ok = field_matcher(field_sel)
        except SelectorError as e:
            raise ApiError(400, str(e)) from None
        only = re.search(r"(?:^|,)\s*metadata\.name\s*==?\s*([^,\s]+)", field_sel)
        timeout = _int(query.get("listOptions.timeoutSeconds"), "listOptions.timeoutSeconds")
        deadline = time.monotonic() + timeout if timeout else None
        fields = query.get("fields")
        seen: dict[str, tuple[int, dict[str, Any], dict[str, Any]]] = {}  # name -> (last event seq, last object, list status)

        def in_scope(meta: dict[str, Any], labels: dict[str, Any]) -> bool:
            return meta.get("namespace", "default") == namespace and labels_ok(labels)

        def candidates() -> dict[str, dict[str, Any]]:
            """Workflows in the namespace with matching labels: name -> workflow-level status."""
            if only:
                wf = self._summary(only.group(1))
                meta = (wf or {}).get("metadata") or {}
                if wf is None or not in_scope(meta, meta.get("labels") or {}):
                    return {}
                return {only.group(1): wf.get("status") or {}}
            return {wf["metadata"]["name"]: wf.get("status") or {} for wf in self.engine.list()
                    if in_scope(wf["metadata"], wf["metadata"].get("labels") or {})}

        def event(kind: str, wf: dict[str, Any]) -> dict[str, Any]:
            return {"result": {"type": kind, "object": project_fields(wf, fields)}}

        while not self._ended(cancel):
            current = candidates()
            for name, status in current.items():
                if name in seen and status.get("phase") in _TERMINAL and seen[name][2] == status:
                    continue  # a finished workflow that did not change: no need to read its events
                try:
                    new = self.engine.events(name, after=seen[name][0] if name in seen else 0)
                    if name in seen and not new:
                        continue
                    wf = self._get(name)
                except WorkflowError:  # deleted meanwhile
                    continue
                if not fields_ok(wf):
                    continue
                yield event("MODIFIED" if name in seen else "ADDED", wf)
                seen[name] = (new[-1]["seq"] if new else 0, wf, status)
            for name in [n for n in seen if n not in current]:
                yield event("DELETED", seen.pop(name)[1])
            if deadline is not None and time.monotonic() >= deadline:
                return
            if only and only.group(1) in seen:
                try:  # long-poll the one watched workflow
                    self.engine.events(only.group(1), after=seen[only.group(1)][0], timeout=0.5)
                except WorkflowError:
                    pass
            else:
                self.stopping.wait(0.2)

    def logs(self, namespace: str, name: str, pod: str | None, query: dict[str, str],
             cancel: threading.Event | None = None) -> Generator[dict[str, Any], None, None]:
        """``GET /api/v1/workflows/{namespace}/{name}/log`` (and ``…/{podName}/log``): LogEntry stream.
        A follow ends when the workflow finishes, the server stops or ``cancel`` is set."""
        self._record(namespace, name)
        container = query.get("logOptions.container") or "main"
        if container != "main":
            raise ApiError(400, f"container {container!r}: the local engine keeps the log of the 'main' container")
        follow = query.get("logOptions.follow") in ("true", "1", "True")
        grep = query.get("grep") or ""
        tail = _int(query.get("logOptions.tailLines"), "logOptions.tailLines")
        wanted = self._pods(name, pod)
        if pod and not wanted:
            raise ApiError(404, f"workflow {name!r} has no pod {pod!r}")
        sent: dict[str, int] = {}
        while True:
            wf = self._summary(name)
            finished = wf is None or (wf.get("status") or {}).get("phase") in _TERMINAL
            for node_id, pod_name in self._pods(name, pod).items():
                lines = list(self.engine.logs(name, node_id))
                start = sent.get(node_id, max(0, len(lines) - tail) if tail else 0)
                for line in lines[start:]:
                    if grep in line:
                        yield {"result": {"podName": pod_name, "content": line}}
                sent[node_id] = len(lines)
            if not follow or finished or self._ended(cancel):
                return
            self.stopping.wait(0.2)

    def _pods(self, name: str, pod: str | None) -> dict[str, str]:
        """Pod nodes of a workflow in start order: node id → Argo pod name (filtered by pod name or node id)."""
        nodes = sorted((n for n in self._nodes(name).values() if n.get("type") == "Pod"),
                       key=lambda n: (n.get("startedAt") or "", n["name"]))
        out = {}
        for n in nodes:
            pod_name = get_pod_name(name, n["name"], n.get("templateName") or "", n["id"])
            if pod in (None, "", pod_name, n["id"]):
                out[n["id"]] = pod_name
        return out


def _int(value: str | None, what: str) -> int:
    if value in (None, ""):
        return 0
    try:
        n = int(value)
    except ValueError:
        raise ApiError(400, f"{what} must be an integer, not {value!r}") from None
    if n < 0:
        raise ApiError(400, f"{what} must not be negative")
    return n
