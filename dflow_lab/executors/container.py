"""Running a step in its image through a container runtime (podman, docker, singularity/apptainer).

Used three ways, with one command-line builder (:func:`container_argv`):
- by the local engine when the user opts in (``config["container_runtime"]``, env
  ``DFLOW_CONTAINER_RUNTIME``: ``"podman"``, ``"docker"`` or ``"singularity"``; ``None``/``"host"``
  runs on the host as before): :func:`local_container_argv` turns a leaf template into the argv;
- by ``ContainerExecutor`` (its rendered script calls :func:`main`, on the host or in a pod);
- by the remote executors with ``docker_executable``/``podman_executable``/``singularity_executable``.

Semantics of a local container step:
- the step directory's ``root/<top>`` is bind-mounted at ``/<top>`` for every top directory of a
  declared path (``/tmp`` always), so the template finds its inputs at their declared paths and its
  outputs are collected from the step directory; the script is mounted read-only at
  ``/dflow-lab/script``; ``workingDir`` becomes ``-w``;
- the template's env (after substitution) is passed with ``-e``; the host environment is not;
- resources: ``limits`` (else ``requests``) ``cpu`` → ``--cpus``, ``memory`` → ``--memory``
  (``Mi``/``Gi``/``M``/``G`` mapped; singularity ignores both);
- ``imagePullPolicy``: ``Always`` → ``--pull=always``, ``Never`` → ``--pull=never``,
  ``IfNotPresent`` → ``--pull=missing``; unset: ``always`` for ``:latest`` or an untagged image,
  else ``missing`` (Kubernetes' default);
- what the runtime needs on this machine lives in configuration, never in code:
  ``config["container_global_options"]`` (``DFLOW_CONTAINER_GLOBAL_OPTIONS``, before the
  subcommand, e.g. ``--runtime runc --cgroup-manager=cgroupfs``) and
  ``config["container_run_options"]`` (``DFLOW_CONTAINER_RUN_OPTIONS``, after ``run``, e.g.
  ``--ulimit nofile=1024:1024 --ulimit nproc=512:512``); strings are split like a shell would;
- a runtime that is not installed fails the step naming it; the runtime's own failure (exit code
  125, e.g. an image that is not present with ``Never``, or cannot be pulled) fails the step with
  the runtime's last error line.
Python OPs in an image run ``python3 /dflow-lab/script``: the image needs ``python3`` (3.9+) with
PyYAML; dflow-lab and jsonpickle reach it through the ``dflow_python_packages`` artifact
(``upload_dflow=True``, the default), the OP's module through ``python_packages``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from ..config import config as global_config

__all__ = ["RUNTIMES", "container_argv", "env_by_name", "local_container_argv", "runtime_setting", "split_options",
           "ContainerSetupError", "main"]

RUNTIMES = ("podman", "docker", "singularity", "apptainer")
SCRIPT_MOUNT = "/dflow-lab/script"


class ContainerSetupError(RuntimeError):
    """The container cannot be started (no runtime, a bad option): the step fails with this."""


def split_options(value: Any) -> List[str]:
    if not value:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    return [str(v) for v in value]


def runtime_setting(config: Mapping[str, Any]) -> Optional[str]:
    """The configured runtime (``None``: run on the host)."""
    value = config.get("container_runtime")
    if value in (None, "", "host", "none"):
        return None
    if str(value) not in RUNTIMES and not os.path.isabs(str(value)):
        raise ContainerSetupError(f"config['container_runtime'] = {value!r} is not a container runtime: use one of "
                                  f"{', '.join(RUNTIMES)} (or 'host', the default)")
    return str(value)


def _kind(runtime: str) -> str:
    base = os.path.basename(runtime)
    for k in RUNTIMES:
        if k in base:
            return "singularity" if k == "apptainer" else k
    return "docker"


def _cpus(value: Any) -> Optional[str]:
    if value is None:
        return None
    s = str(value)
    if s.endswith("m"):
        return f"{int(s[:-1]) / 1000:g}"
    return f"{float(s):g}"


def _memory(value: Any) -> Optional[str]:
    """A Kubernetes memory quantity as bytes for ``--memory`` (``None`` stays ``None``)."""
    if value is None:
        return None
    s = str(value)
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?", s)
    if not m:
        raise ContainerSetupError(f"memory {s!r} is not a Kubernetes quantity (e.g. 512Mi, 2Gi)")
    factor = {"": 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "k": 10**3, "K": 10**3,
              "M": 10**6, "G": 10**9, "T": 10**12}[m.group(2) or ""]
    return f"{int(float(m.group(1)) * factor)}b"


def _pull(policy: Optional[str], image: str) -> str:
    if policy == "Always":
        return "always"
    if policy == "Never":
        return "never"
    if policy == "IfNotPresent":
        return "missing"
    tag = image.rsplit("/", 1)[-1]
    return "always" if ":" not in tag or tag.endswith(":latest") else "missing"


def container_argv(runtime: str, kind: Optional[str], image: str, command: Sequence[str], args: Sequence[str],
                   mounts: Mapping[str, str], workdir: Optional[str] = None,
                   env: Optional[Mapping[str, Optional[str]]] = None, cpus: Any = None, memory: Any = None,
                   pull_policy: Optional[str] = None, global_options: Sequence[str] = (),
                   options: Sequence[str] = (), name: Optional[str] = None) -> List[str]:
    """The argv that runs ``command + args`` in ``image`` (``mounts``: container path → host path).

    An ``env`` value ``None`` is passed by name only (a secret's value never goes on a command line, which
    every user of the machine can read): the caller puts it in the runtime process's environment
    (:func:`env_by_name`)."""
    kind = kind or _kind(runtime)
    if kind == "singularity":
        argv = [runtime, *global_options, "exec", "--cleanenv"]
        for ctr, host in mounts.items():
            argv += ["--bind", f"{host}:{ctr}"]
        for k, v in (env or {}).items():
            if v is not None:  # None: given as SINGULARITYENV_<k>/APPTAINERENV_<k> in the runtime's environment
                argv += ["--env", f"{k}={v}"]
        if workdir:
            argv += ["--pwd", workdir]
        return argv + [*options, image, *command, *args]
    argv = [runtime, *global_options, "run", "--rm", "-i", f"--pull={_pull(pull_policy, image)}"]
    if name:
        argv += ["--name", name]
    for ctr, host in mounts.items():
        argv += ["-v", f"{host}:{ctr}" + (":ro" if ctr == SCRIPT_MOUNT else "")]
    for k, v in (env or {}).items():
        argv += ["-e", f"{k}={v}" if v is not None else k]  # None: the value is in the runtime's environment
    if workdir:
        argv += ["-w", workdir]
    c = _cpus(cpus)
    if c is not None:
        argv.append(f"--cpus={c}")
    m = _memory(memory)
    if m is not None:
        argv.append(f"--memory={m}")
    return argv + [*options, image, *command, *args]


def _resources(body: Mapping[str, Any]) -> tuple:
    res = body.get("resources") or {}
    lim, req = res.get("limits") or {}, res.get("requests") or {}
    return lim.get("cpu", req.get("cpu")), lim.get("memory", req.get("memory"))


def env_by_name(runtime: str, values: Mapping[str, str]) -> Dict[str, str]:
    """The runtime process's environment entries that give the container ``values`` passed by name
    (``env`` value ``None`` in :func:`container_argv`): as they are for docker/podman (``-e NAME``),
    prefixed ``SINGULARITYENV_``/``APPTAINERENV_`` for singularity/apptainer."""
    if _kind(runtime) == "singularity":
        return {f"{p}ENV_{k}": v for k, v in values.items() for p in ("SINGULARITY", "APPTAINER")}
    return dict(values)


def local_container_argv(config: Mapping[str, Any], runtime: str, body: Mapping[str, Any], is_script: bool,
                         script_path: Optional[str], root: str, tops: Sequence[str],
                         env: Mapping[str, Optional[str]],
                         where: str, name: Optional[str] = None) -> List[str]:
    """The local engine's argv for a leaf template ``body`` (``script`` or ``container``) in its image."""
    exe = shutil.which(runtime)
    if exe is None:
        raise ContainerSetupError(f"{where}: container runtime {runtime!r} is not installed on this host "
                                  "(config['container_runtime'] / DFLOW_CONTAINER_RUNTIME); install it or set "
                                  "the runtime to 'host'")
    image = body.get("image")
    if not image:
        raise ContainerSetupError(f"{where}: the template has no image to run in")
    mounts = {"/" + t: os.path.join(root, t) for t in sorted(set(tops) | {"tmp"})}
    command = [str(c) for c in body.get("command") or []]
    args = [str(a) for a in body.get("args") or []]
    if is_script:
        mounts[SCRIPT_MOUNT] = str(script_path)
        command = command or ["sh"]
        args = [SCRIPT_MOUNT] + args
    elif not command and not args:
        pass  # the image's entrypoint and cmd
    cpus, memory = _resources(body)
    return container_argv(exe, _kind(runtime), str(image), command, args, mounts, body.get("workingDir"), env,
                          cpus, memory, body.get("imagePullPolicy"),
                          split_options(config.get("container_global_options")),
                          split_options(config.get("container_run_options")), name)


