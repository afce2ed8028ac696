"""General helpers of the dflow API (``dflow.utils``).

The artifact and storage half of this module (upload/download, S3 helpers, catalogs) lives in
``dflow_lab.storage`` and is re-exported here under dflow's names.
"""

from __future__ import annotations

import contextlib
import os
import random
import string
import subprocess
from pathlib import Path
from typing import List, Optional, Tuple, Union

_ALNUM = string.ascii_lowercase + string.digits


def randstr(length: int = 5) -> str:
    """A random string of lowercase letters and digits (valid inside Kubernetes names)."""
    return "".join(random.choices(_ALNUM, k=length))


@contextlib.contextmanager
def set_directory(dirname: os.PathLike, mkdir: bool = False):
    """Change the working directory within a ``with`` block; yields the absolute path."""
    pwd = os.getcwd()
    path = Path(dirname).resolve()
    if mkdir:
        path.mkdir(exist_ok=True, parents=True)
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(pwd)


def run_command(
    cmd: Union[List[str], str],
    raise_error: bool = True,
    input: Optional[str] = None,
    try_bash: bool = False,
    interactive: bool = True,
    print_oe: bool = False,
    **kwargs,
) -> Tuple[int, str, str]:
    """Run a command in a subprocess and return ``(return_code, stdout, stderr)``.

    A string command runs through ``bash`` when ``try_bash`` and bash exists, else ``sh``.
    With ``raise_error`` a non-zero exit raises ``AssertionError`` with the command and its stderr.
    """
    if isinstance(cmd, str):
        shell = "/bin/bash" if try_bash and os.path.exists("/bin/bash") else "/bin/sh"
        cmd = [shell, "-c", cmd]
    proc = subprocess.run(
        cmd,
        input=input,
        capture_output=True,
        text=True,
        **kwargs,
    )
    if print_oe:
        print(proc.stdout, end="")
        print(proc.stderr, end="")
    if raise_error and proc.returncode != 0:
        raise AssertionError(
            f"command {cmd} failed with exit code {proc.returncode}:\n{proc.stderr}"
        )
    return proc.returncode, proc.stdout, proc.stderr
