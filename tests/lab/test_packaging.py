"""``pip install`` of a wheel of the repository enables both halves of the lab extension: the prebuilt
JupyterLab extension (``jupyter labextension list``) and the server extension (``jupyter server extension
list``), in a fresh virtual environment.

The fresh environment sees the packages of the Python running the tests (jupyterlab and the other
dependencies, whether that Python is a system one or itself a virtual environment) through a ``.pth`` file
listing that Python's site directories: ``venv --system-site-packages`` would only see the base
interpreter's, not an outer virtual environment's. Those directories come after the fresh environment's
own, and their ``.pth`` files are not run, so the wheel's ``dflow_lab`` is the one imported."""

from __future__ import annotations

import re
import site
import subprocess
import sys
import zipfile
from pathlib import Path

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
    with zipfile.ZipFile(wheel) as z:  # the widget's bundle, and elk's script the kernel sends it on demand
        shipped = set(z.namelist())
    for name in ("widget.js", "widget.css", "elk-worker.min.js"):
        assert f"dflow_lab/widgets/static/{name}" in shipped, name
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = str(venv / "bin" / "python")
    inner = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip()
    outer = [p for p in dict.fromkeys([*sys.path, *site.getsitepackages(), site.getusersitepackages()])
             if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    (Path(inner) / "_outer_site.pth").write_text("\n".join(outer) + "\n")
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