def run_script(image: str, cmd: Union[str, List[str]], docker: Optional[str] = None,
               singularity: Optional[str] = None, podman: Optional[str] = None,
               image_pull_policy: Optional[str] = None, host_mounts: Optional[Dict[str, str]] = None,
               cpu: Optional[int] = None, memory: Optional[str] = None, args: str = "",
               envs: Optional[Dict[str, str]] = None) -> str:
    """The shell command that runs ``cmd`` (then ``script``) in ``image`` with the given runtime, or
    ``cmd script`` on the host when no runtime is given (as the reference's ``run_script``; re-exported by
    ``executors.base`` and ``dflow_lab.executor``)."""
    command = cmd.split() if isinstance(cmd, str) else list(cmd)
    runtime = docker or podman or singularity
    if runtime is None:
        return " ".join(shlex.quote(c) for c in command) + " script"
    kind = "docker" if docker else ("podman" if podman else "singularity")
    mounts = {"/tmp": "$(pwd)/tmp", "/script": "$(pwd)/script", **(host_mounts or {})}
    argv = container_argv(runtime, kind, image, command, ["/script"], mounts, None, envs, cpu, memory,
                          image_pull_policy, options=split_options(args))
    return " ".join(a if "$(pwd)" in a else shlex.quote(a) for a in argv)


