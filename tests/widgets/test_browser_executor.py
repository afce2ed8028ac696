"""The step panel of ``wf.watch()`` in a real JupyterLab shows where a step ran and its Slurm job: a
step sent through ``SlurmRemoteExecutor`` to the real sshd and Slurm of ``tests/executors/services.py``."""

from __future__ import annotations

import pytest

from tests.executors.conftest import slurm, slurm_sshd  # noqa: F401 - the real services, as fixtures
from tests.executors.services import TEST_USER

from .canvas_page import CanvasPage
from .jupyterlab_harness import NotebookPage

pytestmark = pytest.mark.browser

CELL = """\
from dflow_lab import ShellOPTemplate, SlurmRemoteExecutor, Step, Workflow

ex = SlurmRemoteExecutor(host="127.0.0.1", port={port}, username="{user}", private_key_file="{key}",
                         header="#SBATCH --time=5", interval=0.5,
                         workdir="~/dflow-lab-browser/{{{{workflow.name}}}}/{{{{pod.name}}}}")
wf = Workflow(name="on-slurm")
wf.add(Step("hello", ShellOPTemplate(name="hello", script="echo hello from slurm"), executor=ex))
wf.submit(wait=False)
wf.watch(height=420)
"""


def test_details_show_executor_and_slurm_job(lab, page, screenshots_dir, slurm_sshd):  # noqa: F811
    code = CELL.format(port=slurm_sshd.port, user=TEST_USER, key=slurm_sshd.client_key)
    nb = NotebookPage(page, lab, "on-slurm.ipynb", [code])
    nb.open()
    nb.run_all()
    canvas = CanvasPage(page)
    page.wait_for_selector('.dfl-mode-monitor .dfl-node[data-path="hello"][data-phase="Succeeded"]', timeout=120_000)
    canvas.click_node("hello")
    panel = page.locator('.dfl-details[data-path="hello"] [aria-label="Executor"]')
    panel.wait_for()
    text = panel.inner_text()
    assert "SlurmRemoteExecutor" in text
    assert f"{TEST_USER}@127.0.0.1:{slurm_sshd.port}" in text
    assert "Slurm job " in text and text.split("Slurm job ")[1].strip().isdigit()
    assert "BEGIN OPENSSH" not in page.locator(".dfl-details").inner_text()
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "details-executor.png"))
