"""A warm worker process: runs Python OP steps one at a time, with dflow-lab already imported.

Protocol (one JSON object per line): requests on stdin ``{"source", "env", "cwd", "log"}``, replies on
the worker's original stdout ``{"rc": int}``.  While a step runs, file descriptors 1 and 2 point at the
step's log file; the environment and working directory are restored after each step.  The first line
the worker writes is ``{"ready": true}``.

Run as ``python -m dflow_lab.local.worker``.
"""

from __future__ import annotations

import json
import os
import sys
import traceback


def _run_one(run_source, request: dict) -> int:
    saved_env = dict(os.environ)
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
        os.environ.update(env)
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
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        sys.path[:] = saved_path


def main() -> None:
    """Serve step requests until stdin closes."""
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    from dflow_lab.python.runtime import run_source  # the pre-import that makes the worker warm

    reply.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        rc = _run_one(run_source, json.loads(line))
        reply.write(json.dumps({"rc": rc}) + "\n")


if __name__ == "__main__":
    main()
