"""``ArgoBackend``: the Backend interface (docs/internals.md) over an Argo Server's REST API.

Requests go through the ``argo-workflows`` SDK's ``ApiClient`` (host, bearer token, TLS
verification, custom headers from ``config["http_headers"]``), with raw JSON responses: the SDK's
models validate strictly and would reject fields newer servers add. Errors become ``ArgoApiError``
naming the workflow and the server's message; the token never appears in them.

The server's answers are not trusted further than the documents they carry: an answer is read up to
``config["argo_max_response_bytes"]`` (:mod:`dflow_lab.bounds`), a line of a stream up to the same
bound, and JSON is parsed only after its nesting depth is checked (``config["document_max_depth"]``).
An answer beyond a bound, or one that is not JSON, is an ``ArgoApiError`` naming the request.

``submit(reuse_step=…)`` works as dflow does, through Argo memoization: the templates of keyed steps
get a ``memoize`` key ``<workflow id>-<step key>`` and the reused steps' outputs are written as cache
entries into a ConfigMap through the Kubernetes API (``config["k8s_api_server"]``; a ``dflow-lab
server`` serves that endpoint itself, so by default the Argo host is used).
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import json
import tempfile
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..bounds import argo_max_response_bytes, cut_text
from ..config import config
from ..engine import Manifest, WorkflowObject, now_iso, reuse_entry
from ..errors import CapabilityNotAvailable, WorkflowValueError
from ..names import get_pod_name, randstr
from ..storage.artifacts import download_artifact
from ..yamlsafe import DocumentBoundError, load_json
from .reuse import with_reuse

if TYPE_CHECKING:  # urllib3 is imported with the first request
    from urllib3 import BaseHTTPResponse

__all__ = ["ArgoApiError", "ArgoBackend", "get_pod", "delete_pod", "replay_pod"]

_TERMINAL = ("Succeeded", "Failed", "Error")
_STATUS_KEYS = ("phase", "startedAt", "finishedAt", "message", "progress")
_RETRIES = 3
_LIST_FIELDS = ("metadata", "items.metadata", "items.status.phase", "items.status.message", "items.status.startedAt",
                "items.status.finishedAt", "items.status.estimatedDuration", "items.status.progress",
                "items.spec.suspend")
_ERROR_BODY_MAX = 64 * 1024  # an error answer longer than this is shown cut, not parsed
_TIMEOUT = (10, 120)  # seconds to connect, to wait for an answer (streams have no read timeout)


def _read_bounded(resp: Any, what: str, workflow: str | None) -> bytes:
    """The body of an unread urllib3 response, refused (``ArgoApiError``) beyond the response bound."""
    limit = argo_max_response_bytes()
    declared = resp.headers.get("Content-Length") if resp.headers is not None else None
    if declared and declared.isdigit() and int(declared) > limit:
        resp.close()
        raise ArgoApiError(resp.status, f"the answer to {what} is {int(declared):,} bytes, more than "
                           f"{limit:,}, the bound config['argo_max_response_bytes']", workflow)
    data = b""
    for chunk in resp.stream(1024 * 1024, decode_content=True):
        data += chunk
        if len(data) > limit:
            resp.close()
            raise ArgoApiError(resp.status, f"the answer to {what} is longer than {limit:,} bytes, the bound "
                               "config['argo_max_response_bytes']", workflow)
    resp.release_conn()
    return data


def _parse_answer(data: bytes, status: int, what: str, workflow: str | None) -> Any:
    """The JSON of an answer, its depth checked first; anything else is an ``ArgoApiError``."""
    try:
        return load_json(data, source=f"the answer to {what}")
    except DocumentBoundError as e:
        raise ArgoApiError(status, str(e), workflow) from None
    except ValueError as e:  # not UTF-8, not JSON
        raise ArgoApiError(status, f"the answer to {what} is not JSON ({type(e).__name__}: {cut_text(e, 200)}): "
                           f"{cut_text(data[:200].decode(errors='replace'), 200)!r}", workflow) from None


class ArgoApiError(RuntimeError):
    """An Argo Server request that failed: ``status`` is the HTTP status, the message is the server's."""

    def __init__(self, status: int, message: str, workflow: str | None = None):
        self.status = status
        self.workflow = workflow
        where = f"workflow {workflow!r}: " if workflow else ""
        super().__init__(f"{where}Argo server answered {status}: {message}")


