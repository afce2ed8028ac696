"""dflow's ``dflow.plugins.dispatcher``: ``DispatcherExecutor`` and ``DispatcherArtifact``.

``DispatcherExecutor`` runs a step through the ``dpdispatcher`` package, as dflow does: the rendered
template's script builds dpdispatcher's ``Machine``, ``Resources`` and ``Task`` and runs a
``Submission`` — uploads the step's inputs, submits the script to the batch system, polls it and
downloads the outputs (``dflow_lab/executors/dispatch.py`` says exactly what is sent and how exit codes,
logs and failures come back). On the local engine that script is the step's host process, so
dpdispatcher must be installed on this machine (``pip install 'dflow-lab[executors]'``); a workflow
with such a step is refused at ``submit()`` otherwise, naming the step. On Argo it runs in the step's
pod (``image``, default ``config["dispatcher_image"]``, with Python, dflow-lab and dpdispatcher).

The arguments are dflow's: the machine is built as dflow builds it — ``batch_type`` ``Slurm`` and
``context_type`` ``SSHContext`` by default, ``remote_profile`` from ``host``/``port``/``username``/
``password``/``private_key_file``, ``remote_root`` (default ``/home/<username>/dflow/workflows``, or
``/root/dflow/workflows`` for root) — then updated by ``json_file``'s ``"machine"`` and by
``machine_dict``; ``resources_dict`` (over ``number_node: 1, cpu_per_node: 1, group_size: 1``, with
``queue_name``) and ``task_dict`` likewise. Tested here: ``Shell`` and ``Slurm`` over ``SSHContext``
and ``LocalContext``; dpdispatcher's other batch systems (PBS, LSF, …) go through it unchanged.
Bohrium/OpenAPI machines need a Bohrium account and raise ``CapabilityNotAvailable``. A dflow-lab
extension: ``check_interval`` (seconds between dpdispatcher's status checks; its default is 30).

Secrets: a password (given or in ``machine_dict["remote_profile"]``) and the private key (read from
``private_key_file`` or ``remote_profile["key_filename"]`` when the step is rendered) travel as
``Secret`` references, never in the manifest, the spec or ``repr``; the step writes the key to a
0600 file for the run only. ``merge_sliced_step``, ``merge_bohrium_job_group`` and the
``pre_script``/``post_script`` of the dispatcher pod are accepted and not used.
"""


from __future__ import annotations

import abc
import json
import os
from typing import Any, Dict, List, Optional, Union

from ..common import CustomArtifact
from ..config import config
from ..errors import CapabilityNotAvailable
from ..executors.base import Executor, render_template

__all__ = ["DispatcherArtifact", "DispatcherExecutor"]


