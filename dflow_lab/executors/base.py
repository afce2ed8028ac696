"""The executors of the reference (``dflow.executor``, ``dflow.slurm``), with the reference's
constructor signatures and attribute names.

- ``ContainerExecutor(docker=…, singularity=…, podman=…, image_pull_policy=…)``: the template's
  script runs in the template's image through that runtime, on the node that runs the step (the
  local engine's host, or the Argo pod, which then needs the runtime). Its rendered script calls
  :func:`dflow_lab.executors.container.main`.
- ``RemoteExecutor(host, port, username, password | private_key_file, workdir, …)``: over SSH
  (see ``runner.py`` for the steps and ``transport.py`` for retries). ``action_retries`` counts the
  attempts of one SSH action (-1: retry transient failures for up to ``retry_timeout`` seconds,
  600 by default; the reference retries forever). Extra keyword arguments, not in the reference:
  ``clean`` (``"never"``, the reference's behaviour; ``"success"``; ``"always"``: remove the remote
  work directory after the outputs are downloaded), ``known_hosts`` (a known_hosts file: unknown
  host keys are refused; default: accepted, as the reference's ``StrictHostKeyChecking=no``),
  ``retry_timeout``.
- ``SlurmRemoteExecutor(…, header, interval, pvc)``: as ``RemoteExecutor`` but ``sbatch`` on the
  login node, polled every ``interval`` seconds; ``pvc`` is kept for the reference's manifests and
  not needed (the job id is an output parameter, ``dflow_slurm_job_id``).
- ``SlurmJobTemplate(header, node_selector, …, workdir)``: ``sbatch`` on the node that runs the step
  (the step's pod, chosen by ``node_selector``, or the local engine's host): no SSH. Unlike the
  reference, this is not a wlm-operator ``SlurmJob`` resource (which needs that operator in
  Kubernetes) but the same runner script with a local transport; ``prepare_image`` and
  ``collect_image`` are accepted and unused (the runner prepares and collects in the step itself).
- ``SlurmJob``: the wlm-operator resource of the reference, rendered as the reference does.
Passwords and key texts are kept out of ``repr``, manifests and graphs (``render.py``).

An executor works on a template's compiled form (a dict): it asks the template for
``convert_to_argo()`` and hands the rendered dict back to the template's ``from_rendered`` (script and
container templates have it, :class:`RenderableTemplate`), so this package imports nothing of the model.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shlex
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Protocol, Union, runtime_checkable

import yaml

from ..local.layout import declared_paths
from ..resource import Resource
from .container import encode, run_script
from .render import EXECUTOR_ANNOTATION, render_remote
from .runner import TAG_ENV

__all__ = ["Executor", "ContainerExecutor", "RemoteExecutor", "SlurmRemoteExecutor", "SlurmJobTemplate",
           "SlurmJob", "run_script", "render_script_with_tmp_root"]

_CLEAN = ("never", "success", "always")


@runtime_checkable
class RenderableTemplate(Protocol):
    """What an executor needs of a template: script and container templates (``ScriptOPTemplate``)."""

    name: str
    image: Any

    def convert_to_argo(self) -> Dict[str, Any]:
        """The template's compiled Argo form."""

    def from_rendered(self, d: Dict[str, Any]) -> Any:
        """The script template of the compiled form ``d`` an executor rendered from this one."""


def _script_dict(template: Any) -> Optional[Dict[str, Any]]:
    """A copy of the compiled form of a script or container template (``None`` for another template)."""
    if not isinstance(template, RenderableTemplate) or getattr(template, "resource", None) is not None:
        return None
    return copy.deepcopy(template.convert_to_argo())


class Executor(ABC):
    """Render an original template into the one that runs; must not modify ``self``."""

    @abstractmethod
    def render(self, template: Any) -> Any:
        """Render original template and return a new template."""


def render_script_with_tmp_root(template: Any, tmp_root: str) -> str:
    """The template's script with its ``/tmp`` paths moved under ``tmp_root``."""
    return template.script.replace("/tmp", tmp_root)