# -- ContainerExecutor's rendered script ----------------------------------------------------------

def resolve_tags(text: str, tags: Dict[str, str]) -> str:
    """``text`` with each ``{{tag}}`` of ``tags`` (variable → tag) replaced by its environment variable's
    value (``ValueError`` naming the tag when the variable is unset); shared with ``runner.py``."""
    for var, tag in tags.items():
        if var not in os.environ:
            raise ValueError(f"the value of {{{{{tag}}}}} did not arrive (environment variable {var} is unset)")
        text = text.replace("{{" + tag + "}}", os.environ[var])
    return text


def encode(spec: Dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(spec, sort_keys=True).encode()).decode()


def main(encoded: str) -> int:
    """Run the spec of a template rendered by ``ContainerExecutor``: the original script in its image,
    with the declared paths' top directories (under ``$DFLOW_LAB_ROOT``, ``/`` in a pod) mounted."""
    spec = json.loads(base64.urlsafe_b64decode(encoded.encode()).decode())
    root = os.environ.get("DFLOW_LAB_ROOT") or "/"
    try:
        script = resolve_tags(spec["script"], spec.get("tags") or {})
    except ValueError as e:
        sys.stderr.write(f"[dflow-lab container] {e}\n")
        return 1
    work = os.path.abspath(".dflow-lab-container")
    os.makedirs(work, exist_ok=True)
    script_path = os.path.join(work, "script")
    with open(script_path, "w") as f:
        f.write(script)
    env = {k: os.environ[k] for k in spec.get("env") or [] if k in os.environ}
    body = dict(spec["body"])
    runtime = spec.get("runtime") or runtime_setting(global_config) or "docker"
    opts = {"container_global_options": spec.get("global_options") or global_config.get("container_global_options"),
            "container_run_options": spec.get("run_options") or global_config.get("container_run_options")}
    try:
        # the template's variables (its secrets among them) go by name, their values in the runtime's environment
        argv = local_container_argv(opts, runtime, body, True, script_path, root, spec.get("tops") or [],
                                    dict.fromkeys(env), f"ContainerExecutor ({runtime})")
    except ContainerSetupError as e:
        sys.stderr.write(f"{e}\n")
        return 127
    return subprocess.call(argv, stdin=subprocess.DEVNULL, env={**os.environ, **env_by_name(runtime, env)})
