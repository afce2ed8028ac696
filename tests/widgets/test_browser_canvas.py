"""The canvas and the monitor in a real JupyterLab, driven by Playwright in Debian's headless Chromium."""

from __future__ import annotations

import hashlib
import json

import pytest

from .canvas_page import CanvasPage, open_canvas

pytestmark = pytest.mark.browser


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
def notebook(request, lab, page):
    return open_canvas(page, lab, f"{request.node.name}.ipynb", BUILD)


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


def test_edit_run_and_monitor(notebook, screenshots_dir):
    page = notebook.page
    canvas = CanvasPage(page)

    # drag a Python OP from the palette: a new step, missing its required input
    canvas.drop_template("describe", 0.85, 0.25)
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 3")
    assert canvas.node_ids() == ["describe", "squares", "total"]
    page.wait_for_selector('.dfl-problem[data-code="missing-input"]')
    assert canvas.node("describe").locator(".dfl-issue-badge").inner_text() == "1"
    canvas.auto_layout()

    # wire total.total (float) into describe.value (float): the problem goes away
    canvas.wire("total", "out:parameter:total", "describe", "in:parameter:value")
    page.wait_for_function("() => document.querySelector('[data-testid=validity]').innerText === '✓ valid'")
    assert page.locator(".react-flow__edge.dfl-edge-parameter").count() == 1

    # a parameter cannot be wired to an artifact: the gesture makes no edge
    canvas.wire("squares", "out:parameter:count", "total", "in:artifact:table")
    assert page.locator(".react-flow__edge").count() == 2

    # a bad wire, str → float, gets a validation badge on the port's node
    canvas.drop_template("describe", 0.95, 0.3)
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 4")
    canvas.auto_layout()
    canvas.wire("describe", "out:parameter:text", "describe-2", "in:parameter:value")
    page.wait_for_selector('.dfl-problem[data-code="type-mismatch"]')
    badge = canvas.node("describe-2").locator(".dfl-issue-badge")
    assert badge.inner_text() == "1"
    assert "type-mismatch" in badge.get_attribute("title")
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "canvas-bad-wire.png"))
    canvas.click_node("squares")
    page.locator('.dfl-problem[data-code="type-mismatch"]').click()  # the list focuses the node
    page.wait_for_selector('.react-flow__node[data-id="describe-2"].selected')

    # the edits reached the Python model through the graph JSON
    out = notebook.run_cell(
        "g = canvas.graph\n"
        "print(sorted(n['name'] for n in g['templates'][g['entrypoint']]['nodes']))\n"
        "print(sorted(i['code'] for i in canvas.issues))")
    assert "['describe', 'describe-2', 'squares', 'total']" in out
    assert "['type-mismatch']" in out

    # delete the bad step (select it, press Delete), then the canvas is valid again
    canvas.select("describe-2")
    page.keyboard.press("Delete")
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 3")
    page.wait_for_function("() => document.querySelector('[data-testid=validity]').innerText === '✓ valid'")
    # undo brings it back with its wire, redo deletes it again
    page.locator('.dfl-button[title^="Undo"]').click()
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 4")
    page.locator('.dfl-button[title^="Redo"]').click()
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 3")

    # run locally: the canvas turns into the live monitor and every step turns green
    page.locator('.dfl-button[data-action="run"]').click()
    page.wait_for_function(
        "() => document.querySelectorAll('.dfl-node[data-phase=Succeeded]').length === 3", timeout=120_000)
    page.wait_for_function("() => document.querySelector('[data-testid=workflow-phase]')?.innerText === 'Succeeded'")
    assert page.locator('[data-testid="workflow-progress"]').inner_text() == "3/3 succeeded"

    # a step's panel: parameters as values, the CSV artifact as a table, the logs
    canvas.click_node("squares")
    details = page.locator('.dfl-details[data-path="squares"]')
    details.wait_for()
    assert details.locator('.dfl-detail-port[data-port="n"] .dfl-detail-value').inner_text() == "4"
    table = details.locator('.dfl-detail-port[data-port="table"] table')
    assert table.locator("th").all_inner_texts() == ["i", "square"]
    assert table.locator("tbody tr").count() == 4
    assert "wrote 4 rows" in details.locator(".dfl-logs").inner_text()
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "monitor-succeeded.png"))

    out = notebook.run_cell("print(canvas.workflow_state['phase'], canvas.workflow.id == canvas.run.name)")
    assert "Succeeded True" in out