def _tags(text: str) -> Dict[str, str]:
    out: Dict[str, str] = {}
    for m in re.finditer(r"\{\{(.*?)\}\}", text, re.S):
        if m.group(1) not in out.values():
            out[f"{TAG_ENV}{len(out)}"] = m.group(1)
    return out


def render_template(executor: Any, template: Any, kind: str) -> Any:
    """The template that runs ``template`` through a remote ``executor`` (``kind`` as for
    ``render.render_remote``, which renders the template's compiled form; the template builds the new one)."""
    d = _script_dict(template)
    if d is None:
        raise TypeError(f"{type(executor).__name__} on template {getattr(template, 'name', '?')!r}: only script "
                        f"and container templates can run through an executor (got {type(template).__name__})")
    return template.from_rendered(render_remote(executor, d, template.name, template.image, kind))


class ContainerExecutor(Executor):
    """Run the template's script inside its image, started by ``docker``/``podman``/``singularity``
    (the executables given) on the node that runs the step."""

    def __init__(self, docker: Optional[str] = None, singularity: Optional[str] = None,
                 podman: Optional[str] = None, image_pull_policy: Optional[str] = None) -> None:
        self.docker = docker
        self.singularity = singularity
        self.podman = podman
        self.image_pull_policy = image_pull_policy

    def render(self, template: Any) -> Any:
        d = _script_dict(template)
        if d is None:
            return template  # the reference leaves other templates alone
        body = d.pop("script", None)
        if body is None:
            body = d.pop("container")
            script = " ".join(shlex.quote(str(a)) for a in (body.get("command") or []) + (body.get("args") or []))
            body["command"] = ["sh"]
            body.pop("args", None)
        else:
            script = body.pop("source", "")
        runtime = self.podman or self.docker or self.singularity
        tags = _tags(script)
        env = list(body.get("env") or [])
        names = [e["name"] for e in env]
        env += [{"name": var, "value": "{{" + tag + "}}"} for var, tag in tags.items()]
        if self.image_pull_policy:
            body["imagePullPolicy"] = self.image_pull_policy
        tops = sorted({p.strip("/").split("/")[0] for p in declared_paths(d) if p.strip("/")})
        spec = {"script": script, "tags": tags, "env": names, "runtime": runtime,
                "body": {k: v for k, v in body.items() if k != "env"}, "tops": tops}
        digest = hashlib.sha256(json.dumps([runtime, self.image_pull_policy]).encode()).hexdigest()[:6]
        d["name"] = f"{template.name}-container-{digest}"
        d.setdefault("metadata", {}).setdefault("annotations", {})[EXECUTOR_ANNOTATION] = json.dumps(
            {"kind": "ContainerExecutor", "target": runtime or "docker", "image": body.get("image")}, sort_keys=True)
        d["script"] = {
            "image": body.get("image"), "command": ["python3"], "env": env,
            "source": ("# dflow-lab: executor v1 (ContainerExecutor)\nimport sys\n"
                       "from dflow_lab.executors.container import main\n"
                       f"sys.exit(main({encode(spec)!r}))\n"),
        }
        if not env:
            d["script"].pop("env")
        return template.from_rendered(d)


