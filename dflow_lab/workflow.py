"""Workflows: build, compile, submit and query (``dflow.workflow``).

A workflow runs on the local engine (``config["mode"] = "local"``, the default; ``"debug"`` is an
alias) or on an Argo server (``"argo"``/``"default"``, or a ``host`` given to the workflow). Both
answer queries in Argo's status shape, so every query method works the same on either.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Dict, List, Optional, Union

from .argo.client import get_argo_api_client  # noqa: F401  (dflow.workflow exports it)
from .argo.compile import collect_templates, compile_workflow, dump_json, dump_yaml, load_yaml
from .argo.parse import workflow_from_dict
from .argo_objects import ArgoStep, ArgoWorkflow
from .config import config, s3_config
from .context_syntax import ContextBlock
from .dag import DAG
from .engine import Engine, prewarm_local_workers, select_engine, uses_argo
from .errors import CapabilityNotAvailable, WorkflowTypeError, WorkflowValueError
from .executors.container import runtime_setting
from .names import GENERATE_NAME_MAX, check_name_base, check_workflow_name, randstr
from .python.runtime import MARKER as PYTHON_OP_MARKER
from .step import Step
from .steps import Steps
from .task import Task
from .utils import upload_artifact
from .yamlsafe import load_json

#: the notebook front ends of :meth:`Workflow.edit` and :meth:`Workflow.watch`, as ``"module:Class"``. The
#: widgets are built on the model (they import it) and need anywidget, so they are named here and loaded on
#: call (:func:`front_end`), as the engines are (``engine.ENGINES``): the import graph keeps them above the model.
FRONT_ENDS: Dict[str, str] = {
    "edit": "dflow_lab.widgets:WorkflowCanvas",
    "watch": "dflow_lab.widgets:WorkflowMonitor",
}


def front_end(kind: str) -> Any:
    """The widget class of a front end of :data:`FRONT_ENDS` (``"edit"``, ``"watch"``), imported on first use."""
    module, _, name = FRONT_ENDS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


class DockerSecret:
    """Credentials for pulling images from a private registry (Argo only)."""

    def __init__(self, registry: str, username: str, password: str, name: Optional[str] = None) -> None:
        self.registry = registry
        self.username = username
        self._password = password
        self.name = name or "dflow-" + randstr()

    def __repr__(self) -> str:
        return f"DockerSecret(registry={self.registry!r}, username={self.username!r}, name={self.name!r})"


class Workflow(ContextBlock):
    """A workflow.

    Args:
        name: the name of the workflow (the run's id is ``name-xxxxx``)
        steps: a Steps template as the entrypoint (default: a new empty one)
        dag: a DAG template as the entrypoint
        namespace / host / token / k8s_config_file / k8s_api_server: Argo connection, overriding config
        id: the id of an existing workflow, to query or control it
        context: a Context (or Executor) that renders every template
        annotations / labels: metadata of the workflow
        parallelism: at most this many pods of the workflow run at once
        pod_gc_strategy: OnPodCompletion, OnPodSuccess, OnWorkflowCompletion or OnWorkflowSuccess
        image_pull_secrets: registry secrets (names or DockerSecret)
        artifact_repo_key: use the artifact repository configured under this key (Argo)
        parameters: global input parameters, used as ``{{workflow.parameters.NAME}}``
    """

    def __init__(
        self,
        name: str = "workflow",
        steps: Optional[Steps] = None,
        dag: Optional[DAG] = None,
        namespace: Optional[str] = None,
        id: Optional[str] = None,
        uid: Optional[str] = None,
        host: Optional[str] = None,
        token: Optional[str] = None,
        k8s_config_file: Optional[Any] = None,
        k8s_api_server: Optional[str] = None,
        context: Any = None,
        annotations: Optional[Dict[str, str]] = None,
        labels: Optional[Dict[str, str]] = None,
        parallelism: Optional[int] = None,
        pod_gc_strategy: Optional[str] = None,
        image_pull_secrets: Union[str, DockerSecret, List[Union[str, DockerSecret]], None] = None,
        artifact_repo_key: Optional[str] = None,
        parameters: Optional[Dict[str, Any]] = None,
    ) -> None:
        check_name_base(name, field="name", limit=GENERATE_NAME_MAX - 1)  # generateName is name + "-"
        self.name = name
        self.namespace = namespace
        self.id = check_workflow_name(id, field="id") if id is not None else None
        self.uid = uid
        self.host = host
        self.token = token
        self.k8s_config_file = k8s_config_file
        self.k8s_api_server = k8s_api_server
        self.context = context
        self.annotations = dict(annotations or {})
        self.labels = dict(labels or {})
        self.parallelism = parallelism
        if pod_gc_strategy is not None and pod_gc_strategy not in (
            "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion", "OnWorkflowSuccess"
        ):
            raise WorkflowValueError(
                "pod_gc_strategy must be OnPodCompletion, OnPodSuccess, OnWorkflowCompletion or OnWorkflowSuccess",
                workflow=name,
                field="pod_gc_strategy",
            )
        self.pod_gc_strategy = pod_gc_strategy
        if image_pull_secrets is not None and not isinstance(image_pull_secrets, list):
            image_pull_secrets = [image_pull_secrets]
        self.image_pull_secrets = image_pull_secrets or []
        self.artifact_repo_key = artifact_repo_key
        self.parameters: Dict[str, Any] = dict(parameters or {})
        self.on_exit: Optional[str] = None
        self.extra_templates: List[Any] = []
        self.spec_extra: Dict[str, Any] = {}
        self.graph_layout: Optional[Dict[str, Any]] = None  # the canvas's layout, kept by graph round trips
        if steps is not None and dag is not None:
            raise WorkflowValueError("give steps or dag as the entrypoint, not both", workflow=name)
        self._entrypoint: Any = None  # chosen by the first add() when neither steps nor dag is given
        if steps is not None:
            if not isinstance(steps, Steps):
                raise WorkflowTypeError(f"steps must be a Steps template, got {type(steps).__name__}", workflow=name)
            self._entrypoint = steps
        elif dag is not None:
            if not isinstance(dag, DAG):
                raise WorkflowTypeError(f"dag must be a DAG template, got {type(dag).__name__}", workflow=name)
            self._entrypoint = dag
        self._backend_obj: Engine | None = None

    def __repr__(self) -> str:
        return f"Workflow(name={self.name!r}, id={self.id!r})"

    # -- building ------------------------------------------------------------------------------
    @property
    def entrypoint(self) -> Any:
        """The entrypoint template: the ``steps``/``dag`` given, else a Steps (or, when tasks are added
        first, a DAG) named after the workflow."""
        if self._entrypoint is None:
            self._entrypoint = Steps(name=f"{self.name}-steps")
        return self._entrypoint

    @entrypoint.setter
    def entrypoint(self, template: Any) -> None:
        self._entrypoint = template

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        """``with Workflow(...) as wf:`` — steps/tasks made in the block join it; it is submitted at the end
        (unless the block raised)."""
        super().__exit__(exc_type, exc_val, exc_tb)
        if exc_type is None:
            self.submit()

    def add(self, step: Union[Step, List[Step], Task, List[Task]]) -> None:
        """Add a step (or a list of parallel steps) to a Steps entrypoint, or tasks to a DAG one."""
        if self._entrypoint is None:
            items = step if isinstance(step, (list, tuple)) else [step]
            if items and all(isinstance(s, Task) for s in items):
                self._entrypoint = DAG(name=f"{self.name}-dag")
        if not isinstance(self.entrypoint, (Steps, DAG)):
            raise WorkflowTypeError(
                f"the entrypoint {self.entrypoint.name!r} is a single template; steps are added to Steps or DAG",
                workflow=self.name,
            )
        self.entrypoint.add(step)

    # -- compiling -----------------------------------------------------------------------------
    def convert_to_argo(self, reuse_step: Optional[List[Any]] = None) -> Dict[str, Any]:
        return compile_workflow(self)

    def to_dict(self) -> Dict[str, Any]:
        """The Argo Workflow manifest (a plain dict, valid against Argo's schema)."""
        return self.convert_to_argo()

    def to_json(self, **kwargs: Any) -> str:
        return dump_json(self.to_dict(), **kwargs)

    def to_yaml(self, **kwargs: Any) -> str:
        return dump_yaml(self.to_dict(), **kwargs)

    def deduplicate_templates(self) -> None:
        """Templates are de-duplicated at compile time; kept for dflow compatibility."""

    def handle_template(self, template: Any, memoize_prefix: Optional[str] = None, memoize_configmap: str = "dflow") -> None:
        template.handle_key(memoize_prefix, memoize_configmap)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> Workflow:
        """Rebuild a workflow from an Argo Workflow manifest."""
        return workflow_from_dict(cls, d)

    @classmethod
    def from_json(cls, s: str) -> Workflow:
        return cls.from_dict(load_json(s, source="manifest"))

    @classmethod
    def from_yaml(cls, s: str) -> Workflow:
        return cls.from_dict(load_yaml(s))

    # -- graph (dflow_lab.graph) ---------------------------------------------------------------
    def to_graph(self) -> Dict[str, Any]:
        # lazy: model ⇄ graph loop: graph/ imports this module (Workflow.to_graph delegates)
        from .graph.convert import to_graph

        return to_graph(self)

    def to_graph_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_graph(), **kwargs)

    def to_graph_yaml(self, **kwargs: Any) -> str:
        kwargs.setdefault("sort_keys", False)
        return dump_yaml(self.to_graph(), **kwargs)

    @classmethod
    def from_graph(cls, graph: Dict[str, Any]) -> Workflow:
        # lazy: model ⇄ graph loop: graph/ imports this module (Workflow.from_graph delegates)
        from .graph.convert import workflow_from_graph

        return workflow_from_graph(graph)

    @classmethod
    def from_graph_json(cls, j: str, **kwargs: Any) -> Workflow:
        # lazy: model ⇄ graph loop: graph/ imports this module (Workflow.from_graph_* delegate)
        from .graph.convert import load_graph

        return cls.from_graph(load_graph(j, "json", **kwargs))

    @classmethod
    def from_graph_yaml(cls, y: str, **kwargs: Any) -> Workflow:
        # lazy: model ⇄ graph loop: graph/ imports this module (Workflow.from_graph_* delegate)
        from .graph.convert import load_graph

        return cls.from_graph(load_graph(y, "yaml"))

    def get_graph_templates(self, template: Any, graph_templates: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        # lazy: model ⇄ graph loop: graph/ imports this module (Workflow.to_graph delegates)
        from .graph.convert import to_graph

        graph_templates = {} if graph_templates is None else graph_templates
        graph_templates[template.name] = to_graph(template)
        return graph_templates

    def to_networkx(self) -> Any:
        """A ``networkx.DiGraph`` of the steps/tasks with data and control edges."""
        # lazy: model ⇄ graph loop: graph/ imports this module (Workflow.to_networkx delegates)
        from .graph.convert import to_networkx

        return to_networkx(self)

    # -- notebook widgets (dflow_lab.widgets) ---------------------------------------------------
    def edit(self, **kwargs: Any) -> Any:
        """Edit this workflow on a canvas in a notebook cell (``WorkflowCanvas(self, **kwargs)``)."""
        return front_end("edit")(self, **kwargs)

    def watch(self, **kwargs: Any) -> Any:
        """Watch this submitted workflow run live in a notebook cell (``WorkflowMonitor(self, **kwargs)``)."""
        return front_end("watch")(self, **kwargs)

    # -- engines -------------------------------------------------------------------------------
    def uses_argo(self) -> bool:
        """Whether this workflow goes to an Argo server: ``config["mode"]`` is ``"argo"``/``"default"``,
        or a host is configured (``Workflow(host=…)``, ``config["host"]`` or ``DFLOW_HOST``)."""
        return uses_argo(self.host)

    @property
    def backend(self) -> Engine:
        """The engine this workflow talks to: the local engine or an Argo server (see docs/internals.md)."""
        return self._backend()

    def _backend(self) -> Engine:
        if self._backend_obj is None:
            self._backend_obj = select_engine(host=self.host, token=self.token, namespace=self.namespace)
        return self._backend_obj

    def _require_id(self, what: str) -> str:
        if not self.id:
            raise WorkflowValueError(f"{what} needs a submitted workflow: call submit() first, or give id=",
                                     workflow=self.name)
        return self.id

    def submit(self, reuse_step: Optional[List[Any]] = None, wait: Optional[bool] = None) -> Any:
        """Submit the workflow. Locally it runs to the end unless ``wait=False`` or ``config["detach"]``;
        on Argo it returns once submitted. ``reuse_step``: steps of an earlier run whose results are
        reused for the steps with the same key."""
        if wait is not False and not self.uses_argo() and not config.get("detach") and self._has_local_python_ops():
            prewarm_local_workers()  # the warm workers start while the workflow is compiled, checked and stored
        if self.uses_argo() and (s3_config.get("storage") == "s3" or s3_config.get("storage_client")):
            self._bind_python_packages()
        elif not self.uses_argo():
            self._bind_python_packages(leaving_host_only=True)
        manifest = self.to_dict()
        backend = self._backend()
        if wait is None:
            wait = not self.uses_argo() and not config.get("detach")
        kwargs: Dict[str, Any] = {"wait": wait}
        if reuse_step:
            kwargs["reuse_step"] = list(reuse_step)
        result = backend.submit(manifest, **kwargs)
        self.id = result["metadata"]["name"]
        self.uid = result["metadata"].get("uid")
        return ArgoWorkflow(result)

    def _has_local_python_ops(self) -> bool:
        """Whether a step of this workflow is a Python OP the local engine's workers run (no executor)."""
        return any(str(getattr(t, "script", "") or "").startswith(PYTHON_OP_MARKER)
                   for t in collect_templates(self.entrypoint, self.context))

    def _bind_python_packages(self, leaving_host_only: bool = False) -> None:
        """On Argo with an S3 repository, Python OP steps get their packages (``python_packages``/
        ``upload_dflow``) as the uploaded artifact ``dflow_python_packages``, one upload per distinct set of
        packages. Without one (the local engine, or ``dflow-lab server`` on this machine) the runtime
        uses the host's paths instead, except in steps that leave the host (``leaving_host_only``: an
        executor, or a container runtime configured for the local engine), which get the artifact."""
        uploaded: Dict[tuple, Any] = {}
        for t in collect_templates(self.entrypoint, self.context):
            steps = t.all_steps() if isinstance(t, Steps) else t.tasks if isinstance(t, DAG) else []
            for step in steps:
                packages = getattr(step.template, "python_packages", None)
                if not packages or "dflow_python_packages" not in step.template.inputs.artifacts:
                    continue
                if "dflow_python_packages" in step.given_artifacts:
                    continue
                if leaving_host_only and step.executor is None and runtime_setting(config) is None:
                    continue
                key = tuple(sorted(str(p) for p in packages))
                if key not in uploaded:
                    # lazy: start-up time (measured 10-20 ms idle, 40-90 ms at load 12: multiprocessing and
                    # jsonpickle); a local run whose steps stay on the host uploads nothing

                    uploaded[key] = upload_artifact(list(key))
                step.set_artifacts({"dflow_python_packages": uploaded[key]})

    def query(self, fields: Optional[List[str]] = None, retry: int = 3) -> Any:
        """The workflow with its status (an ``ArgoWorkflow``)."""
        return ArgoWorkflow(self._backend().get(self._require_id("query"), fields))

    def query_status(self) -> str:
        """Pending, Running, Succeeded, Failed, Error…"""
        d = self._backend().get(self._require_id("query_status"), ["metadata.name", "status.phase"])
        return (d.get("status") or {}).get("phase") or "Pending"

    def query_step(
        self,
        name: Union[str, List[str], None] = None,
        key: Union[str, List[str], None] = None,
        phase: Union[str, List[str], None] = None,
        id: Union[str, List[str], None] = None,
        type: Union[str, List[str], None] = None,
    ) -> List[Any]:
        """Steps of the workflow filtered by name (regex), key, phase, id and type."""
        return self.query().get_step(name=name, key=key, phase=phase, id=id, type=type)

    def query_step_by_key(
        self,
        key: Union[str, List[str]],
        name: Union[str, List[str], None] = None,
        phase: Union[str, List[str], None] = None,
        id: Union[str, List[str], None] = None,
        type: Union[str, List[str], None] = None,
    ) -> List[Any]:
        """Steps with the given key(s)."""
        return self.query_step(name=name, key=key, phase=phase, id=id, type=type)

    def query_keys_of_steps(self) -> List[str]:
        """The keys of the steps run so far."""
        keys = []
        for step in self.query_step():
            k = getattr(step, "key", None)
            if k and k not in keys:
                keys.append(k)
        return keys

    def query_global_outputs(self) -> Any:
        """The workflow's global outputs (exported with global_name), indexed by name as on dflow.

        ``parameters`` and ``artifacts`` are dicts by name; a big parameter (exported as the artifact
        ``dflow_bigpar_<global name>``) is also a parameter ``<global name>`` whose ``.value`` is loaded on
        demand. None when the workflow has no global outputs.
        """
        wf_id = self._require_id("query_global_outputs")
        d = self._backend().get(wf_id, ["metadata.name", "status.outputs"])
        outputs = (d.get("status") or {}).get("outputs")
        if not outputs:
            return None
        step = ArgoStep({"outputs": outputs}, (d.get("metadata") or {}).get("name") or wf_id)
        return step.outputs

    def wait(self, interval: float = 1) -> Any:
        """Wait until the workflow ends; returns it with its final status."""
        return ArgoWorkflow(self._backend().wait(self._require_id("wait")))

    def delete(self) -> None:
        """Delete the workflow."""
        self._backend().delete(self._require_id("delete"))

    def resubmit(self) -> None:
        """Run the workflow again as a new workflow."""
        d = self._backend().resubmit(self._require_id("resubmit"))
        self.id = d["metadata"]["name"]

    def resume(self) -> None:
        """Resume a suspended workflow (or continue a local one whose engine died)."""
        self._backend().resume(self._require_id("resume"))

    def retry(self) -> None:
        """Retry the failed steps of a failed workflow."""
        self._backend().retry(self._require_id("retry"))

    def retry_steps(self, step_ids: List[str]) -> None:
        """Retry the given steps (by node id) and what depends on them."""
        self._backend().retry(self._require_id("retry_steps"), node_ids=list(step_ids))

    def stop(self) -> None:
        """Stop the workflow: running steps finish their exit handlers, no new step starts."""
        self._backend().stop(self._require_id("stop"))

    def suspend(self) -> None:
        """Suspend the workflow: no new step starts until resume()."""
        self._backend().suspend(self._require_id("suspend"))

    def terminate(self) -> None:
        """Terminate the workflow immediately."""
        self._backend().terminate(self._require_id("terminate"))

    # -- dflow API members that need a Kubernetes cluster ---------------------------------------
    def get_k8s_core_v1_api(self) -> Any:
        raise CapabilityNotAvailable("Workflow.get_k8s_core_v1_api", "a Kubernetes cluster")

    def handle_reused_step(self, step: Any) -> None:
        """Reused steps are handed to the engine by submit(reuse_step=…)."""

    def handle_reused_artifact(self, step: Any, name: str, art: Any) -> None:
        """Reused artifacts are handed to the engine with their steps by submit(reuse_step=…)."""

    def handle_reused_artifact_with_copy(self, step: Any, name: str, art: Any) -> None:
        """Reused artifacts are handed to the engine with their steps by submit(reuse_step=…)."""


def parse_repo(repo_key: Optional[str] = None, namespace: Optional[str] = None, **kwargs: Any) -> Dict[str, Any]:
    """Read the artifact repository ``repo_key`` from the cluster's ``artifact-repositories`` config map."""
    raise CapabilityNotAvailable("parse_repo", "a Kubernetes cluster with an artifact-repositories config map")


def current_backend() -> Engine:
    """The engine the current configuration points at (local workspace or Argo server)."""
    return select_engine()



def query_workflows(labels: Optional[Dict[str, str]] = None, fields: Optional[List[str]] = None) -> List[Any]:
    """Workflows of the current engine (local workspace or Argo namespace), filtered by labels."""
    return [ArgoWorkflow(d) for d in current_backend().list(labels)]


def query_archived_workflows(labels: Optional[Dict[str, str]] = None, id: Optional[str] = None) -> List[Any]:
    """Archived workflows (Argo's workflow archive; locally, the finished workflows)."""
    items = current_backend().list_archived(labels)
    if id is not None:
        items = [d for d in items if d["metadata"].get("uid") == id or d["metadata"].get("name") == id]
    return [ArgoWorkflow(d) for d in items]