def test_properties_copy_paste_and_python_edits(notebook, screenshots_dir):
    page = notebook.page
    canvas = CanvasPage(page)

    # the properties panel edits a literal input; the model sees it
    canvas.select("squares")
    field = page.locator('.dfl-properties input[data-field="n"]')
    field.fill("7")
    field.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('.react-flow__node[data-id=squares] .dfl-port-literal')?.innerText === '= 7'")
    key = page.locator('.dfl-properties input[data-field="key"]')
    key.fill("make-table")
    key.press("Enter")
    canvas.node("squares").locator(".dfl-badge-key").wait_for()
    out = notebook.run_cell("print(canvas.workflow.to_graph()['templates'][canvas.graph['entrypoint']]['nodes'][0])")
    assert "'n': 7" in out and "'key': 'make-table'" in out

    # copy/paste with the keyboard stays in the canvas (no notebook cell is pasted)
    cells = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length")
    canvas.select("squares")
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 3")
    assert canvas.node_ids() == ["squares", "squares-2", "total"]
    assert canvas.validity() == "✓ valid"
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets.length") == cells

    # a change in Python to the workflow the canvas handed out redraws it
    notebook.run_cell(
        "from tutorial_ops import Describe\n"
        "canvas.workflow.add(Step('describe', PythonOPTemplate(Describe, image='python:3.11'), "
        "parameters={'value': 1.0}))")
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 4")
    assert "describe" in canvas.node_ids()
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "canvas-edited.png"))

    # Save writes the graph beside the notebook and says where
    page.locator('.dfl-button[data-action="save"]').click()
    page.wait_for_function("() => document.querySelector('[data-testid=notice]')?.innerText === "
                           "'Saved to squares.dflow.json'")
    saved = json.loads((notebook.lab.root / "squares.dflow.json").read_text())
    assert sorted(n["name"] for n in saved["templates"][saved["entrypoint"]]["nodes"]) == [
        "describe", "squares", "squares-2", "total"]

    # Code puts the generated code in a new code cell right below the canvas's cell, not run, active
    before = notebook_cells(page)
    assert "WorkflowCanvas(wf" in before[0]["source"]  # the canvas is the output of the first cell
    page.locator('.dfl-button[data-action="code"]').click()
    page.wait_for_function("() => document.querySelector('[data-testid=notice]')?.innerText === "
                           "'Code inserted in a new cell below'")
    after = notebook_cells(page)
    assert len(after) == len(before) + 1
    assert [c["source"] for c in after[:1] + after[2:]] == [c["source"] for c in before]
    inserted = after[1]
    assert inserted["type"] == "code" and inserted["active"] and inserted["execution_count"] is None
    assert 'Step(name="squares-2"' in inserted["source"] and "Describe" in inserted["source"]
    assert inserted["editor"].splitlines()[0] == inserted["source"].splitlines()[0]  # what CodeMirror shows
    assert not (notebook.lab.root / "squares_workflow.py").exists()
    page.locator(".jp-Notebook").screenshot(path=str(screenshots_dir / "canvas-code-cell.png"))

    # one step of the notebook's undo history; the keyboard is the notebook's (command mode): `z` undoes
    page.keyboard.press("z")
    page.wait_for_function(f"() => window.jupyterapp.shell.currentWidget.content.widgets.length === {len(before)}")
    assert [c["source"] for c in notebook_cells(page)] == [c["source"] for c in before]
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:redo-cell-action')")
    page.wait_for_function(f"() => window.jupyterapp.shell.currentWidget.content.widgets.length === {len(after)}")
    assert notebook_cells(page)[1]["source"] == inserted["source"]

    # exactly the code of the Python side
    out = notebook.run_cell("import hashlib\nprint(hashlib.sha256(canvas.code.encode()).hexdigest())")
    assert out.strip() == hashlib.sha256(inserted["source"].encode()).hexdigest()
    assert not (notebook.lab.root / "squares_workflow.py").exists()


