"""A warm worker process: runs Python OP steps one at a time, with dflow-lab already imported.

Protocol (one JSON object per line): requests on stdin ``{"source", "env", "cwd", "log"}``, replies on
the worker's original stdout ``{"rc": int}`` (or ``{"stale": true}``, see ``main``).  The first line the
worker writes is ``{"ready": true}``.  While a step runs, file descriptors 1 and 2 point at the step's
log file; the environment and working directory are restored after each step.  The worker's own
environment is the steps' base environment (``stepenv.base_env``, set by the pool); a step's variables —
its parameters and the secrets its template declares — are in ``os.environ`` only while that step runs.

Run as ``python -m dflow_lab.local.worker``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable


def _set_environ(env: dict[str, str]) -> None:
    """Make ``os.environ`` exactly ``env``, touching only the variables that differ (each change is a
    ``putenv``/``unsetenv`` call: clearing and refilling the whole environment costs far more per step)."""
    for name in [n for n in os.environ if n not in env]:
        del os.environ[name]
    for name, value in env.items():
        if os.environ.get(name) != value:
            os.environ[name] = value


def _run_one(run_source: Callable[[str, dict[str, str], str], int], request: dict, base_env: dict[str, str]) -> int:
    """Run one step: ``os.environ`` is the worker's base environment plus the step's variables while it
    runs, and exactly the base environment again afterwards (a step's secrets do not outlive it)."""
    saved_cwd = os.getcwd()
    saved_path = list(sys.path)
    log_fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        env = request["env"]
        _set_environ({**base_env, **env})
        os.chdir(request["cwd"])
        rc = run_source(request["source"], env, request["cwd"])
        return int(rc or 0)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        _set_environ(base_env)
        os.chdir(saved_cwd)
        sys.path[:] = saved_path


class _UserModules:
    """Files of the user's modules this worker imported (not the standard library, installed packages
    or dflow-lab itself), with their modification times: an edited module makes the worker stale.

    dflow-lab's own modules are left out even from a source checkout (an editable install): the
    engine that started the worker runs the code it imported, so a fresh worker would not bring an
    edit of dflow-lab into the run, and checking its ~150 files cost every step a stat of each."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.mtimes: dict[str, float] = {}
        self.system = tuple({os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})

    def record(self) -> None:
        for name, module in list(sys.modules.items()):
            if name in self.seen:
                continue
            self.seen.add(name)
            if name == "dflow_lab" or name.startswith("dflow_lab."):
                continue
            path = getattr(module, "__file__", None)
            if not path or "site-packages" in path or os.path.realpath(path).startswith(self.system):
                continue
            try:
                self.mtimes[path] = os.stat(path).st_mtime
            except OSError:
                continue

    def changed(self) -> bool:
        for path, mtime in self.mtimes.items():
            try:
                if os.stat(path).st_mtime != mtime:
                    return True
            except OSError:
                return True
        return False


def main() -> None:
    """Serve step requests until stdin closes (or until an imported user module changes on disk:
    the worker then answers ``{"stale": true}`` without running the step, and exits)."""
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    # a step's print() reaches its log line by line, where a monitor follows it (a file is block-buffered)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # a TextIOWrapper here
    # lazy: the pre-import that warms the worker, after stdout is redirected and before "ready"
    from dflow_lab.python.runtime import run_source

    base_env = dict(os.environ)  # stepenv.base_env() of the engine that started this worker
    modules = _UserModules()
    modules.record()
    reply.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if not request.get("fresh") and modules.changed():
            reply.write(json.dumps({"stale": True}) + "\n")
            return
        rc = _run_one(run_source, request, base_env)
        del request
        modules.record()
        reply.write(json.dumps({"rc": rc}) + "\n")


if __name__ == "__main__":
    main()
