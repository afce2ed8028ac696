"""The Argo interpreter: runs one workflow manifest with Argo's semantics, recording status nodes.

``Execution.run()`` walks the entrypoint template: steps templates (groups run in order, steps of a
group in parallel), DAG templates (tasks as their ``depends``/``dependencies`` allow), loops
(``withItems``/``withParam``/``withSequence``), ``when``, retries, timeouts, memoization, suspend
templates, exit handlers and global outputs.  Leaf templates run through ``pod.run_pod``.

Node IDs are deterministic (Argo's ``<workflow>-<fnv32a(node name)>``), so a resumed or retried run
finds the nodes of the previous run by name and reuses every node that succeeded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from ..argo_objects import get_pod_name, node_hash
from .depends import Depends, DependsError, from_dependencies, parse_depends
from .durations import parse_duration
from .pod import run_pod
from .scope import (
    Scope,
    StepError,
    aggregated_vars,
    as_param_text,
    expand_items,
    item_display,
    item_variables,
    node_outputs_vars,
)
from .state import StateStore, now_iso

__all__ = ["Execution"]

logger = logging.getLogger(__name__)

_DONE_OK = ("Succeeded", "Skipped")
_FAILED = ("Failed", "Error")


class Execution:
    """One run (or resumed run) of a stored workflow."""

    def __init__(self, store: StateStore, name: str, pool: Any, host_slots: asyncio.Semaphore,
                 repository: Any):
        record = store.workflow(name)
        if record is None:
            raise KeyError(f"workflow {name!r} is not in {store.workdir}")
        self.store = store
        self.name = name
        self.manifest = record["manifest"]
        self.options = record["options"]
        self.status = record["status"]
        self.spec = self.manifest.get("spec") or {}
        self.templates = {t["name"]: t for t in self.spec.get("templates") or []}
        self.defaults = self.spec.get("templateDefaults") or {}
        self.pool = pool
        self.host_slots = host_slots
        self.repository = repository
        self.runs_dir = store.workdir / "runs" / name
        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self.shared_volumes = self._shared_volumes()
        self.nodes: dict[str, dict] = store.nodes(name)
        self.prior = self._prior_nodes()
        self.retry_only = set(self.options.get("retry_only") or [])
        self.reuse_by_key = {s["key"]: s for s in self.options.get("reuse") or [] if s.get("key")}
        self.script_overrides: dict[str, str] = self.options.get("script_overrides") or {}
        self.wf_slots = asyncio.Semaphore(int(self.spec["parallelism"])) if self.spec.get("parallelism") else None
        self.gate = asyncio.Event()
        self.gate.set()
        self.resume_event = asyncio.Event()
        self.cancel_message = "Step exceeded its deadline"
        self._dirty: dict[str, dict] = {}
        self._written: set[str] = set(self.nodes)
        self._source_nodes: dict[str, dict] | None = None
        self.global_vars = self._global_vars()
        self.global_outputs: dict[str, dict] = {"parameters": {}, "artifacts": {}}
        for p in (self.status.get("outputs") or {}).get("parameters") or []:
            self.global_outputs["parameters"][p["name"]] = p
            self.global_vars[f"workflow.outputs.parameters.{p['name']}"] = p["value"]
        for a in (self.status.get("outputs") or {}).get("artifacts") or []:
            self.global_outputs["artifacts"][a["name"]] = a
            self.global_vars[f"workflow.outputs.artifacts.{a['name']}"] = a

    # -- set-up -------------------------------------------------------------------------------

    def _prior_nodes(self) -> dict[str, dict]:
        """Nodes of an earlier run keyed by node name relative to the workflow name."""
        source = self.options.get("reuse_from")
        nodes = self.store.nodes(source) if source else self.nodes
        prefix = source or self.name
        return {n["name"][len(prefix):]: n for n in nodes.values() if n["name"].startswith(prefix)}

    def _shared_volumes(self) -> dict[str, Path]:
        """Volumes shared by the steps that mount them: a workflow's claim templates (one directory per
        run) and existing claims (one directory per claim name in the workspace)."""
        out: dict[str, Path] = {}
        for claim in self.spec.get("volumeClaimTemplates") or []:
            name = (claim.get("metadata") or {}).get("name")
            if name:
                out[name] = self.runs_dir / "volumes" / name
        for vol in self.spec.get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if vol.get("name") and claim:
                out[vol["name"]] = self.store.workdir / "volumes" / claim
        for path in out.values():
            path.mkdir(parents=True, exist_ok=True)
        return out

    def _global_vars(self) -> dict[str, Any]:
        meta = self.manifest.get("metadata") or {}
        out: dict[str, Any] = {
            "workflow.name": self.name,
            "workflow.namespace": meta.get("namespace", "default"),
            "workflow.uid": meta.get("uid", ""),
            "workflow.serviceAccountName": self.spec.get("serviceAccountName", "default"),
            "workflow.creationTimestamp": meta.get("creationTimestamp", ""),
            "workflow.mainEntrypoint": self.spec.get("entrypoint", ""),
            "workflow.priority": str(self.spec.get("priority", 0)),
            "workflow.duration": "0",
        }
        for k, v in (meta.get("labels") or {}).items():
            out[f"workflow.labels.{k}"] = str(v)
        for k, v in (meta.get("annotations") or {}).items():
            out[f"workflow.annotations.{k}"] = str(v)
        params = []
        scope = Scope(out)
        for p in (self.spec.get("arguments") or {}).get("parameters") or []:
            if "value" in p:
                value = scope.render(as_param_text(p["value"]), f"workflow {self.name!r}: arguments.parameters.{p['name']}")
            elif "valueFrom" in p and "default" in (p["valueFrom"] or {}):
                value = as_param_text(p["valueFrom"]["default"])
            else:
                raise StepError(f"workflow {self.name!r}: arguments.parameters.{p['name']} has no value "
                                "(config maps are not available in the local engine)")
            out[f"workflow.parameters.{p['name']}"] = value
            params.append({"name": p["name"], "value": value})
        out["workflow.parameters"] = json.dumps({p["name"]: p["value"] for p in params})
        return out

    # -- node bookkeeping ------------------------------------------------------------------------

    def node_id(self, node_name: str) -> str:
        """Argo's node ID: the workflow name for the root, else ``<workflow>-<fnv32a(node name)>``."""
        return self.name if node_name == self.name else f"{self.name}-{node_hash(node_name)}"

    def pod_name(self, node: dict) -> str:
        """Argo's (v2) pod name of a node."""
        return get_pod_name(self.name, node["name"], node.get("templateName") or "", node["id"])

    def _mark(self, node: dict, now: bool = False) -> None:
        """Record a node change: ``now`` writes it at once (a finished node must survive a kill -9),
        otherwise the flush loop batches it with other changes (parents gaining children)."""
        if now:  # nodes never written yet go first, so that the database keeps parents before children
            self._dirty.pop(node["id"], None)
            new = [n for i, n in self._dirty.items() if i not in self._written]
            for n in new:
                del self._dirty[n["id"]]
            self._write(new + [node])
        else:
            self._dirty[node["id"]] = node

    def _write(self, nodes: list[dict]) -> None:
        self.store.put_nodes(self.name, nodes)
        self._written.update(n["id"] for n in nodes)

    def flush(self) -> None:
        """Write changed nodes to the state database (one transaction)."""
        if self._dirty:
            nodes = list(self._dirty.values())
            self._dirty.clear()
            self._write(nodes)

    def _link(self, parent: dict | list[dict] | None, node: dict) -> None:
        parents = parent if isinstance(parent, list) else [parent] if parent else []
        for p in parents:
            if node["id"] not in p.setdefault("children", []):
                p["children"].append(node["id"])
                self._mark(p)

    def open_node(self, name: str, display: str, type_: str, template: str | None, parent: Any,
                  boundary: str | None, inputs: dict | None = None) -> dict:
        """Create (or re-create, on resume) a Running node and link it under ``parent``."""
        node_id = self.node_id(name)
        node = {
            "id": node_id, "name": name, "displayName": display, "type": type_, "phase": "Running",
            "startedAt": now_iso(), "finishedAt": None, "children": [],
        }
        if template:
            node["templateName"] = template
        if boundary:
            node["boundaryID"] = boundary
        if inputs:
            node["inputs"] = inputs
        self.nodes[node_id] = node
        self._link(parent, node)
        self._mark(node)
        return node

    def close_node(self, node: dict, phase: str, outputs: dict | None = None, message: str = "",
                   durable: bool = False) -> dict:
        """Finish a node (``durable``: written at once, so that a resume finds it)."""
        node["phase"] = phase
        node["finishedAt"] = now_iso()
        if outputs:
            node["outputs"] = outputs
        if message:
            node["message"] = message
        if phase in _FAILED:
            self.failures.append(node)
        self._mark(node, now=durable)
        return node

    def reuse(self, name: str, parent: Any) -> dict | None:
        """A node of the earlier run that needs no re-run (succeeded or skipped; failed and not retried)."""
        old = self.prior.get(name[len(self.name):])
        if old is None or not old.get("finishedAt"):
            return None
        ok = old["phase"] in _DONE_OK
        keep_failed = (self.retry_only and old["phase"] in _FAILED and old["type"] == "Pod"
                       and old["id"] not in self.retry_only and not self.options.get("reuse_from"))
        if not (ok or keep_failed):
            return None
        node = json.loads(json.dumps(old))
        node["id"] = self.node_id(name)
        node["name"] = name
        if self.options.get("reuse_from"):
            node["children"] = []
            self._relink_children(old, node)
        self.nodes[node["id"]] = node
        self._link(parent, node)
        self._mark(node)
        if ok:
            self._publish_globals(node.get("outputs") or {})
        return node

    def _relink_children(self, old: dict, node: dict) -> None:
        """Copy the subtree of a node reused from another workflow (resubmit --memoized)."""
        source = self.options["reuse_from"]
        if self._source_nodes is None:
            self._source_nodes = self.store.nodes(source)
        old_nodes = self._source_nodes
        for cid in old.get("children") or []:
            child = old_nodes.get(cid)
            if child is None or not child["name"].startswith(source):
                continue
            name = self.name + child["name"][len(source):]
            if self.node_id(name) in self.nodes:
                self._link(node, self.nodes[self.node_id(name)])
                continue
            copy = json.loads(json.dumps(child))
            copy["id"], copy["name"], copy["children"] = self.node_id(name), name, []
            if "boundaryID" in copy:
                copy["boundaryID"] = self.node_id(self.name + self._name_of(old_nodes, copy["boundaryID"], source))
            self.nodes[copy["id"]] = copy
            self._link(node, copy)
            self._mark(copy)
            self._relink_children(child, copy)

    @staticmethod
    def _name_of(nodes: dict, node_id: str, prefix: str) -> str:
        n = nodes.get(node_id)
        return n["name"][len(prefix):] if n else ""

    # -- workflow ---------------------------------------------------------------------------------

    async def run(self) -> str:
        """Run the workflow to completion; returns its final phase."""
        self.failures: list[dict] = []
        status = dict(self.status)
        status.update(phase="Running", finishedAt=None, message=None)
        status.setdefault("startedAt", now_iso())
        self.status = status
        self.store.set_status(self.name, status)
        flusher = asyncio.create_task(self._flush_loop())
        watcher = asyncio.create_task(self._watch_control())
        phase, message = "Error", ""
        try:
            entry = self.spec.get("entrypoint")
            main = asyncio.create_task(self._main(entry))
            self._main_task = main
            deadline = self.spec.get("activeDeadlineSeconds")
            try:
                if deadline is not None:
                    seconds = parse_duration(deadline, f"workflow {self.name!r}: spec.activeDeadlineSeconds")
                    done, _ = await asyncio.wait({main}, timeout=seconds)
                    if not done:
                        self.cancel_message = "Step exceeded its deadline"
                        main.cancel()
                        message = "Max duration limit exceeded"
                await asyncio.wait({main})
                root = main.result()
                phase = root["phase"] if root["phase"] in ("Succeeded", "Failed", "Error") else "Failed"
                message = message or root.get("message", "")
                if message and phase == "Succeeded":
                    message = ""
            except asyncio.CancelledError:
                phase, message = "Failed", message or self.cancel_message
                if main.done() and not main.cancelled() and main.exception() is None:
                    phase = main.result()["phase"]
            except StepError as e:
                phase, message = "Error", str(e)
            except Exception as e:  # an engine bug must still end the workflow, with the reason
                logger.exception("workflow %s: internal error", self.name)
                phase, message = "Error", f"local engine internal error: {type(e).__name__}: {e}"
                self.cancel_message = message
            if message == "Max duration limit exceeded":
                phase = "Failed"
            if self.store.control(self.name) != "terminate":
                exit_phase = await self._exit_handler(phase)
                if exit_phase in _FAILED and phase == "Succeeded":
                    phase, message = "Failed", "exit handler failed"
        finally:
            watcher.cancel()
            flusher.cancel()
            self._close_running(self.cancel_message)
            self.flush()
        status["phase"] = phase
        status["finishedAt"] = now_iso()
        status["message"] = message or None
        if self.global_outputs["parameters"] or self.global_outputs["artifacts"]:
            status["outputs"] = {k: list(v.values()) for k, v in self.global_outputs.items() if v}
        status["progress"] = self._progress()
        self.store.set_control(self.name, None)
        self.store.set_status(self.name, status)
        return phase

    def _progress(self) -> str:
        pods = [n for n in self.nodes.values() if n.get("type") == "Pod"]
        return f"{sum(1 for n in pods if n['phase'] == 'Succeeded')}/{len(pods)}"

    def _close_running(self, message: str) -> None:
        for node in self.nodes.values():
            if node.get("phase") in ("Running", "Pending"):
                node["phase"] = "Failed"
                node["finishedAt"] = now_iso()
                node["message"] = message
                self._mark(node)

    async def _main(self, entry: str) -> dict:
        args = self.spec.get("arguments") or {}
        params = [{"name": p["name"], "value": self.global_vars[f"workflow.parameters.{p['name']}"]}
                  for p in args.get("parameters") or []]
        arts = list(args.get("artifacts") or [])
        scope = Scope(self.global_vars)
        return await self.invoke({"template": entry}, {"parameters": params, "artifacts": arts},
                                 self.name, self.name, None, None, scope, entry=True)

    async def _exit_handler(self, phase: str) -> str | None:
        handler = self.spec.get("onExit") or ((self.spec.get("hooks") or {}).get("exit") or {}).get("template")
        if not handler:
            return None
        failures = [{"displayName": n["displayName"], "message": n.get("message", ""),
                     "templateName": n.get("templateName", ""), "phase": n["phase"], "podName": self.pod_name(n),
                     "finishedAt": n.get("finishedAt")} for n in self.failures if n.get("type") == "Pod"]
        extra = {"workflow.status": phase, "workflow.failures": json.dumps(failures)}
        self.global_vars.update(extra)
        scope = Scope(self.global_vars)
        name = f"{self.name}.onExit"
        try:
            node = await self.invoke({"template": handler}, {}, name, name, None, None, scope)
        except StepError as e:
            return "Error" if str(e) else None
        return node["phase"]

    async def _flush_loop(self) -> None:
        """Write batched node changes every 50 ms, and the workflow's progress (``done/total`` pods)
        when it changed, at most every half second."""
        tick = 0
        while True:
            await asyncio.sleep(0.05)
            self.flush()
            tick += 1
            if tick % 10 == 0:
                progress = self._progress()
                if progress != self.status.get("progress"):
                    self.status["progress"] = progress
                    self.store.set_status(self.name, self.status)

    async def _watch_control(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            control = self.store.control(self.name)
            if control in ("terminate", "stop"):
                self.gate.set()  # a suspended workflow that is stopped still runs its exit handler
                self.cancel_message = "Stopped with strategy 'Stop'" if control == "stop" else \
                    "Stopped with strategy 'Terminate'"
                for t in asyncio.all_tasks():
                    if t is not asyncio.current_task() and getattr(t, "_dflow_wf", None) == self.name:
                        t.cancel()
                self._main_task.cancel()
                return
            if control == "suspend":
                self.gate.clear()
                self._set_suspended(True)
                self.store.set_control(self.name, None)
            elif control == "resume":
                self.gate.set()
                self.resume_event.set()
                self._set_suspended(False)
                self.store.set_control(self.name, None)

    def _set_suspended(self, value: bool) -> None:
        self.status["suspended"] = value
        self.store.set_status(self.name, self.status)

    # -- templates --------------------------------------------------------------------------------

    def template(self, ref: dict, where: str) -> dict:
        """The template a step/task refers to (by name or ``inline``), with ``templateDefaults`` applied."""
        if "inline" in ref:
            tmpl = dict(ref["inline"])
            tmpl.setdefault("name", ref.get("name", "inline"))
        else:
            name = ref.get("template")
            if "templateRef" in ref:
                raise StepError(f"{where}: templateRef (WorkflowTemplates) is not available in the local engine")
            if name not in self.templates:
                raise StepError(f"{where}: template {name!r} is not defined in the workflow")
            tmpl = self.templates[name]
        if self.defaults:
            tmpl = {**self.defaults, **tmpl}
        return tmpl

    def resolve_inputs(self, tmpl: dict, args: dict, scope: Scope, where: str) -> dict:
        """Match a step's arguments to the template's declared inputs (defaults, missing values)."""
        given_p = {p["name"]: p for p in args.get("parameters") or []}
        given_a = {a["name"]: a for a in args.get("artifacts") or []}
        decl = tmpl.get("inputs") or {}
        params = []
        for p in decl.get("parameters") or []:
            name = p["name"]
            if name in given_p and "value" in given_p[name]:
                value = as_param_text(given_p[name]["value"])
            elif "value" in p:
                value = scope.render(as_param_text(p["value"]), f"{where}: inputs.parameters.{name}")
            elif "default" in p:
                value = as_param_text(p["default"])
            elif "default" in (p.get("valueFrom") or {}):
                value = as_param_text(p["valueFrom"]["default"])
            else:
                raise StepError(f"{where}: input parameter {name!r} has no value")
            if "enum" in p and value not in [as_param_text(e) for e in p["enum"]]:
                raise StepError(f"{where}: input parameter {name!r} = {value!r} is not one of {p['enum']}")
            entry = {"name": name, "value": value}
            if "description" in p:
                entry["description"] = p["description"]
            params.append(entry)
        arts = []
        for a in decl.get("artifacts") or []:
            name = a["name"]
            src = given_a.get(name) or {}
            entry = {k: v for k, v in a.items() if k not in ("from", "fromExpression")}
            location = {k: v for k, v in src.items() if k not in ("name", "path", "from", "fromExpression")}
            if location:
                for k in ("s3", "raw", "http", "archive", "subPath", "oss", "git", "gcs"):
                    entry.pop(k, None)
                entry.update(location)
            if not any(k in entry for k in ("s3", "raw", "http", "git", "gcs", "oss", "hdfs", "azure",
                                              "artifactory")) and not a.get("optional"):
                raise StepError(f"{where}: input artifact {name!r} has no value")
            arts.append(entry)
        inputs: dict = {}
        if params:
            inputs["parameters"] = params
        if arts:
            inputs["artifacts"] = arts
        return inputs

    @staticmethod
    def _kind(tmpl: dict) -> str:
        for key, kind in (("steps", "Steps"), ("dag", "DAG"), ("script", "Pod"), ("container", "Pod"),
                          ("suspend", "Suspend")):
            if key in tmpl:
                return kind
        return "Pod"

    async def invoke(self, ref: dict, args: dict, name: str, display: str, parent: Any,
                     boundary: str | None, scope: Scope, entry: bool = False) -> dict:
        """Run the template ``ref`` names as node ``name``; returns the finished node."""
        where = f"workflow {self.name!r}, step {display!r}"
        reused = self.reuse(name, parent)
        if reused is not None:
            return reused
        try:
            tmpl = self.template(ref, where)
            if entry and "inputs" in tmpl:
                where = f"workflow {self.name!r}, entrypoint {tmpl['name']!r}"
            inputs = self.resolve_inputs(tmpl, args, scope, where)
        except StepError as e:
            node = self.open_node(name, display, "Pod", ref.get("template"), parent, boundary)
            return self.close_node(node, "Error", message=str(e), durable=True)
        key = _dflow_key(inputs)
        if key is not None and key in self.reuse_by_key:
            return self._reused_step(name, display, tmpl, inputs, parent, boundary, self.reuse_by_key[key])
        memo = tmpl.get("memoize")
        kind = self._kind(tmpl)
        retry = tmpl.get("retryStrategy")
        node_type = "Retry" if retry is not None else kind
        node = self.open_node(name, display, node_type, tmpl.get("name"), parent, boundary, inputs)
        tscope = self._template_scope(inputs)
        if not entry and ref.get("name"):
            tscope.values["steps.name"] = tscope.values["tasks.name"] = ref["name"]
        if memo:
            try:
                hit = self._memo_lookup(memo, tscope, where)
            except StepError as e:
                return self.close_node(node, "Error", message=str(e), durable=True)
            if hit is not None:
                node["memoizationStatus"] = {"hit": True, "key": hit[0], "cacheName": hit[1]}
                return self.close_node(node, "Succeeded", hit[2], durable=True)
        if retry is not None:
            run = self._retry(tmpl, inputs, node, tscope, retry, where)
        else:
            run = self._attempt(tmpl, inputs, node, tscope, where)
        phase, outputs = await self._run_closing(node, run)
        if phase == "Succeeded":
            self._publish_globals(outputs or {})
            if memo:
                self._memo_store(memo, tscope, outputs or {}, node, where)
        return node

    async def _run_closing(self, node: dict, run: Any) -> tuple[str, dict | None]:
        """Await ``run`` (an attempt or a retry loop giving ``(phase, outputs, message)``) and close ``node``
        with its result: a StepError closes it as Error, a cancellation as Failed. Returns phase, outputs."""
        try:
            phase, outputs, message = await run
        except StepError as e:
            phase, outputs, message = "Error", None, str(e)
        except asyncio.CancelledError:
            self.close_node(node, "Failed", message=self.cancel_message, durable=True)
            raise
        self.close_node(node, phase, outputs, message, durable=True)
        return phase, outputs

    def _template_scope(self, inputs: dict) -> Scope:
        values = dict(self.global_vars)
        params = inputs.get("parameters") or []
        for p in params:
            values[f"inputs.parameters.{p['name']}"] = p["value"]
        values["inputs.parameters"] = json.dumps([{"name": p["name"], "value": p["value"]} for p in params])
        for a in inputs.get("artifacts") or []:
            values[f"inputs.artifacts.{a['name']}"] = a
        return Scope(values)

    def _reused_step(self, name: str, display: str, tmpl: dict, inputs: dict, parent: Any,
                     boundary: str | None, old: dict) -> dict:
        node = self.open_node(name, display, old.get("type", "Pod"), tmpl.get("name"), parent, boundary, inputs)
        outputs = json.loads(json.dumps(old.get("outputs") or {}))
        self.close_node(node, "Succeeded", outputs, durable=True)
        self._publish_globals(outputs)
        return node

    async def _attempt(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, where: str) -> tuple:
        timeout = tmpl.get("timeout")
        deadline = tmpl.get("activeDeadlineSeconds")
        limit = None
        if timeout is not None:
            limit = parse_duration(scope.render(str(timeout), f"{where}: timeout"), f"{where}: timeout")
        if deadline is not None:
            d = parse_duration(scope.render(str(deadline), f"{where}: activeDeadlineSeconds"),
                               f"{where}: activeDeadlineSeconds")
            limit = d if limit is None else min(limit, d)
        coro = self._dispatch(tmpl, inputs, node, scope, where)
        if limit is None:
            return await coro
        task = asyncio.ensure_future(coro)
        task._dflow_wf = self.name  # type: ignore[attr-defined]
        done, _ = await asyncio.wait({task}, timeout=limit)
        if done:
            return task.result()
        saved = self.cancel_message
        self.cancel_message = "Step exceeded its deadline"
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        self.cancel_message = saved
        return "Failed", None, f"Step exceeded its deadline ({limit:g}s)"

    async def _dispatch(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, where: str) -> tuple:
        if "steps" in tmpl:
            return await self._run_steps(tmpl, node, scope, where)
        if "dag" in tmpl:
            return await self._run_dag(tmpl, node, scope, where)
        if tmpl.get("daemon"):
            raise StepError(f"{where}: daemon templates (services other steps reach over the pod network) are "
                            "not available in the local engine")
        if "script" in tmpl or "container" in tmpl:
            return await self._run_leaf(tmpl, inputs, node, scope)
        if "suspend" in tmpl:
            return await self._run_suspend(tmpl, node, scope, where)
        kinds = sorted(k for k in ("resource", "data", "http", "plugin", "containerSet") if k in tmpl)
        raise StepError(f"{where}: template {tmpl.get('name')!r} of type {kinds or 'unknown'} is not "
                        "supported by the local engine")

    async def _run_leaf(self, tmpl: dict, inputs: dict, node: dict, scope: Scope) -> tuple:
        await self.gate.wait()
        ids = [node["id"]]
        if node["name"].endswith(")") and "(" in node["name"]:  # an attempt of a Retry node
            ids.append(self.node_id(node["name"][:node["name"].rindex("(")]))
        override = next((self.script_overrides[i] for i in ids if i in self.script_overrides), None)
        if override and "script" in tmpl:
            tmpl = {**tmpl, "script": {**tmpl["script"], "source": override}}
        if node["type"] != "Pod":
            node["type"] = "Pod"
        if self.wf_slots is not None:
            async with self.wf_slots:
                outcome = await run_pod(self, tmpl, inputs, node, scope)
        else:
            outcome = await run_pod(self, tmpl, inputs, node, scope)
        return outcome.phase, outcome.outputs, outcome.message

    async def _run_suspend(self, tmpl: dict, node: dict, scope: Scope, where: str) -> tuple:
        duration = (tmpl.get("suspend") or {}).get("duration")
        if duration is not None:
            await asyncio.sleep(parse_duration(scope.render(str(duration), f"{where}: suspend.duration"),
                                               f"{where}: suspend.duration"))
        else:
            self._set_suspended(True)
            self.resume_event.clear()
            await self.resume_event.wait()
        params = []
        record = self.store.workflow(self.name) or {"options": {}}
        supplied = (record["options"].get("supplied") or {}).get(node["id"]) or {}
        for p in (tmpl.get("outputs") or {}).get("parameters") or []:
            vf = p.get("valueFrom") or {}
            if p["name"] in supplied:
                params.append({"name": p["name"], "value": as_param_text(supplied[p["name"]])})
            elif "default" in vf:
                params.append({"name": p["name"], "value": as_param_text(vf["default"])})
            else:
                raise StepError(f"{where}: output {p['name']!r} was not supplied before resume "
                                "(LocalBackend.set_outputs) and has no valueFrom.default")
        return "Succeeded", {"parameters": params} if params else None, ""

    # -- retries and memoization ---------------------------------------------------------------

    async def _retry(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, rs: dict, where: str) -> tuple:
        limit = rs.get("limit")
        limit = None if limit is None else int(scope.render(str(limit), f"{where}: retryStrategy.limit"))
        policy = rs.get("retryPolicy") or "OnFailure"
        backoff = rs.get("backoff") or {}
        started = time.monotonic()
        attempt = 0
        child_type = self._kind(tmpl)
        while True:
            cname = f"{node['name']}({attempt})"
            child = self.reuse(cname, node)
            if child is None:
                child = self.open_node(cname, f"{node['displayName']}({attempt})", child_type, tmpl.get("name"),
                                       node, node.get("boundaryID"), inputs)
                cscope = scope.child({"retries": str(attempt)})
                await self._run_closing(child, self._attempt(tmpl, inputs, child, cscope, where))
            if child["phase"] in _DONE_OK:
                return child["phase"], child.get("outputs"), ""
            if limit is not None and attempt >= limit:
                return child["phase"], child.get("outputs"), child.get("message", "") + \
                    f" (no more retries left: limit {limit})"
            if not _policy_allows(policy, child["phase"]):
                return child["phase"], child.get("outputs"), child.get("message", "")
            if rs.get("expression") and not self._retry_expression(rs["expression"], child, scope, where):
                return child["phase"], child.get("outputs"), child.get("message", "")
            if backoff:
                delay = parse_duration(backoff.get("duration", 0), f"{where}: retryStrategy.backoff.duration")
                delay *= float(backoff.get("factor", 1) or 1) ** attempt
                if backoff.get("cap"):
                    delay = min(delay, parse_duration(backoff["cap"], f"{where}: retryStrategy.backoff.cap"))
                if backoff.get("maxDuration"):
                    max_d = parse_duration(backoff["maxDuration"], f"{where}: retryStrategy.backoff.maxDuration")
                    if time.monotonic() - started + delay > max_d:
                        return child["phase"], child.get("outputs"), "Max duration limit exceeded"
                await asyncio.sleep(delay)
            attempt += 1

    def _retry_expression(self, expr: str, child: dict, scope: Scope, where: str) -> bool:
        outputs = child.get("outputs") or {}
        last = {
            "exitCode": outputs.get("exitCode", "-1"),
            "status": child["phase"],
            "duration": str(int(time.time() - _epoch(child.get("startedAt")))),
            "message": child.get("message", ""),
        }
        text = scope.render(expr, f"{where}: retryStrategy.expression")
        env_scope = scope.child({f"lastRetry.{k}": v for k, v in last.items()})
        return bool(env_scope.eval_expr(text, f"{where}: retryStrategy.expression"))

    def _memo_lookup(self, memo: dict, scope: Scope, where: str) -> tuple | None:
        key = scope.render(str(memo.get("key", "")), f"{where}: memoize.key")
        cache = ((memo.get("cache") or {}).get("configMap") or {}).get("name", "default")
        max_age = memo.get("maxAge")
        age = parse_duration(max_age, f"{where}: memoize.maxAge") if max_age else None
        hit = self.store.memo_get(cache, key, age)
        return (key, cache, hit["outputs"]) if hit else None

    def _memo_store(self, memo: dict, scope: Scope, outputs: dict, node: dict, where: str) -> None:
        key = scope.render(str(memo.get("key", "")), f"{where}: memoize.key")
        cache = ((memo.get("cache") or {}).get("configMap") or {}).get("name", "default")
        node["memoizationStatus"] = {"hit": False, "key": key, "cacheName": cache}
        self._mark(node)
        self.store.memo_put(cache, key, outputs, node["id"])

    def _publish_globals(self, outputs: dict) -> None:
        for p in outputs.get("parameters") or []:
            g = p.get("globalName")
            if g and "value" in p:
                self.global_outputs["parameters"][g] = {"name": g, "value": p["value"]}
                self.global_vars[f"workflow.outputs.parameters.{g}"] = p["value"]
        for a in outputs.get("artifacts") or []:
            g = a.get("globalName")
            if g:
                entry = {k: v for k, v in a.items() if k != "globalName"}
                entry["name"] = g
                self.global_outputs["artifacts"][g] = entry
                self.global_vars[f"workflow.outputs.artifacts.{g}"] = entry

    # -- composite templates -------------------------------------------------------------------

    def _step_args(self, step: dict, scope: Scope, where: str) -> dict:
        args = step.get("arguments") or {}
        params = []
        for p in args.get("parameters") or []:
            entry = {"name": p["name"]}
            if "value" in p:
                entry["value"] = scope.render(as_param_text(p["value"]), f"{where}: arguments.parameters.{p['name']}")
            elif "default" in (p.get("valueFrom") or {}):
                entry["value"] = as_param_text(p["valueFrom"]["default"])
            params.append(entry)
        arts = []
        for a in args.get("artifacts") or []:
            field = f"{where}: arguments.artifacts.{a['name']}"
            if "from" in a:
                entry = dict(_lookup_artifact(scope, a["from"], field))
                entry.update(scope.render_obj({k: v for k, v in a.items() if k not in ("name", "from")}, field))
            elif "fromExpression" in a:
                value = scope.eval_expr(a["fromExpression"], field)
                if not isinstance(value, dict):
                    raise StepError(f"{field}: fromExpression did not give an artifact")
                entry = dict(value)
            else:
                entry = scope.render_obj({k: v for k, v in a.items()}, field)
            entry["name"] = a["name"]
            entry.pop("path", None)
            entry.pop("globalName", None)
            arts.append(entry)
        return {"parameters": params, "artifacts": arts}

    async def _run_item(self, step: dict, item_vars: dict, name: str, display: str, parent: Any,
                        boundary: str, scope: Scope, slots: asyncio.Semaphore | None, where_kind: str) -> dict:
        """One (expanded) step or task: ``when``, arguments, the template, its exit hook."""
        sscope = scope.child(item_vars)
        where = f"workflow {self.name!r}, {where_kind} {display!r}"
        reused = self.reuse(name, parent)
        if reused is not None:
            return reused
        try:
            if "when" in step and not sscope.eval_when(str(step["when"]), f"{where}: when"):
                node = self.open_node(name, display, "Skipped", step.get("template"), parent, boundary)
                msg = f"when '{sscope.render(str(step['when']), where)}' evaluated false"
                return self.close_node(node, "Skipped", message=msg, durable=True)
            args = self._step_args(step, sscope, where)
        except StepError as e:
            node = self.open_node(name, display, "Skipped", step.get("template"), parent, boundary)
            return self.close_node(node, "Error", message=str(e), durable=True)
        if slots is not None:
            async with slots:
                node = await self.invoke(step, args, name, display, parent, boundary, sscope)
        else:
            node = await self.invoke(step, args, name, display, parent, boundary, sscope)
        hook = (step.get("hooks") or {}).get("exit") or ({"template": step["onExit"]} if step.get("onExit") else None)
        if hook:
            prefix = "tasks" if where_kind == "task" else "steps"
            ex_scope = sscope.child({**node_outputs_vars(f"{prefix}.{step['name']}", node),
                                     f"{prefix}.status": node["phase"]})
            ex_name = f"{name}.onExit"
            try:
                hook_args = self._step_args(hook, ex_scope, f"{where}: hooks.exit")
            except StepError as e:
                enode = self.open_node(ex_name, f"{display}.onExit", "Pod", hook.get("template"), parent, boundary)
                self.close_node(enode, "Error", message=str(e), durable=True)
                return node
            await self.invoke(hook, hook_args, ex_name, f"{display}.onExit", parent, boundary, ex_scope)
        return node

    def _expand(self, step: dict, scope: Scope, where: str) -> list[tuple[dict, str]]:
        items = expand_items(step, scope, where)
        if items is None:
            return [({}, "")]
        return [(item_variables(item), item_display(i, item)) for i, item in enumerate(items)]

    @staticmethod
    def _continues(step: dict, phase: str) -> bool:
        cont = step.get("continueOn") or {}
        return (phase == "Failed" and bool(cont.get("failed"))) or (phase == "Error" and bool(cont.get("error")))

    async def _run_steps(self, tmpl: dict, node: dict, scope: Scope, where: str) -> tuple:
        slots = asyncio.Semaphore(int(tmpl["parallelism"])) if tmpl.get("parallelism") else None
        previous: Any = node
        last_group_nodes: list[dict] = []
        for i, group in enumerate(tmpl["steps"] or []):
            await self.gate.wait()
            scope.values.update(self.global_vars)
            gname = f"{node['name']}[{i}]"
            gnode = self.reuse(gname, previous) or self.open_node(gname, f"[{i}]", "StepGroup", None, previous,
                                                                   node["id"])
            if gnode["phase"] == "Succeeded":
                children = [self.nodes[c] for c in gnode.get("children", []) if c in self.nodes]
                self._steps_scope_from_group(group, gnode, scope)
                previous, last_group_nodes = children or gnode, children
                continue
            jobs = []
            for step in group:
                swhere = f"{where} / {step.get('name')}"
                try:
                    expansions = self._expand(step, scope, swhere)
                except StepError as e:
                    expansions = e
                if isinstance(expansions, StepError) or not expansions:
                    sname = f"{gname}.{step['name']}"
                    snode = self.open_node(sname, step["name"], "Skipped", step.get("template"), gnode, node["id"])
                    msg = str(expansions) if isinstance(expansions, StepError) else "Skipped, empty params"
                    phase = "Error" if isinstance(expansions, StepError) else "Skipped"
                    self.close_node(snode, phase, message=msg)
                    jobs.append((step, False, [asyncio.sleep(0, snode)]))
                    continue
                looped = any(k in step for k in ("withItems", "withParam", "withSequence"))
                coros = [self._run_item(step, ivars, f"{gname}.{step['name']}{suffix}", f"{step['name']}{suffix}",
                                        gnode, node["id"], scope, slots, "step")
                         for ivars, suffix in expansions]
                jobs.append((step, looped, coros))
            results = await asyncio.gather(*[asyncio.gather(*coros) for _, _, coros in jobs])
            failed = None
            group_nodes: list[dict] = []
            for (step, looped, _), nodes in zip(jobs, results):
                group_nodes.extend(nodes)
                prefix = f"steps.{step['name']}"
                if looped:
                    scope.values.update(aggregated_vars(prefix, nodes))
                    scope.values[f"{prefix}.status"] = _aggregate_phase(nodes)
                else:
                    scope.values.update(node_outputs_vars(prefix, nodes[0]))
                for n in nodes:
                    if n["phase"] in _FAILED and not self._continues(step, n["phase"]) and failed is None:
                        failed = n
            if failed is not None:
                self.close_node(gnode, "Failed", message=f"child '{failed['displayName']}' failed")
                return "Failed", None, f"child '{failed['displayName']}' failed"
            self.close_node(gnode, "Succeeded")
            previous, last_group_nodes = group_nodes or gnode, group_nodes
        node["outboundNodes"] = [n["id"] for n in last_group_nodes]
        return "Succeeded", self._composite_outputs(tmpl, scope, where), ""

    def _steps_scope_from_group(self, group: list, gnode: dict, scope: Scope) -> None:
        children = [self.nodes[c] for c in gnode.get("children", []) if c in self.nodes]
        for step in group:
            mine = [c for c in children if c["displayName"] == step["name"]
                    or c["displayName"].startswith(step["name"] + "(")]
            prefix = f"steps.{step['name']}"
            if any(k in step for k in ("withItems", "withParam", "withSequence")):
                scope.values.update(aggregated_vars(prefix, mine))
            elif mine:
                scope.values.update(node_outputs_vars(prefix, mine[0]))

    def _composite_outputs(self, tmpl: dict, scope: Scope, where: str) -> dict | None:
        spec = tmpl.get("outputs") or {}
        params, arts = [], []
        for p in spec.get("parameters") or []:
            field = f"{where}: outputs.parameters.{p['name']}"
            vf = p.get("valueFrom") or {}
            try:
                if "parameter" in vf:
                    value = scope.render(str(vf["parameter"]), field)
                elif "expression" in vf:
                    value = as_param_text(scope.eval_expr(vf["expression"], field))
                elif "value" in p:
                    value = scope.render(as_param_text(p["value"]), field)
                else:
                    raise StepError(f"{field}: needs valueFrom.parameter, valueFrom.expression or value")
            except StepError:
                if "default" not in vf:
                    raise
                value = as_param_text(vf["default"])
            entry = {"name": p["name"], "value": value}
            for k in ("globalName", "description"):
                if k in p:
                    entry[k] = p[k]
            params.append(entry)
        for a in spec.get("artifacts") or []:
            field = f"{where}: outputs.artifacts.{a['name']}"
            if "from" in a:
                art = dict(_lookup_artifact(scope, a["from"], field, optional=a.get("optional", False)) or {})
            elif "fromExpression" in a:
                value = scope.eval_expr(a["fromExpression"], field)
                art = dict(value) if isinstance(value, dict) else {}
            else:
                raise StepError(f"{field}: needs from or fromExpression")
            if not art:
                continue
            art["name"] = a["name"]
            art.pop("globalName", None)
            if a.get("globalName"):
                art["globalName"] = a["globalName"]
            arts.append(art)
        out: dict = {}
        if params:
            out["parameters"] = params
        if arts:
            out["artifacts"] = arts
        return out or None

    async def _run_dag(self, tmpl: dict, node: dict, scope: Scope, where: str) -> tuple:
        dag = tmpl["dag"] or {}
        tasks = {t["name"]: t for t in dag.get("tasks") or []}
        deps: dict[str, Depends | None] = {}
        try:
            for name, t in tasks.items():
                if "depends" in t:
                    deps[name] = parse_depends(str(t["depends"]))
                else:
                    deps[name] = from_dependencies(list(t.get("dependencies") or []))
                for d in deps[name].tasks() if deps[name] else ():
                    if d not in tasks:
                        raise StepError(f"{where}: task {name!r} depends on unknown task {d!r}")
        except DependsError as e:
            raise StepError(f"{where}: {e}") from None
        _check_acyclic(deps, where)
        targets = dag.get("target")
        if targets:
            wanted = set()
            stack = [t.strip() for t in scope.render(str(targets), where).replace(",", " ").split()]
            while stack:
                t = stack.pop()
                if t not in tasks:
                    raise StepError(f"{where}: target {t!r} is not a task")
                if t not in wanted:
                    wanted.add(t)
                    stack.extend(deps[t].tasks() if deps[t] else ())
            tasks = {k: v for k, v in tasks.items() if k in wanted}
        fail_fast = dag.get("failFast", True)
        handled = set()
        for d in deps.values():
            if d:
                handled |= d.handled_failures()
        slots = asyncio.Semaphore(int(tmpl["parallelism"])) if tmpl.get("parallelism") else None
        results: dict[str, dict] = {}
        task_nodes: dict[str, dict] = {}
        pending = set(tasks)
        running: dict[asyncio.Task, str] = {}
        failed: dict | None = None
        while pending or running:
            await self.gate.wait()
            for name in sorted(pending):
                d = deps[name]
                if d is not None and not d.tasks() <= set(results):
                    continue
                if failed is not None and fail_fast:
                    continue
                pending.discard(name)
                parents = [task_nodes[x] for x in d.tasks()] if d else [node]
                for x in (d.tasks() if d else ()):
                    tasks_x = tasks.get(x) or {}
                    results[x]["continue_failed"] = self._continues(tasks_x, "Failed")
                    results[x]["continue_error"] = self._continues(tasks_x, "Error")
                if d is not None and not d.evaluate(results):
                    tname = f"{node['name']}.{name}"
                    onode = self.open_node(tname, name, "Skipped", tasks[name].get("template"), parents, node["id"])
                    msg = f"omitted: depends condition not met ({d.text})"
                    self.close_node(onode, "Omitted", message=msg)
                    task_nodes[name] = onode
                    results[name] = {"phase": "Omitted"}
                    continue
                scope.values.update(self.global_vars)
                t = asyncio.ensure_future(self._run_task(tasks[name], node, parents, scope, slots, where))
                t._dflow_wf = self.name  # type: ignore[attr-defined]
                running[t] = name
            if not running:
                break
            done, _ = await asyncio.wait(set(running), return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                name = running.pop(t)
                tnode, children = t.result()
                task_nodes[name] = tnode
                results[name] = {"phase": tnode["phase"],
                                 "children_phases": [c["phase"] for c in children] if children is not None
                                 else [tnode["phase"]]}
                prefix = f"tasks.{name}"
                if children is not None:
                    scope.values.update(aggregated_vars(prefix, children))
                    scope.values[f"{prefix}.status"] = tnode["phase"]
                else:
                    scope.values.update(node_outputs_vars(prefix, tnode))
                if (tnode["phase"] in _FAILED and not self._continues(tasks[name], tnode["phase"])
                        and name not in handled and failed is None):
                    failed = tnode
        depended = set()
        for d in deps.values():
            if d:
                depended |= d.tasks()
        node["outboundNodes"] = [task_nodes[n]["id"] for n in tasks if n not in depended and n in task_nodes]
        if failed is not None:
            return "Failed", None, f"child '{failed['displayName']}' failed"
        return "Succeeded", self._composite_outputs(tmpl, scope, where), ""

    async def _run_task(self, task: dict, dag_node: dict, parents: list[dict], scope: Scope,
                        slots: asyncio.Semaphore | None, where: str) -> tuple[dict, list[dict] | None]:
        name = f"{dag_node['name']}.{task['name']}"
        twhere = f"{where} / {task['name']}"
        looped = any(k in task for k in ("withItems", "withParam", "withSequence"))
        if not looped:
            node = await self._run_item(task, {}, name, task["name"], parents, dag_node["id"], scope, slots, "task")
            return node, None
        group = self.reuse(name, parents)
        if group is not None:
            return group, [self.nodes[c] for c in group.get("children", []) if c in self.nodes]
        group = self.open_node(name, task["name"], "TaskGroup", task.get("template"), parents, dag_node["id"])
        try:
            if "when" in task and not any(k.startswith("item") for k in _tags(str(task["when"]))) \
                    and not scope.eval_when(str(task["when"]), f"{twhere}: when"):
                group["type"] = "Skipped"
                self.close_node(group, "Skipped", message=f"when '{task['when']}' evaluated false")
                return group, []
            expansions = self._expand(task, scope, twhere)
        except StepError as e:
            return self.close_node(group, "Error", message=str(e), durable=True), []
        if not expansions:
            self.close_node(group, "Skipped", message="Skipped, empty params")
            return group, []
        children = await asyncio.gather(*[
            self._run_item(task, ivars, f"{name}{suffix}", f"{task['name']}{suffix}", group, dag_node["id"],
                           scope, slots, "task")
            for ivars, suffix in expansions])
        bad = [c for c in children if c["phase"] in _FAILED and not self._continues(task, c["phase"])]
        if bad:
            self.close_node(group, "Failed", message=f"child '{bad[0]['displayName']}' failed", durable=True)
        else:
            self.close_node(group, "Succeeded", durable=True)
        return group, list(children)


def _tags(text: str) -> list[str]:
    from dflow_lab.argo.expressions import tags_in

    return [t.strip() for t in tags_in(text)]


def _aggregate_phase(nodes: list[dict]) -> str:
    if any(n["phase"] in _FAILED for n in nodes):
        return "Failed"
    return "Succeeded"


def _policy_allows(policy: str, phase: str) -> bool:
    if policy == "Always":
        return phase in _FAILED
    if policy in ("OnError", "OnTransientError"):
        return phase == "Error"
    return phase == "Failed"


def _lookup_artifact(scope: Scope, ref: str, field: str, optional: bool = False) -> dict | None:
    key = ref.strip()
    if key.startswith("{{") and key.endswith("}}"):
        key = key[2:-2].strip()
    value = scope.values.get(key)
    if isinstance(value, dict):
        return value
    if optional:
        return None
    raise StepError(f"{field}: artifact {ref!r} does not resolve")


def _dflow_key(inputs: dict) -> str | None:
    for p in inputs.get("parameters") or []:
        if p["name"] == "dflow_key" and p.get("value"):
            return p["value"]
    return None


def _epoch(ts: str | None) -> float:
    import calendar

    if not ts:
        return time.time()
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def _check_acyclic(deps: dict[str, Depends | None], where: str) -> None:
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cycle = path[path.index(n):] + [n]
            raise StepError(f"{where}: dependency cycle {' -> '.join(cycle)}")
        state[n] = 1
        d = deps.get(n)
        for m in sorted(d.tasks()) if d else ():
            visit(m, path + [n])
        state[n] = 2

    for n in deps:
        visit(n, [])

