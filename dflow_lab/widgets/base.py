"""The Python half shared by the canvas and the monitor: one anywidget model drawn by ``js/widget``."""

from __future__ import annotations

import logging
import threading
from typing import Any

import anywidget
import traitlets

from ..rerun import DOCUMENT_LABEL, reuse_set
from ..runview.compare import compare_runs, fanout_items
from ..runview.history import history_rows, picker_row
from ..runview.live import FINAL, LiveRun, run_view
from ..runview.status import PHASES
from ._static import STATIC, bundle, elk_script
from ._wire import graph_from_json, graph_to_json

logger = logging.getLogger(__name__)


_RERUN_MODES = {"run-only": "only", "run-from": "from", "rerun-failed": "failed"}


class GraphWidget(anywidget.AnyWidget):
    """A graph document drawn by the canvas, in edit (``view="canvas"``) or monitor (``view="monitor"``) mode.

    Synced state: ``graph`` (the graph JSON), ``issues`` (validation problems), ``palette``, ``actions``
    (toolbar buttons), ``notice`` (a message bar), ``workflow_state`` (phase and progress of a run), ``runs``
    (the run picker: the runs of the followed run's document, else of its workflow name, newest first).
    Custom messages carry live status changes, step details (of the followed run, or of the compared one),
    a comparison of two runs and pages of a fan-out's items (see ``js/widget/index.tsx``).

    The iterate loop: a step's panel runs this step / from here / the failed steps on the followed run's
    results; the run picker shows another run in the same widget or compares the followed run with it.
    """

    _esm = STATIC / "widget.js"
    _css = STATIC / "widget.css"

    view = traitlets.Unicode("canvas").tag(sync=True)
    # a large graph travels as one binary buffer of its JSON (``_wire``); in Python it is a dict either way
    graph = traitlets.Dict().tag(sync=True, to_json=graph_to_json, from_json=graph_from_json)
    issues = traitlets.List().tag(sync=True)
    palette = traitlets.List().tag(sync=True)
    actions = traitlets.List().tag(sync=True)
    notice = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    workflow_state = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)
    runs = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        bundle("widget.js")  # a clear error when the package was installed without its js build
        bundle("widget.css")  # (elk's script is checked when the widget asks for it: _send_elk_script)
        super().__init__(**kwargs)
        self.run: LiveRun | None = None
        self.comparing: str | None = None  # the run the followed one is compared with
        self._panel = 0  # counts step-panel requests: only the newest one's log is followed
        self.on_msg(self._dispatch)

    def _dispatch(self, _widget: Any, content: dict, _buffers: list) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "action":
                self._on_action(str(content.get("action", "")))
            elif kind == "details" and content.get("run"):
                self._on_other_details(content.get("run"), content.get("path"), content.get("item"))
            elif kind == "details":
                self._on_details(content.get("path"), content.get("item"))
            elif kind == "ready":
                self._on_ready()
            elif kind == "elk-script":
                self._send_elk_script()
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
        if self.comparing is not None:
            self.comparing = None
            self.send({"type": "comparison", "comparison": None})
        self.send({"type": "status", "changes": {}, "reset": True})
        self.run = LiveRun(backend, name, self.send, self._on_workflow_state).start()
        self._update_run_actions()
        self._load_runs()
        return self.run

    def _load_runs(self) -> None:
        """The run picker: the runs that belong with the followed run (``runview.history.history_rows``)."""
        run = self.run
        if run is None:
            self.runs = None
            return
        engine = "local" if type(run.backend).__name__ == "LocalBackend" else "argo"
        try:
            obj = run.backend.get(run.name)
            rows = [picker_row(r) for r in history_rows(run.backend, obj, engine)]
        except Exception:  # noqa: BLE001 - the monitor works without its history
            logger.exception("dflow-lab monitor: the runs of %s", run.name)
            obj, rows = {}, []
        meta = obj.get("metadata") or {}
        label = (meta.get("labels") or {}).get(DOCUMENT_LABEL)
        if run is self.run:
            self.runs = {"current": run.name, "engine": engine, "runs": rows, "comparing": self.comparing,
                         "document": (meta.get("annotations") or {}).get("dflow-lab/document-path")
                         or (label.rsplit("-", 1)[0] if label else meta.get("generateName", "").rstrip("-"))}

    def _on_workflow_state(self, state: dict) -> None:
        self.workflow_state = state
        self._update_run_actions()
        phase = state.get("phase")
        if phase in FINAL:
            self._load_runs()  # the picker shows the final phase
            message = state.get("message")
            self.show_notice(f"{state.get('name')} {phase.lower()}" + (f": {message}" if message else ""),
                             "info" if phase == "Succeeded" else "error")

    def _update_run_actions(self) -> None:
        phase = (self.workflow_state or {}).get("phase")
        actions = self._extra_run_actions()
        if self.comparing:
            actions.append({"action": "compare-off", "label": f"✕ End comparison with {self.comparing}",
                            "title": "Show this run alone"})
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
        if self.run is not None and verb.startswith("items@"):
            _, offset, phase = (verb.split("@") + ["", ""])[:3]
            self._items(path, int(offset or 0), phase or None)
            return True
        if self.run is not None and verb.startswith("show-run="):
            name = self._picked(verb[len("show-run="):].rpartition("/")[2])
            self.show_notice(None)
            self.follow(self.run.backend, name)
            return True
        if self.run is not None and (verb.startswith("compare=") or verb == "compare-off"):
            self.compare(self._picked(verb[len("compare="):]) if verb != "compare-off" else None)
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
        assert self.run is not None
        backend, name = self.run.backend, self.run.name
        step = path.rsplit("/", 1)[-1] if mode != "failed" and path else None
        manifest = self._rerun_manifest()
        reuse = reuse_set(manifest, backend.get(name), step, mode)
        new = backend.submit(manifest, wait=False, reuse_step=reuse)["metadata"]["name"]
        what = {"only": f"{step} alone", "from": f"from {step}", "failed": "the failed steps"}[mode]
        self.show_notice(f"Running {what} as {new}, reusing {len(reuse)} step(s) of {name}")
        self.follow(backend, new)

    def _picked(self, name: str) -> str:
        """``name`` if the run picker lists it (a name from the browser is not trusted further)."""
        if name not in {r["name"] for r in (self.runs or {}).get("runs", [])}:
            raise ValueError(f"run {name!r} is not one of the runs listed with {self.run.name if self.run else '-'!r}")
        return name

    def compare(self, other: str | None) -> dict | None:
        """Compare the followed run with run ``other`` on the graph (``None``: stop comparing): the nodes are
        marked changed/unchanged/added/removed (``runview.compare.compare_runs``), a step's panel shows both
        sides. Returns the comparison."""
        if self.run is None:
            raise ValueError("compare: the widget follows no run")
        comparison = None
        if other is not None:
            backend = self.run.backend
            comparison = compare_runs(backend.get(other), backend.get(self.run.name))
            for entry in comparison["paths"].values():
                entry.pop("ids", None)  # node ids are not shown
        self.comparing = other
        self.send({"type": "comparison", "comparison": comparison})
        self._update_run_actions()
        if self.runs:
            self.runs = {**self.runs, "comparing": other}
        return comparison

    def _items(self, path: str, offset: int, phase: str | None) -> None:
        """One page of a fan-out's items in the step panel (``runview.compare.fanout_items``)."""
        assert self.run is not None
        if phase is not None and phase not in PHASES:
            raise ValueError(f"step {path!r}: phase {phase!r} is not one of {list(PHASES)}")
        nodes = list(self.run.nodes.values())
        self.send({"type": "items", "page": fanout_items(nodes, self.run.name, path, phase, offset)})

    def _on_other_details(self, other: Any, path: Any, item: Any) -> None:
        """The panel of step ``path`` in run ``other`` (the other side of a comparison); no log following."""
        if self.run is None or not isinstance(path, str) or other != self.comparing:
            return
        backend, index = self.run.backend, item if isinstance(item, int) else None

        def answer() -> None:
            try:
                details = run_view(backend, other).details(path, index)
            except Exception as e:  # noqa: BLE001 - the panel shows this side as missing
                details = {"path": path, "inputs": [], "outputs": [], "error": str(e)}
            self.send({"type": "details", "details": details, "run": other})

        threading.Thread(target=answer, name="dflow-lab-details-other", daemon=True).start()

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

    def _send_elk_script(self) -> None:
        """elk's worker script, asked for by the widget when a layout needs elk (``js/widget/elkFromKernel.ts``):
        one binary buffer, kept out of the widget's ES module so that the message opening the widget stays small."""
        try:
            data = elk_script()
        except OSError as e:  # a build without it (FileNotFoundError names the file and the fix)
            self.send({"type": "elk-script", "error": f"dflow-lab widget: elk's script is unreadable: {e}"})
            return
        self.send({"type": "elk-script"}, buffers=[data])

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
