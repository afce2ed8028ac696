"""``pip install`` of a wheel of the repository enables both halves of the lab extension: the prebuilt
JupyterLab extension (``jupyter labextension list``) and the server extension (``jupyter server extension
list``), in a fresh virtual environment."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .jupyter import REPO, ensure_labextension, jupyter_env

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _run(args: list[str], **kw) -> str:
    out = subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)
    assert out.returncode == 0, out.stdout + out.stderr
    return ANSI.sub("", out.stdout + out.stderr)


def test_wheel_install_lists_both_extensions_enabled(tmp_path):
    for module in ("hatchling", "hatch_jupyter_builder"):
        pytest.importorskip(module, reason=f"building the wheel here needs {module} (dev extras)")
    ensure_labextension()
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"),
          str(REPO)])
    wheel = next((tmp_path / "dist").glob("dflow_lab-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    python = str(venv / "bin" / "python")
    _run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)])
    env = jupyter_env(tmp_path / "home")
    for key in ("JUPYTER_CONFIG_PATH", "JUPYTER_PATH", "PYTHONPATH"):  # only what the wheel installed
        env.pop(key)
    labext = _run([python, "-m", "jupyterlab.labextensions", "list"], env=env, cwd=tmp_path)
    assert re.search(rf"{re.escape(str(venv))}/share/jupyter/labextensions\s+@dflow-lab/jupyterlab v0\.1\.0 "
                     r"enabled\s+OK \(python, dflow-lab\)", labext), labext
    server = _run([python, "-m", "jupyter_server", "extension", "list"], env=env, cwd=tmp_path)
    assert re.search(rf"Config dir: {re.escape(str(venv))}/etc/jupyter\s+dflow_lab\.jupyter enabled", server), server
    assert re.search(r"dflow_lab\.jupyter\s+OK", server), server
