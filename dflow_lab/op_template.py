"""OP templates: what a step runs (``dflow.op_template``).

``ScriptOPTemplate`` and its kinds (shell, Python script, container) compile to Argo ``script`` /
``container`` templates. A template may be used by any number of steps; the workflow emits it once.
"""

from __future__ import annotations

import copy as _copy
import re
import warnings
from typing import Any, Dict, List, Optional, Union

from . import secret_store
from .config import config
from .errors import CapabilityNotAvailable, WorkflowTypeError
from .io import Inputs, Outputs, convert_value_to_str
from .names import FIELD_NAME_MAX as MAX_NAME
from .names import FIELD_NAME_RE, FIELD_NAME_RULE, check_field_name, randstr  # noqa: F401 (the one validator, re-exported)

# Argo requires a memoization entry's maximum age; a year stands for "as long as the cache keeps it"
MEMOIZE_MAX_AGE = "8760h"


def kebab(name: str) -> str:
    """``MyOp_v2`` → ``my-op-v2``: a readable valid template name from a class or function name."""
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name)
    s = re.sub(r"[^a-zA-Z0-9]+", "-", s).strip("-").lower()
    return (s or "template")[:MAX_NAME]


class Secret:
    """A secret value for an environment variable: the manifest holds only a reference to it.

    ``Secret(value=…)`` keeps the value in this process's secret store (``dflow_lab.secret_store``; never
    in a manifest, graph, log or repr); the local engine gives it only to the steps whose template's
    ``envs`` use it. ``Secret(name=…, key=…)`` refers to an existing Kubernetes secret.
    """

    def __init__(self, value: Optional[str] = None, name: Optional[str] = None, key: str = "secret") -> None:
        self.name = name or "dflow-secret-" + randstr(8)
        self.key = key
        if value is not None:
            secret_store.put(self.name, key, value)

    @property
    def value(self) -> Optional[str]:
        return secret_store.get(self.name, self.key)

    def __repr__(self) -> str:
        return f"Secret(name={self.name!r}, key={self.key!r})"


