"""``WorkflowCanvas``: edit a workflow as a graph in a notebook cell, in sync with the Python model."""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any, Iterable

import yaml

from ..code_gen import gen_code
from ..config import config
from ..engine import local_engine
from ..graph.builtins import builtin_entries
from ..graph.validate import validate
from ..python.discovery import folder_entries
from ..python.newop import write_function_op
from ..rerun import DOCUMENT_LABEL, document_label
from ..runview.palette import op_entries, workflow_entries
from ..workflow import Workflow
from .base import GraphWidget

logger = logging.getLogger(__name__)


def empty_graph(name: str = "workflow") -> dict[str, Any]:
    """The graph of a workflow with an empty DAG entrypoint."""
    return {"version": 1, "name": name, "entrypoint": "main", "templates": {"main": {"kind": "dag"}}}


def _without_layout(graph: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in graph.items() if k != "layout"}


def _with_layout(graph: dict[str, Any], layout: Any) -> dict[str, Any]:
    """``graph`` keeping the editor layout of the document it replaces (positions of nodes still there)."""
    if not layout or graph.get("layout"):
        return graph
    return {**graph, "layout": copy.deepcopy(layout)}


class WorkflowCanvas(GraphWidget):
    """A drag-and-drop editor of a workflow: ``WorkflowCanvas(wf)`` or ``wf.edit()``.

    ``canvas.workflow`` is the edited ``Workflow`` (the same object while nothing was edited in the canvas);
    edits on either side show on the other: canvas edits update the graph document (``canvas.graph``),
    and a change in Python to the bound workflow (the one given, or the last ``canvas.workflow`` handed
    out after canvas edits) redraws the canvas after the cell that made it has run.

    ``ops``: import paths of modules whose Python OPs the palette offers beside the workflow's templates.
    ``save_path``: where the Save button writes the graph (default ``<workflow name>.dflow.json``).
    ``ops_folder``: where "New Python OP…" writes (``ops.py``; default: the working directory, the notebook's
    folder). A step running a Python OP offers "Open source": JupyterLab (with dflow-lab's extension) opens
    its module in an editor at the definition; any other page shows the module's text in the canvas.

    The "</> Code" button puts ``canvas.code`` in a new notebook cell below the canvas's cell where the page
    can (JupyterLab and Notebook 7 with dflow-lab's extension), and else writes it to a file (``save_code``).
    """

    def __init__(
        self,
        workflow: Any = None,
        *,
        ops: Iterable[str] = (),
        height: int = 640,
        save_path: str | Path | None = None,
        ops_folder: str | Path | None = None,
        **kwargs: Any,
    ) -> None:
        graph = workflow.to_graph() if workflow is not None else empty_graph()
        self._ops = op_entries(list(ops))
        self._builtins = builtin_entries()
        super().__init__(view="canvas", graph=graph, height=height, **kwargs)
        self.save_path = Path(save_path) if save_path else None
        self.ops_folder = Path(ops_folder) if ops_folder else Path.cwd()
        self._action_view: str | None = None  # the view whose button sent the action being handled
        self._cell_offers = 0  # how many times code was offered to a view for a new cell
        self._waiting_offer: int | None = None  # the offer whose answer is awaited
        self._source = workflow
        self._source_graph = _without_layout(graph)
        self._last_run: tuple[Any, str] | None = None  # the run followed before "✎ Back to editor"
        self._refresh()
        self.observe(self._on_graph, names="graph")
        self._hook = self._register_hook()

    # -- the model side -----------------------------------------------------------------------
    @property
    def workflow(self) -> Any:
        """The edited workflow: the bound workflow while the canvas has not changed it, else the model built
        from the graph (raises ``GraphValidationError`` if the graph is invalid), which becomes bound: a
        change made to it in Python redraws the canvas after the cell that made it."""
        if self._source is None:
            self._bind(Workflow.from_graph(self.graph))
        return self._source

    @workflow.setter
    def workflow(self, workflow: Any) -> None:
        self._bind(workflow)
        self.graph = _with_layout(workflow.to_graph(), self.graph.get("layout"))

    def _bind(self, workflow: Any) -> None:
        self._source = workflow
        self._source_graph = _without_layout(workflow.to_graph())

    def sync(self) -> bool:
        """Redraw from the bound workflow if it changed in Python since it was last drawn; True if it did."""
        if self._source is None:
            return False
        graph = self._source.to_graph()
        bare = _without_layout(graph)
        if bare == self._source_graph:
            return False
        self._source_graph = bare
        self.graph = _with_layout(graph, self.graph.get("layout"))
        return True

    def _register_hook(self) -> Any:
        try:
            # lazy: IPython is present only inside a kernel; the widget also works without it
            from IPython import get_ipython
        except ImportError:
            return None
        ip = get_ipython()
        if ip is None:
            return None

        def after_cell(_result: Any = None) -> None:
            try:
                self.sync()
            except Exception as e:  # the workflow is mid-edit in Python: show why it cannot be drawn
                self.show_notice(f"cannot redraw the workflow: {e}", "error")

        ip.events.register("post_run_cell", after_cell)
        return ip, after_cell

    def close(self) -> None:
        if getattr(self, "_hook", None):
            ip, hook = self._hook
            ip.events.unregister("post_run_cell", hook)
            self._hook = None
        super().close()

    # -- the document side --------------------------------------------------------------------
    def _on_graph(self, change: dict) -> None:
        if self._source is not None and _without_layout(self.graph) != self._source_graph:
            self._source = None  # edited on the canvas: the graph is now the document of record
        elif self._source is not None:  # only the layout changed (moves, comments, groups): the workflow keeps it
            self._source.graph_layout = copy.deepcopy(self.graph.get("layout"))
        self._refresh()

    def _refresh(self) -> None:
        """Validate the document and update the palette and toolbar."""
        try:
            self.issues = [issue.to_dict() for issue in validate(self.graph)]
        except Exception as e:  # validation itself failed: show it rather than a stale list
            logger.exception("dflow-lab canvas: validate")
            self.issues = [{"code": "internal", "message": f"validation failed: {e}", "template": None,
                            "node": None, "port": None, "path": []}]
        own = workflow_entries(self.graph)
        defined = {json.dumps(e["template"], sort_keys=True): e for e in self._ops if e.get("file")}
        for e in own:  # a step running an offered OP keeps where that OP is defined ("Open source")
            where = defined.get(json.dumps(e["template"], sort_keys=True))
            if where:
                e.update(file=where["file"], **({"line": where["line"]} if where.get("line") else {}))
        used = {json.dumps(e["template"], sort_keys=True) for e in own}
        self.palette = own + self._builtins + [
            e for e in self._ops if json.dumps(e["template"], sort_keys=True) not in used]
        if self.view == "canvas":
            self.actions = self._edit_actions()

    def _edit_actions(self) -> list[dict]:
        argo = bool(config.get("host"))
        entry = (self.graph.get("templates") or {}).get(self.graph.get("entrypoint")) or {}
        empty = not entry.get("nodes")
        ok = not self.issues and not empty
        why = "The workflow is empty: drag a template from the palette first" if empty else "Fix the problems first"
        return [
            {"action": "save", "label": "Save", "title": "Save the graph as JSON or YAML"},
            {"action": "code", "label": "</> Code", "title": "Generate the Python code of this workflow"},
            {"action": "run", "label": "▶ Run locally", "primary": True, "enabled": ok,
             "title": "Run on this machine and watch it" if ok else why},
            {"action": "submit", "label": "Submit to Argo", "enabled": argo and ok,
             "title": why if not ok else "Submit to the configured Argo server" if argo
             else "Set config['host'] to submit to Argo"},
        ] + ([{"action": "monitor", "label": "◉ Runs",
               "title": f"Back to the monitor of {self._last_run[1]}: re-run its steps with this graph, "
                        "compare its runs"}] if self._last_run else [])

    def _rerun_manifest(self) -> dict:
        """A partial re-run from the canvas runs the graph as edited now (a changed parameter takes effect)."""
        return self._labelled(self.workflow.to_dict())

    def _labelled(self, manifest: dict) -> dict:
        """``manifest`` labelled as a run of this canvas's document (its save path), so the run picker lists
        every run made from this canvas, and only those."""
        doc = self.save_path or Path(f"{self.graph.get('name', 'workflow')}.dflow.json")
        meta = manifest.setdefault("metadata", {})
        meta["labels"] = {**(meta.get("labels") or {}), DOCUMENT_LABEL: document_label(str(doc))}
        return manifest

    def _extra_run_actions(self) -> list[dict]:
        return [{"action": "edit", "label": "✎ Back to editor", "title": "Edit the workflow again"}]

    # -- buttons ------------------------------------------------------------------------------
    def _dispatch(self, widget: Any, content: dict, buffers: list) -> None:
        """Messages of the canvas's views: those of the base widget, plus the answer to a code cell offer."""
        if not isinstance(content, dict):
            return
        if content.get("type") == "cell":
            try:
                self._on_cell_answer(content)
            except Exception as e:  # the fallback file cannot be written: say so in the widget
                logger.exception("dflow-lab canvas: code cell")
                self.show_notice(str(e), "error")
            return
        if content.get("type") in ("new-op", "source"):
            request = content.get("request")
            try:
                answer = self._new_op(content.get("spec")) if content["type"] == "new-op" \
                    else self._source_of(content.get("file"), content.get("line"))
                self.send({"type": content["type"], "request": request, "error": None, **answer})
            except Exception as e:  # the form (or the source view) shows why, nothing was written
                if not isinstance(e, (ValueError, OSError)):
                    logger.exception("dflow-lab canvas: %s", content["type"])
                if content["type"] == "source":  # no form to show it in
                    self.show_notice(str(e), "error")
                self.send({"type": content["type"], "request": request, "error": str(e)})
            return
        view = content.get("view")
        self._action_view = view if isinstance(view, str) and view else None
        try:
            super()._dispatch(widget, content, buffers)
        finally:
            self._action_view = None

    def _on_action(self, action: str) -> None:
        if action == "save":
            path = self.save()
            self.show_notice(f"Saved to {path}")
        elif action == "code":
            self._offer_code_cell()
        elif action == "run":
            self.run_locally()
        elif action == "submit":
            self.submit()
        elif action == "edit":
            if self.run is not None:
                self._last_run = (self.run.backend, self.run.name)  # "◉ Runs" goes back to it
                self.run.stop()
                self.run = None
            self.view = "canvas"
            self.show_notice(None)
            self.actions = self._edit_actions()
        elif action == "monitor" and self._last_run is not None:
            self.show_notice(None)
            self.follow(*self._last_run)
        elif not self._run_action(action):
            raise ValueError(f"unknown action {action!r}")

    def _offer_code_cell(self) -> None:
        """Send the code to the view whose button asked for it, to put in a new notebook cell; its answer
        (``_on_cell_answer``) says whether it did. Without a view to answer, write the file at once."""
        if self._action_view is None:
            self._write_code_file()
            return
        code = self.code
        self._cell_offers += 1
        self._waiting_offer = self._cell_offers
        self.send({"type": "insert-cell", "view": self._action_view, "request": self._cell_offers, "code": code})

    def _on_cell_answer(self, content: dict) -> None:
        if self._waiting_offer is None or content.get("request") != self._waiting_offer:
            return  # an answer to an earlier press, superseded, or already answered
        self._waiting_offer = None
        if content.get("inserted") is True:
            self.show_notice("Code inserted in a new cell below")
        else:
            self._write_code_file(" (this page cannot add a notebook cell)")

    def _write_code_file(self, why: str = "") -> None:
        path = self.save_code()
        self.show_notice(f"Python code written to {path}{why}")

    # -- Python OPs written from the canvas ---------------------------------------------------
    def _new_op(self, spec: Any) -> dict:
        """"New Python OP…": append an ``@OP.function`` to ``ops_folder/<module>.py`` (``ops.py``; the
        kernel's working directory, the notebook's folder, by default) and offer its OPs in the palette."""
        if not isinstance(spec, dict):
            raise ValueError("New Python OP: the form sent no OP")
        folder = Path(self.ops_folder).resolve()
        module = str(spec.get("module") or "ops")
        written = write_function_op(folder, module, spec.get("name"), spec.get("inputs") or [],
                                    spec.get("outputs") or [], spec.get("body"))
        entries, errors = folder_entries(folder, folder)
        mine = [e for e in entries if str(e["template"].get("op", "")).startswith(f"{module}:")]
        if not any(e["template"].get("op") == f"{module}:{spec.get('name')}" for e in mine):
            why = "; ".join(e["message"] for e in errors if e["source"] == f"{module}.py") or "it was not found"
            raise ValueError(f"New Python OP: {written['file']} was written but its OP cannot be offered: {why}")
        for e in mine:  # where the step's "Open source" goes: the file, absolute (the kernel's view)
            e["file"] = str(folder / e["file"]) if e.get("file") and not Path(e["file"]).is_absolute() else e.get("file")
        ops = {e["template"].get("op") for e in mine}
        self._ops = [e for e in self._ops if e["template"].get("op") not in ops] + mine
        self._refresh()
        self.show_notice(f"{spec.get('name')} written to {written['file']}; it is in the palette under "
                         f"{written['file'].name}")
        return {"file": str(written["file"]), "line": written["line"]}

    def _source_of(self, file: Any, line: Any) -> dict:
        """The text of a palette OP's module, for "Open source" where the page cannot open an editor on it;
        only the files the palette's OPs come from are read (at most 200,000 characters)."""
        known = {e.get("file") for e in self._ops if e.get("file")}
        if not isinstance(file, str) or file not in known:
            raise ValueError(f"Open source: {file!r} is not the file of an OP in this palette")
        text = Path(file).read_text(errors="replace")
        return {"file": file, "line": line if isinstance(line, int) else None, "text": text[:200_000],
                "cut": len(text) > 200_000}

    def save(self, path: str | Path | None = None) -> Path:
        """Write the graph document: YAML for ``.yaml``/``.yml`` paths, else JSON. Returns the path."""
        target = Path(path or self.save_path or f"{self.graph.get('name', 'workflow')}.dflow.json")
        if target.suffix in (".yaml", ".yml"):
            text = yaml.safe_dump(self.graph, sort_keys=False)
        else:
            text = json.dumps(self.graph, indent=2) + "\n"
        target.write_text(text)
        return target

    @property
    def code(self) -> str:
        """The Python code that rebuilds this workflow (``dflow_lab.code_gen.gen_code``)."""
        return gen_code(self.graph)

    def save_code(self, path: str | Path | None = None) -> Path:
        """Write ``self.code`` to ``path`` (default ``<workflow name>_workflow.py``). Returns the path."""
        target = Path(path or f"{self.graph.get('name', 'workflow').replace('-', '_')}_workflow.py")
        target.write_text(self.code)
        return target

    def run_locally(self) -> Any:
        """Run the edited workflow with the local engine and switch the canvas to its live monitor."""
        workflow = self.workflow
        backend = local_engine()
        result = backend.submit(self._labelled(workflow.to_dict()), wait=False)
        workflow.id = result["metadata"]["name"]
        self.show_notice(f"Running {workflow.id} locally")
        return self.follow(backend, workflow.id)

    def submit(self) -> Any:
        """Submit the edited workflow to the configured Argo server and switch to its live monitor."""
        if not config.get("host"):
            raise ValueError("Submit to Argo: no Argo server configured (set dflow_lab.config['host'])")
        workflow = self.workflow
        workflow.submit(wait=False)
        self.show_notice(f"Submitted {workflow.id} to {config['host']}")
        return self.follow(workflow._backend(), workflow.id)
