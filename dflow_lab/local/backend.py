"""``LocalBackend``: the Backend interface (docs/internals.md) over the local engine.

Workflows, nodes and events live in the workspace's SQLite database; any process can query and watch
them.  ``submit(wait=True)`` runs the workflow in this process's engine host (warm workers kept between
runs); ``wait=False`` starts a detached engine process that outlives the caller.  Controls (stop,
terminate, suspend, resume) are requests in the database that the running engine picks up.
"""

from __future__ import annotations

import builtins
import copy
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from ..argo.reuse import with_reuse
from ..config import config
from ..engine import reuse_entry
from ..errors import WorkflowValueError
from ..names import check_workflow_name, generated_name, randstr, remove_in_workspace, workspace_path
from ..storage.repository import artifact_repository
from .engine import EngineHost, engine_alive, engine_config, engine_env
from .objects import ObjectStore, with_workflow_template
from .pod import PY_OP_MARKER
from .scope import Scope, StepError, as_param_text
from .state import StateStore, now_iso
from .validate import check_manifest

__all__ = ["LocalBackend"]

_TERMINAL = ("Succeeded", "Failed", "Error")
EVENTS_POLL_SECONDS = 0.01  # how often a long poll of events() looks for new rows
LOG_CHUNK_BYTES = 256 * 1024  # the most of a log read_log() returns at once (the newest lines when more)
_STORES: dict[Path, StateStore] = {}
# detached engines this process started and has not seen end: kept so that their Popen objects are not
# collected while the engine runs (Popen warns "subprocess N is still running" then) and reaped by
# _reap_detached once they have ended
_DETACHED: list[subprocess.Popen] = []


def _reap_detached() -> None:
    _DETACHED[:] = [proc for proc in _DETACHED if proc.poll() is None]


def _store(workdir: Path) -> StateStore:
    if workdir not in _STORES:
        _STORES[workdir] = StateStore(workdir)
    return _STORES[workdir]


def _has_python_ops(manifest: dict) -> bool:
    """Whether a manifest has Python OP templates (the steps the warm workers run)."""
    templates = (manifest.get("spec") or {}).get("templates") or []
    return any(str((t.get("script") or {}).get("source", "")).startswith(PY_OP_MARKER)
               for t in templates if isinstance(t, dict))