def test_code_pressed_outside_the_notebook_goes_to_a_file(notebook, screenshots_dir):
    """The canvas shown again in an output view or a console (no notebook cell holds it): the code goes to a
    file; pressed in the notebook, only that view takes the answer."""
    page = notebook.page
    cells = notebook_cells(page)
    panel = page.evaluate("() => window.jupyterapp.shell.currentWidget.id")
    # an offer of blank or unknown code from the notebook's view is not taken (the widget would write a file)
    taken = page.locator(".jp-Notebook .dfl-root").evaluate("""(el) => [{code: '  \\n'}, {code: 42}, null]
        .map((detail) => !el.dispatchEvent(new CustomEvent('dflow-lab:insert-cell',
                                                           {bubbles: true, cancelable: true, detail})))""")
    assert taken == [False, False, False]
    assert len(notebook_cells(page)) == len(cells)
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        app.shell.currentWidget.content.activeCellIndex = 0;
        await app.commands.execute('notebook:create-output-view');
    }""")
    view = page.locator(".jp-LinkedOutputView .dfl-root")
    view.locator(".react-flow__node-step").first.wait_for()
    view.locator('.dfl-button[data-action="code"]').click()
    text = "Python code written to squares_workflow.py (this page cannot add a notebook cell)"
    page.wait_for_function(f"() => document.querySelector('.jp-LinkedOutputView [data-testid=notice]')?.innerText "
                           f"=== {json.dumps(text)}")
    assert page.locator('.jp-Notebook [data-testid="notice"]').inner_text() == text  # one model, two views
    page.evaluate("(id) => window.jupyterapp.shell.activateById(id)", panel)  # the notebook again
    assert [c["source"] for c in notebook_cells(page)] == [c["source"] for c in cells]
    code = (notebook.lab.root / "squares_workflow.py").read_text()
    out = notebook.run_cell("print(canvas.code == open('squares_workflow.py').read())")
    assert out.strip() == "True" and 'Step(name="squares"' in code
    page.screenshot(path=str(screenshots_dir / "canvas-code-output-view.png"))

    # pressed in the notebook's view, with the other view still open: only the view pressed answers
    (notebook.lab.root / "squares_workflow.py").unlink()
    cells = notebook_cells(page)
    page.locator('.jp-Notebook .dfl-button[data-action="code"]').click()
    page.wait_for_function("() => document.querySelector('.jp-Notebook [data-testid=notice]')?.innerText === "
                           "'Code inserted in a new cell below'")
    assert [c["source"] for c in notebook_cells(page)] == [cells[0]["source"], code, *[c["source"] for c in cells[1:]]]
    assert not (notebook.lab.root / "squares_workflow.py").exists()

    # the canvas shown in a console of the notebook's kernel: no notebook cell there either
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        const panel = await app.commands.execute('notebook:create-console');
        await panel.console.sessionContext.ready;
        panel.console.promptCell.model.sharedModel.setSource('canvas');
        await app.commands.execute('console:run-forced');
    }""")
    in_console = page.locator(".jp-CodeConsole .dfl-root")
    in_console.locator(".react-flow__node-step").first.wait_for()
    in_console.locator('.dfl-button[data-action="code"]').click()
    page.wait_for_function(f"() => document.querySelector('.jp-CodeConsole [data-testid=notice]')?.innerText "
                           f"=== {json.dumps(text)}")
    assert (notebook.lab.root / "squares_workflow.py").read_text() == code


@pytest.fixture
def notebook7_canvas(notebook7, page):
    """The canvas notebook, run in Notebook 7."""
    return open_canvas(page, notebook7, "canvas.ipynb", BUILD)


def test_code_cell_in_notebook7(notebook7_canvas, screenshots_dir):
    page = notebook7_canvas.page
    before = notebook_cells(page)
    page.locator('.dfl-button[data-action="code"]').click()
    page.wait_for_function("() => document.querySelector('[data-testid=notice]')?.innerText === "
                           "'Code inserted in a new cell below'")
    after = notebook_cells(page)
    assert len(after) == len(before) + 1 == 2
    assert after[1]["type"] == "code" and after[1]["active"] and after[1]["source"].startswith("# Workflow \"squares\"")
    out = notebook7_canvas.run_cell("print(canvas.code == " + json.dumps(after[1]["source"]) + ")")
    assert out.strip() == "True"
    assert not (notebook7_canvas.lab.root / "squares_workflow.py").exists()
    page.screenshot(path=str(screenshots_dir / "notebook7-code-cell.png"))


def notebook_cells(page) -> list[dict]:
    """The cells of the current notebook: type, source, execution count, whether active, editor text."""
    return page.evaluate(
        """() => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            return nb.widgets.map((cell, i) => ({
                type: cell.model.type,
                source: cell.model.sharedModel.getSource(),
                execution_count: cell.model.type === 'code' ? cell.model.executionCount : null,
                active: nb.activeCellIndex === i,
                editor: cell.node.querySelector('.cm-content')?.innerText ?? null,
            }));
        }""")
