"""Status objects of a workflow run (``dflow.argo_objects``).

``ArgoWorkflow`` wraps the workflow object a backend returns (Argo's shape: ``metadata``, ``spec``,
``status.nodes``) and ``ArgoStep`` one of its status nodes.  Both engines produce that shape, so these
classes never ask which engine ran the workflow.  Nested dicts and lists are wrapped once, on
construction, so that ``step.outputs.parameters["x"].value = ...`` changes the object in place.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import tempfile
from collections import UserDict, UserList
from copy import deepcopy
from pathlib import Path
from typing import Any, List, Union

import jsonpickle

from .argo.client import delete_pod, get_pod, replay_pod
from .engine import Engine, select_engine
from .names import fnva, get_pod_name, node_hash  # noqa: F401  (dflow.argo_objects exports them)
from .python.values import encode_value
from .utils import download_artifact

logger = logging.getLogger(__name__)

__all__ = [
    "ArgoObjectDict",
    "ArgoObjectList",
    "ArgoParameter",
    "ArgoStep",
    "ArgoWorkflow",
    "fnva",
    "get_duration",
    "get_pod_name",
    "match",
]

_BIGPAR_PREFIX = "dflow_bigpar_"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _wrap(value: Any) -> Any:
    if isinstance(value, (ArgoObjectDict, ArgoObjectList)):
        return value
    if isinstance(value, dict):
        return ArgoObjectDict(value)
    if isinstance(value, list):
        return ArgoObjectList(value)
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, (ArgoObjectDict, ArgoObjectList)):
        return value.recover()
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


class ArgoObjectDict(UserDict):
    """A dict whose keys are also attributes; nested dicts/lists are wrapped on construction."""

    def __init__(self, d: dict | None = None):
        super().__init__()
        for key, value in (d or {}).items():
            self.data[key] = _wrap(value)

    def __getattr__(self, key: str) -> Any:
        if key == "data":
            raise AttributeError(key)
        try:
            return self.data[key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "data":
            super().__setattr__(key, value)
        else:
            self.data[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self.data[key]
        except KeyError:
            raise AttributeError(key) from None

    def recover(self) -> dict:
        """The plain ``dict`` this object stands for (nested objects recovered too)."""
        return {key: _unwrap(value) for key, value in self.data.items()}


class ArgoObjectList(UserList):
    """A list whose dict/list items are wrapped on construction."""

    def __init__(self, li: list | None = None):
        super().__init__([_wrap(v) for v in (li or [])])

    def recover(self) -> list:
        """The plain ``list`` this object stands for."""
        return [_unwrap(v) for v in self.data]


def _decode_typed(raw: Any, description: str | None) -> Any:
    """Give a parameter's string value the Python type recorded in its ``description``."""
    if not isinstance(raw, str) or not description:
        return raw
    try:
        desc = json.loads(description)
    except (TypeError, ValueError):
        return raw
    if not isinstance(desc, dict) or "type" not in desc:
        return raw
    if desc["type"] in ("str", str(str)):
        return raw
    try:
        if '"py/' in raw:  # an object JSON cannot carry was jsonpickled (see docs/internals.md)

            return jsonpickle.decode(raw, safe=True)
        return json.loads(raw)
    except Exception as e:  # an undecodable value stays the raw string
        logger.warning("parameter value %.60r does not decode as %s: %s", raw, desc["type"], e)
        return raw


class ArgoParameter(ArgoObjectDict):
    """A node's input or output parameter; ``.value`` is typed per its ``description``."""

    def __getattr__(self, key: str) -> Any:
        if key in ("value", "type") and key not in self.data and "save_as_artifact" in self.data:
            self._load_from_artifact()
        value = super().__getattr__(key)
        if key == "value":
            return _decode_typed(value, self.data.get("description"))
        return value

    def _load_from_artifact(self) -> None:
        """A big parameter is stored as an artifact: fetch its text as the value."""
        with tempfile.TemporaryDirectory() as tmp:
            download_artifact(self, path=tmp)
            files = [p for p in Path(tmp).rglob("*") if p.is_file()]
            if len(files) != 1:
                raise AttributeError(f"parameter {self.data.get('name')!r}: artifact holds {len(files)} files")
            text = files[0].read_text()
        # a big parameter's file holds the encoded value (JSON, or jsonpickle for other objects)
        self.data["value"] = _decode_typed(text, json.dumps({"type": "object"}))


