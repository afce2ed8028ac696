"""dflow's ``dflow.plugins.dispatcher``: ``DispatcherExecutor`` and ``DispatcherArtifact``.

On dflow, ``DispatcherExecutor`` runs a step through ``dpdispatcher`` (a machine: a context such as
``SSHContext`` and a batch system such as ``Slurm``). dflow-lab takes the same arguments and runs the
step with its own remote executors (:mod:`dflow_lab.executors`), chosen from the machine:

- ``batch_type`` ``Shell`` over ``SSHContext`` (or ``host=`` given): :class:`RemoteExecutor`;
- ``batch_type`` ``Slurm`` over ``SSHContext``: :class:`SlurmRemoteExecutor`, with an ``#SBATCH`` header
  built from ``resources_dict`` (``queue_name`` → ``--partition``, ``number_node`` → ``--nodes``,
  ``cpu_per_node`` → ``--ntasks-per-node``, ``gpu_per_node`` → ``--gres=gpu:N``, ``custom_flags`` as
  given, each one line without newlines).

The machine comes from ``machine_dict`` (dpdispatcher's ``remote_profile``: ``hostname``, ``port``,
``username``, ``password``, ``key_filename``), or from ``host``/``port``/``username``/``password``/
``private_key_file``, or from ``json_file`` (``{"machine": …, "resources": …}``). Other batch systems
(PBS, LSF, …) and contexts (Bohrium, OpenAPI, Lazy…) raise an error naming the machine when the step is
rendered, before anything is submitted. dpdispatcher itself is not imported: its job files and
``remote_root`` layout are not reproduced (the remote directory is ``remote_root``/the step's pod).
"""

from __future__ import annotations

import abc
import json
import os
from typing import Any, Dict, List, Optional, Union

from ..common import CustomArtifact
from ..executors.base import Executor, RemoteExecutor, SlurmRemoteExecutor

__all__ = ["DispatcherArtifact", "DispatcherExecutor"]

_BATCH = ("Shell", "Slurm")


def _one_line(what: str, value: Any) -> str:
    text = str(value)
    if any(c in text for c in "\n\r\0"):
        raise ValueError(f"DispatcherExecutor: {what} {text!r} must be one line")
    return text


