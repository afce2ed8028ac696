"""Running one attempt of a leaf template (``script`` or ``container``) on the host.

The attempt gets its own step directory; input artifacts are placed at their mapped paths, the
template is rendered with the step's scope, declared paths are mapped, and the step runs either in a
warm worker (Python OP scripts, recognised by their marker line) or as a host subprocess (anything
else), or — when ``config["container_runtime"]`` names one — in the template's image through that runtime
(``dflow_lab.executors.container``; templates rendered by an executor still run on the host). A failed
step's message ends with what it wrote to ``/dev/termination-log`` (as Kubernetes reports it), and a
cancelled step gets SIGTERM, then SIGKILL after a grace period.  Outputs are collected as Argo does: parameters from files (one trailing
newline trimmed), artifacts saved to the repository, ``result`` from stdout, ``exitCode``. With Argo's
``archiveLogs`` (workflow or template), the step's log is stored too, as the output artifact ``main-logs``.

A step's environment is ``stepenv``'s: the documented host variables, ``PYTHONPATH``, the template's
``env`` (with the values of the secrets it references, and only those) and ``DFLOW_LAB_ROOT`` — never
the engine's whole environment.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dflow_lab.expr.evaluate import tags_in

from .. import secret_store
from ..config import config
from ..executors.container import ContainerSetupError, env_by_name, local_container_argv, runtime_setting
from ..executors.render import EXECUTOR_ANNOTATION
from ..names import workspace_child
from ..storage.repository import argo_output_key
from .children import spawn, stop_group, stop_groups
from .images import host_argv, stand_in
from .layout import StepDir, declared_paths, replace_paths
from .scope import Scope, StepError
from .services import STOP_GRACE, check_sidecar_name, start_process
from .stepenv import step_env

logger = logging.getLogger(__name__)



class Execution(Protocol):
    """What a pod needs of the run it belongs to (``interpreter.Execution`` is one; typed here by
    what is used, so this module does not import the interpreter that imports it)."""

    name: str
    spec: dict
    pool: Any
    host_slots: asyncio.Semaphore
    repository: Any
    shared_volumes: Any
    store: Any
    runs_dir: Path

    def pod_name(self, node: dict) -> str: ...

    async def start_daemon(self, node: dict, template: dict, argv: list[str], env: dict[str, str], cwd: str,
                           log: str, where: str) -> str | None: ...


__all__ = ["PY_OP_MARKER", "PodOutcome", "run_pod"]

PY_OP_MARKER = "# dflow-lab: python-op v1"
_RESULT_LIMIT = 256 * 1024
_TERM_GRACE = 30.0  # seconds between SIGTERM and SIGKILL when a running step is cancelled
_TERMINATION_LOG = "/dev/termination-log"  # as Kubernetes: a failed step's last words become its message
_UNRESOLVED_PREFIXES = ("inputs.", "outputs.", "workflow.", "steps.", "tasks.", "item", "pod.", "node.")


@dataclass
class PodOutcome:
    """How an attempt ended."""

    phase: str
    outputs: dict = field(default_factory=dict)
    message: str = ""


def _trim_newline(text: str) -> str:
    return text[:-1] if text.endswith("\n") else text


def _check_resolved(obj: Any, where: str) -> None:
    if isinstance(obj, str):
        if "{{" in obj:
            for tag in tags_in(obj):
                if tag.strip().startswith(_UNRESOLVED_PREFIXES):
                    raise StepError(f"{where}: {{{{{tag.strip()}}}}} does not resolve")
    elif isinstance(obj, list):
        for v in obj:
            _check_resolved(v, where)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _check_resolved(v, f"{where}.{k}")


def _path_placeholders(template: dict, inputs: dict) -> dict[str, str]:
    """``inputs.artifacts.x.path``, ``outputs.artifacts.y.path``, ``outputs.parameters.z.path``."""
    out = {f"inputs.artifacts.{a['name']}.path": a["path"] for a in inputs.get("artifacts") or [] if a.get("path")}
    outputs = template.get("outputs") or {}
    for a in outputs.get("artifacts") or []:
        if a.get("path"):
            out[f"outputs.artifacts.{a['name']}.path"] = a["path"]
    for p in outputs.get("parameters") or []:
        path = (p.get("valueFrom") or {}).get("path")
        if path:
            out[f"outputs.parameters.{p['name']}.path"] = path
    return out


async def _place_inputs(ex: Execution, inputs: dict, stepdir: StepDir, where: str) -> None:
    for art in inputs.get("artifacts") or []:
        path = art.get("path")
        if not path:
            continue
        if not any(k in art for k in ("s3", "raw", "http")):
            if art.get("optional"):
                continue
            raise StepError(f"{where}: input artifact {art['name']!r} has no value")
        if ".." in str(path).split("/"):  # a path rendered from parameters (a sub-path slice) stays in the step
            raise StepError(f"{where}: input artifact {art['name']!r}: path {path!r} climbs out of the step ('..')")
        dest = stepdir.map(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            await asyncio.to_thread(ex.repository.load, art, str(dest))
        except FileNotFoundError:
            if art.get("optional"):
                continue
            raise StepError(f"{where}: input artifact {art['name']!r} is not in the artifact repository") from None
        except (OSError, ValueError) as e:
            raise StepError(f"{where}: input artifact {art['name']!r}: {e}") from None
        mode = art.get("mode")
        if mode is not None and dest.is_file():
            os.chmod(dest, int(mode))


def _map_declared(body: dict, paths: list[str], stepdir: StepDir) -> dict:
    """``body`` with declared paths mapped in its command, args and env values."""
    out = dict(body)
    for key in ("command", "args"):
        if key in out:
            out[key] = [replace_paths(str(v), paths, stepdir) for v in out[key] or []]
    if out.get("env"):
        out["env"] = [dict(v, value=replace_paths(str(v["value"]), paths, stepdir)) if "value" in v else v
                      for v in out["env"]]
    return out


def _command(body: dict, is_script: bool, script_path: str | None, where: str,
             root: str = "") -> tuple[list[str], dict[str, str]]:
    """The host argv of a script or container template and the environment its image's stand-in adds
    (``images``: the image's entrypoint and ``PATH`` for the few images the host can stand in for)."""
    command = [str(c) for c in body.get("command") or []]
    args = [str(a) for a in body.get("args") or []]
    extra: dict[str, str] = {}
    if is_script:
        command = command or ["sh"]
        if script_path is None:
            raise StepError(f"{where}: script has no source (a script template runs its script.source)")
        argv = command + [script_path] + args
        entry = stand_in(body.get("image"))
    else:
        argv, entry = host_argv(body.get("image"), command, args)
        if not argv:
            raise StepError(f"{where}: container has no command; the local engine cannot know the image's "
                            f"entrypoint ({body.get('image')!r}; the images it stands in for are listed in "
                            "docs/local-engine.md)")
    if entry is not None:
        if entry.path:
            extra["PATH"] = os.pathsep.join([os.environ.get("PATH", os.defpath), *entry.path])
        extra.update({k: v.format(root=root) for k, v in entry.env.items()})
    if argv[0] in ("python", "python3"):
        argv[0] = sys.executable
    elif shutil.which(argv[0], path=extra.get("PATH")) is None:
        raise StepError(f"{where}: command {argv[0]!r} is not available on this host "
                        f"(image {body.get('image')!r} is not run locally)")
    return argv, extra


async def _subprocess(argv: list[str], env: dict[str, str], cwd: str, log: str) -> tuple[int, str]:
    proc = await spawn(
        *argv, cwd=cwd, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, grace=_TERM_GRACE,
    )
    out_chunks: list[bytes] = []
    size = 0
    with open(log, "ab") as logf:

        async def pump(stream: asyncio.StreamReader, keep: bool) -> None:
            nonlocal size
            while True:
                chunk = await stream.read(65536)
                if not chunk:
                    return
                logf.write(chunk)
                logf.flush()
                if keep and size < _RESULT_LIMIT:
                    out_chunks.append(chunk)
                    size += len(chunk)

        try:
            assert proc.stdout is not None and proc.stderr is not None  # both PIPE above
            await asyncio.gather(pump(proc.stdout, True), pump(proc.stderr, False))
            rc = await proc.wait()
        except asyncio.CancelledError:
            # SIGTERM first (an executor's runner scancels its job, a container runtime stops its
            # container), SIGKILL after the grace period (Kubernetes' terminationGracePeriodSeconds)
            await stop_group(proc, _TERM_GRACE, on_cancel="finish")
            raise
    return rc, b"".join(out_chunks).decode(errors="replace")


async def _start_sidecars(template: dict, scope: Scope, stepdir: StepDir, paths: list[str],
                          where: str) -> list[asyncio.subprocess.Process]:
    """Start the template's ``sidecars`` as host processes (``services``), each logging to
    ``<name>.log`` in the step directory; the main container does not wait for them."""
    started: list[asyncio.subprocess.Process] = []
    try:
        for i, sidecar in enumerate(template.get("sidecars") or []):
            swhere = f"{where}, sidecar {sidecar.get('name', i)!r}"
            name = check_sidecar_name(sidecar.get("name"), swhere)
            body = scope.render_obj(_map_declared(dict(sidecar), paths, stepdir), swhere, strict=False)
            _check_resolved(body, swhere)
            argv, image_env = _command(body, False, None, swhere, str(stepdir.root))
            env = {"DFLOW_LAB_ROOT": str(stepdir.root)}
            for var in body.get("env") or []:
                if "value" in var:
                    env[var["name"]] = str(var["value"])
                elif "valueFrom" in var:
                    env[var["name"]] = _env_value_from(var, swhere)
            cwd = str(stepdir.map(body["workingDir"])) if body.get("workingDir") else str(stepdir.root)
            try:
                started.append(await start_process(argv, step_env({**image_env, **env}), cwd,
                                                   str(stepdir.base / f"{name}.log")))
            except OSError as e:
                raise StepError(f"{swhere}: could not start: {e}") from None
    except BaseException:
        for proc in started:  # gone before the error is passed on
            await stop_group(proc, 1.0, on_cancel="finish")
        raise
    return started


async def _collect_outputs(ex: Execution, template: dict, stepdir: StepDir, pod_name: str,
                           scope: Scope, where: str) -> dict:
    outputs: dict = {}
    spec = template.get("outputs") or {}
    params = []
    for par in spec.get("parameters") or []:
        name = par["name"]
        vf = par.get("valueFrom") or {}
        entry = {"name": name}
        if "path" in vf:
            path = stepdir.map(vf["path"])
            if path.is_file():
                entry["value"] = _trim_newline(path.read_text(errors="replace"))
            elif "default" in vf:
                entry["value"] = scope.render(str(vf["default"]), f"{where}.outputs.parameters.{name}")
            else:
                raise StepError(f"{where}: output parameter {name!r}: file {vf['path']} was not written")
        elif "value" in par:
            entry["value"] = scope.render(str(par["value"]), f"{where}.outputs.parameters.{name}")
        elif "default" in vf:
            entry["value"] = str(vf["default"])
        else:
            raise StepError(f"{where}: output parameter {name!r} has no valueFrom.path or value")
        for k in ("globalName", "description"):
            if k in par:
                entry[k] = par[k]
        params.append(entry)
    arts = []
    for art in spec.get("artifacts") or []:
        name = art["name"]
        path = art.get("path")
        if not path:
            raise StepError(f"{where}: output artifact {name!r} has no path")
        src = stepdir.map(path)
        if not src.exists():
            if art.get("optional"):
                continue
            raise StepError(f"{where}: output artifact {name!r}: {path} does not exist")
        archive = art.get("archive", "tar")
        if (art.get("s3") or {}).get("key"):  # an explicit key (Argo's s3.key on an output)
            key = scope.render(str(art["s3"]["key"]), f"{where}.outputs.artifacts.{name}.s3.key")
        else:  # the key Argo would use: <wf>/<pod>/<name>.tgz, or the path's basename when not archived
            key = argo_output_key(f"{ex.name}/{pod_name}", art)
        try:
            location = await asyncio.to_thread(ex.repository.save, str(src), key, archive)
        except (OSError, ValueError) as e:
            raise StepError(f"{where}: output artifact {name!r}: {e}") from None
        entry = {"name": name, "path": path, **location}
        for k in ("globalName",):
            if k in art:
                entry[k] = art[k]
        arts.append(entry)
    if params:
        outputs["parameters"] = params
    if arts:
        outputs["artifacts"] = arts
    return outputs


def _write_script(stepdir: StepDir, source: str | None) -> str | None:
    """A script template's source as the executable ``script`` of the step's directory; its path (``None``
    for a container without a script)."""
    if source is None:
        return None
    path = str(stepdir.base / "script")
    with open(path, "w") as f:
        f.write(source)
    os.chmod(path, 0o755)
    return path


def _exit_status(rc: int) -> tuple[int, str | None]:
    """A process's return code as a container's exit code (killed by signal N: 128 + N, as a shell says)
    and, when a signal ended it, why."""
    if rc < 0:
        return 128 - rc, f"killed by signal {-rc}"
    return rc, None


def _last_line(path: Any) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "no output"
    return next((ln.strip() for ln in reversed(text.splitlines()) if ln.strip()), "no output")[:500]


def _runtime_env() -> dict[str, str]:
    """The container runtime's options (not secrets) for a ``ContainerExecutor`` step run on the host."""
    out = {}
    for key in ("container_global_options", "container_run_options"):
        value = config.get(key)
        if value:
            out["DFLOW_" + key.upper()] = value if isinstance(value, str) else " ".join(map(str, value))
    return out


def _container_runtime(ex: Execution, template: dict, where: str) -> str | None:
    """The container runtime this step runs in (``None``: the host), per ``config["container_runtime"]``.
    Templates rendered by an executor run their runner on the host (it does the remote work)."""
    try:
        runtime = runtime_setting(config)
    except ContainerSetupError as e:
        raise StepError(f"{where}: {e}") from None
    if runtime is None or EXECUTOR_ANNOTATION in ((template.get("metadata") or {}).get("annotations") or {}):
        return None
    return runtime


def _failed_pod_parameters(template: dict, stepdir: StepDir) -> list[dict]:
    """Output parameters of a failed attempt, as Argo still collects them from a failed pod: a file the
    step wrote, else the declared ``default``; the others are left out (no error: the step failed already).
    dflow's success tags (``dflow_success_tag``, default ``0``) rely on this."""
    params = []
    for par in (template.get("outputs") or {}).get("parameters") or []:
        vf = par.get("valueFrom") or {}
        if "path" not in vf:
            continue
        path = stepdir.map(vf["path"])
        if path.is_file():
            value = _trim_newline(path.read_text(errors="replace"))
        elif "default" in vf:
            value = str(vf["default"])
        else:
            continue
        params.append({"name": par["name"], "value": value})
    return params


def _env_value_from(var: dict, where: str) -> str:
    """An env var's ``valueFrom``: a ``secretKeyRef`` to a ``Secret(value=…)`` made in the submitting
    process (``dflow_lab.secret_store``); config maps and pod fields need Kubernetes."""
    ref = var["valueFrom"].get("secretKeyRef")
    if ref is None:
        raise StepError(f"{where}: env {var['name']!r}: valueFrom other than a secretKeyRef (config maps, "
                        "fields, resources) needs Kubernetes; the local engine cannot provide it")
    value = secret_store.get(str(ref.get("name")), str(ref.get("key") or "secret"))
    if value is None:
        raise StepError(f"{where}: env {var['name']!r}: secret {ref.get('name')!r} (key {ref.get('key')!r}) is "
                        "not known here: locally, secrets are given as Secret(value=…) in the submitting process")
    return value


def archives_logs(ex: Execution, template: dict) -> bool:
    """Argo's ``archiveLogs``: the template's ``archiveLocation.archiveLogs``, else the workflow's."""
    own = (template.get("archiveLocation") or {}).get("archiveLogs")
    return bool(own if own is not None else ex.spec.get("archiveLogs"))


async def _archive_log(ex: Execution, template: dict, stepdir: StepDir, pod_name: str) -> dict | None:
    """Store the step's log with its artifacts, as Argo does with ``archiveLogs``: the output artifact
    ``main-logs`` under ``<workflow>/<pod>/main.log``. The log stays readable when the step directory is
    gone (a workspace cleaned up, a run whose pods are gone on Argo). A failure to store it is logged."""
    if not archives_logs(ex, template) or not stepdir.log.is_file():
        return None
    try:
        location = await asyncio.to_thread(ex.repository.save, str(stepdir.log), f"{ex.name}/{pod_name}/main.log",
                                           {"none": {}})
    except (OSError, ValueError) as e:
        logger.warning("workflow %r, pod %r: the log was not archived: %s", ex.name, pod_name, e)
        return None
    return {"name": "main-logs", **location}


async def run_pod(ex: Execution, template: dict, inputs: dict, node: dict, scope: Scope) -> PodOutcome:
    """Run one attempt of ``template`` for status node ``node`` (already recorded as Running)."""
    where = f"workflow {ex.name!r}, step {node['displayName']!r} (template {template.get('name')!r})"
    stepdir = StepDir(workspace_child(ex.runs_dir, node["id"])).create()
    node["hostDir"] = str(stepdir.base)
    is_script = "script" in template
    body = dict(template.get("script") or template.get("container") or {})
    try:
        inputs = dict(inputs, artifacts=[scope.render_obj(a, f"{where}.inputs.artifacts.{a['name']}")
                                         for a in inputs.get("artifacts") or []])
        await _place_inputs(ex, inputs, stepdir, where)
        pod_name = ex.pod_name(node)
        paths = declared_paths(template)
        # Declared paths are mapped in the template's own text, before parameter values are substituted
        # (a value is data: a "/tmp/…" in it stays as it is); path placeholders resolve to mapped paths.
        placeholders = {k: stepdir.map_str(v) for k, v in _path_placeholders(template, inputs).items()}
        scope = scope.child({"pod.name": pod_name, "node.name": node["name"], **placeholders})
        source = body.pop("source", None) if is_script else None
        python_op = source is not None and source.startswith(PY_OP_MARKER)
        runtime = _container_runtime(ex, template, where)
        if (template.get("daemon") or template.get("sidecars")) and (runtime is not None or python_op):
            raise StepError(f"{where}: daemons and sidecars run as host processes; they cannot run "
                            + ("as a Python OP" if python_op else f"under config['container_runtime'] = {runtime!r}"))
        if runtime is not None:  # in the image: declared paths are real paths there
            scope = scope.child(_path_placeholders(template, inputs))
            body = scope.render_obj(body, where, strict=False)
            if source is not None:
                source = scope.render(source, f"{where}.source", strict=False) if not python_op else source
        else:
            body = scope.render_obj(_map_declared(body, paths, stepdir), where, strict=False)
            if source is not None and not python_op:
                source = scope.render(replace_paths(source, paths, stepdir), f"{where}.source", strict=False)
        _check_resolved(body, where)
        if source is not None and not python_op:
            _check_resolved(source, f"{where}.source")
        for top in {"tmp"} | {p.strip("/").split("/")[0] for p in paths if "/" in p.strip("/")}:  # /tmp, /mnt…
            (stepdir.root / top).mkdir(exist_ok=True)
        mounts = {m.get("mountPath"): m.get("name") for m in body.get("volumeMounts") or []}
        for p in paths:
            if p not in mounts and p != body.get("workingDir"):
                continue
            host = stepdir.map(p)
            if p in mounts and mounts[p] in ex.shared_volumes:
                host.parent.mkdir(parents=True, exist_ok=True)
                host.symlink_to(ex.shared_volumes[mounts[p]], target_is_directory=True)
            elif p in mounts or p == body.get("workingDir"):
                host.mkdir(parents=True, exist_ok=True)
        env = {"DFLOW_LAB_ROOT": str(stepdir.root)}
        secrets: dict[str, str] = {}
        for var in body.get("env") or []:
            if "value" in var:
                env[var["name"]] = str(var["value"])
            elif "valueFrom" in var:
                env[var["name"]] = secrets[var["name"]] = _env_value_from(var, where)
        cwd = stepdir.map_str(body["workingDir"]) if body.get("workingDir") else stepdir.map_str("")
        log = str(stepdir.log)
        if runtime is not None:
            script_path = _write_script(stepdir, source)
            # secrets go to the runtime by name, their values in its environment: never on its command line
            ctr_env = {k: (None if k in secrets else v) for k, v in env.items() if k != "DFLOW_LAB_ROOT"}
            tops = sorted({p.strip("/").split("/")[0] for p in paths if p.strip("/")})

            try:
                argv = local_container_argv(config, runtime, body, is_script, script_path, str(stepdir.root), tops,
                                            ctr_env, where)
            except ContainerSetupError as e:
                raise StepError(str(e)) from None
            async with ex.host_slots:
                rc, stdout = await _subprocess(argv, {**os.environ, **env_by_name(runtime, secrets)},
                                               str(stepdir.base), log)
            rc, died = _exit_status(rc)
            if rc == 125 and not died:  # the runtime's own failure: no image, a bad option…
                died = f"container runtime {runtime!r} failed: {_last_line(stepdir.log)}"
        elif python_op:
            result = await ex.pool.run(source, env, cwd, log)
            rc = result.rc
            stdout = stepdir.log.read_text(errors="replace") if stepdir.log.exists() else ""
            died = result.died
        else:
            script_path = _write_script(stepdir, source)
            argv, image_env = _command(body, is_script, script_path, where, str(stepdir.root))
            # Python in a script step writes its log line by line, for a monitor following it (unless told otherwise)
            full_env = step_env({**_runtime_env(), **image_env, **env})
            if template.get("daemon"):  # a service: the step is done once it is ready, it stops with its scope
                reason = await ex.start_daemon(node, template, argv, full_env, cwd, log, where)
                if reason is not None:
                    return PodOutcome("Failed", {}, reason)
                return PodOutcome("Running", {}, "")
            sidecars = await _start_sidecars(template, scope, stepdir, paths, where)
            try:
                async with ex.host_slots:
                    rc, stdout = await _subprocess(argv, full_env, cwd, log)
            finally:  # the main container ended: its sidecars are stopped, all of them whatever cancellations come
                await stop_groups(sidecars, STOP_GRACE)
            rc, died = _exit_status(rc)
        outputs: dict = {"exitCode": str(rc)}
        if is_script or not python_op:
            outputs["result"] = _trim_newline(stdout)
        logs = await _archive_log(ex, template, stepdir, pod_name)
        if rc != 0:
            message = died or f"Error (exit code {rc})"
            term = stepdir.map(_TERMINATION_LOG)
            if term.is_file() and not died:  # an executor's runner says why (Slurm's reason, SSH failure)
                message = f"{message}: {term.read_text(errors='replace').strip()[:500]}"
            elif python_op and not died:  # the OP runtime's last line says what went wrong (type, field)
                last = next((ln for ln in reversed(stdout.splitlines()) if ln.strip()), "")
                if last:
                    message = f"{message}: {last.strip()[:500]}"
            params = _failed_pod_parameters(template, stepdir)
            if params:
                outputs["parameters"] = params
            if logs:
                outputs["artifacts"] = [logs]
            return PodOutcome("Failed", outputs, message)
        outputs.update(await _collect_outputs(ex, template, stepdir, pod_name, scope, where))
        if logs:
            outputs["artifacts"] = [*outputs.get("artifacts", []), logs]
        return PodOutcome("Succeeded", outputs)
    except StepError as e:
        return PodOutcome("Error", {}, str(e))
