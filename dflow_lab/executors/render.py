"""Rendering a template for a remote executor: the template that runs ``runner.py``.

``render_remote(executor, d, name, image, kind)`` takes a template's compiled Argo form ``d`` (a dict:
this module never sees the model's template objects; ``executors/base.py`` compiles the template and
builds the new one through the template's own ``from_rendered``) and returns the compiled form of a
script template with the same inputs, outputs, retry strategy, timeout and pod fields, whose
``script.source`` calls :func:`dflow_lab.executors.runner.main` with a spec of the original script
(``kind``: ``"ssh"`` for ``RemoteExecutor``, ``"slurm-ssh"`` for ``SlurmRemoteExecutor``,
``"slurm-local"`` for ``SlurmJobTemplate``, ``"dispatcher"`` for ``DispatcherExecutor``, whose runner
hands the step to dpdispatcher: ``dispatch.py``). The same manifest runs on both engines: in an Argo pod
(the extender image, which must hold Python 3 with dflow-lab and paramiko) and as a host process
of the local engine.

What goes where:
- every ``{{…}}`` tag of the original script and of the work directory becomes an environment
  variable ``DFLOW_LAB_TPL_<i>`` whose value is that tag, so Argo or the local engine substitutes it
  as data; path tags (``{{inputs.artifacts.x.path}}``…) are resolved first to the declared path;
- the template's own environment (a Python OP's ``DFLOW_LAB_PARAM_*``, the user's ``envs``) stays on
  the template and is forwarded by name to the remote side;
- the password or private key (read from ``private_key_file`` when rendering) is put into the
  process's secret store (``dflow_lab.secret_store``, as ``Secret(value=…)`` does) and referenced by
  ``secretKeyRef`` from ``DFLOW_LAB_SSH_PASSWORD``/``…_KEY``: the
  manifest, graph and logs hold the secret's name only;
- the template's annotations gain ``dflow-lab/executor`` (kind, ``user@host:port``, the work
  directory pattern), which the canvas shows; Slurm templates gain an output parameter
  ``dflow_slurm_job_id``.
The rendered name is ``<name>-<kind>-<hash of the executor's public settings>``: stable, so graph
round trips and memo keys do not change between renders.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shlex
from typing import Any, Dict, List, Optional, Tuple

from .. import secret_store
from ..config import config
from .runner import KEY_ENV, PASSWORD_ENV, RUNNER_MARKER, TAG_ENV, encode_spec

__all__ = ["render_remote", "EXECUTOR_ANNOTATION", "JOB_ID_PARAMETER"]

EXECUTOR_ANNOTATION = "dflow-lab/executor"
JOB_ID_PARAMETER = "dflow_slurm_job_id"
JOB_ID_PATH = "/tmp/outputs/parameters/dflow_slurm_job_id"
_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
_MAX_TAGS = 1000


def _paths(d: Dict[str, Any]) -> Tuple[List[str], List[str], Dict[str, str]]:
    """Declared input paths, output paths, and the path tags they answer to."""
    ins: List[str] = []
    outs: List[str] = []
    tags: Dict[str, str] = {}
    for a in (d.get("inputs") or {}).get("artifacts") or []:
        if a.get("path"):
            ins.append(a["path"])
            tags[f"inputs.artifacts.{a['name']}.path"] = a["path"]
    for p in (d.get("outputs") or {}).get("parameters") or []:
        path = (p.get("valueFrom") or {}).get("path")
        if path:
            outs.append(path)
            tags[f"outputs.parameters.{p['name']}.path"] = path
    for a in (d.get("outputs") or {}).get("artifacts") or []:
        if a.get("path"):
            outs.append(a["path"])
            tags[f"outputs.artifacts.{a['name']}.path"] = a["path"]
    return ins, outs, tags


def _secret_ref(what: str, value: str) -> Dict[str, Any]:
    """A ``secretKeyRef`` to ``value``, kept in the secret store under a name derived from its hash."""
    name = f"dflow-lab-ssh-{what}-{hashlib.sha256(value.encode()).hexdigest()[:10]}"
    secret_store.put(name, "value", value)
    return {"secretKeyRef": {"name": name, "key": "value"}}


def _read_key(executor: Any, where: str) -> str:
    path = os.path.expanduser(os.fspath(executor.private_key_file))
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{where}: private_key_file {path!r} cannot be read ({e.strerror}); give the path of "
                         "an OpenSSH private key readable by the submitting user") from None


def _public(executor: Any) -> Dict[str, Any]:
    keys = ("host", "port", "username", "workdir", "remote_command", "map_tmp_dir", "action_retries",
            "header", "interval", "node_selector", "clean", "docker_executable", "singularity_executable",
            "podman_executable", "resources_dict", "task_dict", "check_interval")
    out = {k: getattr(executor, k) for k in keys if hasattr(executor, k)}
    if hasattr(executor, "public_machine"):
        out["machine"] = executor.public_machine()
    return out


def render_remote(executor: Any, d: Dict[str, Any], name: str, image: Optional[str], kind: str) -> Dict[str, Any]:
    """The compiled template that runs the script of the compiled template ``d`` (named ``name``, in
    ``image``) through ``executor`` (see the module docstring)."""
    where = f"{type(executor).__name__} on template {name!r}"
    d = copy.deepcopy(d)
    body = d.pop("script", None)
    if body is not None:
        script = body.get("source") or ""
        command = list(body.get("command") or ["sh"])
    else:
        body = d.pop("container")
        argv = [str(c) for c in (body.get("command") or []) + (body.get("args") or [])]
        if not argv:
            raise ValueError(f"{where}: the container template has no command to run remotely")
        script = " ".join(shlex.quote(a) for a in argv) + "\n"
        command = ["sh"]
    python_op = script.startswith("# dflow-lab: python-op v1")
    remote_command = executor.remote_command
    if isinstance(remote_command, str):
        remote_command = [remote_command]
    ins, outs, path_tags = _paths(d)
    for tag, path in path_tags.items():
        script = re.sub(r"\{\{\s*" + re.escape(tag) + r"\s*\}\}", path, script)
    workdir = str(executor.workdir)
    label = "workflow {{workflow.name}}, step {{node.name}} (pod {{pod.name}})" if kind == "dispatcher" else ""
    tags: Dict[str, str] = {}
    env: List[Dict[str, Any]] = [e for e in body.get("env") or []]
    forwarded = [e["name"] for e in env]
    for text in (script, workdir, label):
        for m in _TAG.finditer(text):
            tag = m.group(1)
            if tag not in tags.values():
                if len(tags) >= _MAX_TAGS:
                    raise ValueError(f"{where}: the script has more than {_MAX_TAGS} {{{{…}}}} tags")
                var = f"{TAG_ENV}{len(tags)}"
                tags[var] = tag
                env.append({"name": var, "value": "{{" + tag + "}}"})
    transport: Dict[str, Any]
    if kind == "slurm-local":
        transport = {"type": "local"}
        target = "this host"
    elif kind == "dispatcher":
        target = executor.target()
        transport = {"type": "dispatcher", "machine": executor.public_machine(), "resources": executor.resources_dict,
                     "task": executor.task_dict, "clean": bool(executor.clean), "target": target,
                     "check_interval": executor.check_interval}
        if executor.password is not None:
            env.append({"name": PASSWORD_ENV, "valueFrom": _secret_ref("password", executor.password)})
        if executor.private_key_file is not None:
            env.append({"name": KEY_ENV, "valueFrom": _secret_ref("key", _read_key(executor, where))})
    else:
        transport = {"type": "ssh", "host": executor.host, "port": int(executor.port),
                     "username": executor.username, "retries": int(executor.action_retries)}
        if getattr(executor, "known_hosts", None):
            transport["known_hosts"] = executor.known_hosts
        if executor.password is not None:
            env.append({"name": PASSWORD_ENV, "valueFrom": _secret_ref("password", executor.password)})
        if executor.private_key_file is not None:
            env.append({"name": KEY_ENV, "valueFrom": _secret_ref("key", _read_key(executor, where))})
        target = f"{executor.username}@{executor.host}:{executor.port}"
    spec: Dict[str, Any] = {
        "v": 1,
        "executor": type(executor).__name__,
        "transport": transport,
        "workdir": workdir,
        "map_tmp_dir": bool(executor.map_tmp_dir),
        "script": script,
        "python_op": python_op,
        "tags": tags,
        "command": remote_command or command,
        "env": forwarded,
        "inputs": ins,
        "outputs": outs,
        "clean": getattr(executor, "clean", "never"),
        "interval": 0.5,
    }
    if label:
        spec["label"] = label
    runtime = next(((k, v) for k, v in (("docker", executor.docker_executable),
                                         ("singularity", executor.singularity_executable),
                                         ("podman", executor.podman_executable)) if v), None)
    if runtime is not None:
        spec["container"] = {"kind": runtime[0], "runtime": runtime[1], "image": image}
        spec["map_tmp_dir"] = False
    if kind.startswith("slurm"):
        spec["slurm"] = {"header": executor.header, "interval": getattr(executor, "interval", 3)}
        spec["job_id_path"] = JOB_ID_PATH
        params = d.setdefault("outputs", {}).setdefault("parameters", [])
        if not any(p["name"] == JOB_ID_PARAMETER for p in params):
            params.append({"name": JOB_ID_PARAMETER, "valueFrom": {"path": JOB_ID_PATH, "default": ""}})
    digest = hashlib.sha256(json.dumps(_public(executor), sort_keys=True, default=str).encode()).hexdigest()[:6]
    suffix = {"ssh": "remote", "slurm-ssh": "slurm", "slurm-local": "slurm-job", "dispatcher": "dispatcher"}[kind]
    d["name"] = f"{name}-{suffix}-{digest}"
    meta = d.setdefault("metadata", {})
    meta.setdefault("annotations", {})[EXECUTOR_ANNOTATION] = json.dumps(
        {"kind": type(executor).__name__, "target": target, "workdir": workdir}, sort_keys=True)
    runner_image = getattr(executor, "image", None)
    if runner_image is None:
        runner_image = config["extender_image"]
    new_body: Dict[str, Any] = {"image": runner_image, "command": ["python3"]}
    pull = getattr(executor, "image_pull_policy", None)
    if pull:
        new_body["imagePullPolicy"] = pull
    if env:
        new_body["env"] = env
    for k in ("resources", "volumeMounts", "workingDir"):
        if k in body and k != "resources":
            new_body[k] = body[k]
    new_body["source"] = (
        f"{RUNNER_MARKER} ({type(executor).__name__} → {target})\n"
        "import sys\n"
        "from dflow_lab.executors.runner import main\n"
        f"sys.exit(main({encode_spec(spec)!r}))\n"
    )
    d["script"] = new_body
    if kind == "slurm-local" and getattr(executor, "node_selector", None):
        d["nodeSelector"] = dict(executor.node_selector)
    return d


def executor_info(template: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The ``dflow-lab/executor`` annotation of a compiled template, decoded (``None`` if absent)."""
    text = ((template.get("metadata") or {}).get("annotations") or {}).get(EXECUTOR_ANNOTATION)
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