class DispatcherExecutor(Executor):
    """Run a step remotely as dflow's dpdispatcher executor would (see the module docstring)."""

    def __init__(self, host: Optional[str] = None, queue_name: Optional[str] = None, port: int = 22,
                 username: str = "root", password: Optional[str] = None,
                 private_key_file: Optional[Union[str, os.PathLike]] = None, image: Optional[str] = None,
                 image_pull_policy: Optional[str] = None, command: Union[str, List[str]] = "python3",
                 remote_command: Union[str, List[str], None] = None, map_tmp_dir: bool = True,
                 machine_dict: Optional[dict] = None, resources_dict: Optional[dict] = None,
                 task_dict: Optional[dict] = None, json_file: Optional[Union[str, os.PathLike]] = None,
                 docker_executable: Optional[str] = None, singularity_executable: Optional[str] = None,
                 container_args: str = "", podman_executable: Optional[str] = None,
                 remote_root: Optional[str] = None, retry_on_submission_error: Optional[int] = None,
                 merge_sliced_step: bool = False, pre_script: str = "", post_script: str = "",
                 clean: bool = True, remove_scheduling_strategies: bool = True,
                 envs: Optional[Dict[str, str]] = None, merge_bohrium_job_group: bool = False,
                 terminate_grace_period: Optional[int] = None) -> None:
        machine: Dict[str, Any] = {}
        resources: Dict[str, Any] = {}
        if json_file is not None:
            with open(json_file) as f:
                loaded = json.load(f)
            machine.update(loaded.get("machine") or {})
            resources.update(loaded.get("resources") or {})
        machine.update(machine_dict or {})
        resources.update(resources_dict or {})
        profile = dict(machine.get("remote_profile") or {})
        self.host = host if host is not None else profile.get("hostname")
        self.port = int(port if host is not None else profile.get("port", port))
        self.username = username if host is not None else profile.get("username", username)
        self._password = password if password is not None else profile.get("password")
        self.private_key_file = private_key_file if private_key_file is not None else profile.get("key_filename")
        self.batch_type = machine.get("batch_type", "Slurm" if queue_name else "Shell")
        self.context_type = machine.get("context_type", "SSHContext")
        if queue_name is not None:
            resources.setdefault("queue_name", queue_name)
        self.queue_name = resources.get("queue_name")
        self.resources_dict = resources
        self.task_dict = dict(task_dict or {})
        self.image = image
        self.image_pull_policy = image_pull_policy
        self.command = command
        self.remote_command = remote_command
        self.map_tmp_dir = map_tmp_dir
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable
        self.container_args = container_args
        self.remote_root = remote_root if remote_root is not None else machine.get("remote_root")
        self.retry_on_submission_error = retry_on_submission_error
        self.merge_sliced_step = merge_sliced_step
        self.pre_script = pre_script
        self.post_script = post_script
        self.clean = clean
        self.envs = envs
        self.terminate_grace_period = terminate_grace_period

    @property
    def password(self) -> Optional[str]:
        return self._password

    def __repr__(self) -> str:
        return (f"DispatcherExecutor(host={self.host!r}, port={self.port}, username={self.username!r}, "
                f"batch_type={self.batch_type!r}, context_type={self.context_type!r})")

    def _header(self) -> str:
        r = self.resources_dict
        lines = []
        if r.get("queue_name"):
            lines.append("#SBATCH --partition=%s" % _one_line("queue_name", r["queue_name"]))
        if r.get("number_node"):
            lines.append("#SBATCH --nodes=%d" % int(r["number_node"]))
        if r.get("cpu_per_node"):
            lines.append("#SBATCH --ntasks-per-node=%d" % int(r["cpu_per_node"]))
        if r.get("gpu_per_node"):
            lines.append("#SBATCH --gres=gpu:%d" % int(r["gpu_per_node"]))
        for flag in r.get("custom_flags") or []:
            lines.append(_one_line("custom_flags item", flag))
        return "\n".join(lines)

    def remote_executor(self, where: str = "DispatcherExecutor") -> RemoteExecutor:
        """The dflow-lab executor this machine maps to (raises for machines dflow-lab cannot drive)."""
        if self.context_type not in ("SSHContext", "SSH"):
            raise ValueError(f"{where}: context_type {self.context_type!r} is not supported by dflow-lab "
                             "(it runs SSHContext machines through its SSH executors); use an SSHContext "
                             "machine or run the step without executor=")
        if self.batch_type not in _BATCH:
            raise ValueError(f"{where}: batch_type {self.batch_type!r} is not supported by dflow-lab "
                             f"(supported: {', '.join(_BATCH)})")
        if not self.host:
            raise ValueError(f"{where}: no host: give host= or machine_dict['remote_profile']['hostname']")
        kwargs: Dict[str, Any] = dict(
            host=self.host, port=self.port, username=self.username, password=self._password,
            private_key_file=self.private_key_file, remote_command=self.remote_command, image=self.image,
            image_pull_policy=self.image_pull_policy, map_tmp_dir=self.map_tmp_dir,
            docker_executable=self.docker_executable, singularity_executable=self.singularity_executable,
            podman_executable=self.podman_executable)
        if self.remote_root:
            kwargs["workdir"] = _one_line("remote_root", self.remote_root).rstrip("/") + "/{{pod.name}}"
        if self.batch_type == "Slurm":
            return SlurmRemoteExecutor(header=self._header(), **kwargs)
        return RemoteExecutor(**kwargs)

    def render(self, template: Any) -> Any:
        return self.remote_executor(f"DispatcherExecutor (template {getattr(template, 'name', template)!r})"
                                    ).render(template)


class DispatcherArtifact(CustomArtifact, abc.ABC):
    """An artifact a dispatcher job fetches itself (dflow's interface for Bohrium datasets and the like)."""

    @abc.abstractmethod
    def modify_config(self, name: str, machine: Any) -> str:
        """Adjust the dispatcher machine so that the job sees the artifact ``name``."""

    @abc.abstractmethod
    def remote_download(self, name: str, path: str) -> Any:
        """Download the artifact on the remote machine to ``path``."""

    @abc.abstractmethod
    def bohrium_download(self, name: str, path: str) -> Any:
        """Download the artifact on Bohrium to ``path``."""
