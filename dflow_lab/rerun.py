"""``reuse_set``: the steps of an earlier run that a partial re-run reuses, for dflow's ``submit(reuse_step=…)``.

The iterate loop on dflow's own mechanism::

    old = Workflow(id="screen-abc12")                                   # an earlier run
    wf = build_workflow(threshold=0.8)                                  # the same workflow, one step changed
    wf.submit(reuse_step=reuse_set(wf, old, "filter", mode="from"))     # re-run filter and what follows it

``mode`` is ``"only"`` (run this step alone on the run's outputs), ``"from"`` (this step and everything
downstream) or ``"failed"`` (the steps that failed or errored in the run and everything downstream; no
step named). The answer is a list of ``ArgoStep`` — the run's succeeded steps that are not re-run, each
with its key: the step's own ``key``, or for a step without one the derived key the engines give it
when they submit with ``reuse_step`` (``<parent key or entry template>.<step>`` and ``.<item>`` for a
fan-out item; ``dflow_lab.argo.reuse`` states the rules and limits). The outputs are the run's: nothing
is copied, so reused artifacts are the run's artifacts byte for byte. Like any ``reuse_step`` list it can
be edited first (``modify_output_parameter``/``modify_output_artifact``).

A step whose upstream steps have no successful result in the run is refused before anything is
submitted: ``dflow_lab.argo.reuse.UpstreamMissing`` (a ``ValueError``) names them. Both engines run the
re-run the same way: the local engine matches keys directly, Argo through memoization caches as dflow
does; the reused nodes carry ``memoizationStatus.hit`` and the workflow the annotation
``dflow-lab/reused-from`` naming the run.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any, List, Optional

from .argo.reuse import plan
from .argo_objects import ArgoStep, ArgoWorkflow
from .workflow import current_backend

__all__ = ["DOCUMENT_LABEL", "document_label", "latest_run", "reuse_set", "runs_of"]

DOCUMENT_LABEL = "dflow-lab/document"  # the label that groups the runs of one document (run history)


def _run_object(run: Any) -> dict:
    if isinstance(run, ArgoWorkflow):
        return run.recover()
    if isinstance(run, dict):
        return run
    if isinstance(run, str):
        return current_backend().get(run)
    if getattr(run, "id", None):  # a Workflow that was submitted
        return run.query().recover()
    raise TypeError(f"reuse_set: run must be a workflow ID, a submitted Workflow or a workflow object, "
                    f"not {type(run).__name__}")


def reuse_set(workflow: Any, run: Any, step: Optional[str] = None, mode: str = "from") -> List[Any]:
    """The ``ArgoStep`` list to pass as ``submit(reuse_step=…)`` to re-run ``step`` (or, with
    ``mode="failed"``, the failed steps) of ``workflow`` on the results of ``run``.

    ``workflow``: the ``Workflow`` about to be submitted (or its manifest dict); ``run``: the earlier run (a
    workflow ID, a submitted ``Workflow``, an ``ArgoWorkflow`` or its dict); ``step``: a step name, or
    ``template.step`` when the name is used in several templates."""
    manifest = workflow if isinstance(workflow, dict) else workflow.to_dict()
    run_obj = _run_object(run)
    p = plan(manifest, run_obj, mode, [step] if step else [])
    out = []
    for node in p.reuse:
        s = ArgoStep(node, p.run)
        s.key = p.keys[node["id"]]
        out.append(s)
    return out


def document_label(path: str) -> str:
    """The ``dflow-lab/document`` label value of a document file: its name (cut to fit a label) and a hash
    of its absolute path, so two documents of the same name in different folders keep separate histories."""
    full = os.path.abspath(path)
    base = os.path.basename(full)
    for suffix in (".dflow.json", ".dflow.yaml", ".json", ".yaml", ".yml"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", base).strip("-_.")[:40] or "doc"
    return f"{stem}-{hashlib.sha1(full.encode()).hexdigest()[:10]}"


def runs_of(label: str, backend: Any = None) -> List[dict]:
    """The runs of a document (its ``dflow-lab/document`` label), newest first."""
    if backend is None:
        backend = current_backend()
    runs = [w.recover() if hasattr(w, "recover") else w for w in backend.list({DOCUMENT_LABEL: label})]
    # newest first; runs created within the same second keep the backend's order (newest first too)
    return sorted(runs, key=lambda w: (w.get("metadata") or {}).get("creationTimestamp") or "", reverse=True)


def latest_run(label: str, backend: Any = None) -> Optional[str]:
    """The newest run of a document, or ``None``."""
    runs = runs_of(label, backend)
    return (runs[0].get("metadata") or {}).get("name") if runs else None
