"""The Argo interpreter: runs one workflow manifest with Argo's semantics, recording status nodes.

``Execution.run()`` walks the entrypoint template: steps templates (groups run in order, steps of a
group in parallel), DAG templates (tasks as their ``depends``/``dependencies`` allow), loops
(``withItems``/``withParam``/``withSequence``), ``when``, retries, timeouts, memoization, suspend
templates, exit handlers and global outputs.  Leaf templates run through ``pod.run_pod``.

``Execution`` is this module's workflow level (set-up, the run and its control loops, templates and
their inputs, ``invoke``) over one mixin per concern: ``nodes.NodeBook`` (status nodes, batched writes,
reuse), ``steps.StepsRunner``, ``dag.DagRunner``, ``leaf.LeafRunner`` (attempts, pods, suspend),
``retries.RetryRunner`` (retries, memoization), ``outputs.OutputsMixin`` and ``services.DaemonRunner``
(daemon steps, stopped when their steps/DAG template ends).

Node IDs are deterministic (Argo's ``<workflow>-<fnv32a(node name)>``), so a resumed or retried run
finds the nodes of the previous run by name and reuses every node that succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
from pathlib import Path
from typing import Any

from ..bounds import cut_text, max_depth
from ..errors import WorkflowValueError
from ..names import check_claim_name, check_workflow_name, workspace_path
from .dag import DagRunner
from .durations import parse_duration
from .http import HttpRunner
from .leaf import LeafRunner
from .nodes import FAILED as _FAILED
from .objects import ObjectStore
from .outputs import OutputsMixin
from .plan import Planner
from .retries import RetryRunner
from .scope import Scope, StepError, as_param_text
from .services import DaemonRunner
from .state import StateStore, now_iso
from .steps import StepsRunner
from .sync import hold

__all__ = ["Execution"]

logger = logging.getLogger(__name__)

# how many template calls enclose the running one (Argo's stack depth); tasks inherit it from their creator
_CALL_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("dflow_lab_call_depth", default=0)
# the templates a `template: name` resolves in: the workflow's, or — inside a steps/dag template reached by a
# templateRef — those of its (Cluster)WorkflowTemplate (Argo's template context); tasks inherit it too
_TEMPLATE_CTX: contextvars.ContextVar[tuple[str, dict] | None] = contextvars.ContextVar("dflow_lab_templates",
                                                                                         default=None)


class Execution(StepsRunner, DagRunner, LeafRunner, RetryRunner, OutputsMixin, HttpRunner, DaemonRunner):
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
        self.runs_dir = workspace_path(store.workdir, "runs", check_workflow_name(name))
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
        self._children_of: dict[str, set[str]] = {}
        self._flush_soon = False
        self.global_vars = self._global_vars()
        self.planner = Planner(self.templates)
        self.planned = self.planner.workflow(self.spec)
        self.planned_fanouts: dict[str, int] = {}
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
                out[name] = workspace_path(self.store.workdir, "runs", self.name, "volumes", check_claim_name(name))
        for vol in self.spec.get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if vol.get("name") and claim:
                out[vol["name"]] = workspace_path(self.store.workdir, "volumes", check_claim_name(claim))
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
        scheduled = (meta.get("annotations") or {}).get("workflows.argoproj.io/scheduled-time")
        if scheduled:  # a CronWorkflow's run (dflow_lab.local.cron)
            out["workflow.scheduledTime"] = str(scheduled)
        params = []
        scope = Scope(out)
        for p in (self.spec.get("arguments") or {}).get("parameters") or []:
            if "value" in p:
                value = scope.render(as_param_text(p["value"]), f"workflow {self.name!r}: arguments.parameters.{p['name']}")
            elif "configMapKeyRef" in (p.get("valueFrom") or {}):
                value = self._config_value(p, f"workflow {self.name!r}: arguments.parameters.{p['name']}")
            elif "valueFrom" in p and "default" in (p["valueFrom"] or {}):
                value = as_param_text(p["valueFrom"]["default"])
            else:
                raise StepError(f"workflow {self.name!r}: arguments.parameters.{p['name']} has no value")
            out[f"workflow.parameters.{p['name']}"] = value
            params.append({"name": p["name"], "value": value})
        # Argo's workflow.parameters and workflow.parameters.json: the arguments' parameter list as JSON
        out["workflow.parameters"] = out["workflow.parameters.json"] = json.dumps(params, separators=(",", ":"))
        return out

    def _config_value(self, p: dict, where: str) -> str:
        """A parameter's ``valueFrom.configMapKeyRef`` from the workspace's config maps (its
        ``valueFrom.default`` when the map or key is missing and optional, as Argo does)."""
        vf = p["valueFrom"]
        try:
            value = ObjectStore(self.store.workdir).config_value(vf["configMapKeyRef"], where)
        except WorkflowValueError as exc:
            if "default" in vf:
                return as_param_text(vf["default"])
            raise StepError(str(exc)) from None
        if value is None:
            if "default" in vf:
                return as_param_text(vf["default"])
            raise StepError(f"{where}: the optional config map value is missing and there is no valueFrom.default")
        return value

    # -- workflow ---------------------------------------------------------------------------------

    async def run(self) -> str:
        """Run the workflow to completion; returns its final phase."""
        self.failures: list[dict] = []
        status = dict(self.status)
        status.update(phase="Running", finishedAt=None, message=None)
        status.setdefault("startedAt", now_iso())
        # the planned number of leaf steps, from the start; sub-second times beside Argo's startedAt
        status["dflowLabPlan"] = self.plan_status()
        status["dflowLabTimes"] = {"startedAt": (status.get("dflowLabTimes") or {}).get("startedAt")
                                   or round(time.time(), 3)}
        self.status = status
        self.store.set_status(self.name, status)
        flusher = asyncio.create_task(self._flush_loop())
        watcher = asyncio.create_task(self._watch_control())
        phase, message = "Error", ""
        wf_locks = contextlib.AsyncExitStack()
        main = None
        try:
            if self.spec.get("synchronization"):
                def waiting(text: str) -> None:
                    self.status = {**self.status, "phase": "Pending", "message": text}
                    self.store.set_status(self.name, self.status)

                await wf_locks.enter_async_context(hold(self.store.workdir, self.spec["synchronization"],
                                                        f"workflow {self.name!r}: spec.synchronization", waiting))
                if self.status.get("phase") == "Pending":
                    self.status = {**self.status, "phase": "Running", "message": None}
                    self.store.set_status(self.name, self.status)
            entry = self.spec["entrypoint"]  # check_manifest requires it
            main = asyncio.create_task(self._main(entry))
            self._main_task = main
            wf_hooks = self.lifecycle_hooks(self.spec)
            fired: dict[str, asyncio.Task] = {}
            if wf_hooks:  # spec.hooks other than exit: when the workflow starts and when its entrypoint ends
                await asyncio.sleep(0)
                root = self.nodes.get(self.node_id(self.name))
                if root is not None and not main.done():
                    self.fire_hooks(wf_hooks, fired, Scope({**self.global_vars, "workflow.status": "Running"}),
                                    root, None, f"workflow {self.name!r}: spec")
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
                if main is not None and main.done() and not main.cancelled() and main.exception() is None:
                    phase = main.result()["phase"]
            except StepError as e:
                phase, message = "Error", str(e)
            except Exception as e:  # an engine bug must still end the workflow, with the reason
                logger.exception("workflow %s: internal error", self.name)
                phase, message = "Error", f"local engine internal error: {type(e).__name__}: {e}"
                self.cancel_message = message
            if message == "Max duration limit exceeded":
                phase = "Failed"
            root = self.nodes.get(self.node_id(self.name))
            if wf_hooks and root is not None and self.store.control(self.name) != "terminate":
                self.fire_hooks(wf_hooks, fired, Scope({**self.global_vars, "workflow.status": phase}), root, None,
                                f"workflow {self.name!r}: spec")
            await self.hooks_done(fired)
            if self.store.control(self.name) != "terminate":
                exit_phase = await self._exit_handler(phase)
                if exit_phase in _FAILED and phase == "Succeeded":
                    phase, message = "Failed", "exit handler failed"
        finally:
            await self.stop_daemons(None)  # a daemon whose scope never ended (a cancelled run) ends with it
            await wf_locks.aclose()
            watcher.cancel()
            flusher.cancel()
            self._close_running(self.cancel_message)
            self.flush()
        status["phase"] = phase
        status["finishedAt"] = now_iso()
        status["message"] = cut_text(message) if message else None
        if self.global_outputs["parameters"] or self.global_outputs["artifacts"]:
            status["outputs"] = {k: list(v.values()) for k, v in self.global_outputs.items() if v}
        status["progress"] = self._progress()
        status["dflowLabPlan"] = self.plan_status()
        status["dflowLabTimes"] = {**(status.get("dflowLabTimes") or {}), "finishedAt": round(time.time(), 3)}
        self.store.set_control(self.name, None)
        self.store.set_status(self.name, status)
        return phase


    async def _main(self, entry: str) -> dict:
        args = self.spec.get("arguments") or {}
        params = [{"name": p["name"], "value": self.global_vars[f"workflow.parameters.{p['name']}"]}
                  for p in args.get("parameters") or []]
        arts = list(args.get("artifacts") or [])
        scope = Scope(self.global_vars)
        return await self.invoke({"template": entry}, {"parameters": params, "artifacts": arts},
                                 self.name, self.name, None, None, scope, entry=True)

    async def _exit_handler(self, phase: str) -> str | None:
        exit_hook = (self.spec.get("hooks") or {}).get("exit") or {}
        handler = self.spec.get("onExit") or exit_hook.get("template")
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
            args = {} if self.spec.get("onExit") else self._step_args(exit_hook, scope, f"workflow {self.name!r}: "
                                                                                    "spec.hooks.exit")
            node = await self.invoke({"template": handler}, args, name, name, None, None, scope)
        except StepError as e:
            return "Error" if str(e) else None
        return node["phase"]

    async def _flush_loop(self) -> None:
        """Write batched node changes every 50 ms, and the workflow's progress (``done/total`` pods)
        and plan (``status.dflowLabPlan``) when they changed, at most every half second."""
        tick = 0
        while True:
            await asyncio.sleep(0.05)
            self.flush()
            tick += 1
            if tick % 10 == 0:
                progress, plan = self._progress(), self.plan_status()
                if progress != self.status.get("progress") or plan != self.status.get("dflowLabPlan"):
                    self.status["progress"] = progress
                    self.status["dflowLabPlan"] = plan
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


    # -- templates --------------------------------------------------------------------------------

    def template(self, ref: dict, where: str) -> dict:
        """The template a step/task refers to (by name or ``inline``), with ``templateDefaults`` applied."""
        if "inline" in ref:
            tmpl = dict(ref["inline"])
            tmpl.setdefault("name", ref.get("name", "inline"))
        else:
            name = ref.get("template")
            if "templateRef" in ref:
                return self._referenced_template(ref["templateRef"], where)
            ctx = _TEMPLATE_CTX.get()
            owner, templates = ctx if ctx is not None else ("the workflow", self.templates)
            if name is None or name not in templates:
                raise StepError(f"{where}: template {name!r} is not defined in {owner}")
            tmpl = templates[name]
        if self.defaults:
            tmpl = {**self.defaults, **tmpl}
        return tmpl

    def _referenced_template(self, ref: Any, where: str) -> dict:
        """A ``templateRef``'s template from the workspace's (Cluster)WorkflowTemplates, read when the step
        runs (as Argo reads it).  The steps and tasks of a referenced ``steps``/``dag`` template resolve
        their ``template: name`` in that WorkflowTemplate (``invoke`` sets the context)."""
        try:
            tmpl = ObjectStore(self.store.workdir).template(ref, f"{where}: templateRef")
        except WorkflowValueError as exc:
            raise StepError(str(exc)) from None
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
            elif "configMapKeyRef" in (p.get("valueFrom") or {}):
                value = self._config_value(p, f"{where}: inputs.parameters.{name}")
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
        """Run the template ``ref`` names as node ``name``; returns the finished node.

        A call nested ``config["local_max_depth"]`` deep (the entrypoint is depth 1) is not run: its node
        fails with Argo's "Maximum recursion depth exceeded" (a template that calls itself ends there)."""
        depth = _CALL_DEPTH.get() + 1
        limit = max_depth()
        if depth >= limit:
            node = self.open_node(name, display, "Pod", ref.get("template"), parent, boundary)
            return self.close_node(node, "Error", durable=True, message=(
                f"Maximum recursion depth exceeded: workflow {self.name!r}, step {display!r} calls template "
                f"{ref.get('template')!r} at depth {depth} (limit config['local_max_depth'] = {limit}); "
                "a template that calls itself needs a 'when' that ends the recursion"))
        token = _CALL_DEPTH.set(depth)
        ctx_token = None
        if isinstance(ref.get("templateRef"), dict):
            owner = self._template_owner(ref["templateRef"])
            if owner is not None:
                ctx_token = _TEMPLATE_CTX.set(owner)
        try:
            return await self._invoke(ref, args, name, display, parent, boundary, scope, entry)
        finally:
            if ctx_token is not None:
                _TEMPLATE_CTX.reset(ctx_token)
            _CALL_DEPTH.reset(token)

    def _template_owner(self, ref: dict) -> tuple[str, dict] | None:
        """The templates of the (Cluster)WorkflowTemplate a templateRef names (``None`` when there is none:
        the reference's own error is reported when the template is looked up)."""
        kind = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
        try:
            wft = ObjectStore(self.store.workdir).get(kind, str(ref.get("name")))
        except WorkflowValueError:
            return None
        if wft is None:
            return None
        templates = {t["name"]: t for t in (wft.get("spec") or {}).get("templates") or []
                     if isinstance(t, dict) and isinstance(t.get("name"), str)}
        return f"{kind} {ref.get('name')!r}", templates

    async def _invoke(self, ref: dict, args: dict, name: str, display: str, parent: Any,
                      boundary: str | None, scope: Scope, entry: bool) -> dict:
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
        if tmpl.get("synchronization"):
            run = self._synchronized(tmpl["synchronization"], node, run, where)
        phase, outputs = await self._run_closing(node, run)
        if phase == "Succeeded":
            self._publish_globals(outputs or {})
            if memo:
                self._memo_store(memo, tscope, outputs or {}, node, where)
        return node

    async def _synchronized(self, sync: Any, node: dict, run: Any, where: str) -> tuple:
        """Run ``run`` holding the template's ``synchronization`` locks (the node is Pending, with Argo's
        "Waiting for … lock" message, until it has them)."""
        def waiting(message: str) -> None:
            node["phase"], node["message"] = "Pending", message
            self._mark(node)

        try:
            async with hold(self.store.workdir, sync, where, waiting):
                if node.get("phase") == "Pending":
                    node["phase"] = "Running"
                    node.pop("message", None)
                    self._mark(node)
                return await run
        finally:
            run.close()  # never awaited when waiting was cancelled or failed

    async def _run_closing(self, node: dict, run: Any) -> tuple[str, dict | None]:
        """Await ``run`` (an attempt or a retry loop giving ``(phase, outputs, message)``) and close ``node``
        with its result: a StepError closes it as Error, a cancellation as Failed. Returns phase, outputs."""
        try:
            phase, outputs, message = await run
            if phase == "Running" and node.get("daemoned"):  # a ready daemon: it ends with its scope
                self._mark(node, now=True)
                return phase, outputs
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
        # marked as Argo marks a step whose outputs came from the memoization cache dflow's reuse fills
        node["memoizationStatus"] = {"hit": True, "key": f"{self.name}-{old.get('key')}",
                                     "cacheName": f"dflow-{self.name}"}
        self.close_node(node, "Succeeded", outputs, durable=True)
        self._publish_globals(outputs)
        return node


    async def _dispatch(self, tmpl: dict, inputs: dict, node: dict, scope: Scope, where: str) -> tuple:
        if "steps" in tmpl or "dag" in tmpl:
            result = None
            try:
                if "steps" in tmpl:
                    result = await self._run_steps(tmpl, node, scope, where)
                else:
                    result = await self._run_dag(tmpl, node, scope, where)
            finally:  # the scope ends: its daemons stop (Argo's killDaemonedChildren)
                failed = await self.stop_daemons(node["id"])
            if failed is not None and result[0] == "Succeeded":
                return "Failed", None, f"child '{failed['displayName']}' failed"
            return result
        if tmpl.get("daemon") and not ("script" in tmpl or "container" in tmpl):
            raise StepError(f"{where}: a daemon template runs a container or script; this one has neither")
        if "script" in tmpl or "container" in tmpl:
            return await self._run_leaf(tmpl, inputs, node, scope)
        if "suspend" in tmpl:
            return await self._run_suspend(tmpl, node, scope, where)
        if "http" in tmpl:
            return await self._run_http(tmpl, node, scope, where)
        kinds = sorted(k for k in ("resource", "data", "plugin", "containerSet") if k in tmpl)
        raise StepError(f"{where}: template {tmpl.get('name')!r} of type {kinds or 'unknown'} is not "
                        "supported by the local engine")


def _dflow_key(inputs: dict) -> str | None:
    for p in inputs.get("parameters") or []:
        if p["name"] == "dflow_key" and p.get("value"):
            return p["value"]
    return None


