"""The step side of ``DispatcherExecutor``: run a step's script as a dpdispatcher task.

A template rendered by :class:`dflow_lab.plugins.dispatcher.DispatcherExecutor` runs
:func:`dflow_lab.executors.runner.main` with a spec whose transport is ``{"type": "dispatcher", …}``;
the runner hands it to :func:`run_dispatcher`, which, in the step's pod (Argo) or as the step's host
process (local engine), with ``DFLOW_LAB_ROOT`` the step's root directory:

1. writes, in that directory, ``script`` (the original script, its ``{{…}}`` tags resolved from the
   ``DFLOW_LAB_TPL_*`` variables; with ``map_tmp_dir`` a shell script's ``/tmp`` becomes the task's
   remote directory), ``env.sh`` (the template's environment, mode 0600) and ``dflow-lab-run.sh``, the
   task's launcher: it sources ``env.sh``, sets ``DFLOW_LAB_ROOT`` to the remote task directory (Python
   OPs find their paths there), runs the script, records its exit code in ``dflow-lab-rc`` and the
   declared outputs that exist in ``dflow-lab-present``, and always exits 0, so that a script that
   fails is a result of the step, not a job failure dpdispatcher would resubmit;
2. builds dpdispatcher's ``Machine`` (the executor's ``machine_dict``; an SSH key or password arrives
   in ``DFLOW_LAB_SSH_KEY``/``DFLOW_LAB_SSH_PASSWORD`` and the key is written to a 0600 file in a
   private temporary directory for the run only), ``Resources`` (``resources_dict``, with
   ``DFLOW_WORKFLOW``/``DFLOW_POD`` in its ``envs`` so two steps never share a submission hash, as
   dflow does) and one ``Task`` (``task_dict``; ``forward_files``: the launcher, ``script``, ``env.sh``
   and every input path present; ``backward_files``: the exit code, the present-list and the log);
3. ``Submission.run_submission(clean=False, check_interval=…)``: dpdispatcher uploads, submits (Shell
   or Slurm, over ``SSHContext`` or ``LocalContext``), polls and downloads;
4. downloads the declared outputs the task left (``download_jobs`` with the present-list as the task's
   ``backward_files``; only paths the step declared are accepted from that list), prints the task's
   log into the step's log, cleans the remote directory when ``clean`` and returns the script's exit
   code.

Failures that are not the script's (dpdispatcher missing, the machine unreachable, authentication, a
job the batch system kills after dpdispatcher's own retries) end the step with exit code 1 and a
termination message naming the workflow, the step and the executor's machine. SIGTERM (stop,
terminate) asks dpdispatcher to kill the unfinished task (``remove_unfinished_tasks``): ``scancel`` on
Slurm; on Shell dpdispatcher's ``kill -9`` of the job's process, which leaves the script it started
running until it ends.

Limits: the log is shown when the task has ended (dpdispatcher downloads it then), not streamed; the
remote side needs ``sh``, ``sed`` and, for Python OPs, ``python3`` with PyYAML (dflow-lab and the OP's
packages travel in the ``dflow_python_packages`` artifact).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
import tempfile
from typing import Any, Callable, Dict, List, Optional

from .container import run_script

__all__ = ["run_dispatcher", "RC_FILE", "PRESENT_FILE", "LAUNCHER", "LOG_FILE"]

RC_FILE = "dflow-lab-rc"
PRESENT_FILE = "dflow-lab-present"
LAUNCHER = "dflow-lab-run.sh"
LOG_FILE = "dflow-lab-task.log"
WD_MARK = "@DFLOW_LAB_TASK_DIR@"


def _rel(path: str) -> str:
    return path.lstrip("/")


def _launcher(spec: Dict[str, Any], command: str) -> str:
    outs = [_rel(p) for p in spec.get("outputs") or []]
    lines = [
        "# written by dflow-lab's DispatcherExecutor: run the step's script, record its exit code",
        ". ./env.sh",
        'DFLOW_LAB_ROOT="$(pwd)"; export DFLOW_LAB_ROOT',
        "mkdir -p tmp/outputs/parameters tmp/outputs/artifacts",
    ]
    if spec.get("map_tmp_dir") and not spec.get("python_op") and not spec.get("container"):
        lines.append(f'sed -i "s#{WD_MARK}#$(pwd)#g" script')
    lines += [
        f"{command}",
        f"echo $? > {RC_FILE}",
        f": > {PRESENT_FILE}",
    ]
    for p in outs:
        q = shlex.quote(p)
        lines.append(f"if [ -e {q} ]; then echo {q} >> {PRESENT_FILE}; fi")
    lines.append("exit 0")
    return "\n".join(lines) + "\n"


def _command(spec: Dict[str, Any]) -> str:
    argv = [str(c) for c in spec.get("command") or ["sh"]]
    ctr = spec.get("container")
    if ctr:
        kw = {ctr["kind"]: ctr["runtime"]}
        return run_script(ctr["image"], argv, **kw)
    return " ".join(shlex.quote(a) for a in argv) + " script"


def run_dispatcher(spec: Dict[str, Any], resolve: Callable[[str], str], say: Callable[[str], None],
                   terminate: Callable[[str], None], cancelled: type) -> int:
    """Run the step of ``spec`` through dpdispatcher (see the module docstring); ``resolve`` fills
    ``{{…}}`` tags, ``say`` writes to the step's log, ``terminate`` records the step's failure reason;
    ``cancelled`` is the exception SIGTERM raises (the unfinished task is removed, and it propagates)."""
    t = spec["transport"]
    where = resolve(spec.get("label") or "this step")
    machine_dict: Dict[str, Any] = json.loads(json.dumps(t.get("machine") or {}))
    target = t.get("target") or machine_dict.get("context_type", "?")
    try:
        import dpdispatcher  # lazy: only a step that runs through dpdispatcher needs it
    except ImportError as e:
        terminate(f"{where}: executor DispatcherExecutor needs the dpdispatcher package where the step runs, "
                  f"and it cannot be imported ({e}); install it (pip install dpdispatcher, or dflow-lab[executors])")
        return 1
    root = os.environ.get("DFLOW_LAB_ROOT") or os.getcwd()
    script = resolve(spec["script"])
    if spec.get("map_tmp_dir") and not spec.get("python_op") and not spec.get("container"):
        script = script.replace("/tmp", WD_MARK + "/tmp")
    env_lines = [f"export {k}={shlex.quote(os.environ[k])}" for k in spec.get("env") or []
                 if k in os.environ and k.replace("_", "a").isalnum() and not k[0].isdigit()]
    files = {"script": (script, 0o755), "env.sh": ("\n".join(env_lines) + "\n", 0o600),
             LAUNCHER: (_launcher(spec, _command(spec)), 0o700)}
    for name, (text, mode) in files.items():
        path = os.path.join(root, name)
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
            f.write(text)
        os.chmod(path, mode)
    for name in (RC_FILE, PRESENT_FILE, LOG_FILE):
        if os.path.lexists(os.path.join(root, name)):
            os.remove(os.path.join(root, name))
    key_dir: Optional[str] = None
    submission = None
    try:
        profile = machine_dict.setdefault("remote_profile", {}) if machine_dict.get(
            "context_type", "SSHContext") in ("SSHContext", "SSH") else None
        if profile is not None:
            if os.environ.get("DFLOW_LAB_SSH_KEY"):
                key_dir = tempfile.mkdtemp(prefix="dflow-lab-key-")
                key_path = os.path.join(key_dir, "id")
                with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                    f.write(os.environ["DFLOW_LAB_SSH_KEY"])
                profile["key_filename"] = key_path
                profile.setdefault("look_for_keys", False)
            if os.environ.get("DFLOW_LAB_SSH_PASSWORD"):
                profile["password"] = os.environ["DFLOW_LAB_SSH_PASSWORD"]
        machine_dict["local_root"] = root
        resources_dict = json.loads(json.dumps(t.get("resources") or {}))
        envs = resources_dict.setdefault("envs", {})
        for k, v in list(envs.items()):
            envs[k] = resolve(str(v))
        task_dict = dict(t.get("task") or {})
        inputs = [_rel(p) for p in spec.get("inputs") or [] if os.path.lexists(os.path.join(root, _rel(p)))]
        task_dict.update({
            "command": f"sh {LAUNCHER}",
            "task_work_path": "./",
            "forward_files": [LAUNCHER, "script", "env.sh", *inputs],
            "backward_files": [RC_FILE, PRESENT_FILE, LOG_FILE],
            "outlog": LOG_FILE,
            "errlog": LOG_FILE,
        })
        machine = dpdispatcher.Machine.load_from_dict(machine_dict)
        resources = dpdispatcher.Resources.load_from_dict(resources_dict)
        task = dpdispatcher.Task.load_from_dict(task_dict)
        submission = dpdispatcher.Submission(work_base=".", machine=machine, resources=resources, task_list=[task])
        say(f"submitting through dpdispatcher ({machine_dict.get('batch_type')} over "
            f"{machine_dict.get('context_type')}, {target})")
        submission.run_submission(clean=False, check_interval=float(t.get("check_interval") or 30))
        rc = _read_rc(root)
        present = _present(root, spec.get("outputs") or [])
        if present:
            task.backward_files = present
            submission.download_jobs()
        _show_log(root)
        if t.get("clean") and (rc == 0 or t.get("clean") == "always"):
            submission.clean_jobs()
        if rc != 0:
            terminate(f"{where}: the script exited with code {rc} (DispatcherExecutor, {target})")
        return rc
    except cancelled:
        if submission is not None:
            try:
                submission.remove_unfinished_tasks()
            except Exception as e2:  # the step is being stopped either way: say why the task may remain
                say(f"removing the unfinished task failed: {e2}")
        raise
    except Exception as e:  # dpdispatcher raises plain RuntimeErrors, paramiko its own, sockets OSErrors
        _show_log(root)
        cause = f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
        inner = e.__cause__ or e.__context__
        if inner is not None and str(inner) and str(inner) not in cause:
            cause += f" ({type(inner).__name__}: {inner})"
        terminate(f"{where}: executor DispatcherExecutor could not run the step on {target} "
                  f"({machine_dict.get('batch_type')} over {machine_dict.get('context_type')}): {cause[:1500]}")
        return 1
    finally:
        if key_dir is not None:
            shutil.rmtree(key_dir, ignore_errors=True)


def _read_rc(root: str) -> int:
    try:
        with open(os.path.join(root, RC_FILE)) as f:
            return int(f.read().strip() or "1")
    except (OSError, ValueError):
        return 1


def _present(root: str, declared: List[str]) -> List[str]:
    """The declared outputs the task reported present (anything else in the remote list is ignored)."""
    allowed = {_rel(p) for p in declared}
    try:
        with open(os.path.join(root, PRESENT_FILE)) as f:
            listed = [line.strip() for line in f.read().splitlines()[:10000]]
    except OSError:
        return []
    return [p for p in dict.fromkeys(listed) if p in allowed]


def _show_log(root: str) -> None:
    path = os.path.join(root, LOG_FILE)
    if os.path.isfile(path):
        with open(path, "rb") as f:
            data = f.read()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
