"""The notebook widget's palette offers the built-in templates too: a blank WorkflowCanvas in a real
JupyterLab notebook (Debian's chromium), a Shell template dragged in and its script edited in the
properties panel's editor (a text area in the widget), written back to the Python side's graph."""

from __future__ import annotations

import pytest

from .canvas_page import CanvasPage
from .jupyterlab_harness import NotebookPage

pytestmark = pytest.mark.browser

BLANK = """
from dflow_lab.widgets import WorkflowCanvas
canvas = WorkflowCanvas(height=640)
canvas
"""


def test_blank_widget_canvas_builds_from_builtin_templates(page, lab, screenshots_dir, request):
    nb = NotebookPage(page, lab, f"{request.node.name}.ipynb", [BLANK])
    nb.open()
    nb.run_all()
    page.wait_for_selector(".dfl-root .dfl-palette-item[data-template='shell']", timeout=60_000)
    groups = page.locator(".dfl-root .dfl-palette-group-title").all_inner_texts()
    assert {"Shell", "Python script", "Container", "dflow utility OPs"} <= set(groups), groups
    run = page.locator(".dfl-root [data-action='run']")
    assert run.is_disabled() and "empty" in run.get_attribute("title")
    canvas = CanvasPage(page)
    canvas.drop_template("shell", 0.4, 0.4)
    canvas.node("shell").wait_for()
    canvas.select("shell")
    script = page.locator(".dfl-root .dfl-properties textarea.dfl-code")
    script.fill("echo from-the-widget\n")
    page.locator(".dfl-root .dfl-properties-title").click()  # the text area commits when it loses the focus
    page.wait_for_function("() => !document.querySelector('.dfl-root [data-action=run]').disabled")
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "widget-builtin-shell.png"))
    # the Python side holds the edited template (the graph trait synced from the page)
    out = nb.run_cell("print(repr(canvas.graph['templates']['shell']['script']))")
    assert "'echo from-the-widget\\n'" in out, out