class OPTemplate:
    """Base of all templates.

    Args:
        name: template name (valid Kubernetes-style name)
        inputs: input parameters and artifacts
        outputs: output parameters and artifacts
        memoize_key: key under which Argo memoizes the template's results
        pvcs: PVCs the template declares
        annotations / labels: metadata for the template's pods
    """

    _default_name = "template"

    def __init__(
        self,
        name: Optional[str] = None,
        inputs: Optional[Inputs] = None,
        outputs: Optional[Outputs] = None,
        memoize_key: Optional[str] = None,
        pvcs: Optional[List[Any]] = None,
        annotations: Optional[Dict[str, str]] = None,
        labels: Optional[Dict[str, str]] = None,
    ) -> None:
        self.name = check_field_name(name if name is not None else self._default_name, "template", template=name)
        self._inputs = Inputs(template=self)
        self._outputs = Outputs(template=self)
        if inputs is not None:
            self.inputs = inputs
        if outputs is not None:
            self.outputs = outputs
        self.memoize_key = memoize_key
        self.pvcs = pvcs or []
        self.annotations = dict(annotations or {})
        self.labels = dict(labels or {})
        self._extra: Dict[str, Any] = {}

    # inputs/outputs are re-bound to this template whenever they are replaced
    @property
    def inputs(self) -> Inputs:
        return self._inputs

    @inputs.setter
    def inputs(self, value: Inputs) -> None:
        if not isinstance(value, Inputs):
            raise WorkflowTypeError(f"inputs must be Inputs, got {type(value).__name__}", template=self.name)
        value.set_template(self)
        self._inputs = value

    @property
    def outputs(self) -> Outputs:
        return self._outputs

    @outputs.setter
    def outputs(self, value: Outputs) -> None:
        if not isinstance(value, Outputs):
            raise WorkflowTypeError(f"outputs must be Outputs, got {type(value).__name__}", template=self.name)
        value.set_template(self)
        self._outputs = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def copy(self) -> OPTemplate:
        """A shallow copy whose inputs/outputs are its own (so adding one does not touch the original)."""
        new = _copy.copy(self)
        new._inputs = Inputs(
            parameters={k: _copy.copy(v) for k, v in self._inputs.parameters.items()},
            artifacts={k: _copy.copy(v) for k, v in self._inputs.artifacts.items()},
            template=new,
        )
        new._outputs = Outputs(
            parameters={k: _copy.copy(v) for k, v in self._outputs.parameters.items()},
            artifacts={k: _copy.copy(v) for k, v in self._outputs.artifacts.items()},
            template=new,
        )
        new.annotations = dict(self.annotations)
        new.labels = dict(self.labels)
        return new

    def deepcopy(self) -> OPTemplate:
        return _copy.deepcopy(self)

    def _take_parallelism(self, step: Any) -> None:
        """A step's ``parallelism`` (for its fan-out) limits its Steps/DAG template, as in dflow: the
        template keeps the smallest limit any of its steps asks for."""
        limit = getattr(step, "parallelism", None)
        if limit is None:
            return
        current = getattr(self, "parallelism", None)
        if current is not None and current != limit:
            warnings.warn(
                f"template {self.name!r}: steps ask for parallelism {current} and {limit}; "
                f"the smaller one, {min(current, limit)}, applies to the whole template",
                stacklevel=3,
            )
        self.parallelism = limit if current is None else min(current, limit)

    def handle_key(self, memoize_prefix: Optional[str] = None, memoize_configmap: str = "dflow") -> None:
        """Prefix the memoize key (used when a workflow is resubmitted with reuse)."""
        if self.memoize_key is not None and memoize_prefix:
            self.memoize_key = f"{memoize_prefix}-{self.memoize_key}"
        self._memoize_configmap = memoize_configmap

    def _base_argo(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {"name": self.name}
        meta: Dict[str, Any] = {}
        if self.annotations:
            meta["annotations"] = dict(self.annotations)
        if self.labels:
            meta["labels"] = dict(self.labels)
        if meta:
            d["metadata"] = meta
        inputs = self._inputs.convert_to_argo()
        if inputs:
            d["inputs"] = inputs
        outputs = self._outputs.convert_to_argo()
        if outputs:
            d["outputs"] = outputs
        if self.memoize_key is not None:
            d["memoize"] = {
                "key": self.memoize_key,
                "cache": {"configMap": {"name": getattr(self, "_memoize_configmap", "dflow")}},
                "maxAge": getattr(self, "memoize_max_age", MEMOIZE_MAX_AGE),
            }
        return d

    def _load_base(self, d: Dict[str, Any]) -> None:
        meta = d.get("metadata") or {}
        self.annotations = dict(meta.get("annotations") or {})
        self.labels = dict(meta.get("labels") or {})
        self.inputs = Inputs.from_dict(d.get("inputs"))
        self.outputs = Outputs.from_dict(d.get("outputs"))
        memo = d.get("memoize")
        if memo:
            self.memoize_key = memo.get("key")
            self._memoize_configmap = ((memo.get("cache") or {}).get("configMap") or {}).get("name", "dflow")
            self.memoize_max_age = memo.get("maxAge", MEMOIZE_MAX_AGE)

    def convert_to_argo(self, memoize_prefix=None, memoize_configmap="dflow") -> Dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} does not compile to an Argo template")

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> OPTemplate:
        """Rebuild a template from its Argo form, choosing the class by the template's kind."""
        # lazy: model ⇄ compile loop: argo.parse imports this module (OPTemplate.from_dict delegates)
        from .argo.parse import template_from_dict

        return template_from_dict(d, {})

    def convert_to_graph(self) -> Dict[str, Any]:
        # lazy: model ⇄ graph loop: graph/ imports this module (OPTemplate.to_graph delegates)
        from .graph.convert import to_graph

        return to_graph(self)

    @classmethod
    def from_graph(cls, graph: Dict[str, Any], templates: Optional[Dict[str, Any]] = None) -> OPTemplate:
        # lazy: model ⇄ graph loop: graph/ imports this module (OPTemplate.from_graph delegates)
        from .graph.convert import template_from_graph

        return template_from_graph(graph, templates or {})


