"""The program that runs in a step rendered by ``RemoteExecutor``, ``SlurmRemoteExecutor`` or
``SlurmJobTemplate``: it does the SSH/Slurm work for the step, in the step's pod (Argo) or as the
step's host process (local engine).

The rendered template's script is ``from dflow_lab.executors.runner import main; main("<spec>")``
where the spec (base64 JSON, so neither Argo nor the local engine rewrites it) holds what the
executor needs except secrets and values: the original script with its ``{{…}}`` tags, each tag's
value arriving in an environment variable ``DFLOW_LAB_TPL_<i>`` (data, never pasted into code); the
SSH password or key in ``DFLOW_LAB_SSH_PASSWORD``/``DFLOW_LAB_SSH_KEY`` (``secretKeyRef``s).

What it does, in order:
1. connects (``transport.py``: SSH with bounded retries, or this host for ``SlurmJobTemplate``),
   makes the work directory ``WD`` (``~`` expanded on the remote side);
2. uploads every input artifact (and parameter saved as an artifact) present at its declared path
   ``P`` (under ``$DFLOW_LAB_ROOT`` locally) to ``WD/P``;
3. writes ``WD/script`` (the original script; with ``map_tmp_dir`` its ``/tmp`` becomes ``WD/tmp``, and
   ``DFLOW_LAB_ROOT=WD`` remotely so Python OPs find their paths), ``WD/env.sh`` (the template's
   environment, mode 0600) and a launcher;
4. starts it: a detached process group (``RemoteExecutor``, so a dropped SSH connection does not kill
   the step) or ``sbatch`` (Slurm; ``#!/bin/sh``, the header, then the launcher lines);
5. polls every ``interval`` seconds — the exit-code file, or ``squeue`` then ``scontrol``/``sacct`` for
   Slurm — and streams ``WD/stdout``/``WD/stderr`` to its own stdout/stderr (the step's log);
6. downloads every declared output path ``WD/P`` back to ``P``; cleans ``WD`` per ``clean``
   (``never`` as the reference does, ``success``, ``always``); exits with the script's exit code.
A cancelled or failed Slurm job fails the step; its state and Slurm's reason are written to the
termination message (``$DFLOW_LAB_ROOT/dev/termination-log``, which the local engine puts in the
step's message). SIGTERM (the workflow's ``stop``/``terminate``) kills the remote process group or
``scancel``s the job, then exits 143. Submitting twice after a dropped connection is prevented by a
marker in ``WD`` (``.started``/``jobid``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import signal
import sys
import time
from typing import Any, Dict, Optional, Tuple

from .container import container_argv, resolve_tags
from .dispatch import run_dispatcher
from .transport import LocalTransport, SSHTransport, TransportError

__all__ = ["main", "encode_spec", "decode_spec", "TAG_ENV", "RUNNER_MARKER"]

RUNNER_MARKER = "# dflow-lab: executor v1"
TAG_ENV = "DFLOW_LAB_TPL_"
PASSWORD_ENV = "DFLOW_LAB_SSH_PASSWORD"
KEY_ENV = "DFLOW_LAB_SSH_KEY"
_TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED", "OUT_OF_MEMORY",
             "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT", "REVOKED"}
_LOG_CHUNK = 1 << 20


class Cancelled(Exception):
    """SIGTERM arrived: the workflow was stopped or terminated."""


def encode_spec(spec: Dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(spec, sort_keys=True).encode()).decode()


def decode_spec(text: str) -> Dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(text.encode()).decode())


def _say(msg: str) -> None:
    sys.stderr.write(f"[dflow-lab executor] {msg}\n")
    sys.stderr.flush()


def _termination(message: str) -> None:
    root = os.environ.get("DFLOW_LAB_ROOT") or "/"
    path = os.path.join(root, "dev", "termination-log")
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(message[:4096])
    except OSError:
        pass
    _say(message)


def _local(path: str) -> str:
    return os.path.join(os.environ.get("DFLOW_LAB_ROOT") or "/", path.lstrip("/"))


class Runner:
    def __init__(self, spec: Dict[str, Any]) -> None:
        self.spec = spec
        self.tags = dict(spec.get("tags") or {})
        t = spec["transport"]
        if t["type"] == "ssh":
            self.tr: Any = SSHTransport(
                t["host"], t.get("port", 22), t.get("username", "root"),
                password=os.environ.get(PASSWORD_ENV) or None, private_key=os.environ.get(KEY_ENV) or None,
                action_retries=t.get("retries", -1), retry_timeout=t.get("retry_timeout", 600),
                known_hosts=t.get("known_hosts"), on_retry=_say)
        else:
            self.tr = LocalTransport()
        self.wd = ""
        self.job_id: Optional[str] = None
        self.offsets = {"stdout": 0, "stderr": 0}

    # -- work directory ------------------------------------------------------------------------
    def make_workdir(self) -> None:
        wd = resolve_tags(self.spec["workdir"], self.tags).strip()
        if not wd or "\n" in wd or "\0" in wd or any(p == ".." for p in wd.split("/")):
            raise ValueError(f"the remote work directory {wd!r} is not a usable path (empty, '..' or a newline)")
        if wd == "~" or wd.startswith("~/"):
            shell_path = "~/" + shlex.quote(wd[2:]) if len(wd) > 2 else "~"
        else:
            shell_path = shlex.quote(wd)
        rc, out, err = self.tr.run(f"mkdir -p {shell_path} && cd {shell_path} && pwd -P")
        if rc != 0:
            raise TransportError(f"cannot make the work directory {wd} on {self.tr.where}: {err.strip()}")
        self.wd = out.strip().splitlines()[-1]
        if self.wd in ("", "/") or not self.wd.startswith("/"):
            raise TransportError(f"the work directory {wd} resolved to {self.wd!r} on {self.tr.where}")
        _say(f"work directory {self.wd} on {self.tr.where}")

    def remote(self, path: str) -> str:
        return self.wd + "/" + path.lstrip("/")

    # -- files ----------------------------------------------------------------------------------
    def upload_inputs(self) -> None:
        for p in self.spec.get("inputs") or []:
            local = _local(p)
            if os.path.lexists(local):
                self.tr.put(local, self.remote(p))

    def download_outputs(self) -> None:
        for p in self.spec.get("outputs") or []:
            if self.tr.exists(self.remote(p)):
                local = _local(p)
                self.tr.get(self.remote(p), local)

    def write_files(self) -> None:
        spec = self.spec
        script = spec["script"]
        if spec.get("map_tmp_dir") and not spec.get("python_op"):
            script = script.replace("/tmp", self.wd + "/tmp")
        script = resolve_tags(script, self.tags)
        self.tr.write_text(self.wd + "/script", script, 0o755)
        env_lines = [f"export {k}={shlex.quote(os.environ[k])}" for k in spec.get("env") or []
                     if k in os.environ and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k)]
        if spec.get("map_tmp_dir"):
            env_lines.append(f"export DFLOW_LAB_ROOT={shlex.quote(self.wd)}")
        self.tr.write_text(self.wd + "/env.sh", "\n".join(env_lines) + "\n", 0o600)
        for d in ("tmp", "tmp/outputs/parameters", "tmp/outputs/artifacts"):
            self.tr.makedirs(self.wd + "/" + d)

    def command_line(self) -> str:
        cmd = " ".join(shlex.quote(c) for c in self.spec.get("command") or ["sh"])
        ctr = self.spec.get("container")
        if ctr:
            argv = container_argv(
                ctr["runtime"], ctr["kind"], ctr["image"], self.spec.get("command") or ["sh"], ["/script"],
                mounts={"/tmp": self.wd + "/tmp", "/script": self.wd + "/script"}, workdir="/tmp",
                options=ctr.get("options") or [])
            cmd = " ".join(shlex.quote(a) for a in argv)
            return f"{cmd} > stdout 2> stderr"
        return f"{cmd} script > stdout 2> stderr"

    # -- plain remote process ------------------------------------------------------------------
    def start_process(self) -> None:
        launcher = (
            "cd " + shlex.quote(self.wd) + " || exit 1\n"
            "mkdir .started 2>/dev/null || exit 0\n"
            "echo $$ > pid\n"
            ". ./env.sh\n"
            + self.command_line() + "\n"
            "echo $? > rc.tmp && mv rc.tmp rc\n"
        )
        self.tr.write_text(self.wd + "/run.sh", launcher, 0o700)
        q = shlex.quote(self.wd)
        rc, _, err = self.tr.run(f"cd {q} && (setsid sh run.sh </dev/null >/dev/null 2>&1 &) && echo started")
        if rc != 0:
            raise TransportError(f"cannot start the script on {self.tr.where}: {err.strip()}")

    def wait_process(self) -> int:
        interval = float(self.spec.get("interval") or 0.5)
        while True:
            data = self.tr.read_from(self.wd + "/rc", 0, 64)
            self.stream_logs()
            if data is not None and data.strip():
                self.stream_logs()
                try:
                    return int(data.strip())
                except ValueError:
                    return 1
            time.sleep(interval)

    def cancel_process(self) -> None:
        q = shlex.quote(self.wd)
        self.tr.run(f"cd {q} && [ -s pid ] && kill -TERM -$(cat pid) 2>/dev/null; true", timeout=30)

    # -- Slurm --------------------------------------------------------------------------------
    def submit(self) -> None:
        header = re.sub(r"(?m)^ *#", "#", self.spec.get("slurm", {}).get("header") or "").strip("\n")
        job = ("#!/bin/sh\n" + (header + "\n" if header else "")
               + "cd " + shlex.quote(self.wd) + " || exit 1\n. ./env.sh\n" + self.command_line() + "\n"
               "rc=$?\necho $rc > rc.tmp && mv rc.tmp rc\nexit $rc\n")
        self.tr.write_text(self.wd + "/slurm.sh", job, 0o700)
        q = shlex.quote(self.wd)
        rc, out, err = self.tr.run(
            f"cd {q} && if [ -s jobid ]; then cat jobid; else sbatch --parsable slurm.sh > jobid.tmp && "
            "mv jobid.tmp jobid && cat jobid; fi")
        if rc != 0:
            raise SlurmError(f"sbatch refused the job on {self.tr.where}: {(err or out).strip()[:500]}")
        self.job_id = out.strip().split(";")[0]
        if not self.job_id.isdigit():
            raise SlurmError(f"sbatch on {self.tr.where} answered {out.strip()[:200]!r}, not a job id")
        _say(f"Slurm job {self.job_id} submitted")
        job_file = self.spec.get("job_id_path")
        if job_file:
            path = _local(job_file)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(self.job_id)

    def job_state(self) -> Tuple[str, str, str]:
        """``(state, reason, exit code)`` of the job; state ``""`` while Slurm does not know it. ``squeue``
        while the job is queued or running; ``scontrol`` (then ``sacct``) once it has left the queue."""
        rc, out, _ = self.tr.run(f"squeue -h -j {self.job_id} -o '%T|%r'", timeout=60)
        line = out.strip().splitlines()[0] if rc == 0 and out.strip() else ""
        if line and line.split("|")[0] not in _TERMINAL and "CANCELLED" not in line and "COMPLETING" not in line:
            state, _, reason = line.partition("|")
            return state, reason, ""
        rc, out, _ = self.tr.run(f"scontrol -o show job {self.job_id}", timeout=60)
        if rc == 0 and "JobState=" in out:
            fields = dict(re.findall(r"(\w+)=(\S*)", out))
            return fields.get("JobState", ""), fields.get("Reason", ""), fields.get("ExitCode", "")
        rc, out, _ = self.tr.run(f"sacct -n -X -P -j {self.job_id} -o State,Reason,ExitCode", timeout=60)
        if rc == 0 and out.strip():
            state, reason, code = (out.strip().splitlines()[0].split("|") + ["", "", ""])[:3]
            return state.split()[0], reason, code
        return "", "", ""

    def wait_job(self) -> int:
        interval = float(self.spec.get("slurm", {}).get("interval") or 3)
        unknown = 0
        last = ""
        while True:
            state, reason, code = self.job_state()
            self.stream_logs()
            if state != last and state:
                _say(f"Slurm job {self.job_id}: {state}" + (f" ({reason})" if reason and reason != "None" else ""))
                last = state
            if state in _TERMINAL or state.startswith("CANCELLED"):
                break
            if not state:
                unknown += 1
                if unknown > 20:
                    raise SlurmError(f"Slurm job {self.job_id} is not known to scontrol or sacct on "
                                     f"{self.tr.where} any more, and wrote no exit code")
            time.sleep(interval)
        self.stream_logs()
        data = self.tr.read_from(self.wd + "/rc", 0, 64)
        if state == "COMPLETED" or (state == "FAILED" and data and data.strip()):
            try:
                return int(data.strip()) if data and data.strip() else 0
            except ValueError:
                return 1
        why = f"; reason: {reason}" if reason and reason != "None" else ""
        raise SlurmError(f"Slurm job {self.job_id} ended {state}{why} (exit code {code or '?'})")

    def cancel_job(self) -> None:
        if self.job_id:
            self.tr.run(f"scancel {self.job_id}", timeout=60)
            _say(f"Slurm job {self.job_id} cancelled (scancel)")

    # -- logs ------------------------------------------------------------------------------------
    def stream_logs(self) -> None:
        for name, out in (("stdout", sys.stdout), ("stderr", sys.stderr)):
            while True:
                data = self.tr.read_from(self.wd + "/" + name, self.offsets[name], _LOG_CHUNK)
                if not data:
                    break
                self.offsets[name] += len(data)
                out.buffer.write(data)
                out.flush()
                if len(data) < _LOG_CHUNK:
                    break

    def clean(self, rc: int) -> None:
        how = self.spec.get("clean") or "never"
        if how == "always" or (how == "success" and rc == 0):
            if self.wd.count("/") >= 2:
                self.tr.run("rm -rf " + shlex.quote(self.wd), timeout=300)
                _say(f"work directory {self.wd} removed")

    # -- the step --------------------------------------------------------------------------------
    def run(self) -> int:
        slurm = bool(self.spec.get("slurm"))
        try:
            self.make_workdir()
            self.upload_inputs()
            self.write_files()
            if slurm:
                self.submit()
                rc = self.wait_job()
            else:
                self.start_process()
                rc = self.wait_process()
            if rc == 0:
                self.download_outputs()
            else:
                _termination(f"the script exited with code {rc} on {self.tr.where}")
            self.clean(rc)
            return rc
        except Cancelled:
            _say("stop requested: cancelling the remote work")
            try:
                self.cancel_job() if slurm else self.cancel_process()
            except (TransportError, OSError) as e:
                _say(f"cancelling failed: {e}")
            return 143
        finally:
            self.tr.close()


class SlurmError(RuntimeError):
    pass


def main(encoded: str) -> int:
    """Run the step the spec describes; the exit code is the script's (1 for a transport or Slurm
    failure, with the reason in the termination message)."""

    def on_term(signum: int, frame: Any) -> None:
        raise Cancelled()

    signal.signal(signal.SIGTERM, on_term)
    try:
        spec = decode_spec(encoded)
    except (ValueError, KeyError) as e:
        _termination(f"malformed executor spec: {e}")
        return 1
    if (spec.get("transport") or {}).get("type") == "dispatcher":
        try:
            return run_dispatcher(spec, lambda text: resolve_tags(text, spec.get("tags") or {}), _say, _termination,
                                  Cancelled)
        except Cancelled:
            _say("stop requested: the dpdispatcher task was removed")
            return 143
        except ValueError as e:  # a tag's value did not arrive
            _termination(str(e))
            return 1
    try:
        return Runner(spec).run()
    except (TransportError, SlurmError, ValueError, OSError) as e:
        _termination(str(e))
        return 1
