"""The canvas and the monitor in a real JupyterLab, driven by Playwright in Debian's headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .jupyterlab_harness import NotebookPage

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]

BUILD = """\
from dflow_lab import Workflow, Step
from dflow_lab.python import PythonOPTemplate
from dflow_lab.widgets import WorkflowCanvas
from tutorial_ops import Squares, Total

wf = Workflow(name="squares")
squares = Step("squares", PythonOPTemplate(Squares, image="python:3.11"), parameters={"n": 4})
total = Step("total", PythonOPTemplate(Total, image="python:3.11"), parameters={"scale": 0.5},
             artifacts={"table": squares.outputs.artifacts["table"]})
wf.add(squares)
wf.add(total)
canvas = WorkflowCanvas(wf, ops=["tutorial_ops"], height=600)
canvas
"""


@pytest.fixture
def notebook(lab, page):
    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", lab.root / "tutorial_ops.py")
    nb = NotebookPage(page, lab, "canvas.ipynb", [BUILD])
    nb.open()
    nb.run_all()
    page.wait_for_selector(".dfl-root .react-flow__node-step", timeout=60_000)
    return nb


def test_canvas_renders_workflow(notebook, screenshots_dir):
    page = notebook.page
    steps = page.locator(".react-flow__node-step")
    assert steps.count() == 2
    names = sorted(page.locator(".react-flow__node-step .dfl-node-name").all_inner_texts())
    assert names == ["squares", "total"]
    # typed ports: parameters and artifacts are distinct handles, the OPIOSign type is in the tooltip
    total = page.locator('.dfl-node[data-path="total"]')
    assert total.locator(".dfl-handle-artifact").count() == 1
    assert total.locator(".dfl-handle-parameter").count() == 2
    assert "scale: float (parameter" in total.locator('.dfl-port[data-port="scale"]').get_attribute("title")
    # the wire of the artifact is drawn, and the steps stage lanes
    assert page.locator(".react-flow__edge.dfl-edge-artifact").count() == 1
    assert page.locator(".react-flow__node-lane").count() == 2
    assert page.locator('[data-testid="validity"]').inner_text() == "✓ valid"
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "canvas-initial.png"))