class RawOPTemplate(OPTemplate):
    """An Argo template kind the model does not edit (resource, suspend, http, plugin…), kept verbatim."""

    def __init__(self, d: Dict[str, Any]) -> None:
        super().__init__(name=d["name"])
        self._load_base(d)
        self.raw = _copy.deepcopy(d)

    def convert_to_argo(self, memoize_prefix=None, memoize_configmap="dflow") -> Dict[str, Any]:
        out = _copy.deepcopy(self.raw)
        for key in ("inputs", "outputs", "metadata", "memoize"):
            out.pop(key, None)
        out.update(self._base_argo())
        return out


_SCRIPT_FIELDS = (
    "image",
    "command",
    "script",
    "volumes",
    "mounts",
    "init_progress",
    "timeout",
    "retry_strategy",
    "image_pull_policy",
    "requests",
    "limits",
    "envs",
    "init_containers",
    "sidecars",
    "node_selector",
    "tolerations",
    "affinity",
)


class ScriptOPTemplate(OPTemplate):
    """A template that runs a script (or, as ``ContainerOPTemplate``, a command) in a container.

    Args (beyond OPTemplate's):
        image: container image (the local engine runs on the host and ignores it)
        command: interpreter for the script, e.g. ``["sh"]`` or ``["python3"]``
        script: the script text; ``{{inputs.parameters.x}}`` tags are rendered by the engine
        timeout: seconds (int) or an Argo duration string ("90s", "2m")
        retry_strategy: an Argo ``retryStrategy`` dict (``{"limit": 3, "retryPolicy": "OnError"}``)
        requests / limits: resource dicts (``{"cpu": "1", "memory": "1Gi"}``)
        envs: environment variables (values are strings or ``Secret``)
    """

    _default_name = "script-template"
    _default_command: List[str] = []

    def __init__(
        self,
        name: Optional[str] = None,
        inputs: Optional[Inputs] = None,
        outputs: Optional[Outputs] = None,
        memoize_key: Optional[str] = None,
        pvcs: Optional[List[Any]] = None,
        annotations: Optional[Dict[str, str]] = None,
        labels: Optional[Dict[str, str]] = None,
        node_selector: Optional[Dict[str, str]] = None,
        tolerations: Optional[List[object]] = None,
        affinity: Optional[object] = None,
        image: Optional[str] = None,
        command: Union[str, List[str], None] = None,
        script: Optional[str] = None,
        volumes: Optional[List[object]] = None,
        mounts: Optional[List[object]] = None,
        init_progress: str = "0/1",
        timeout: Union[str, int, None] = None,
        retry_strategy: Optional[Dict[str, Any]] = None,
        resource: Optional[object] = None,
        image_pull_policy: Optional[str] = None,
        requests: Optional[Dict[str, str]] = None,
        limits: Optional[Dict[str, str]] = None,
        envs: Optional[Dict[str, Any]] = None,
        init_containers: Optional[List[object]] = None,
        sidecars: Optional[List[object]] = None,
        script_rendered: bool = False,
    ) -> None:
        super().__init__(
            name=name,
            inputs=inputs,
            outputs=outputs,
            memoize_key=memoize_key,
            pvcs=pvcs,
            annotations=annotations,
            labels=labels,
        )

        self.image = image if image is not None else config["image"]
        if isinstance(command, str):
            command = [command]
        self.command = list(command) if command is not None else list(self._default_command)
        self.script = script if script is not None else ""
        self.volumes = volumes or []
        self.mounts = mounts or []
        self.init_progress = init_progress
        self.timeout = timeout
        if retry_strategy is not None and not isinstance(retry_strategy, dict):
            raise WorkflowTypeError(
                "retry_strategy must be an Argo retryStrategy dict, e.g. {'limit': 3}",
                template=self.name,
                field="retry_strategy",
            )
        self.retry_strategy = retry_strategy
        self.resource = resource
        self.image_pull_policy = image_pull_policy if image_pull_policy is not None else config["image_pull_policy"]
        self.requests = requests
        self.limits = limits
        self.envs = dict(envs or {})
        self.init_containers = init_containers or []
        self.sidecars = sidecars or []
        self.node_selector = node_selector
        self.tolerations = tolerations or []
        self.affinity = affinity
        self.script_rendered = script_rendered

    def _env_list(self) -> List[Dict[str, Any]]:
        env = []
        for k, v in self.envs.items():
            if isinstance(v, Secret):
                env.append({"name": k, "valueFrom": {"secretKeyRef": {"name": v.name, "key": v.key}}})
            elif isinstance(v, dict):
                env.append({"name": k, **v})
            else:
                env.append({"name": k, "value": convert_value_to_str(v)})
        return env

    def _container_fields(self) -> Dict[str, Any]:
        c: Dict[str, Any] = {"image": self.image}
        if self.command:
            c["command"] = list(self.command)
        if self.image_pull_policy:
            c["imagePullPolicy"] = self.image_pull_policy
        env = self._env_list()
        if env:
            c["env"] = env
        resources: Dict[str, Any] = {}
        if self.requests:
            resources["requests"] = dict(self.requests)
        if self.limits:
            resources["limits"] = dict(self.limits)
        if resources:
            c["resources"] = resources
        if self.mounts:
            c["volumeMounts"] = [_k8s_dict(m) for m in self.mounts]
        return c

    def _pod_fields(self, d: Dict[str, Any]) -> None:
        if self.timeout is not None:
            d["timeout"] = f"{self.timeout}s" if isinstance(self.timeout, int) else str(self.timeout)
        if self.retry_strategy is not None:
            d["retryStrategy"] = int_or_string(self.retry_strategy, ("limit", "backoff.factor"))
        if self.node_selector:
            d["nodeSelector"] = dict(self.node_selector)
        if self.tolerations:
            d["tolerations"] = [_k8s_dict(t) for t in self.tolerations]
        if self.affinity is not None:
            d["affinity"] = _k8s_dict(self.affinity)
        if self.volumes:
            d["volumes"] = [_k8s_dict(v) for v in self.volumes]
        if self.init_containers:
            d["initContainers"] = [_k8s_dict(c) for c in self.init_containers]
        if self.sidecars:
            d["sidecars"] = [_k8s_dict(c) for c in self.sidecars]
        if self.init_progress and self.init_progress != "0/1":
            d.setdefault("metadata", {}).setdefault("annotations", {})[
                "workflows.argoproj.io/progress"
            ] = self.init_progress
        for k, v in self._extra.items():
            d.setdefault(k, _copy.deepcopy(v))

    def convert_to_argo(self, memoize_prefix=None, memoize_configmap="dflow") -> Dict[str, Any]:
        d = self._base_argo()
        script = self._container_fields()
        script["source"] = self.script
        d["script"] = script
        self._pod_fields(d)
        return d

    def _load_pod_fields(self, d: Dict[str, Any], c: Dict[str, Any]) -> None:
        self.image = c.get("image")
        self.command = list(c.get("command") or [])
        self.image_pull_policy = c.get("imagePullPolicy")
        self.envs = {}
        for e in c.get("env") or []:
            vf = e.get("valueFrom")
            if vf and "secretKeyRef" in vf:
                s = Secret(name=vf["secretKeyRef"].get("name"), key=vf["secretKeyRef"].get("key", "secret"))
                self.envs[e["name"]] = s
            elif vf:
                self.envs[e["name"]] = {"valueFrom": vf}
            else:
                self.envs[e["name"]] = e.get("value", "")
        res = c.get("resources") or {}
        self.requests = res.get("requests")
        self.limits = res.get("limits")
        self.mounts = list(c.get("volumeMounts") or [])
        self.timeout = d.get("timeout")
        self.retry_strategy = d.get("retryStrategy")
        self.node_selector = d.get("nodeSelector")
        self.tolerations = list(d.get("tolerations") or [])
        self.affinity = d.get("affinity")
        self.volumes = list(d.get("volumes") or [])
        self.init_containers = list(d.get("initContainers") or [])
        self.sidecars = list(d.get("sidecars") or [])
        ann = dict(self.annotations)
        self.init_progress = ann.pop("workflows.argoproj.io/progress", "0/1")
        self.annotations = ann
        known = {
            "name", "metadata", "inputs", "outputs", "memoize", "script", "container", "timeout",
            "retryStrategy", "nodeSelector", "tolerations", "affinity", "volumes", "initContainers", "sidecars",
        }
        self._extra = {k: _copy.deepcopy(v) for k, v in d.items() if k not in known}

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> ScriptOPTemplate:
        t = cls.__new__(cls)
        OPTemplate.__init__(t, name=d["name"])
        t._load_base(d)
        c = d.get("script") or {}
        t.script = c.get("source", "")
        t.resource = None
        t.script_rendered = False
        t._load_pod_fields(d, c)
        return t

    def from_rendered(self, d: Dict[str, Any]) -> ScriptOPTemplate:
        """The script template of the compiled form ``d`` that an executor rendered from this template
        (executors work on compiled dicts and never import the model: ``dflow_lab.executors.base``)."""
        new = ScriptOPTemplate.from_dict(d)
        new.script_rendered = True
        return new