class LocalBackend:
    """Runs workflows on this machine; state under ``workdir`` (``config["local_workdir"]``).
    Implements :class:`dflow_lab.engine.Engine`."""

    log_offsets: ClassVar[bool] = True  # read_log reads a node's log from a byte offset

    def __init__(self, workdir: str | os.PathLike | None = None):
        self.workdir = Path(workdir or config.get("local_workdir") or ".dflow-lab").resolve()
        self.store = _store(self.workdir)

    def __repr__(self) -> str:
        return f"LocalBackend(workdir={str(self.workdir)!r})"

    # -- submit and run --------------------------------------------------------------------------

    def submit(self, manifest: dict, *, wait: bool = True, reuse_step: list | None = None) -> dict:
        """Store and run a workflow; returns the workflow object (``metadata.name`` is its id)."""
        if wait and _has_python_ops(manifest):
            EngineHost.get().prewarm()  # workers start while the manifest is checked and stored
        manifest = with_workflow_template(manifest, ObjectStore(self.workdir))
        check_manifest(manifest)
        manifest = copy.deepcopy(manifest)
        meta = manifest.setdefault("metadata", {})
        name = meta.get("name") or generated_name(meta["generateName"], randstr(5))
        if self.store.workflow(name) is not None:
            raise WorkflowValueError(f"a workflow named {name!r} already exists in {self.workdir}", workflow=name,
                                     field="metadata.name")
        meta["name"] = name
        meta.setdefault("namespace", "default")
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now_iso()
        _apply_workflow_metadata(manifest)
        options: dict = {}
        if reuse_step:
            manifest = with_reuse(manifest, reuse_step)
            options["reuse"] = [reuse_entry(s) for s in reuse_step]
        self.store.create_workflow(name, manifest, {"phase": "Pending"}, dict(meta.get("labels") or {}), options)
        self._start(name, wait)
        return self.get(name)

    def _start(self, name: str, wait: bool) -> None:
        if wait:
            EngineHost.get().run(self.workdir, name).result()
            return
        log_dir = workspace_path(self.workdir, "runs", name)
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "engine.log", "ab") as log:
            # the configuration and the workflow's secrets go over a pipe, never the environment or a file
            proc = subprocess.Popen(
                [sys.executable, "-m", "dflow_lab.local.engine", "--config-stdin", str(self.workdir), name],
                stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True,
                env={**engine_env(), "DFLOW_LOCAL_WORKDIR": str(self.workdir)},
            )
        assert proc.stdin is not None  # PIPE above
        try:
            proc.stdin.write(engine_config(self._record(name)["manifest"]))
        except BrokenPipeError:  # the engine died at start; its engine.log says why
            pass
        finally:
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
        _reap_detached()
        _DETACHED.append(proc)
        options = self._record(name)["options"]
        options["engine_pid"] = proc.pid
        self.store.set_options(name, options)

    def _record(self, name: str) -> dict:
        check_workflow_name(name, field="workflow name")  # every entry by name passes here
        record = self.store.workflow(name)
        if record is None:
            raise WorkflowValueError(f"no workflow {name!r} in the local workspace {self.workdir}", workflow=name)
        return record

    def engine_pid(self, name: str) -> int | None:
        """PID of the detached engine process last started for ``name`` (``None`` if run in-process)."""
        return self._record(name)["options"].get("engine_pid")

    # -- queries -----------------------------------------------------------------------------------

    def get(self, name: str, fields: list[str] | None = None) -> dict:
        """The workflow object: ``metadata``, ``spec``, ``status`` (with ``nodes`` unless ``fields`` omit them)."""
        record = self._record(name)
        manifest = record["manifest"]
        status = dict(record["status"])
        want_nodes = fields is None or any(f in ("status", "status.nodes") or f.startswith("status.nodes")
                                           for f in fields)
        if want_nodes:
            status["nodes"] = self.store.nodes(name)
        return {
            "apiVersion": manifest.get("apiVersion", "argoproj.io/v1alpha1"),
            "kind": "Workflow",
            "metadata": manifest.get("metadata") or {"name": name},
            "spec": manifest.get("spec") or {},
            "status": status,
        }

    def list(self, labels: dict | None = None) -> list[dict]:
        """Workflows of the workspace (newest first), filtered by labels; nodes are left out."""
        out = []
        for record in self.store.workflows():
            if labels and any(record["labels"].get(k) != v for k, v in labels.items()):
                continue
            manifest = record["manifest"]
            out.append({"apiVersion": manifest.get("apiVersion", "argoproj.io/v1alpha1"), "kind": "Workflow",
                        "metadata": manifest.get("metadata") or {}, "spec": manifest.get("spec") or {},
                        "status": record["status"]})
        return out

    def list_archived(self, labels: dict | None = None) -> builtins.list[dict]:
        """The finished workflows of the workspace (what Argo's workflow archive would hold)."""
        return [d for d in self.list(labels) if (d.get("status") or {}).get("phase") in _TERMINAL]

    def wait(self, name: str, timeout: float | None = None) -> dict:
        """Block until the workflow finishes (or ``timeout`` seconds pass: ``TimeoutError``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.01
        while True:
            phase = self._record(name)["status"].get("phase")
            if phase in _TERMINAL:
                return self.get(name)
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"workflow {name!r} still {phase} after {timeout}s")
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def events(self, name: str, after: int = 0, timeout: float = 0) -> builtins.list[dict]:
        """Changes with ``seq > after`` (oldest first); long-polls up to ``timeout`` seconds when none.

        The long poll looks every 10 ms: an empty answer is an indexed read of a few microseconds, and a
        monitor sees a change about 5 ms after the engine wrote it (50 ms here made it ~25 ms)."""
        self._record(name)
        deadline = time.monotonic() + timeout
        while True:
            events = self.store.events(name, after)
            if events or time.monotonic() >= deadline:
                return events
            time.sleep(min(EVENTS_POLL_SECONDS, max(0.0, deadline - time.monotonic())))

    def logs(self, name: str, node_id: str | None = None) -> Iterator[str]:
        """Log lines of one node, or of every pod node in start order."""
        nodes = self.store.nodes(name)
        if node_id is not None:
            if node_id not in nodes:
                raise WorkflowValueError(f"workflow {name!r} has no node {node_id!r}", workflow=name)
            selected = [nodes[node_id]]
        else:
            selected = sorted((n for n in nodes.values() if n.get("type") == "Pod"),
                              key=lambda n: (n.get("startedAt") or "", n["name"]))
        for node in selected:
            log = self._log_file(name, node)
            if log is not None:
                with open(log, errors="replace") as f:
                    yield from (line.rstrip("\n") for line in f)

    def _log_file(self, name: str, node: dict) -> Path | None:
        """The node's log: its step directory's ``main.log``, or, when that is gone, the ``main-logs``
        artifact archived with the run's outputs (Argo's ``archiveLogs``), fetched into the run's folder."""
        log = Path(node.get("hostDir") or "") / "main.log"
        if node.get("hostDir") and log.is_file():
            return log
        art = next((a for a in (node.get("outputs") or {}).get("artifacts") or []
                    if isinstance(a, dict) and a.get("name") == "main-logs"), None)
        if art is None:
            return None
        dest = self.workdir / "runs" / name / "archived-logs" / f"{node['id']}.log"
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                artifact_repository(self.workdir).load(art, str(dest))
            except (OSError, ValueError):
                return None
        return dest

    def read_log(self, name: str, node_id: str, offset: int = 0,
                 max_bytes: int = LOG_CHUNK_BYTES) -> tuple[str, int, bool]:
        """A piece of one node's log for following it as it grows: ``(text, end, skipped)``.

        ``text`` starts at byte ``offset`` and holds whole lines only while the node runs (a line still being
        written comes in a later read), all of it once the node has ended; ``end`` is the offset to read
        from next. When more than ``max_bytes`` are waiting, only the newest whole lines are returned and
        ``skipped`` is true."""
        node = self.store.nodes(name).get(node_id)
        if node is None:
            raise WorkflowValueError(f"workflow {name!r} has no node {node_id!r}", workflow=name)
        log = self._log_file(name, node)
        if log is None:
            return "", offset, False
        ended = node.get("phase") in _TERMINAL or node.get("phase") == "Skipped"
        with open(log, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            skipped = size - offset > max_bytes
            start = size - max_bytes if skipped else offset
            f.seek(start)
            data = f.read(size - start)
        if skipped:  # begin at a line's start
            cut = data.find(b"\n")
            data = data[cut + 1:] if cut >= 0 else b""
            start = size - len(data)
        if not ended:
            data = data[: data.rfind(b"\n") + 1]
        return data.decode(errors="replace"), start + len(data), skipped

    # -- controls ----------------------------------------------------------------------------------

    def _control(self, name: str, action: str) -> None:
        record = self._record(name)
        if record["status"].get("phase") in _TERMINAL:
            return
        self.store.set_control(name, action)

    def stop(self, name: str) -> None:
        """Stop: running steps are ended, exit handlers still run."""
        self._control(name, "stop")
        self._finish_if_orphaned(name, "Stopped with strategy 'Stop'")

    def terminate(self, name: str) -> None:
        """Terminate: running steps are ended, no exit handler."""
        self._control(name, "terminate")
        self._finish_if_orphaned(name, "Stopped with strategy 'Terminate'")

    def _finish_if_orphaned(self, name: str, message: str) -> None:
        if engine_alive(self.workdir, name):
            return
        record = self._record(name)
        if record["status"].get("phase") in _TERMINAL:
            return
        nodes = [n for n in self.store.nodes(name).values() if n.get("phase") in ("Running", "Pending")]
        for n in nodes:
            n.update(phase="Failed", finishedAt=now_iso(), message=message)
        self.store.put_nodes(name, nodes)
        status = dict(record["status"], phase="Failed", finishedAt=now_iso(), message=message)
        self.store.set_status(name, status)
        self.store.set_control(name, None)

    def suspend(self, name: str) -> None:
        """No new step starts until ``resume``."""
        self._control(name, "suspend")

    def resume(self, name: str) -> None:
        """Resume a suspended workflow, or restart the engine of a workflow whose engine died (kill -9)."""
        record = self._record(name)
        if record["status"].get("phase") in _TERMINAL:
            return
        if engine_alive(self.workdir, name):
            self.store.set_control(name, "resume")
            return
        self.store.set_control(name, None)
        self._start(name, wait=False)

    def set_outputs(self, name: str, node: str, parameters: dict[str, Any]) -> None:
        """Supply output parameters of a running ``suspend`` node (``argo node set``); ``node`` is its id or
        display name. They are used when the workflow is resumed."""
        nodes = self.store.nodes(name)
        matches = [n for n in nodes.values() if node in (n["id"], n["displayName"]) and n.get("type") == "Suspend"]
        if len(matches) != 1:
            raise WorkflowValueError(f"{len(matches)} suspend nodes match {node!r}", workflow=name, step=node)
        record = self._record(name)
        options = dict(record["options"])
        supplied = dict(options.get("supplied") or {})
        supplied[matches[0]["id"]] = {**supplied.get(matches[0]["id"], {}), **parameters}
        options["supplied"] = supplied
        self.store.set_options(name, options)

    def retry(self, name: str, node_ids: builtins.list[str] | None = None) -> None:
        """Run a failed workflow again: its failed steps (or only ``node_ids``) run, succeeded ones are kept."""
        record = self._record(name)
        phase = record["status"].get("phase")
        if phase not in ("Failed", "Error"):
            raise WorkflowValueError(f"only a Failed or Error workflow can be retried; {name!r} is {phase}",
                                     workflow=name)
        options = dict(record["options"])
        options["retry_only"] = list(node_ids or [])
        self.store.set_options(name, options)
        status = dict(record["status"], phase="Running", finishedAt=None, message=None)
        self.store.set_status(name, status)
        self._start(name, wait=False)

    def resubmit(self, name: str, memoized: bool = False) -> dict:
        """A new run of the same manifest; ``memoized`` reuses the steps that succeeded in ``name``."""
        record = self._record(name)
        manifest = copy.deepcopy(record["manifest"])
        meta = manifest["metadata"]
        base = meta.get("generateName") or f"{name}-"
        new_meta = {k: v for k, v in meta.items() if k in ("labels", "annotations", "namespace")}
        new_meta["generateName"] = base
        manifest["metadata"] = new_meta
        check_manifest(manifest)
        new_name = generated_name(base, randstr(5))
        new_meta["name"] = new_name
        new_meta["uid"] = str(uuid.uuid4())
        new_meta["creationTimestamp"] = now_iso()
        options: dict = {"reuse_from": name} if memoized else {}
        self.store.create_workflow(new_name, manifest, {"phase": "Pending"}, dict(new_meta.get("labels") or {}),
                                   options)
        self._start(new_name, wait=False)
        return self.get(new_name)

    def delete(self, name: str) -> None:
        """Remove a workflow (terminating it first if it runs) and its step directories."""
        self._record(name)
        if engine_alive(self.workdir, name):
            self.store.set_control(name, "terminate")
            deadline = time.monotonic() + 30
            while engine_alive(self.workdir, name) and time.monotonic() < deadline:
                time.sleep(0.05)
        self.store.delete_workflow(name)
        remove_in_workspace(self.workdir, "runs", name)

    def set_script(self, name: str, node_id: str, source: str) -> None:
        """Give node ``node_id`` a new script source for its next run (``ArgoStep.set_script``)."""
        record = self._record(name)
        options = dict(record["options"])
        overrides = dict(options.get("script_overrides") or {})
        overrides[node_id] = source
        options["script_overrides"] = overrides
        self.store.set_options(name, options)
        status = dict(record["status"])
        status["scriptOverrides"] = overrides
        self.store.set_status(name, status)


def _apply_workflow_metadata(manifest: dict) -> None:
    """Argo's ``spec.workflowMetadata``: its ``labels``/``annotations`` and the ``labelsFrom`` expressions
    (over ``workflow.name``, ``workflow.namespace`` and ``workflow.parameters.<name>``) become the
    workflow's labels and annotations, as the controller sets them when the workflow starts."""
    meta = manifest["metadata"]
    wm = (manifest.get("spec") or {}).get("workflowMetadata") or {}
    if not wm:
        return
    for key in ("labels", "annotations"):
        if wm.get(key):
            meta[key] = {**(meta.get(key) or {}), **{k: str(v) for k, v in wm[key].items()}}
    values = {"workflow.name": meta["name"], "workflow.namespace": meta.get("namespace", "default")}
    for p in ((manifest.get("spec") or {}).get("arguments") or {}).get("parameters") or []:
        if "value" in p:
            values[f"workflow.parameters.{p['name']}"] = as_param_text(p["value"])
    scope = Scope(values)
    for label, source in (wm.get("labelsFrom") or {}).items():
        field = f"spec.workflowMetadata.labelsFrom.{label}.expression"
        try:
            value = scope.eval_expr(str((source or {}).get("expression", "")), f"workflow {meta['name']!r}: {field}")
        except StepError as e:
            raise WorkflowValueError(str(e), workflow=meta["name"], field=field) from None
        meta.setdefault("labels", {})[label] = value if isinstance(value, str) else as_param_text(value)

