"""Building a workflow from nothing in a real JupyterLab (Debian's headless chromium): the built-in
templates are in the palette of a new document, a Shell and a Python-script template are dragged in,
configured in the properties panel (CodeMirror script, ports), wired and run to green with no restart and
no settings; a .py OP saved next to the document shows up in the palette (bounded wait of 2 s), an import
error shows on its file's entry with its line, the entry-point OP package is there. Screenshots go to
``test-artifacts/lab/``."""

# ruff: noqa: F811  (the fixtures of test_browser.py are imported by name)
from __future__ import annotations

import json
import re

import pytest
import requests

from tests.widgets.canvas_page import CanvasPage

from .jupyter import wait_for
from .test_browser import EDITOR, VISIBLE, _current_tab_dirty, _open, _stable_box, browser, lab, page, shots  # noqa: F401

pytestmark = pytest.mark.browser

SHELL_SCRIPT = ("mkdir -p /tmp/outputs/parameters\n"
                "echo \"hi {{inputs.parameters.name}}\" > /tmp/outputs/parameters/greeting\n")

NEAR_OPS = '''from dflow_lab.python import OP


@OP.function
def double_it(x: int) -> {"y": int}:
    return {"y": 2 * x}
'''


def _save_from_lab(page, path: str, text: str) -> None:
    """Save a file through JupyterLab's contents manager (what its file editor does on Ctrl+S)."""
    page.evaluate("async ([path, content]) => { await window.jupyterapp.serviceManager.contents.save(path, "
                  "{type: 'file', format: 'text', content}); }", [path, text])


def _edges(page) -> int:
    return page.locator(f"{EDITOR} .react-flow__edge").count()


def _row(page, port_row: str):
    return page.locator(f"{EDITOR} .dfl-properties [data-port-row='{port_row}']")


