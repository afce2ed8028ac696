"""A real Jupyter server (``jupyter server`` or ``jupyter lab``) for the lab tests, on a free 127.0.0.1 port.

The server runs with an isolated Jupyter config/data/runtime directory; the repository's
``jupyter-config/`` is on ``JUPYTER_CONFIG_PATH`` (so the extension is enabled exactly as an installed
package enables it). The test OPs are a real installed package, ``tests/lab/testops`` (``dflow-lab-testops``,
with a ``dflow_lab.ops`` entry point): ``scripts/install.sh --dev`` pip-installs it, and
``ensure_testops`` does when it is missing.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TESTOPS = HERE / "testops"  # the pip-installed package of test OPs (dflow-lab-testops)
# a distribution whose dflow_lab.ops entry point names a missing module: only the server test puts it on
# its PYTHONPATH (installed, it would put its error into every palette of the environment)
OPS_BROKEN = HERE / "ops_broken"
LABEXTENSION = REPO / "dflow_lab" / "labextension"


def ensure_labextension() -> None:
    """Build the prebuilt lab extension if this checkout has not (``npm run build:lab`` needs JupyterLab
    installed, which an install that ran npm before pip did not have yet)."""
    if (LABEXTENSION / "package.json").exists():
        return
    # js/lab is an npm workspace of the repository: its packages are installed at the root
    steps = ([] if (REPO / "node_modules").is_dir() else [["npm", "ci", "--no-audit", "--no-fund"]])
    for cmd in steps + [["npm", "run", "build:lab"]]:
        out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    if not (LABEXTENSION / "package.json").exists():
        raise RuntimeError("npm run build:lab did not produce dflow_lab/labextension (is jupyterlab installed?)")


def ensure_testops() -> None:
    """pip-install ``tests/lab/testops`` into this Python when it is not installed (CI installs it in
    ``scripts/install.sh --dev``); a stale install (another version) is replaced."""
    from importlib import metadata

    want = next(line.split('"')[1] for line in (TESTOPS / "pyproject.toml").read_text().splitlines()
                if line.startswith("version"))
    try:
        if metadata.version("dflow-lab-testops") == want:
            return
    except metadata.PackageNotFoundError:
        pass
    out = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                          "--no-build-isolation", str(TESTOPS)], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"pip install {TESTOPS} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jupyter_env(home: Path, python_path: list[Path] | None = None) -> dict[str, str]:
    """The environment of an isolated Jupyter whose config path holds the repository's jupyter-config;
    ``python_path`` is importable (the test OPs are installed: ``ensure_testops``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_", "DFLOW_"))}
    labext_root = home / "share"
    (labext_root / "labextensions" / "@dflow-lab").mkdir(parents=True, exist_ok=True)
    link = labext_root / "labextensions" / "@dflow-lab" / "jupyterlab"
    if LABEXTENSION.is_dir() and not link.exists():
        link.symlink_to(LABEXTENSION)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_CONFIG_PATH=str(REPO / "jupyter-config"),
        JUPYTER_DATA_DIR=str(home / "data"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTER_PATH=str(labext_root),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONPATH=os.pathsep.join([*map(str, python_path or []), str(REPO)]
                                   + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])),
    )
    return env


class JupyterServer:
    """``jupyter <app>`` started on a free port with a token; ``stop()`` ends it (by its PID)."""

    def __init__(self, home: Path, root: Path, app: str = "server", extra: list[str] | None = None,
                 python_path: list[Path] | None = None, base_url: str = "/") -> None:
        ensure_testops()
        self.home, self.root = home, root
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}{base_url.rstrip('/')}"
        self.env = jupyter_env(home, python_path)
        self.log_path = home / f"jupyter-{app}.log"
        root.mkdir(parents=True, exist_ok=True)
        lab_args: list[str] = []
        if app == "lab":
            from tests.widgets.jupyterlab_harness import DISABLED_LAB_PLUGINS

            labconfig = Path(self.env["JUPYTER_CONFIG_DIR"]) / "labconfig"
            labconfig.mkdir(parents=True, exist_ok=True)
            (labconfig / "page_config.json").write_text(json.dumps({"disabledExtensions": DISABLED_LAB_PLUGINS}))
            self.settings_dir = home / "lab-settings"
            lab_args = ["--LabApp.expose_app_in_browser=True", f"--LabApp.workspaces_dir={home / 'workspaces'}",
                        f"--LabApp.user_settings_dir={self.settings_dir}"]
        args = [
            sys.executable, "-m", "jupyterlab" if app == "lab" else "jupyter_server",
            "--no-browser", "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
            f"--DflowLab.secrets_file={home / 'secrets.json'}", f"--ServerApp.base_url={base_url}",
            "--ServerApp.disable_check_xsrf=False",
            *(["--allow-root"] if os.geteuid() == 0 else []),
            *lab_args,
            *(extra or []),
        ]
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, cwd=root, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_ready(90)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter exited with {self.proc.returncode}:\n{self.log()}")
            try:
                r = requests.get(f"{self.url}/api/status", headers=self.auth, timeout=2)
                if r.status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"jupyter did not answer within {timeout}s:\n{self.log()}")

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def api(self, path: str) -> str:
        return f"{self.url}/dflow-lab/api/{path.lstrip('/')}"

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll ``predicate`` until it returns a truthy value (returned) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