def _server_message(e: Any) -> str:
    """The server's error message (grpc-gateway's ``message``), or the start of whatever body came back."""
    body = getattr(e, "body", None) or b""
    if len(body) <= _ERROR_BODY_MAX:
        try:
            data = load_json(body, source="the server's error answer")
            if isinstance(data, dict) and data.get("message"):
                return cut_text(data["message"], 500)
        except (TypeError, ValueError):  # DocumentBoundError and UnicodeDecodeError are ValueErrors
            pass
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    return text.strip()[:500] or str(getattr(e, "reason", "") or "no response")


def get_argo_api_client(host: str | None = None, token: str | None = None) -> Any:
    """An ``argo_workflows`` ApiClient for the configured (or given) Argo server."""
    import argo_workflows  # lazy: the generated client takes ~0.25 s to import; only requests need it

    configuration = argo_workflows.Configuration(host=host or config.get("host"))
    configuration.verify_ssl = bool(config.get("verify_ssl", True))
    token = token or config.get("token")
    if token:
        configuration.api_key["BearerToken"] = "Bearer " + token
    client = argo_workflows.ApiClient(configuration)
    for k, v in (config.get("http_headers") or {}).items():
        client.set_default_header(k, v)
    return client



class ArgoBackend:
    """Workflows on an Argo server (or a ``dflow-lab server``); implements :class:`dflow_lab.engine.Engine`.

    TLS verification (``config["verify_ssl"]``) and extra headers (``config["http_headers"]``) are read
    when the first request is made.

    Args:
        host: the Argo Server URL (default ``config["host"]``)
        token: bearer token (default ``config["token"]``)
        namespace: the namespace of the workflows (default ``config["namespace"]``)
        k8s_api_server: Kubernetes API for memoization caches (default ``config["k8s_api_server"]`` or ``host``)
    """

    log_offsets: ClassVar[bool] = False  # a pod's log is read whole (Argo's log API has no byte offsets)

    def __init__(self, host: str | None = None, token: str | None = None, namespace: str | None = None, *,
                 k8s_api_server: str | None = None):
        self.host = (host or config.get("host") or "").rstrip("/")
        if not self.host:
            raise WorkflowValueError("Argo mode needs the Argo server's URL: set config['host'] "
                                     "(or DFLOW_HOST), e.g. https://127.0.0.1:2746", field="host")
        if not self.host.startswith(("http://", "https://")):
            self.host = "https://" + self.host
        self._token = token if token is not None else config.get("token")
        if self._token and self._token.lower().startswith("bearer "):  # as `argo auth token` prints it
            self._token = self._token[len("bearer "):].strip()
        self.namespace = namespace or config.get("namespace") or "argo"
        self.k8s_api_server = (k8s_api_server or config.get("k8s_api_server") or self.host).rstrip("/")
        self._clients: dict[str, Any] = {}
        self._snapshots: dict[str, tuple[dict, dict]] = {}
        self._events: dict[str, list[dict]] = {}
        self._events_lock = threading.Lock()  # events() may be called from several threads (lab, widgets)

    def __repr__(self) -> str:
        return f"ArgoBackend(host={self.host!r}, namespace={self.namespace!r}, token={'***' if self._token else None})"

    # -- HTTP --------------------------------------------------------------------------------------

    def _client(self, host: str) -> Any:
        if host not in self._clients:
            self._clients[host] = get_argo_api_client(host, self._token)
        return self._clients[host]

    def _raw(self, method: str, path: str, *, query: builtins.list[tuple[str, str]] | None = None, body: Any = None,
             workflow: str | None = None, host: str | None = None, timeout: Any = None) -> BaseHTTPResponse:
        """The urllib3 response of a request (not read), or ``ArgoApiError``."""
        # lazy: argo_workflows loads with the first request (see get_argo_api_client)
        from argo_workflows.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return self._client(host or self.host).call_api(
                path, method, query_params=query or [], body=body, auth_settings=["BearerToken"],
                header_params={"Content-Type": "application/json", "Accept": "application/json"},
                _preload_content=False, _return_http_data_only=True, _request_timeout=timeout)
        except ApiException as e:
            raise ArgoApiError(e.status or 0, _server_message(e), workflow) from None
        except (OSError, HTTPError) as e:  # connection refused, TLS failure…
            raise ArgoApiError(0, f"cannot reach {host or self.host}: {type(e).__name__}: {e}", workflow) from None

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A request's JSON answer. Reads (GET) are tried again after a connection failure or a 5xx answer,
        up to ``_RETRIES`` times with growing pauses, as servers behind load balancers need."""
        kwargs.setdefault("timeout", _TIMEOUT)
        for attempt in range(_RETRIES + 1):
            try:
                resp = self._raw(method, path, **kwargs)
                break
            except ArgoApiError as e:
                if method != "GET" or attempt == _RETRIES or not (e.status == 0 or e.status >= 500):
                    raise
                time.sleep(0.2 * 2 ** attempt)
        data = _read_bounded(resp, f"{method} {kwargs.get('host') or self.host}{path}", kwargs.get("workflow"))
        return _parse_answer(data, resp.status, f"{method} {path}", kwargs.get("workflow")) if data else {}

    def _stream(self, path: str, query: builtins.list[tuple[str, str]],
                workflow: str | None = None) -> Generator[dict[str, Any], None, None]:
        """Objects of a grpc-gateway stream (one JSON document per line, each ``{"result": …}``)."""
        resp = self._raw("GET", path, query=query, workflow=workflow, timeout=(_TIMEOUT[0], None))
        buf = b""
        done = False
        limit = argo_max_response_bytes()
        try:
            for chunk in resp.stream(64 * 1024, decode_content=True):
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        yield self._stream_item(line, workflow)
                if len(buf) > limit:
                    raise ArgoApiError(resp.status, f"a line of the stream GET {path} is longer than {limit:,} "
                                       "bytes, the bound config['argo_max_response_bytes']", workflow)
            if buf.strip():
                yield self._stream_item(buf, workflow)
            done = True
        finally:
            if not done:  # left early: the rest of the stream is unread, so the connection cannot be reused
                resp.close()
            resp.release_conn()

    @staticmethod
    def _stream_item(line: bytes, workflow: str | None) -> dict[str, Any]:
        item = _parse_answer(line, 200, "a line of a stream", workflow)
        if not isinstance(item, dict):
            raise ArgoApiError(200, f"a line of a stream is a JSON {type(item).__name__}, not an object", workflow)
        if "error" in item and "result" not in item:
            err = item["error"] or {}
            raise ArgoApiError(int(err.get("httpCode") or 500), str(err.get("message")), workflow)
        return item.get("result") or {}

    def _wf_path(self, name: str, suffix: str = "") -> str:
        return f"/api/v1/workflows/{self.namespace}/{name}{suffix}"

    # -- Backend interface ---------------------------------------------------------------------------

    def submit(self, manifest: Manifest, *, wait: bool = False,
               reuse_step: builtins.list[Any] | None = None) -> WorkflowObject:
        """Create the workflow on the server; with ``wait`` block until it ends. Returns the workflow object.

        Logs are archived with the run's artifacts (``spec.archiveLogs: true``, unless the manifest says
        otherwise), so a step's log stays readable when its pod is gone."""
        manifest = copy.deepcopy(manifest)
        manifest.setdefault("spec", {}).setdefault("archiveLogs", True)
        meta = manifest.setdefault("metadata", {})
        meta["namespace"] = self.namespace
        if reuse_step:
            manifest = with_reuse(manifest, reuse_step)
            meta = manifest["metadata"]
            self._memoize_reused(manifest, reuse_step)
            self.lint(manifest)  # a bad manifest is refused before any cache entry is written
            self._post_cache(manifest, reuse_step)
        name = meta.get("name") or meta.get("generateName")
        wf = self._call("POST", f"/api/v1/workflows/{self.namespace}", body={"workflow": manifest}, workflow=name)
        if wait:
            return self.wait(wf["metadata"]["name"])
        return wf

    def _memoize_reused(self, manifest: dict, reuse_step: list) -> None:
        """dflow's reuse through Argo memoization: the workflow gets its name now, and the templates of keyed
        steps a memoize key ``<workflow id>-<step key>`` in the cache ConfigMap ``dflow-<workflow id>``."""
        meta = manifest["metadata"]
        if not meta.get("name"):
            meta["name"] = f"{meta.get('generateName') or 'workflow-'}{randstr(5)}"
            meta.pop("generateName", None)
        wf_id = meta["name"]
        for t in (manifest.get("spec") or {}).get("templates") or []:
            params = (t.get("inputs") or {}).get("parameters") or []
            if any(p.get("name") == "dflow_key" for p in params):
                t["memoize"] = {"key": f"{wf_id}-{{{{inputs.parameters.dflow_key}}}}",
                                "cache": {"configMap": {"name": f"dflow-{wf_id}"}}}

    def _post_cache(self, manifest: dict, reuse_step: list) -> None:
        """Write the reused steps' outputs as Argo cache entries (a ConfigMap, through the Kubernetes API)."""
        wf_id = manifest["metadata"]["name"]
        data = {}
        for step in reuse_step:
            entry = reuse_entry(step)
            if not entry.get("key"):
                continue
            finished = step.get("finishedAt")
            data[f"{wf_id}-{entry['key']}"] = json.dumps({
                "nodeID": step.get("id") or "",
                "outputs": entry["outputs"], "creationTimestamp": finished, "lastHitTimestamp": finished})
        if not data:
            return
        configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": f"dflow-{wf_id}",
                                  "labels": {"workflows.argoproj.io/configmap-type": "Cache"}},
                     "data": data}
        self._call("POST", f"/api/v1/namespaces/{self.namespace}/configmaps", body=configmap, workflow=wf_id,
                   host=self.k8s_api_server)

    def lint(self, manifest: dict) -> dict:
        """Have the server check a manifest without creating it (``ArgoApiError`` 400 names the problem)."""
        meta = manifest.get("metadata") or {}
        return self._call("POST", f"/api/v1/workflows/{self.namespace}/lint",
                          body={"namespace": self.namespace, "workflow": manifest},
                          workflow=meta.get("name") or meta.get("generateName"))

    def get(self, name: str, fields: builtins.list[str] | None = None) -> WorkflowObject:
        """The workflow object (``fields``: Argo's field projection, e.g. ``["metadata.name", "status.phase"]``).

        A workflow deleted from the cluster is looked up in the server's workflow archive, as dflow does."""
        query = [("fields", ",".join(fields))] if fields else []
        try:
            return self._call("GET", self._wf_path(name), query=query, workflow=name)
        except ArgoApiError as e:
            if e.status != 404:
                raise
            archived = self._list("/api/v1/archived-workflows", None, [
                ("listOptions.fieldSelector", f"metadata.namespace={self.namespace},metadata.name={name}")])
            if not archived:
                raise
        uid = archived[0]["metadata"]["uid"]
        return self._call("GET", f"/api/v1/archived-workflows/{uid}", workflow=name)

    def list(self, labels: dict[str, str] | None = None) -> builtins.list[WorkflowObject]:
        """Workflows of the namespace, filtered by labels: their metadata, phase, times and progress
        (not their specs and nodes, which a large namespace would make heavy; ``get`` has them)."""
        return self._list(f"/api/v1/workflows/{self.namespace}", labels, [("fields", ",".join(_LIST_FIELDS))])

    def list_archived(self, labels: dict[str, str] | None = None) -> builtins.list[WorkflowObject]:
        """Workflows of the namespace in the server's workflow archive."""
        return self._list("/api/v1/archived-workflows", labels,
                          [("listOptions.fieldSelector", f"metadata.namespace={self.namespace}")])

    def _list(self, path: str, labels: dict[str, str] | None,
              query: builtins.list[tuple[str, str]]) -> builtins.list[WorkflowObject]:
        if labels:
            query.append(("listOptions.labelSelector", ",".join(f"{k}={v}" for k, v in labels.items())))
        return self._call("GET", path, query=query).get("items") or []

    def wait(self, name: str, timeout: float | None = None) -> WorkflowObject:
        """Block until the workflow ends (``TimeoutError`` after ``timeout`` seconds); follows the watch stream."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wf = self.get(name, ["metadata.name", "status.phase"])
            if (wf.get("status") or {}).get("phase") in _TERMINAL:
                return self.get(name)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(f"workflow {name!r} still {(wf.get('status') or {}).get('phase')} after {timeout}s")
            with contextlib.closing(self._watch(name, min(left or 30, 30))) as events:
                for event in events:
                    if ((event.get("object") or {}).get("status") or {}).get("phase") in _TERMINAL:
                        break

    def _watch(self, name: str, seconds: float) -> Generator[dict[str, Any], None, None]:
        query = [("listOptions.fieldSelector", f"metadata.name={name}"),
                 ("listOptions.timeoutSeconds", str(max(1, int(seconds))))]
        return self._stream(f"/api/v1/workflow-events/{self.namespace}", query, workflow=name)

    def delete(self, name: str) -> None:
        """Delete the workflow."""
        self._call("DELETE", self._wf_path(name), workflow=name)

    def retry(self, name: str, node_ids: builtins.list[str] | None = None) -> None:
        """Retry a failed workflow; with ``node_ids``, those nodes (and what depends on them) run again."""
        body: dict = {"name": name, "namespace": self.namespace}
        if node_ids:
            wf = self.get(name, ["status.nodes"])
            others = [i for i in ((wf.get("status") or {}).get("nodes") or {}) if i not in node_ids]
            missing = [i for i in node_ids if i not in ((wf.get("status") or {}).get("nodes") or {})]
            if missing:
                raise WorkflowValueError(f"no step with id {missing} in the workflow", workflow=name, field="step_ids")
            # a field selector has no "in": select the given nodes as "none of the others"
            body["restartSuccessful"] = True
            body["nodeFieldSelector"] = ",".join(f"id!={i}" for i in others) or "id!="
        self._call("PUT", self._wf_path(name, "/retry"), body=body, workflow=name)

    def resubmit(self, name: str, memoized: bool = False) -> WorkflowObject:
        """Run the workflow again as a new one; returns the new workflow."""
        return self._call("PUT", self._wf_path(name, "/resubmit"),
                          body={"name": name, "namespace": self.namespace, "memoized": memoized}, workflow=name)

    def _action(self, name: str, action: str) -> None:
        self._call("PUT", self._wf_path(name, f"/{action}"), body={"name": name, "namespace": self.namespace},
                   workflow=name)

    def stop(self, name: str) -> None:
        """Stop the workflow (exit handlers still run)."""
        self._action(name, "stop")

    def terminate(self, name: str) -> None:
        """Terminate the workflow at once."""
        self._action(name, "terminate")

    def suspend(self, name: str) -> None:
        """Suspend the workflow: no new step starts."""
        self._action(name, "suspend")

    def resume(self, name: str) -> None:
        """Resume a suspended workflow."""
        self._action(name, "resume")

    def logs(self, name: str, node_id: str | None = None) -> Iterator[str]:
        """Log lines of one step (by node id), or of every step."""
        query = [("logOptions.container", "main")]
        if node_id is not None:
            node = ((self.get(name, ["status.nodes"]).get("status") or {}).get("nodes") or {}).get(node_id)
            if node is None:
                raise WorkflowValueError(f"workflow {name!r} has no node {node_id!r}", workflow=name)
            query.append(("podName", get_pod_name(name, node["name"], node.get("templateName") or "", node_id)))
            archived = next((a for a in (node.get("outputs") or {}).get("artifacts") or []
                             if isinstance(a, dict) and a.get("name") == "main-logs"), None)
            if archived is not None:  # the pod may be gone: the log stored with the run's artifacts
                lines = _archived_log(archived)
                if lines is not None:
                    yield from lines
                    return
        for entry in self._stream(self._wf_path(name, "/log"), query, workflow=name):
            yield entry.get("content", "")

    def events(self, name: str, after: int = 0, timeout: float = 0) -> builtins.list[dict[str, Any]]:
        """Node and workflow changes with ``seq > after`` (oldest first), found by comparing snapshots of the
        workflow; waits on the server's watch stream up to ``timeout`` seconds when there is nothing new."""
        log = self._events.setdefault(name, [])
        if not [e for e in log if e["seq"] > after]:
            self._record_changes(name, self.get(name))
        deadline = time.monotonic() + timeout
        while not [e for e in log if e["seq"] > after] and time.monotonic() < deadline:
            with contextlib.closing(self._watch(name, deadline - time.monotonic())) as stream:
                for event in stream:
                    if self._record_changes(name, event.get("object") or {}):
                        break
        return [e for e in log if e["seq"] > after]

    def _record_changes(self, name: str, wf: dict) -> bool:
        """Append events for what changed since the last snapshot of ``name``; whether anything did."""
        with self._events_lock:
            return self._diff(name, wf)

    def _diff(self, name: str, wf: dict) -> bool:
        log = self._events.setdefault(name, [])
        old_status, old_nodes = self._snapshots.get(name, ({}, {}))
        status = wf.get("status") or {}
        head = {k: status.get(k) for k in _STATUS_KEYS if status.get(k) is not None}
        nodes = status.get("nodes") or {}
        changed = False
        seq = log[-1]["seq"] if log else 0
        if head != old_status:
            seq += 1
            log.append({"seq": seq, "time": now_iso(), "workflow": head})
            changed = True
        for node_id, node in nodes.items():
            if old_nodes.get(node_id) != node:
                seq += 1
                log.append({"seq": seq, "time": now_iso(), "node": node})
                changed = True
        self._snapshots[name] = (head, nodes)
        return changed

    def read_log(self, name: str, node_id: str, offset: int = 0, max_bytes: int = 0) -> tuple[str, int, bool]:
        """Not available: Argo's log API has no byte offsets (``log_offsets`` is false; use ``logs``)."""
        raise CapabilityNotAvailable("reading a log from an offset on an Argo server", "the local engine")

    def set_script(self, name: str, node_id: str, source: str) -> None:
        """Changing one step's script needs the step's pod (a Kubernetes cluster), not the Argo server."""
        raise CapabilityNotAvailable("ArgoStep.set_script on an Argo server", "access to the step's Kubernetes pod")