class DispatcherExecutor(Executor):
    """Run a step through dpdispatcher, with dflow's arguments (see the module docstring)."""

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
                 terminate_grace_period: Optional[int] = None, check_interval: float = 30) -> None:
        conf: Dict[str, Any] = {}
        if json_file is not None:
            with open(json_file) as f:
                conf = json.load(f)
            if not isinstance(conf, dict):
                raise ValueError(f"DispatcherExecutor: json_file {os.fspath(json_file)!r} must hold a JSON object "
                                 "with \"machine\" and \"resources\"")
        machine: Dict[str, Any] = {
            "batch_type": "Slurm", "context_type": "SSHContext", "remote_profile": {},
            "remote_root": remote_root if remote_root is not None else
            ("/root/dflow/workflows" if username == "root" else f"/home/{username}/dflow/workflows"),
        }
        _update(machine, conf.get("machine") or {})
        _update(machine, machine_dict or {})
        if not isinstance(machine.get("remote_profile"), dict):
            raise ValueError("DispatcherExecutor: machine remote_profile must be a dict")
        profile = machine["remote_profile"]
        if str(machine.get("context_type")).lower().replace("context", "") == "ssh":  # dflow's SSH defaults
            for k, v in (("hostname", host), ("username", username), ("port", port), ("timeout", 10)):
                if k not in profile:
                    profile[k] = v
        # secrets leave the machine: they travel as Secret references (render.py), never in the spec
        self._password = password if password is not None else profile.pop("password", None)
        profile.pop("password", None)
        key_file = profile.pop("key_filename", None)
        self.private_key_file = private_key_file if private_key_file is not None else key_file
        self.machine_dict = machine
        resources: Dict[str, Any] = {
            "number_node": 1, "cpu_per_node": 1, "group_size": 1,
            "envs": {"DFLOW_WORKFLOW": "{{workflow.name}}", "DFLOW_POD": "{{pod.name}}", "PYTHONUNBUFFERED": "true"},
        }
        if queue_name is not None:
            resources["queue_name"] = queue_name
        _update(resources, conf.get("resources") or {})
        _update(resources, resources_dict or {})
        self.resources_dict = resources
        self.task_dict = {"task_work_path": "./", "outlog": "log", "errlog": "log", **dict(task_dict or {})}
        self.queue_name = resources.get("queue_name")
        self.host = profile.get("hostname")
        self.port = int(profile.get("port") or 22)
        self.username = profile.get("username", username)
        self.remote_root = machine.get("remote_root")
        self.image = image if image is not None else config["dispatcher_image"]
        self.image_pull_policy = image_pull_policy if image_pull_policy is not None else \
            config["dispatcher_image_pull_policy"]
        self.command = command
        self.remote_command = remote_command
        self.docker_executable = docker_executable
        self.singularity_executable = singularity_executable
        self.podman_executable = podman_executable
        self.map_tmp_dir = map_tmp_dir and not (docker_executable or singularity_executable or podman_executable)
        self.container_args = container_args
        self.retry_on_submission_error = retry_on_submission_error
        self.merge_sliced_step = merge_sliced_step
        self.pre_script = pre_script
        self.post_script = post_script
        self.clean = clean
        self.remove_scheduling_strategies = remove_scheduling_strategies
        self.envs = envs
        self.merge_bohrium_job_group = merge_bohrium_job_group
        self.terminate_grace_period = terminate_grace_period
        self.check_interval = float(check_interval)
        self.workdir = str(self.remote_root or "")

    @property
    def password(self) -> Optional[str]:
        return self._password

    @property
    def batch_type(self) -> str:
        return str(self.machine_dict.get("batch_type"))

    @property
    def context_type(self) -> str:
        return str(self.machine_dict.get("context_type"))

    def __repr__(self) -> str:
        return (f"DispatcherExecutor(host={self.host!r}, port={self.port}, username={self.username!r}, "
                f"batch_type={self.batch_type!r}, context_type={self.context_type!r})")

    def _ssh(self) -> bool:
        return self.context_type.lower().replace("context", "") == "ssh"

    def target(self) -> str:
        """Where the step goes: ``user@host:port`` (SSH) or ``this host`` (``LocalContext``)."""
        return f"{self.username}@{self.host}:{self.port}" if self._ssh() else "this host"

    def public_machine(self) -> Dict[str, Any]:
        """The machine as the step receives it: no password, no key (those come as secrets)."""
        return json.loads(json.dumps(self.machine_dict))

    def check(self, where: str = "DispatcherExecutor") -> None:
        """Refuse machines dflow-lab cannot run (before anything is rendered or submitted)."""
        ctx = self.context_type
        if ctx.lower().replace("context", "") in ("bohrium", "openapi", "dpcloudserver", "lebesgue"):
            raise CapabilityNotAvailable(f"{where}: context_type {ctx!r}", "a Bohrium account and its services")
        if ctx.lower().replace("context", "") not in ("ssh", "local", "lazylocal", "hdfs"):
            raise ValueError(f"{where}: context_type {ctx!r} is not a dpdispatcher context dflow-lab can run "
                             "(use SSHContext or LocalContext)")
        if not self.batch_type or "\n" in self.batch_type:
            raise ValueError(f"{where}: batch_type {self.batch_type!r} is not a dpdispatcher batch type")
        if self._ssh():
            if not self.host:
                raise ValueError(f"{where}: no host: give host= or machine_dict['remote_profile']['hostname']")
            _one_line("host", self.host, where)
            _one_line("username", self.username, where)
        if self.remote_root is not None:
            _one_line("remote_root", self.remote_root, where)
        if self.queue_name is not None:
            _one_line("queue_name", self.queue_name, where)
        for flag in self.resources_dict.get("custom_flags") or []:
            _one_line("custom_flags item", flag, where)

    def render(self, template: Any) -> Any:
        where = f"DispatcherExecutor (template {getattr(template, 'name', template)!r})"
        self.check(where)
        new = render_template(self, template, "dispatcher")
        if self.envs:
            new.envs = {**(new.envs or {}), **{str(k): str(v) for k, v in self.envs.items()}}
        return new


def _update(d1: Dict[str, Any], d2: Dict[str, Any]) -> None:
    """``d1`` updated by ``d2`` recursively (dict values are merged), as dflow merges machine settings."""
    for k, v in d2.items():
        if isinstance(v, dict) and isinstance(d1.get(k), dict):
            _update(d1[k], v)
        else:
            d1[k] = v


def _one_line(what: str, value: Any, where: str = "DispatcherExecutor") -> str:
    text = str(value)
    if any(c in text for c in "\n\r\0"):
        raise ValueError(f"{where}: {what} {text!r} must be one line")
    return text


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
