"""The notebook widget's palette offers the built-in templates too: a blank WorkflowCanvas in a real
JupyterLab notebook (Debian's chromium), a Shell and a Python-script template dragged in and their scripts
edited in the properties panel's code editor (CodeMirror, bundled into the widget: highlighted shell and
Python, its own undo), written back to the Python side's graph. Screenshots in JupyterLab Light and Dark."""

from __future__ import annotations

import pytest

from tests.lab.jupyter import ensure_testops

from .canvas_page import CanvasPage
from .jupyterlab_harness import NotebookPage

pytestmark = pytest.mark.browser

BLANK = """
from dflow_lab.widgets import WorkflowCanvas
canvas = WorkflowCanvas(height=640)
canvas
"""


def _drop_and_edit_code(page, canvas, template: str, x: float, y: float, host: str):
    """Drop ``template`` at (x, y) of the canvas, select it, and select all of its script in the properties'
    code editor (``host``: the editor's host element); returns the editor's content."""
    canvas.drop_template(template, x, y)
    canvas.node(template).wait_for()
    canvas.select(template)
    editor = page.locator(f".dfl-root .dfl-properties {host} .cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    return editor


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
    editor = _drop_and_edit_code(page, canvas, "shell", 0.4, 0.4, ".dfl-code-host")
    page.keyboard.insert_text("echo from-the-widget  # a comment\n")
    page.locator(".dfl-root .dfl-properties-title").click()  # the editor commits when it loses the focus
    page.wait_for_function("() => !document.querySelector('.dfl-root [data-action=run]').disabled")
    # the shell mode's tokens are coloured: the comment differs from the command
    colours = editor.evaluate("""(e) => [...e.querySelectorAll('.cm-line span')].map(
        (s) => [s.textContent, getComputedStyle(s).color, getComputedStyle(s).fontStyle])""")
    comment = [c for c in colours if c[0].startswith("#")]
    assert comment and comment[0][2] == "italic", colours
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "widget-builtin-shell.png"))
    # the Python side holds the edited template (the graph trait synced from the page)
    out = nb.run_cell("print(repr(canvas.graph['templates']['shell']['script']))")
    assert "'echo from-the-widget  # a comment\\n'" in out, out

    # a Python script: Python's keywords are highlighted, Tab indents, Ctrl+Z is the editor's own undo
    editor = _drop_and_edit_code(page, canvas, "python-script", 0.7, 0.6, ".dfl-code-host[data-language='python']")
    page.keyboard.insert_text("def twice(x):\n")
    page.keyboard.press("Tab")
    page.keyboard.insert_text("return 2 * x\n")
    keyword = editor.locator(".cm-line span", has_text="def").first
    assert keyword.evaluate("s => getComputedStyle(s).fontWeight") in ("700", "bold")
    page.locator(".dfl-root .dfl-properties-title").click()
    out = nb.run_cell("print(repr(canvas.graph['templates']['python-script']['script']))")
    assert "'def twice(x):\\n    return 2 * x\\n'" in out, out
    for theme, tag in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        page.evaluate("async (t) => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: t}); }",
                      theme)
        light = "true" if tag == "light" else "false"
        page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
        page.wait_for_selector("#jupyterlab-splash", state="detached")
        canvas.select("python-script")
        page.locator(".dfl-root").screenshot(path=str(screenshots_dir / f"widget-code-editor-{tag}.png"))


OPS_CANVAS = """
from dflow_lab.widgets import WorkflowCanvas
canvas = WorkflowCanvas(ops=["dflow_lab_testops"], height=640)
canvas
"""


def test_widget_new_python_op_and_open_source(page, lab, screenshots_dir, request):
    """New Python OP… writes an @OP.function into ops.py beside the notebook (the kernel's working directory)
    and offers it; Open source opens that file in JupyterLab's editor at the definition; an OP whose file is
    outside the server's root (an installed package) is shown in the widget itself, highlighted."""
    ensure_testops()
    (lab.root / "ops.py").unlink(missing_ok=True)
    nb = NotebookPage(page, lab, f"{request.node.name}.ipynb", [OPS_CANVAS])
    nb.open()
    nb.run_all()
    page.wait_for_selector(".dfl-root .dfl-palette-item[data-template='make-table']", timeout=60_000)
    page.locator(".dfl-root [data-action='new-op']").click()
    form = page.locator(".dfl-root .dfl-newop")
    form.locator("[data-field='op-name']").fill("add_one")
    form.locator("[data-field='body']").fill('return {"y": x + 1}')
    form.locator("[data-action='create-op']").click()
    form.wait_for(state="detached")
    page.wait_for_selector(".dfl-root .dfl-palette-item[data-template='add-one'][data-source='ops.py']")
    source = (lab.root / "ops.py").read_text()
    assert '@OP.function\ndef add_one(x: int) -> {"y": int}:\n    return {"y": x + 1}\n' in source
    # the same name again is refused in the form, by the Python side
    page.locator(".dfl-root [data-action='new-op']").click()
    form.locator("[data-field='op-name']").fill("add_one")
    form.locator("[data-action='create-op']").click()
    assert "already defines 'add_one'" in form.locator("[data-testid='newop-error']").inner_text()
    form.locator("button", has_text="Cancel").click()

    canvas = CanvasPage(page)
    canvas.drop_template("add-one", 0.3, 0.3)
    canvas.node("add-one").wait_for()
    canvas.select("add-one")
    page.locator(".dfl-root [data-action='open-source']").click()
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.title.label === 'ops.py'")
    line = source.split("\n").index("@OP.function")
    page.wait_for_function(
        "(line) => window.jupyterapp.shell.currentWidget.content.editor.getCursorPosition().line === line",
        arg=line, timeout=15_000)

    # an installed OP's module is outside the server's root: its source is shown in the widget
    page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.title.label.endsWith('.ipynb')")
    canvas.drop_template("make-table", 0.7, 0.6)
    canvas.node("make-table").wait_for()
    canvas.select("make-table")
    page.locator(".dfl-root [data-action='open-source']").click()
    view = page.locator(".dfl-root .dfl-source")
    view.wait_for()
    assert view.locator("[data-testid='source-file']").inner_text().endswith("dflow_lab_testops.py")
    assert "class MakeTable(OP):" in view.locator(".cm-content").inner_text()
    active = view.locator(".cm-activeLine, .cm-line").filter(has_text="class MakeTable").first
    assert active.locator("span").count() >= 1  # highlighted tokens
    for theme, tag in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        page.evaluate("async (t) => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: t}); }",
                      theme)
        light = "true" if tag == "light" else "false"
        page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
        page.wait_for_selector("#jupyterlab-splash", state="detached")
        page.locator(".dfl-root").screenshot(path=str(screenshots_dir / f"widget-open-source-{tag}.png"))
    view.locator("button", has_text="Close").click()
    view.wait_for(state="detached")