class ShellOPTemplate(ScriptOPTemplate):
    """A shell script template (``command: ["sh"]``)."""

    _default_name = "shell-template"
    _default_command = ["sh"]


class PythonScriptOPTemplate(ScriptOPTemplate):
    """A Python script template (``command: ["python3"]``)."""

    _default_name = "python-script-template"
    _default_command = ["python3"]


class ContainerOPTemplate(ScriptOPTemplate):
    """A template that runs a command with arguments in a container (Argo ``container``)."""

    _default_name = "container-template"

    def __init__(self, command: Union[str, List[str]] = "", args: Optional[List[str]] = None, **kwargs: Any) -> None:
        super().__init__(command=command if command else None, **kwargs)
        self.args = list(args or [])

    def convert_to_argo(self, memoize_prefix=None, memoize_configmap="dflow") -> Dict[str, Any]:
        d = self._base_argo()
        c = self._container_fields()
        if self.args:
            c["args"] = list(self.args)
        d["container"] = c
        self._pod_fields(d)
        return d

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> ContainerOPTemplate:
        t = cls.__new__(cls)
        OPTemplate.__init__(t, name=d["name"])
        t._load_base(d)
        c = d.get("container") or {}
        t.script = ""
        t.resource = None
        t.script_rendered = False
        t.args = list(c.get("args") or [])
        t._load_pod_fields(d, c)
        return t