def test_blank_document_to_a_green_run_with_builtin_templates(page, lab, shots):
    page.locator(".jp-LauncherCard", has_text="New Workflow").click()
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='shell']")
    groups = page.locator(f"{EDITOR} .dfl-palette-group-title").all_inner_texts()
    for group in ("Shell", "Python script", "Container", "dflow utility OPs"):
        assert group in groups, groups
    assert page.locator(f"{EDITOR} .dfl-palette-item[data-template='check-num-success']").count() == 1
    doc = json.loads((lab.root / "workflow.dflow.json").read_text())
    canvas = CanvasPage(page, EDITOR)
    run = page.locator(f"{EDITOR} [data-action='run']")
    assert run.is_disabled() and "empty" in run.get_attribute("title")  # an empty workflow cannot be run

    canvas.drop_template("shell", 0.15, 0.3)
    canvas.node("shell").wait_for()
    canvas.drop_template("python-script", 0.75, 0.6)
    canvas.node("python-script").wait_for()

    # configure the Shell step: its script in CodeMirror, the default of its input in the port editor
    canvas.select("shell")
    editor = page.locator(f"{EDITOR} .dfl-properties .dfl-code-host .cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(SHELL_SCRIPT)
    default = _row(page, "inputs.parameters.name").locator("[data-field='default']")
    default.fill("canvas")  # moving the focus out of the script commits it
    default.press("Enter")
    page.screenshot(path=str(shots / "authoring-shell-configured.png"))

    # the Python script gets a second output, added in the port editor and renamed
    canvas.select("python-script")
    page.locator(f"{EDITOR} .dfl-properties [data-add='outputs.parameters']").click()
    name = _row(page, "outputs.parameters.out").locator("[data-field='name']")
    name.fill("twice")
    name.press("Enter")
    _row(page, "outputs.parameters.twice").wait_for()

    canvas.fit()
    canvas.settle()
    for _ in range(3):  # a gesture that raced a view change is redone
        _stable_box(canvas.handle("shell", "out:parameter:greeting"))
        canvas.wire("shell", "out:parameter:greeting", "python-script", "in:parameter:text")
        try:
            wait_for(lambda: _edges(page) == 1, 5, "the wire")
            break
        except AssertionError:
            canvas.fit()
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the wired workflow to validate")
    page.screenshot(path=str(shots / "authoring-wired.png"))

    # `when` is parsed while it is typed, by the server's govaluate parser; the placeholder validates
    canvas.select("python-script")
    when = page.locator(f"{EDITOR} .dfl-properties input[data-field='when']")
    hint = when.get_attribute("placeholder").removeprefix("e.g. ")
    assert hint == '{{tasks.shell.outputs.parameters.greeting}} != ""'
    when.fill("{{tasks.shell.outputs.parameters.greeting}} > > 3")
    problem = page.locator(f"{EDITOR} .dfl-properties [data-error-for='when']")
    problem.wait_for(timeout=5_000)  # before Enter: while typing
    assert "COMPARATOR" in problem.inner_text()
    when.press("Enter")
    wait_for(lambda: canvas.validity() == "1 problem", 15, "the bad condition to be a problem before the run")
    page.wait_for_selector(f"{EDITOR} .react-flow__node[data-id='python-script'] .dfl-issue-badge", timeout=5_000)
    assert run.is_disabled()
    when.fill(hint)
    when.press("Enter")
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the suggested condition to validate")
    when.fill("")
    when.press("Enter")

    page.locator(f"{EDITOR} [data-action='save']").click()
    wait_for(lambda: not _current_tab_dirty(page), 15, "the document to be saved")
    saved = json.loads((lab.root / "workflow.dflow.json").read_text())
    assert saved["templates"]["shell"]["script"] == SHELL_SCRIPT
    assert saved["templates"]["shell"]["inputs"]["parameters"]["name"]["default"] == "canvas"
    assert saved["templates"]["python-script"]["outputs"]["parameters"]["twice"] == {
        "type": "str", "value_from_path": "/tmp/outputs/parameters/twice"}
    assert saved["templates"]["main"]["edges"] == [{"kind": "parameter", "source": {"node": "shell", "port": "greeting"},
                                                    "target": {"node": "python-script", "port": "text"}}]
    assert doc["templates"] == {"main": {"kind": "dag"}}

    # the output the script does not write yet is a failure of the run: write it, then run
    canvas.select("python-script")
    editor = page.locator(f"{EDITOR} .dfl-properties .dfl-code-host .cm-content")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text('\nwith open("/tmp/outputs/parameters/twice", "w") as f:\n    f.write(text * 2)\n')
    page.locator(f"{EDITOR} .dfl-properties-title").click()
    wait_for(lambda: "f.write(text * 2)" in page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.context.model.toString()"), 10, "the script to be committed")
    page.locator(f"{EDITOR} [data-action='run']").click()
    row = page.locator(".dfl-lab-run[data-name^='workflow-']").first
    row.wait_for(timeout=60_000)
    page.wait_for_selector(".dfl-lab-run[data-phase='Succeeded'][data-name^='workflow-']", timeout=120_000)
    name = row.get_attribute("data-name")
    # the Workflows panel shows when the run started and the document it came from
    meta = row.locator("[data-testid='run-meta']")
    wait_for(lambda: "workflow.dflow.json" in meta.inner_text(), 15, "the run's document in the panel")
    assert re.search(r"\d\d:\d\d:\d\d", meta.inner_text()), meta.inner_text()
    details = requests.get(lab.api(f"workflows/local/{name}/details"), params={"path": "python-script"},
                           headers=lab.auth, timeout=30).json()
    outputs = {o["name"]: o.get("value") for o in details["outputs"]}
    assert outputs["length"] == str(len("hi canvas")) and outputs["twice"] == "hi canvas" * 2, details
    page.screenshot(path=str(shots / "authoring-run-green.png"))


def test_ops_next_to_the_document_and_installed_ones_are_in_the_palette(page, lab, shots):
    (lab.root / "near.dflow.json").write_text(json.dumps(
        {"version": 1, "name": "near", "entrypoint": "main", "templates": {"main": {"kind": "dag"}}}))
    _open(page, "near.dflow.json")
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='shell']")
    # the installed entry-point package (tests/lab/testops, pip-installed: a dflow_lab.ops entry point)
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='shout'][data-source='dflow-lab-testops (shout)']")
    assert page.locator(f"{EDITOR} .dfl-palette-item[data-template='double-it']").count() == 0

    _save_from_lab(page, "near_ops.py", NEAR_OPS)
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='double-it'][data-source='near_ops.py']",
                           timeout=2_000)

    _save_from_lab(page, "broken_near_ops.py",
                   "from dflow_lab.python import OP\nimport no_such_module_abc\n\n\nclass A(OP):\n    pass\n")
    error = page.locator(f"{EDITOR} [data-testid='palette-error'][data-source='broken_near_ops.py']")
    error.wait_for(timeout=2_000)
    assert error.get_attribute("data-line") == "2"
    assert "no_such_module_abc" in error.inner_text()
    assert page.locator(f"{EDITOR} .dfl-palette-item[data-template='double-it']").count() == 1  # not hidden
    page.screenshot(path=str(shots / "authoring-palette-discovery.png"))

    # the OP found next to the document runs with no PYTHONPATH and no restart
    canvas = CanvasPage(page, EDITOR)
    canvas.drop_template("double-it", 0.4, 0.4)
    canvas.node("double-it").wait_for()
    canvas.select("double-it")
    field = page.locator(f"{EDITOR} .dfl-properties input[data-field='x']")
    field.fill("21")
    field.press("Enter")
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the workflow to validate")
    page.locator(f"{EDITOR} [data-action='run']").click()
    page.wait_for_selector(".dfl-lab-run[data-phase='Succeeded'][data-name^='near-']", timeout=120_000)
    _save_from_lab(page, "broken_near_ops.py", "")
    assert page.locator(f"{VISIBLE}").count() >= 1


