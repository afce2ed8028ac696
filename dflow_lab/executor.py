"""Executors: render a template so that its script runs somewhere else (``dflow.executor``).

``ContainerExecutor`` wraps the script so that it runs in a Docker/Singularity/Podman container on
the node. Remote executors over SSH need an SSH transport that dflow-lab does not ship yet; their
members exist and raise ``CapabilityNotAvailable`` naming it.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Union

from .errors import CapabilityNotAvailable

REMOTE = "remote executors over SSH"


class Executor(ABC):
    """Render an original template into the one that runs; must not modify ``self``."""

    @abstractmethod
    def render(self, template: Any) -> Any:
        """Render original template and return a new template."""


def render_script_with_tmp_root(template: Any, tmp_root: str) -> str:
    """The template's script with its ``/tmp`` paths moved under ``tmp_root``."""
    return template.script.replace("/tmp", tmp_root)


def run_script(image: str, cmd: Union[str, List[str]], docker: Optional[str] = None,
               singularity: Optional[str] = None, podman: Optional[str] = None,
               image_pull_policy: Optional[str] = None, host_mounts: Optional[Dict[str, str]] = None,
               cpu: Optional[int] = None, memory: Optional[str] = None, args: str = "",
               envs: Optional[Dict[str, str]] = None) -> str:
    """The shell command that runs ``cmd`` in ``image`` with the given container runtime."""
    command = " ".join(cmd) if isinstance(cmd, list) else cmd
    mounts = host_mounts or {}
    if singularity is not None:
        binds = " ".join(f"-B {shlex.quote(h)}:{shlex.quote(c)}" for c, h in mounts.items())
        envs_s = " ".join(f"--env {shlex.quote(k + '=' + v)}" for k, v in (envs or {}).items())
        return f"{singularity} exec {binds} {envs_s} {args} {shlex.quote(image)} {command}".replace("  ", " ")
    runtime = podman if podman is not None else (docker or "docker")
    parts = [runtime, "run", "--rm"]
    if image_pull_policy == "Always":
        parts.append("--pull=always")
    elif image_pull_policy == "Never":
        parts.append("--pull=never")
    for c, h in mounts.items():
        parts += ["-v", shlex.quote(f"{h}:{c}")]
    for k, v in (envs or {}).items():
        parts += ["-e", shlex.quote(f"{k}={v}")]
    if cpu is not None:
        parts.append(f"--cpus={cpu}")
    if memory is not None:
        parts.append(f"--memory={memory}")
    if args:
        parts.append(args)
    parts += [shlex.quote(image), command]
    return " ".join(parts)


class ContainerExecutor(Executor):
    """Run the template's script inside a container started by the node's container runtime."""

    def __init__(self, docker: Optional[str] = None, singularity: Optional[str] = None,
                 podman: Optional[str] = None, image_pull_policy: Optional[str] = None) -> None:
        self.docker = docker
        self.singularity = singularity
        self.podman = podman
        self.image_pull_policy = image_pull_policy

    def render(self, template: Any) -> Any:
        from .op_template import ShellOPTemplate

        new = template.copy()
        if not hasattr(new, "script"):
            raise TypeError(f"ContainerExecutor renders script templates, not {type(template).__name__}")
        new.name = template.name + "-container"
        interpreter = " ".join(template.command) or "sh"
        inner = run_script(
            template.image, f"{interpreter} /tmp/script", docker=self.docker, singularity=self.singularity,
            podman=self.podman, image_pull_policy=self.image_pull_policy, host_mounts={"/tmp": "/tmp"},
        )
        new.script = (
            "cat > /tmp/script <<'DFLOW_LAB_SCRIPT_EOF'\n" + template.script + "\nDFLOW_LAB_SCRIPT_EOF\n" + inner + "\n"
        )
        new.command = list(ShellOPTemplate._default_command)
        return new


class RemoteExecutor(Executor):
    """Run the template's script on a remote host over SSH."""

    def __init__(self, host: str, port: int = 22, username: str = "root", password: Optional[str] = None,
                 private_key_file: Any = None, workdir: str = "~/dflow/workflows/{{workflow.name}}/{{pod.name}}",
                 command: Union[str, List[str], None] = None, remote_command: Union[str, List[str], None] = None,
                 image: Optional[str] = None, image_pull_policy: Optional[str] = None, map_tmp_dir: bool = True,
                 docker_executable: Optional[str] = None, singularity_executable: Optional[str] = None,
                 podman_executable: Optional[str] = None, action_retries: int = -1) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.private_key_file = private_key_file
        self.workdir = workdir
        self.command = command
        self.remote_command = remote_command
        self.image = image
        self.image_pull_policy = image_pull_policy
        self.map_tmp_dir = map_tmp_dir
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable
        self.action_retries = action_retries

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.host!r}, port={self.port}, username={self.username!r})"

    def render(self, template: Any) -> Any:
        raise CapabilityNotAvailable(f"{type(self).__name__}.render", REMOTE)

    def execute(self, cmd: str) -> Any:
        raise CapabilityNotAvailable(f"{type(self).__name__}.execute", REMOTE)

    def upload(self, src: str, dst: str) -> Any:
        raise CapabilityNotAvailable(f"{type(self).__name__}.upload", REMOTE)

    def download(self, src: str, dst: str) -> Any:
        raise CapabilityNotAvailable(f"{type(self).__name__}.download", REMOTE)

    def mkdir_and_download(self, path: str) -> Any:
        raise CapabilityNotAvailable(f"{type(self).__name__}.mkdir_and_download", REMOTE)

    def upload_if_exists(self, path: str) -> Any:
        raise CapabilityNotAvailable(f"{type(self).__name__}.upload_if_exists", REMOTE)

    def get_script(self, template: Any) -> str:
        raise CapabilityNotAvailable(f"{type(self).__name__}.get_script", REMOTE)

    def run(self, image: str, remote_command: Any) -> Any:
        raise CapabilityNotAvailable(f"{type(self).__name__}.run", REMOTE)
