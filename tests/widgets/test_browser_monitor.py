"""``wf.watch()`` in a real JupyterLab: a DAG with a nested Steps group and a fan-out turns green live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .canvas_page import CanvasPage
from .jupyterlab_harness import NotebookPage

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]

WATCH = """\
from dflow_lab import DAG, Step, Steps, Task, Workflow
from dflow_lab.python import PythonOPTemplate
from tutorial_ops import Describe, Squares, Total

checks = Steps(name="checks")
checks.add(Step("check-a", PythonOPTemplate(Describe, image="python:3.11"), parameters={"value": 1.0}))
checks.add(Step("check-b", PythonOPTemplate(Describe, image="python:3.11"), parameters={"value": 2.0}))
dag = DAG(name="main")
squares = Task("squares", PythonOPTemplate(Squares, image="python:3.11"), parameters={"n": 6})
total = Task("total", PythonOPTemplate(Total, image="python:3.11"), parameters={"scale": 1.0},
             artifacts={"table": squares.outputs.artifacts["table"]})
many = Task("many", PythonOPTemplate(Describe, image="python:3.11"), parameters={"value": "{{item}}"},
            with_param=[1, 2, 3, 4, 5, 6])
dag.add(squares)
dag.add(total)
dag.add(many)
dag.add(Task("checks", checks))
wf = Workflow(name="watched", dag=dag)
wf.submit(wait=False)
monitor = wf.watch(height=560)
monitor
"""


def test_watch_a_run_live(lab, page, screenshots_dir):
    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", lab.root / "tutorial_ops.py")
    nb = NotebookPage(page, lab, "watch.ipynb", [WATCH])
    nb.open()
    nb.run_all()
    canvas = CanvasPage(page)
    page.wait_for_selector(".dfl-mode-monitor .react-flow__node-step")
    assert canvas.root.locator(".react-flow__node-container").count() == 1  # the nested Steps
    assert canvas.node_ids() == ["checks", "checks/check-a", "checks/check-b", "many", "squares", "total"]
    page.wait_for_function("() => document.querySelector('[data-testid=workflow-phase]')?.innerText === 'Succeeded'",
                           timeout=120_000)
    assert page.locator('.dfl-node[data-phase="Succeeded"]').count() == 6
    assert canvas.node("many").locator(".dfl-phase").inner_text() == "6/6 succeeded"
    assert page.locator('[data-testid="workflow-progress"]').inner_text() == "10/10 succeeded"
    canvas.click_node("many")
    details = page.locator('.dfl-details[data-path="many"]')
    item = details.locator(".dfl-fanout[data-total='6'] li[data-index='4']")  # the items, a page at a time
    item.click()
    page.wait_for_selector(".dfl-details .dfl-fanout li[data-index='4'][aria-current='true']")
    page.wait_for_function(
        "() => document.querySelector('.dfl-details .dfl-detail-port[data-port=text] .dfl-detail-value')"
        "?.innerText === 'the total is 5'")
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "monitor-dag.png"))

    # the nested Steps collapses into one node that keeps its phase, and expands again
    canvas.node("checks").locator(".dfl-collapse").click()
    page.wait_for_function("() => !document.querySelector('.react-flow__node[data-id=\"checks/check-a\"]')")
    assert canvas.node("checks").locator(".dfl-node").get_attribute("data-phase") == "Succeeded"
    canvas.node("checks").locator(".dfl-collapse").click()
    canvas.node("checks/check-a").wait_for()


def test_canvas_and_monitor_in_notebook7(notebook7, page, screenshots_dir):
    """The same widgets in Notebook 7: the canvas draws, a run turns green."""
    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", notebook7.root / "tutorial_ops.py")
    nb = NotebookPage(page, notebook7, "nb7.ipynb", [WATCH.replace("height=560", "height=480")])
    nb.open()
    nb.run_all()
    page.wait_for_selector(".dfl-mode-monitor .react-flow__node-step")
    page.wait_for_function("() => document.querySelector('[data-testid=workflow-phase]')?.innerText === 'Succeeded'",
                           timeout=120_000)
    assert page.locator('.dfl-node[data-phase="Succeeded"]').count() == 6
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "notebook7-monitor.png"))


STREAM = """\
import os, time
from pathlib import Path
from dflow_lab import Step, Workflow
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate

class Train(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"gates": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({})

    @OP.exec_sign_check
    def execute(self, op_in):
        for epoch, gate in enumerate(op_in["gates"].split(","), 1):
            print(f"epoch {epoch} loss {1 / epoch:.2f}")
            deadline = time.monotonic() + 120
            while not os.path.exists(gate) and time.monotonic() < deadline:
                time.sleep(0.01)
        return OPIO({})

gates = [str(Path.cwd() / f"gate-{i}") for i in (1, 2)]
wf = Workflow(name="streamed")
wf.add(Step("train", PythonOPTemplate(Train, image="python:3.11"), parameters={"gates": ",".join(gates)}))
wf.submit(wait=False)
wf.watch(height=480)
"""


def test_a_running_steps_log_streams_into_its_panel(lab, page, screenshots_dir):
    """Each print of a running step shows in its panel while it runs (the step waits on gate files)."""
    nb = NotebookPage(page, lab, "stream.ipynb", [STREAM])
    nb.open()
    nb.run_all()
    canvas = CanvasPage(page)
    page.wait_for_selector('.dfl-mode-monitor .dfl-node[data-path="train"][data-phase="Running"]')
    canvas.click_node("train")
    logs = page.locator('.dfl-details[data-path="train"] .dfl-logs')
    page.wait_for_function("() => document.querySelector('.dfl-details .dfl-logs')?.innerText.includes('epoch 1 loss 1.00')")
    assert page.locator(".dfl-details .dfl-live").is_visible()
    assert "epoch 2" not in logs.inner_text()
    (lab.root / "gate-1").touch()
    page.wait_for_function("() => document.querySelector('.dfl-details .dfl-logs')?.innerText.includes('epoch 2 loss 0.50')")
    # the line came while the step still ran: streamed, not read again at the end
    assert canvas.node("train").locator(".dfl-node").get_attribute("data-phase") == "Running"
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "monitor-log-stream.png"))
    (lab.root / "gate-2").touch()
    page.wait_for_selector('.dfl-node[data-path="train"][data-phase="Succeeded"]')
    page.wait_for_function("() => !document.querySelector('.dfl-details .dfl-live')")
    assert logs.inner_text().splitlines() == ["epoch 1 loss 1.00", "epoch 2 loss 0.50"]