class ArgoStep(ArgoObjectDict):
    """One status node of a workflow (a step, task, group or retry node).

    ``inputs.parameters`` and ``outputs.parameters``/``artifacts`` are turned into dicts keyed by name;
    ``key`` is the dflow step key (the ``dflow_key`` input parameter) or ``None``.
    """

    def __init__(self, step: dict, workflow: str | None):
        super().__init__(deepcopy(_unwrap(step)))
        self.workflow = workflow
        self.pod = None
        self.key = None
        if "inputs" in self.data:
            self.handle_io(self.inputs)
            params = self.inputs.get("parameters") or {}
            if "dflow_key" in params and params["dflow_key"].data.get("value", "") != "":
                self.key = params["dflow_key"].data["value"]
        if "outputs" in self.data:
            self.handle_io(self.outputs)

    def handle_io(self, io: ArgoObjectDict) -> None:
        """Index ``io``'s parameters and artifacts by name (in place)."""
        if isinstance(io.get("parameters"), ArgoObjectList):
            io.parameters = {p.name: ArgoParameter(p.recover()) for p in io.parameters}
        if isinstance(io.get("artifacts"), ArgoObjectList):
            io.artifacts = {a.name: a for a in io.artifacts}
        self.handle_big_parameters(io)

    def handle_big_parameters(self, io: ArgoObjectDict) -> None:
        """Expose ``dflow_bigpar_<name>`` artifacts as parameters ``<name>`` loaded on demand."""
        for name, art in (io.get("artifacts") or {}).items():
            if not name.startswith(_BIGPAR_PREFIX):
                continue
            pname = name[len(_BIGPAR_PREFIX):]
            if "parameters" not in io.data:
                io.parameters = {}
            if pname not in io.parameters:
                par = art.recover()
                par["name"] = pname
                par["save_as_artifact"] = True
                io.parameters[pname] = ArgoParameter(par)

    def modify_output_parameter(self, name: str, value: Any) -> None:
        """Replace output parameter ``name`` (for ``submit(reuse_step=…)``); non-strings are JSON-encoded."""
        params = self._outputs_of("parameters", name)
        if isinstance(value, str):
            text = value
        else:
            text = encode_value(value)
        params[name].data["value"] = text
        params[name].data.pop("save_as_artifact", None)

    def modify_output_artifact(self, name: str, s3: Any) -> None:
        """Replace output artifact ``name`` by the artifact ``s3`` (an ``S3Artifact`` or a location dict)."""
        arts = self._outputs_of("artifacts", name)
        art = arts[name]
        old = art.recover()
        if hasattr(s3, "to_dict"):
            location = s3.to_dict()
        elif isinstance(s3, dict):
            location = dict(s3)
        else:
            raise TypeError(f"step {self.data.get('displayName')!r}: modify_output_artifact({name!r}) needs an "
                            f"S3Artifact or a location dict, not {type(s3).__name__}")
        local_path = getattr(s3, "local_path", None)
        if "key" in location and not any(k in location for k in ("s3", "local")):
            location = {"s3": {k: v for k, v in location.items() if k in ("key", "bucket", "endpoint")}}
        for k in ("s3", "local", "oss"):
            art.data.pop(k, None)
        for k, v in location.items():
            art.data[k] = _wrap(v)
        if local_path:
            art.data["local_path"] = local_path
        art.data["modified"] = ArgoObjectDict({"old": old})

    def _outputs_of(self, kind: str, name: str) -> dict:
        outputs = self.data.get("outputs")
        items = outputs.get(kind) if outputs is not None else None
        if not items or name not in items:
            raise KeyError(f"step {self.data.get('displayName')!r} has no output {kind[:-1]} {name!r}")
        return items

    def retry(self) -> None:
        """Retry this (failed) step in its workflow."""
        # lazy: workflow builds these objects (imports this module); retry goes back to it
        from .workflow import Workflow

        Workflow(id=self.workflow).retry_steps([self.id])

    def get_duration(self) -> datetime.timedelta:
        """Time from start to finish (or to now while running)."""
        return get_duration(self)

    def get_pod(self) -> Any:
        """The Kubernetes pod of this step (Argo backend only)."""
        self.pod = get_pod(self.workflow, self)
        return self.pod

    def delete_pod(self) -> None:
        """Delete this step's pod (Argo backend only)."""
        delete_pod(self.workflow, self)

    def replay(self) -> None:
        """Re-create this step's pod (Argo backend only)."""
        replay_pod(self.workflow, self)

    def get_script(self) -> str:
        """The script source this step ran (its template's ``script.source``)."""
        template = self._template()
        script = template.get("script")
        if not script or "source" not in script:
            raise ValueError(f"step {self.data.get('displayName')!r}: template {template.get('name')!r} "
                             "is not a script template")
        return script["source"]

    def set_script(self, script: str) -> None:
        """Change the script source this step's template runs (taking effect when the step is retried)."""
        template = self._template()
        if "script" not in template:
            raise ValueError(f"step {self.data.get('displayName')!r}: template {template.get('name')!r} "
                             "is not a script template")
        template["script"]["source"] = script
        self.data["_template"] = template
        _backend().set_script(self.workflow, self.id, script)

    def _template(self) -> dict:
        if "_template" in self.data:
            return _unwrap(self.data["_template"])
        manifest = _backend().get(self.workflow)
        overrides = (manifest.get("status") or {}).get("scriptOverrides") or {}
        spec = manifest.get("spec", {})
        wanted = self.data.get("templateName")
        for t in spec.get("templates", []):
            if t.get("name") == wanted:
                t = deepcopy(t)
                if self.data.get("id") in overrides and "script" in t:
                    t["script"]["source"] = overrides[self.data["id"]]
                return t
        raise KeyError(f"workflow {self.workflow!r} has no template {wanted!r}")


