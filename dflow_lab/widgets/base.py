"""The Python half shared by the canvas and the monitor: one anywidget model drawn by ``js/widget``."""

from __future__ import annotations

import logging
import threading
from typing import Any

import anywidget
import traitlets

from ..runview.live import FINAL, LiveRun
from ._static import STATIC, bundle

logger = logging.getLogger(__name__)


_RERUN_MODES = {"run-only": "only", "run-from": "from", "rerun-failed": "failed"}


class GraphWidget(anywidget.AnyWidget):
    """A graph document drawn by the canvas, in edit (``view="canvas"``) or monitor (``view="monitor"``) mode.

    Synced state: ``graph`` (the graph JSON), ``issues`` (validation problems), ``palette``, ``actions``
    (toolbar buttons), ``notice`` (a message bar), ``workflow_state`` (phase and progress of a run).
    Custom messages carry live status changes and step details (see ``js/widget/index.tsx``).
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    view = traitlets.Unicode("canvas").tag(sync=True)
    graph = traitlets.Dict().tag(sync=True)
    issues = traitlets.List().tag(sync=True)
    palette = traitlets.List().tag(sync=True)
    actions = traitlets.List().tag(sync=True)
    notice = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    workflow_state = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        bundle("widget.js")  # a clear error when the package was installed without its js build
        bundle("widget.css")
        super().__init__(**kwargs)
        self.run: LiveRun | None = None
        self._panel = 0  # counts step-panel requests: only the newest one's log is followed
        self.on_msg(self._dispatch)

    def _dispatch(self, _widget: Any, content: dict, _buffers: list) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "action":
                self._on_action(str(content.get("action", "")))
            elif kind == "details":
                self._on_details(content.get("path"), content.get("item"))
            elif kind == "ready":
                self._on_ready()
        except Exception as e:  # a failed action is shown in the widget, never lost in the kernel log
            logger.exception("dflow-lab widget: %s failed", kind)
            self.show_notice(str(e), "error")

    def show_notice(self, text: str | None, level: str = "info") -> None:
        """Show a message bar above the canvas (``None`` hides it)."""
        self.notice = None if text is None else {"level": level, "text": text}

    # -- following a run ---------------------------------------------------------------------
    def follow(self, backend: Any, name: str) -> LiveRun:
        """Show the live status of run ``name`` on ``backend`` (replacing a run followed before)."""
        if self.run is not None:
            self.run.stop()
        self.view = "monitor"
        self.workflow_state = {"name": name, "phase": "Pending"}
        self.send({"type": "status", "changes": {}, "reset": True})
        self.run = LiveRun(backend, name, self.send, self._on_workflow_state).start()
        self._update_run_actions()
        return self.run

    def _on_workflow_state(self, state: dict) -> None:
        self.workflow_state = state
        self._update_run_actions()
        phase = state.get("phase")
        if phase in FINAL:
            message = state.get("message")
            self.show_notice(f"{state.get('name')} {phase.lower()}" + (f": {message}" if message else ""),
                             "info" if phase == "Succeeded" else "error")

    def _update_run_actions(self) -> None:
        phase = (self.workflow_state or {}).get("phase")
        actions = self._extra_run_actions()
        if phase in FINAL:
            if phase != "Succeeded":
                actions.append({"action": "retry", "label": "↻ Retry", "title": "Retry the failed steps"})
            actions.append({"action": "resubmit", "label": "⟲ Resubmit", "title": "Run the workflow again"})
        else:
            actions.append({"action": "stop", "label": "■ Stop", "title": "Stop the run"})
        self.actions = actions

    def _extra_run_actions(self) -> list[dict]:
        return []

    def _run_action(self, action: str) -> bool:
        """Handle a run action (``stop``, ``retry``, ``resubmit``, optionally ``:<path>``); False if unknown."""
        verb, _, path = action.partition(":")
        if self.run is not None and verb in _RERUN_MODES:
            self._rerun(_RERUN_MODES[verb], path)
            return True
        if self.run is not None and verb.startswith("logs@"):
            self._attempt_log(verb[len("logs@"):], path)
            return True
        if self.run is None or verb not in ("stop", "retry", "resubmit"):
            return False
        backend, name = self.run.backend, self.run.name
        if verb == "stop":
            backend.stop(name)
            self.show_notice(f"Stopping {name}…")
        elif verb == "retry":
            ids = None
            if path:
                entry = self.run.folded.get(path) or {}
                ids = [i for i in entry.get("ids", []) if self.run.nodes[i].get("phase") in ("Failed", "Error")]
            backend.retry(name, node_ids=ids or None)
            self.show_notice(f"Retrying {path or name}…")
            self.follow(backend, name)
        else:
            new = backend.resubmit(name)
            new_name = new["metadata"]["name"]
            self.show_notice(f"Resubmitted as {new_name}")
            self.follow(backend, new_name)
        return True

    def _rerun_manifest(self) -> dict:
        """The manifest a partial re-run submits: the followed run's own (the canvas widget: the edited graph)."""
        assert self.run is not None
        obj = self.run.backend.get(self.run.name)
        meta = obj.get("metadata") or {}
        keep = {k: meta[k] for k in ("labels",) if meta.get(k)}
        return {"apiVersion": obj.get("apiVersion", "argoproj.io/v1alpha1"), "kind": "Workflow",
                "metadata": {"generateName": meta.get("generateName") or f"{self.run.name}-", **keep},
                "spec": obj.get("spec") or {}}

    def _rerun(self, mode: str, path: str) -> None:
        """Run this step / Run from here / Re-run failed on the results of the followed run
        (``dflow_lab.rerun.reuse_set``), then follow the new run."""
        from ..rerun import reuse_set

        assert self.run is not None
        backend, name = self.run.backend, self.run.name
        step = path.rsplit("/", 1)[-1] if mode != "failed" and path else None
        manifest = self._rerun_manifest()
        reuse = reuse_set(manifest, backend.get(name), step, mode)
        new = backend.submit(manifest, wait=False, reuse_step=reuse)["metadata"]["name"]
        what = {"only": f"{step} alone", "from": f"from {step}", "failed": "the failed steps"}[mode]
        self.show_notice(f"Running {what} as {new}, reusing {len(reuse)} step(s) of {name}")
        self.follow(backend, new)

    def _attempt_log(self, node_id: str, path: str) -> None:
        """Show the log of one retry attempt in the step panel."""
        assert self.run is not None
        details = self.run.details(path)
        if node_id not in {a["id"] for a in details.get("attempts") or []}:
            raise ValueError(f"step {path!r} has no attempt {node_id!r}")
        text, end, skipped = self.run.read_log(node_id, 0)
        details.update(logs=text, logsNode=node_id, logsEnd=end, logsSkipped=skipped, logsAttempt=node_id)
        self.send({"type": "details", "details": details})

    def _on_details(self, path: Any, item: Any) -> None:
        if self.run is None or not isinstance(path, str):
            self._panel += 1
            self.send({"type": "details", "details": None})
            return
        run = self.run
        index = item if isinstance(item, int) else None
        self._panel += 1  # a newer request (or a closed panel) ends the log follower of this one
        panel = self._panel

        def current() -> bool:
            return panel == self._panel and run is self.run

        def send_log(text: str, start: int, end: int, skipped: bool) -> None:
            self.send({"type": "logs", "path": path, "item": details.get("item"), "start": start, "end": end,
                       "text": text, "skipped": skipped})

        def answer() -> None:
            nonlocal details
            try:
                details = run.details(path, index)
            except Exception as e:
                logger.exception("dflow-lab monitor: details of %s", path)
                details = {"path": path, "inputs": [], "outputs": [], "error": str(e)}
            if not current():
                return
            self.send({"type": "details", "details": details})
            if details.get("logsNode") and details.get("phase") not in FINAL | {"Skipped", "Omitted"}:
                try:  # the step still runs: its new log lines follow as they are written
                    run.follow_log(details["logsNode"], details["logsEnd"], send_log, current)
                except Exception:
                    logger.exception("dflow-lab monitor: following the log of %s", path)

        details: dict = {}
        threading.Thread(target=answer, name="dflow-lab-details", daemon=True).start()

    def _on_ready(self) -> None:
        if self.run is not None:
            self.send({"type": "status", "changes": self.run.snapshot(), "reset": True})

    def close(self) -> None:
        run = getattr(self, "run", None)  # absent when __init__ failed
        if run is not None:
            run.stop()
        super().close()

    # hooks of the subclasses
    def _on_action(self, action: str) -> None:
        if not self._run_action(action):
            raise ValueError(f"unknown action {action!r}")