class RemoteExecutor(Executor):
    """Run the template's script on a remote host over SSH (see the module docstring)."""

    _kind = "ssh"

    def __init__(self, host: str, port: int = 22, username: str = "root", password: Optional[str] = None,
                 private_key_file: Any = None, workdir: str = "~/dflow/workflows/{{workflow.name}}/{{pod.name}}",
                 command: Union[str, List[str], None] = None, remote_command: Union[str, List[str], None] = None,
                 image: Optional[str] = None, image_pull_policy: Optional[str] = None, map_tmp_dir: bool = True,
                 docker_executable: Optional[str] = None, singularity_executable: Optional[str] = None,
                 podman_executable: Optional[str] = None, action_retries: int = -1, *, clean: str = "never",
                 known_hosts: Optional[str] = None, retry_timeout: float = 600.0) -> None:
        if not isinstance(host, str) or not host or any(c in host for c in " \n\t/@"):
            raise ValueError(f"{type(self).__name__}: host {host!r} is not a host name or address")
        if clean not in _CLEAN:
            raise ValueError(f"{type(self).__name__}: clean={clean!r}: use one of {', '.join(_CLEAN)}")
        if password is not None and private_key_file is not None:
            pass  # both allowed: the key is tried, then the password (paramiko's order)
        self.host = host
        self.port = int(port)
        self.username = username
        self._password = password
        self.private_key_file = private_key_file
        self.workdir = workdir
        self.command = [command] if isinstance(command, str) else (command or ["sh"])
        self.remote_command = [remote_command] if isinstance(remote_command, str) else remote_command
        self.image = image
        self.image_pull_policy = image_pull_policy
        self.map_tmp_dir = map_tmp_dir
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable
        if docker_executable or singularity_executable or podman_executable:
            self.map_tmp_dir = False
        self.action_retries = int(action_retries)
        self.clean = clean
        self.known_hosts = known_hosts
        self.retry_timeout = retry_timeout

    @property
    def password(self) -> Optional[str]:
        return self._password

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, port={self.port}, username={self.username!r})"

    def render(self, template: Any) -> Any:
        return render_template(self, template, self._kind)

    # the reference's shell helpers, for code that builds its own scripts from them
    def execute(self, cmd: str) -> str:
        return "execute %s %s" % (self.action_retries, shlex.quote(cmd))

    def upload(self, src: str, dst: str) -> str:
        return "upload %s %s %s" % (self.action_retries, shlex.quote(src), shlex.quote(dst))

    def download(self, src: str, dst: str) -> str:
        return "download %s %s %s" % (self.action_retries, shlex.quote(src), shlex.quote(dst))

    def upload_if_exists(self, path: str) -> str:
        return "if [ -e %s ]; then %s; fi\n" % (
            shlex.quote(path), self.upload(path, "%s/%s" % (self.workdir, os.path.dirname(path))))

    def mkdir_and_download(self, path: str) -> str:
        return "mkdir -p %s\n%s\n" % (shlex.quote(os.path.dirname(path)),
                                       self.download("%s/%s" % (self.workdir, path), os.path.dirname(path)))

    def run(self, image: str, remote_command: Any) -> str:
        return self.execute("cd %s && %s" % (self.workdir, run_script(
            image, remote_command, self.docker_executable, self.singularity_executable,
            self.podman_executable))) + " || exit 1\n"

    def get_script(self, template: Any) -> str:
        """The script of the rendered template (it calls dflow-lab's runner)."""
        return self.render(template).script


class SlurmRemoteExecutor(RemoteExecutor):
    """Submit the template's script to Slurm on a login node over SSH and wait for the job."""

    _kind = "slurm-ssh"

    def __init__(self, host: str, port: int = 22, username: str = "root", password: Optional[str] = None,
                 private_key_file: Any = None, workdir: str = "~/dflow/workflows/{{workflow.name}}/{{pod.name}}",
                 command: Union[str, List[str], None] = None, remote_command: Union[str, List[str], None] = None,
                 image: Optional[str] = None, image_pull_policy: Optional[str] = None, map_tmp_dir: bool = True,
                 docker_executable: Optional[str] = None, singularity_executable: Optional[str] = None,
                 podman_executable: Optional[str] = None, action_retries: int = -1, header: str = "",
                 interval: int = 3, pvc: Any = None, **kwargs: Any) -> None:
        super().__init__(host=host, port=port, username=username, password=password,
                         private_key_file=private_key_file, workdir=workdir, command=command,
                         remote_command=remote_command, image=image, image_pull_policy=image_pull_policy,
                         map_tmp_dir=map_tmp_dir, docker_executable=docker_executable,
                         singularity_executable=singularity_executable, podman_executable=podman_executable,
                         action_retries=action_retries, **kwargs)
        self.header = re.sub(r"(?m)^ *#", "#", header)
        if not interval or float(interval) <= 0:
            raise ValueError(f"SlurmRemoteExecutor: interval={interval!r} must be a positive number of seconds")
        self.interval = interval
        self.pvc = pvc


