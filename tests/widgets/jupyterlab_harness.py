"""A real JupyterLab server and Debian's headless Chromium, for the browser tests.

``LabServer`` starts ``jupyter lab`` on a free 127.0.0.1 port with a fresh config, workspace and
settings directory, and stops it by PID. ``NotebookPage`` drives one notebook through JupyterLab's own
command registry (exposed with ``LabApp.expose_app_in_browser``): append a cell, run it, read its output.
Every wait is bounded and waits on a condition.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
# Extensions that would open pop-ups or reach the network during a test.
DISABLED_LAB_PLUGINS = {
    "@jupyterlab/apputils-extension:announcements": True,
    "@jupyterlab/extensionmanager-extension:plugin": True,
}


def chromium_context(driver, profile: Path, width: int, height: int):
    """For a fixture: Debian's headless chromium with its own profile directory, from a Playwright driver;
    closed when the fixture ends."""
    context = driver.chromium.launch_persistent_context(
        user_data_dir=str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
        viewport={"width": width, "height": height})
    try:
        yield context
    finally:
        context.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll ``predicate`` until it returns a truthy value, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class LabServer:
    """``jupyter lab`` (or Notebook 7 with ``app="notebook"``) serving ``root`` on 127.0.0.1, isolated from
    the user's own Jupyter state."""

    def __init__(self, root: Path, app: str = "lab", args: list[str] | None = None):
        self.root = root
        self.app = app
        self.args = list(args or [])  # more options of the server, e.g. its tornado_settings
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root.parent / f"{root.name}-jupyter-{app}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        home = self.root.parent / f"{self.root.name}-state"
        config_dir = home / "config"
        (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
        (config_dir / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": DISABLED_LAB_PLUGINS})
        )
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
        # this checkout's lab extension (code cells, "Open source" of the widget), before an installed one
        from tests.lab.jupyter import LABEXTENSION, ensure_labextension

        ensure_labextension()
        link = home / "share" / "labextensions" / "@dflow-lab" / "jupyterlab"
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.exists():
            link.symlink_to(LABEXTENSION)
        env["JUPYTER_PATH"] = os.pathsep.join([str(home / "share"), *filter(None, [env.get("JUPYTER_PATH")])])
        module, app = ("jupyterlab", "LabApp") if self.app == "lab" else ("notebook", "JupyterNotebookApp")
        cmd = [
            sys.executable, "-m", module, "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            f"--{app}.expose_app_in_browser=True", "--ServerApp.allow_root=True",
            f"--{app}.workspaces_dir={home / 'workspaces'}",
            f"--{app}.user_settings_dir={home / 'settings'}",
            *self.args,
        ]  # fmt: skip
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(self._ready, timeout, f"jupyter lab on {self.url} (log: {self.log_path})", 0.25)

    def _ready(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}; log:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, n: int = 4000) -> str:
        return self.log_path.read_bytes()[-n:].decode(errors="replace")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._log.close()
        self.proc = None

    def open_url(self, path: str) -> str:
        if self.app == "notebook":
            return f"{self.url}/notebooks/{path}?token={self.token}"
        return f"{self.url}/lab/tree/{path}?token={self.token}&reset"


class NotebookPage:
    """One notebook open in JupyterLab in a Playwright page."""

    def __init__(self, page, lab: LabServer, name: str, cells: list[str] | None = None):
        self.page = page
        self.lab = lab
        self.name = name
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(src) for src in (cells or [])]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, lab.root / name)

    def open(self, timeout: float = 60) -> None:
        self.page.goto(self.lab.open_url(self.name))
        self.page.wait_for_function(
            """() => {
                const app = window.jupyterapp;
                const w = app && app.shell.currentWidget;
                const kernel = w && w.sessionContext && w.sessionContext.session
                    && w.sessionContext.session.kernel;
                return !!kernel && kernel.status === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    def run_all(self, timeout: float = 120) -> None:
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float = 120) -> None:
        """Wait until every cell has run (no ``[*]`` prompt) and the kernel is idle."""
        self.page.wait_for_function(
            """() => {
                const w = window.jupyterapp.shell.currentWidget;
                const nb = w.content;
                const busy = nb.widgets.some(c => c.model.type === 'code' &&
                    (c.promptNode && c.promptNode.textContent.includes('*')));
                return !busy && w.sessionContext.session.kernel.status === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    def run_cell(self, source: str, timeout: float = 120) -> str:
        """Append a code cell with ``source``, run it, and return the text of its output."""
        index = self.page.evaluate(
            """async (source) => {
                const app = window.jupyterapp;
                const nb = app.shell.currentWidget.content;
                nb.activeCellIndex = nb.widgets.length - 1;
                await app.commands.execute('notebook:insert-cell-below');
                nb.activeCell.model.sharedModel.setSource(source);
                await app.commands.execute('notebook:run-cell');
                return nb.widgets.length - 1;
            }""",
            source,
        )
        self.wait_idle(timeout)
        return self.cell_output(index)

    def cell_output(self, index: int) -> str:
        return self.page.evaluate(
            """(i) => {
                const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
                return cell.outputArea.node.innerText;
            }""",
            index,
        )