def _pod_path(workflow: str, step: Any) -> tuple[ArgoBackend, str]:
    if step.get("type") != "Pod":
        raise WorkflowValueError(f"step {step.get('displayName')!r} is a {step.get('type')} node, not a pod",
                                 workflow=workflow)
    backend = ArgoBackend()
    pod = get_pod_name(workflow, step["name"], step.get("templateName") or "", step["id"])
    return backend, f"/api/v1/namespaces/{backend.namespace}/pods/{pod}"


def get_pod(workflow: str, step: Any) -> dict:
    """The Kubernetes pod of a step (a dict), from ``config["k8s_api_server"]``."""
    backend, path = _pod_path(workflow, step)
    return backend._call("GET", path, workflow=workflow, host=backend.k8s_api_server)


def delete_pod(workflow: str, step: Any) -> None:
    """Delete a step's pod through the Kubernetes API."""
    backend, path = _pod_path(workflow, step)
    backend._call("DELETE", path, workflow=workflow, host=backend.k8s_api_server)


def replay_pod(workflow: str, step: Any) -> None:
    """Re-create a step's pod (delete it, then create it again from its spec)."""
    backend, path = _pod_path(workflow, step)
    pod = backend._call("GET", path, workflow=workflow, host=backend.k8s_api_server)
    (pod.get("metadata") or {}).pop("resourceVersion", None)
    (pod.get("spec") or {}).pop("nodeName", None)
    backend._call("DELETE", path, workflow=workflow, host=backend.k8s_api_server)
    backend._call("POST", path.rsplit("/", 1)[0], body=pod, workflow=workflow, host=backend.k8s_api_server)


def _archived_log(art: dict) -> list[str] | None:
    """The lines of an archived ``main-logs`` artifact, from the configured artifact repository (``None``
    when it cannot be read: then the pod's log is asked for)."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            files = download_artifact(art, path=tmp)  # a status node's artifact dict: {"s3": {"key": …}}
        except Exception:  # noqa: BLE001 - any storage failure falls back to the pod's log
            return None
        paths = [Path(f) for f in files or []] or [p for p in Path(tmp).rglob("*") if p.is_file()]
        paths = [p for p in paths if p.is_file()]
        if len(paths) != 1:
            return None
        return paths[0].read_text(errors="replace").splitlines()
