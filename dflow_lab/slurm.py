"""Slurm: run steps as Slurm jobs (``dflow.slurm``).

Submitting to Slurm needs the remote-executor capability (SSH, or a Slurm cluster reachable from
Kubernetes) that dflow-lab does not ship yet; these classes keep their configuration and raise
``CapabilityNotAvailable`` naming it when asked to render a template.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from .errors import CapabilityNotAvailable
from .executor import Executor, RemoteExecutor
from .resource import Resource

SLURM = "Slurm executors (remote execution over SSH)"


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
        self.remote_command = remote_command
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable

    def get_manifest(self, template: Any) -> Any:
        raise CapabilityNotAvailable("SlurmJob.get_manifest", SLURM)


class SlurmJobTemplate(Executor):
    """Run the template's script as a Slurm job on a cluster node (with prepare/collect steps)."""

    def __init__(self, header: str = "", node_selector: Optional[Dict[str, str]] = None,
                 prepare_image: Optional[str] = None, prepare_image_pull_policy: Optional[str] = None,
                 collect_image: Optional[str] = None, collect_image_pull_policy: Optional[str] = None,
                 workdir: str = "dflow/workflows/{{workflow.name}}/{{pod.name}}",
                 remote_command: Union[str, List[str], None] = None, docker_executable: Optional[str] = None,
                 singularity_executable: Optional[str] = None, podman_executable: Optional[str] = None) -> None:
        self.header = header
        self.node_selector = node_selector
        self.prepare_image = prepare_image
        self.prepare_image_pull_policy = prepare_image_pull_policy
        self.collect_image = collect_image
        self.collect_image_pull_policy = collect_image_pull_policy
        self.workdir = workdir
        self.remote_command = remote_command
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable

    def render(self, template: Any) -> Any:
        raise CapabilityNotAvailable("SlurmJobTemplate.render", SLURM)


class SlurmRemoteExecutor(RemoteExecutor):
    """Submit the template's script to Slurm on a login node over SSH and wait for the job."""

    def __init__(self, host: str, port: int = 22, username: str = "root", password: Optional[str] = None,
                 private_key_file: Any = None, workdir: str = "~/dflow/workflows/{{workflow.name}}/{{pod.name}}",
                 command: Union[str, List[str], None] = None, remote_command: Union[str, List[str], None] = None,
                 image: Optional[str] = None, image_pull_policy: Optional[str] = None, map_tmp_dir: bool = True,
                 docker_executable: Optional[str] = None, singularity_executable: Optional[str] = None,
                 podman_executable: Optional[str] = None, action_retries: int = -1, header: str = "",
                 interval: int = 3, pvc: Any = None) -> None:
        super().__init__(host=host, port=port, username=username, password=password,
                         private_key_file=private_key_file, workdir=workdir, command=command,
                         remote_command=remote_command, image=image, image_pull_policy=image_pull_policy,
                         map_tmp_dir=map_tmp_dir, docker_executable=docker_executable,
                         singularity_executable=singularity_executable, podman_executable=podman_executable,
                         action_retries=action_retries)
        self.header = header
        self.interval = interval
        self.pvc = pvc

    def render(self, template: Any) -> Any:
        raise CapabilityNotAvailable("SlurmRemoteExecutor.render", SLURM)

    def run(self, image: str, remote_command: Any) -> Any:
        raise CapabilityNotAvailable("SlurmRemoteExecutor.run", SLURM)
