"""The environment a step gets from the local engine: explicit, documented, and free of credentials.

A step (a script or container template run as a host subprocess, or a Python OP run in a warm worker)
sees exactly:

1. the variables of the engine's host environment named in :data:`INHERITED` (or starting with one of
   :data:`INHERITED_PREFIXES`), plus the names listed in ``config["local_step_env"]``
   (``DFLOW_LOCAL_STEP_ENV="A,B"``) — never a name starting with ``DFLOW_``, which configure dflow-lab
   and carry its credentials;
2. ``PYTHONPATH``: the engine's ``sys.path`` less what its interpreter finds by itself (so a Python
   OP, or ``python3`` in a script, imports the user's modules as the notebook does, and another Python
   a step runs is not handed this one's site-packages) and ``PYTHONUNBUFFERED=1`` (a Python step's log is written line
   by line);
3. what the step's template declares in its ``env``: plain values, and the values of the
   ``secretKeyRef``s it declares (from ``dflow_lab.secret_store``) — no other step's secrets;
4. what the engine sets for the step: ``DFLOW_LAB_ROOT`` (and, for Python OPs, the
   ``DFLOW_LAB_PARAM_*`` values the template declares).

Nothing else of the host reaches a step: no Argo token, no S3 keys, no proxy settings (they may hold
credentials; add them to ``local_step_env`` or the template's ``envs`` when a step needs them).  The warm
workers start with (1) and (2) only, and a step's own variables are removed from the worker when the
step ends.

Limits: this controls the environment, not the operating-system user.  Steps run as the engine's user,
so they can read what that user can read (files, ``/proc/<pid>/environ`` of that user's processes).
"""

from __future__ import annotations

import os
import site
import sys

from ..config import config

__all__ = ["INHERITED", "INHERITED_PREFIXES", "base_env", "inherited_names", "python_path", "step_env"]

#: Host variables every step inherits (when set on the host): the system's basics, the locale,
#: the Python environment the engine runs in, common thread/device settings of scientific code, and
#: the host settings an executor's runner needs (none of them a credential).
INHERITED = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "LD_LIBRARY_PATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV",
    "SSL_CERT_FILE", "SSL_CERT_DIR",
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
    "SLURM_CONF", "XDG_RUNTIME_DIR",  # what executors' runners need on this host: Slurm's sbatch, rootless podman
)
#: Prefixes of host variables every step inherits (the locale categories).
INHERITED_PREFIXES = ("LC_",)


def inherited_names() -> list[str]:
    """The extra host variables of ``config["local_step_env"]`` (a list, or a comma-separated string)."""
    extra = config.get("local_step_env") or []
    if isinstance(extra, str):
        extra = extra.split(",")
    names = [str(n).strip() for n in extra]
    return [n for n in names if n and not n.startswith("DFLOW_")]


def _own_dirs() -> tuple[str, ...]:
    """Where the engine's interpreter finds its standard library and installed packages by itself."""
    dirs = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    try:
        dirs.add(site.getusersitepackages())
    except (AttributeError, OSError):  # a site module without user site-packages (embedded interpreters)
        pass
    return tuple(os.path.join(os.path.realpath(d), "") for d in dirs if d)


def python_path() -> str:
    """The engine's ``sys.path`` as a ``PYTHONPATH`` value: the existing directories, in order, except
    those the interpreter finds by itself (its standard library and site-packages), so a step that runs
    another Python is not handed this one's packages."""
    own = _own_dirs()
    paths = [p if p else os.getcwd() for p in sys.path]
    keep = (p for p in paths if os.path.isdir(p) and not os.path.join(os.path.realpath(p), "").startswith(own))
    return os.pathsep.join(dict.fromkeys(keep))


def base_env() -> dict[str, str]:
    """What every step gets before its template's own variables: the inherited host variables and
    ``PYTHONPATH`` (items 1 and 2 above).  Warm workers start with exactly this."""
    extra = set(inherited_names())
    env = {k: v for k, v in os.environ.items()
           if (k in INHERITED or k.startswith(INHERITED_PREFIXES) or k in extra) and not k.startswith("DFLOW_")}
    env["PYTHONPATH"] = python_path()
    return env


def step_env(declared: dict[str, str]) -> dict[str, str]:
    """The whole environment of a step run as a host subprocess: :func:`base_env`, ``PYTHONUNBUFFERED=1``
    (a step may turn it off in its ``env``) and the step's ``declared`` variables (they win)."""
    return {**base_env(), "PYTHONUNBUFFERED": "1", **declared}