def test_new_python_op_round_trip_and_open_source(page, lab, shots):
    (lab.root / "newop").mkdir(exist_ok=True)
    (lab.root / "newop" / "flow.dflow.json").write_text(json.dumps(
        {"version": 1, "name": "flow", "entrypoint": "main", "templates": {"main": {"kind": "dag"}}}))
    _open(page, "newop/flow.dflow.json")
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='shell']")
    page.locator(f"{EDITOR} [data-action='new-op']").click()
    form = page.locator(f"{EDITOR} .dfl-newop")
    form.locator("[data-field='op-name']").fill("class")  # a keyword: refused in the form, nothing written
    form.locator("[data-action='create-op']").click()
    assert "keyword" in form.locator("[data-testid='newop-error']").inner_text()
    form.locator("[data-field='op-name']").fill("add_one")
    form.locator("[data-field='body']").fill('return {"y": x + 1}')
    page.screenshot(path=str(shots / "authoring-new-op-form.png"))
    form.locator("[data-action='create-op']").click()
    form.wait_for(state="detached")
    item = page.locator(f"{EDITOR} .dfl-palette-item[data-template='add-one'][data-source='newop/ops.py']")
    item.wait_for(timeout=5_000)
    source = (lab.root / "newop" / "ops.py").read_text()
    assert "@OP.function\ndef add_one(x: int) -> {\"y\": int}:\n    return {\"y\": x + 1}\n" in source
    compile(source, "ops.py", "exec")

    # a second OP of that name is refused by the server, and the form says why
    page.locator(f"{EDITOR} [data-action='new-op']").click()
    form.locator("[data-field='op-name']").fill("add_one")
    form.locator("[data-action='create-op']").click()
    assert "already defines 'add_one'" in form.locator("[data-testid='newop-error']").inner_text()
    form.locator("button", has_text="Cancel").click()

    canvas = CanvasPage(page, EDITOR)
    canvas.drop_template("add-one", 0.4, 0.4)
    canvas.node("add-one").wait_for()
    canvas.select("add-one")
    field = page.locator(f"{EDITOR} .dfl-properties input[data-field='x']")
    field.fill("41")
    field.press("Enter")
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the workflow to validate")
    page.locator(f"{EDITOR} [data-action='run']").click()
    row = page.locator(".dfl-lab-run[data-name^='flow-']").first
    row.wait_for(timeout=60_000)
    page.wait_for_selector(".dfl-lab-run[data-phase='Succeeded'][data-name^='flow-']", timeout=120_000)
    details = requests.get(lab.api(f"workflows/local/{row.get_attribute('data-name')}/details"),
                           params={"path": "add-one"}, headers=lab.auth, timeout=30).json()
    assert {o["name"]: o.get("value") for o in details["outputs"]}["y"] == "42"

    # "Open source" opens the module in JupyterLab's editor, the cursor on the definition
    _open(page, "newop/flow.dflow.json")
    canvas.select("add-one")
    page.locator(f"{EDITOR} [data-action='open-source']").click()
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.title.label === 'ops.py'")
    line = source.split("\n").index("@OP.function") + 1
    # the cursor is placed once the file's text has reached the editor, after the tab has opened
    page.wait_for_function(
        "(line) => window.jupyterapp.shell.currentWidget.content.editor.getCursorPosition().line === line",
        arg=line - 1, timeout=15_000)
    page.screenshot(path=str(shots / "authoring-open-source.png"))