class SlurmJobTemplate(Executor):
    """Run the template's script as a Slurm job submitted from the node that runs the step."""

    def __init__(self, header: str = "", node_selector: Optional[Dict[str, str]] = None,
                 prepare_image: Optional[str] = None, prepare_image_pull_policy: Optional[str] = None,
                 collect_image: Optional[str] = None, collect_image_pull_policy: Optional[str] = None,
                 workdir: str = "dflow/workflows/{{workflow.name}}/{{pod.name}}",
                 remote_command: Union[str, List[str], None] = None, docker_executable: Optional[str] = None,
                 singularity_executable: Optional[str] = None, podman_executable: Optional[str] = None,
                 *, interval: float = 3, clean: str = "never") -> None:
        if clean not in _CLEAN:
            raise ValueError(f"SlurmJobTemplate: clean={clean!r}: use one of {', '.join(_CLEAN)}")
        self.header = re.sub(r"(?m)^ *#", "#", header)
        self.node_selector = node_selector
        self.prepare_image = prepare_image
        self.prepare_image_pull_policy = prepare_image_pull_policy
        self.collect_image = collect_image
        self.collect_image_pull_policy = collect_image_pull_policy
        self.workdir = workdir
        self.remote_command = [remote_command] if isinstance(remote_command, str) else remote_command
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable
        self.map_tmp_dir = not (docker_executable or singularity_executable or podman_executable)
        self.interval = interval
        self.clean = clean
        self.image = None
        self.image_pull_policy = None

    def render(self, template: Any) -> Any:
        new = render_template(self, template, "slurm-local")
        if self.prepare_image:
            new.image = self.prepare_image
        return new


class SlurmJob(Resource):
    """A Slurm job run on a virtual node of the cluster (wlm-operator style); a Kubernetes resource."""

    action = "create"
    success_condition = "status.status == Succeeded"
    failure_condition = "status.status == Failed"

    def __init__(self, header: str = "", node_selector: Optional[Dict[str, str]] = None, prepare: Any = None,
                 results: Any = None, map_tmp_dir: bool = True, workdir: str = ".", remote_command: Any = None,
                 docker_executable: Optional[str] = None, singularity_executable: Optional[str] = None,
                 podman_executable: Optional[str] = None) -> None:
        self.header = header
        self.node_selector = node_selector
        self.prepare = prepare
        self.results = results
        self.map_tmp_dir = map_tmp_dir
        self.workdir = workdir
        self.remote_command = [remote_command] if isinstance(remote_command, str) else remote_command
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable

    def get_manifest(self, template: Any) -> str:
        """The wlm-operator ``SlurmJob`` manifest (YAML text) that runs ``template``'s script."""
        remote_command = template.command if self.remote_command is None else self.remote_command
        script = (render_script_with_tmp_root(template, f"{self.workdir}/tmp") if self.map_tmp_dir
                  else template.script)
        batch = (f"{self.header}\nmkdir -p {self.workdir}\ncd {self.workdir}\n"
                 f"cat <<'EOF' > script\n{script}\nEOF\n"
                 + run_script(template.image, remote_command, self.docker_executable,
                              self.singularity_executable, self.podman_executable))
        manifest: Dict[str, Any] = {"apiVersion": "wlm.sylabs.io/v1alpha1", "kind": "SlurmJob",
                                    "metadata": {"name": "{{pod.name}}"}, "spec": {"batch": batch}}
        if self.node_selector is not None:
            manifest["spec"]["nodeSelector"] = self.node_selector
        if self.prepare is not None:
            manifest["spec"]["prepare"] = self.prepare
        if self.results is not None:
            manifest["spec"]["results"] = self.results
        return yaml.dump(manifest, default_style="|")