def _backend() -> Engine:
    """The engine the current configuration points at."""
    return select_engine()


def _parse_time(value: Any) -> datetime.datetime | None:
    if not value:
        return None
    return datetime.datetime.strptime(str(value), _TIME_FORMAT)


def get_duration(status: Any) -> datetime.timedelta:
    """``finishedAt - startedAt`` of a status (a node or a workflow status); running: up to now (UTC)."""
    get = status.get if hasattr(status, "get") else lambda k: getattr(status, k, None)
    start = _parse_time(get("startedAt"))
    if start is None:
        return datetime.timedelta()
    end = _parse_time(get("finishedAt"))
    if end is None:
        end = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    return end - start


def match(n: str, names: List[str]) -> bool:
    """Whether display name ``n`` is one of ``names``, an item of one (``name(0:x)``), or matches one
    as a regular expression (``"sq-.*"``)."""
    for name in names:
        if n == name or n.startswith(name + "("):
            return True
        try:
            if re.fullmatch(name, n):
                return True
        except re.error:
            continue
    return False


def _as_list(v: Union[str, List[str], None]) -> List[str] | None:
    if v is None or isinstance(v, list):
        return v
    return [v]


class ArgoWorkflow(ArgoObjectDict):
    """A workflow object (``metadata``, ``spec``, ``status``) with step queries."""

    def __init__(self, d: dict):
        super().__init__(_unwrap(d))
        meta = self.data.get("metadata") or {}
        self.id = meta.get("name")
        self.uid = meta.get("uid")

    def get_step(
        self,
        name: Union[str, List[str], None] = None,
        key: Union[str, List[str], None] = None,
        phase: Union[str, List[str], None] = None,
        id: Union[str, List[str], None] = None,
        type: Union[str, List[str], None] = None,
        parent_id: str | None = None,
        sort_by_generation: bool = False,
    ) -> List[ArgoStep]:
        """Started steps matching every given filter, ordered by start time.

        ``name`` matches display names (``name`` or ``name(i:item)``), ``key`` the dflow step key;
        ``parent_id`` restricts to the nodes under that node; ``sort_by_generation`` orders breadth-first.
        """
        names, keys, phases, ids, types = map(_as_list, (name, key, phase, id, type))
        status = self.data.get("status") or {}
        nodes = status.get("nodes")
        if not nodes:
            return []
        if parent_id is not None:
            candidates = self._sub_nodes(parent_id)
        elif sort_by_generation:
            candidates = self._sub_nodes(self.id)
        else:
            candidates = sorted(nodes.values(), key=lambda n: n.get("startedAt") or "")
        steps = []
        for node in candidates:
            if not node.get("startedAt"):
                continue
            if names is not None and not match(node.get("displayName", ""), names):
                continue
            if keys is not None and _node_key(node) not in keys:
                continue
            if phases is not None and node.get("phase") not in phases:
                continue
            if types is not None and node.get("type") not in types:
                continue
            if ids is not None and node.get("id") not in ids:
                continue
            steps.append(ArgoStep(node, self.id))
        return steps

    def _sub_nodes(self, node_id: str) -> list:
        """Nodes under ``node_id``, generation by generation (breadth first)."""
        nodes = self.status.nodes
        if node_id not in nodes:
            raise KeyError(f"workflow {self.id!r} has no node {node_id!r}")
        root = nodes[node_id]
        if root.get("type") not in ("Steps", "DAG"):
            return [root]
        seen = {node_id}
        out = []
        generation = list(root.get("children") or [])
        while generation:
            nxt = []
            for cid in generation:
                if cid in seen or cid not in nodes:
                    continue
                seen.add(cid)
                out.append(nodes[cid])
                nxt.extend(nodes[cid].get("children") or [])
            generation = nxt
        return out

    def get_duration(self) -> datetime.timedelta:
        """Duration of the workflow run."""
        return get_duration(self.data.get("status") or {})


def _node_key(node: Any) -> str | None:
    for p in (node.get("inputs") or {}).get("parameters") or []:
        if p.get("name") == "dflow_key":
            return p.get("value")
    return None