def test_a_refused_wire_is_red_while_dragged_and_says_why(page, lab, shots):
    (lab.root / "refuse.dflow.json").write_text(json.dumps(
        {"version": 1, "name": "refuse", "entrypoint": "main", "templates": {"main": {"kind": "dag"}}}))
    _open(page, "refuse.dflow.json")
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='make-table']")
    canvas = CanvasPage(page, EDITOR)
    canvas.drop_template("make-table", 0.15, 0.3)
    canvas.node("make-table").wait_for()
    canvas.drop_template("shout", 0.75, 0.6)
    canvas.node("shout").wait_for()
    canvas.fit()
    canvas.settle()
    a = canvas.handle("make-table", "out:artifact:table").bounding_box()
    b = canvas.handle("shout", "in:parameter:msg").bounding_box()
    mouse = page.mouse
    mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
    mouse.down()
    mouse.move((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2, steps=8)
    mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
    target = canvas.handle("shout", "in:parameter:msg")
    wait_for(lambda: "connectingto" in (target.get_attribute("class") or ""), 5, "the pointer over the input")
    assert "valid" not in target.get_attribute("class").split()
    red = target.evaluate("e => getComputedStyle(e).backgroundColor")
    bad = page.locator(EDITOR).evaluate("e => getComputedStyle(e).getPropertyValue('--dfl-bad').trim()")
    assert red in ("rgb(215, 58, 73)", "rgb(255, 123, 114)") and bad in ("#d73a49", "#ff7b72"), (red, bad)
    page.screenshot(path=str(shots / "authoring-refused-wire.png"))
    mouse.up()
    notice = page.locator(f"{EDITOR} [data-testid='notice']")
    notice.wait_for(timeout=5_000)
    assert "Not wired: an artifact cannot be wired to an input parameter" in notice.inner_text()
    assert page.locator(f"{EDITOR} .react-flow__edge").count() == 0

    # Layout ends with every step in view; at that zoom the smallest text of the small graph is >= 11 px
    page.locator(f"{EDITOR} .dfl-button[title='Lay out left to right']").click()
    canvas.settle()

    def all_in_view():
        pane = page.locator(f"{EDITOR} .react-flow").bounding_box()
        for path in ("make-table", "shout"):
            box = canvas.node(path).bounding_box()
            if not (box and pane["x"] <= box["x"] and box["x"] + box["width"] <= pane["x"] + pane["width"]
                    and pane["y"] <= box["y"] and box["y"] + box["height"] <= pane["y"] + pane["height"]):
                return False
        return True

    wait_for(all_in_view, 10, "the laid out graph to be fitted in view")
    smallest = page.locator(EDITOR).evaluate("""(root) => {
        const zoom = Number(getComputedStyle(root.querySelector('.react-flow__viewport')).transform.split(',')[3]) || 1;
        let min = Infinity;
        for (const e of root.querySelectorAll('.react-flow__node *')) {
            if (![...e.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim())) continue;
            min = Math.min(min, parseFloat(getComputedStyle(e).fontSize) * zoom);
        }
        return min;
    }""")
    assert smallest >= 11, smallest

    # node search: by template name, the step is selected and centred
    search = page.locator(f"{EDITOR} [data-testid='node-search']")
    search.fill("make-tab")
    search.press("Enter")
    page.wait_for_selector(f"{EDITOR} .react-flow__node[data-id='make-table'].selected")
    assert page.locator(f"{EDITOR} [data-testid='node-search-note']").inner_text() == "1 / 1"
    canvas.settle()

    def centred() -> bool:  # the view moves to the step with an animation: wait for it to arrive (bounded)
        pane = page.locator(f"{EDITOR} .react-flow").bounding_box()
        box = canvas.node("make-table").bounding_box()
        if not (pane and box):
            return False
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        return (abs(centre[0] - (pane["x"] + pane["width"] / 2)) < pane["width"] / 6
                and abs(centre[1] - (pane["y"] + pane["height"] / 2)) < pane["height"] / 6)

    wait_for(centred, 10, "the found step to be centred in the view")
    search.fill("nothing-like-this")
    search.press("Enter")
    assert page.locator(f"{EDITOR} [data-testid='node-search-note']").inner_text() == "no match"