def int_or_string(d: Dict[str, Any], paths: tuple) -> Dict[str, Any]:
    """A copy of ``d`` with the IntOrString fields at ``paths`` as strings, as Argo's schema has them."""
    out = _copy.deepcopy(d)
    for path in paths:
        *parents, leaf = path.split(".")
        node: Any = out
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(leaf), (int, float)) and not isinstance(node.get(leaf), bool):
            node[leaf] = str(node[leaf])
    return out


def _k8s_dict(obj: Any) -> Any:
    """Kubernetes objects given as dicts pass through; client model objects are serialised."""
    if isinstance(obj, dict):
        return _copy.deepcopy(obj)
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        # lazy: model ⇄ compile loop: argo.compile imports this module
        from .argo.compile import camelize

        return camelize(to_dict())
    raise WorkflowTypeError(f"cannot use {type(obj).__name__} as a Kubernetes object; give a dict")


def get_k8s_client(k8s_api_server=None, token=None, k8s_config_file=None):
    """A Kubernetes API client (needs the ``kubernetes`` package and a cluster)."""
    try:
        # lazy: optional dependency: kubernetes, for get_k8s_client only
        import kubernetes  # noqa: F401
    except ImportError as e:
        raise CapabilityNotAvailable("get_k8s_client", "the 'kubernetes' package and a cluster") from e
    # lazy: optional dependency: kubernetes (checked just above)
    from kubernetes import client
    from kubernetes import config as k8s_config

    if k8s_config_file is not None:
        k8s_config.load_kube_config(config_file=str(k8s_config_file))
        return client.ApiClient()
    configuration = client.Configuration()
    configuration.host = k8s_api_server
    if token is not None:
        configuration.api_key = {"authorization": "Bearer " + token}
    return client.ApiClient(configuration)
