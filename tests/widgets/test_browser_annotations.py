"""Comments and groups on the canvas in a real JupyterLab (Debian's headless Chromium): added from the toolbar,
edited in place, moved, undone and redone, and kept in the layout by the Python model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .canvas_page import CanvasPage, open_canvas
from .jupyterlab_harness import NotebookPage
from .test_browser_canvas import BUILD

REPO = Path(__file__).resolve().parents[2]
NOTE = "scores are in [0, 1]\n<b>not bold</b>"
EDITED = "total = scale × Σ squares\nhalve the scale for a quick look"


@pytest.fixture
def notebook(request, lab, page):
    nb = open_canvas(page, lab, f"{request.node.name}.ipynb", BUILD)
    CanvasPage(page).settle()
    return nb


def centre(locator) -> tuple[float, float]:
    b = locator.bounding_box()
    return b["x"] + b["width"] / 2, b["y"] + b["height"] / 2


def drag(page, locator, dx: float, dy: float, at: tuple[float, float] | None = None) -> None:
    """Press on ``locator`` (its centre, or ``at``), move by (dx, dy) screen pixels in steps, release."""
    x, y = at or centre(locator)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=6)
    page.mouse.move(x + dx, y + dy, steps=6)
    page.mouse.up()


def layout_in_kernel(nb: NotebookPage, expr: str) -> dict:
    out = nb.run_cell(f"import json\nprint(json.dumps({expr}))")
    return json.loads(out.strip().splitlines()[-1])


def test_layout_edits_reach_the_bound_workflow(monkeypatch):
    """A canvas edit of the layout only (no node changed) keeps the bound workflow, which takes the layout."""
    monkeypatch.syspath_prepend(str(REPO / "notebooks"))
    from tutorial_ops import Squares

    from dflow_lab import Step, Workflow
    from dflow_lab.python import PythonOPTemplate
    from dflow_lab.widgets import WorkflowCanvas

    wf = Workflow(name="notes")
    wf.add(Step("squares", PythonOPTemplate(Squares, image="python:3.11"), parameters={"n": 2}))
    canvas = WorkflowCanvas(wf)
    graph = json.loads(json.dumps(canvas.graph))
    layout = {"templates": {graph["entrypoint"]: {
        "nodes": {"squares": {"x": 0, "y": 0}},
        "comments": [{"id": "c1", "text": "n is small", "x": 0, "y": -120, "width": 200, "height": 76,
                      "attached_to": "squares"}],
        "groups": [{"id": "g1", "label": "prepare", "nodes": ["squares"], "collapsed": False, "color": "#1a7f37"}],
    }}}
    canvas.graph = {**graph, "layout": layout}  # what a view sends after adding a comment and a group
    assert canvas.workflow is wf
    assert wf.graph_layout == layout
    assert WorkflowCanvas(canvas.workflow).graph["layout"] == layout
    assert "n is small" in canvas.code  # gen_code carries the layout over
    canvas.close()


@pytest.mark.browser
def test_comments_and_groups(notebook, screenshots_dir):
    page = notebook.page
    canvas = CanvasPage(page)
    root = canvas.root
    zoom = page.evaluate(
        "() => new DOMMatrix(getComputedStyle(document.querySelector('.react-flow__viewport')).transform).a")

    # a comment attached to the selected step: placed beside it, typed in place, committed with Ctrl+Enter
    canvas.select("total")
    root.get_by_test_id("add-comment").click()
    editor = root.locator(".dfl-comment textarea")
    editor.wait_for()
    assert editor.evaluate("e => e === document.activeElement")
    editor.fill(NOTE)
    editor.press("Control+Enter")
    note = root.locator('.dfl-comment[data-comment="c1"]')
    text = note.locator(".dfl-comment-text")
    text.wait_for()
    assert text.inner_text() == NOTE
    assert note.locator("b").count() == 0  # plain text: the markup is shown, never interpreted
    assert note.get_attribute("data-attached") == "total"
    assert root.locator(".dfl-comment-tether line").count() == 1

    # double-click to edit the text again; leaving the field commits it, Escape would cancel
    note.dblclick()
    editor.wait_for()
    editor.fill("thrown away")
    editor.press("Escape")
    page.wait_for_function("t => document.querySelector('.dfl-comment[data-comment=c1] .dfl-comment-text')?.innerText === t",
                           arg=NOTE)
    note.dblclick()
    editor.fill(EDITED)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.wait_for_function("t => document.querySelector('.dfl-comment[data-comment=c1] .dfl-comment-text')?.innerText === t",
                           arg=EDITED)
    nb_, tb = note.bounding_box(), canvas.node("total").bounding_box()
    assert not (nb_["x"] < tb["x"] + tb["width"] and tb["x"] < nb_["x"] + nb_["width"]
                and nb_["y"] < tb["y"] + tb["height"] and tb["y"] < nb_["y"] + nb_["height"]), "the note covers its node"

    # drag the note 60 px right; resize it from its corner
    before = note.bounding_box()
    drag(page, note, 60, 0, at=(before["x"] + 30, before["y"] + 12))
    page.wait_for_function(
        "x => Math.abs(document.querySelector('.dfl-comment[data-comment=c1]').getBoundingClientRect().x - x) < 1.5",
        arg=before["x"] + 60)
    corner = note.locator(".dfl-comment-resize")
    drag(page, corner, 40, 12)
    page.wait_for_function(
        "w => Math.abs(document.querySelector('.dfl-comment[data-comment=c1]').getBoundingClientRect().width - w) < 1.5",
        arg=before["width"] + 40)

    # the note follows its step when the step is dragged
    moved_from = note.bounding_box()
    node_from = canvas.node("total").bounding_box()
    drag(page, canvas.node("total").locator(".dfl-node-name"), 0, 80)
    canvas.settle()
    node_to = canvas.node("total").bounding_box()
    shift = node_to["y"] - node_from["y"]
    assert shift > 40
    page.wait_for_function(
        "y => Math.abs(document.querySelector('.dfl-comment[data-comment=c1]').getBoundingClientRect().y - y) < 1.5",
        arg=moved_from["y"] + shift)

    # group both steps; the new group's label is open for typing
    canvas.select("squares")
    canvas.click_node("total", modifiers=["Control"])
    page.wait_for_selector('.react-flow__node[data-id="total"].selected')
    page.wait_for_selector('.react-flow__node[data-id="squares"].selected')
    root.get_by_test_id("add-group").click()
    label_input = root.locator(".dfl-frame input")
    label_input.wait_for()
    label_input.fill("screening")
    label_input.press("Enter")
    frame = root.locator('.dfl-frame[data-group="g1"]')
    assert frame.locator(".dfl-frame-label").inner_text() == "screening"
    fb = frame.bounding_box()
    for name in ("squares", "total"):
        b = canvas.node(name).bounding_box()
        assert fb["x"] < b["x"] and b["x"] + b["width"] < fb["x"] + fb["width"], name
        assert fb["y"] < b["y"] and b["y"] + b["height"] < fb["y"] + fb["height"], name

    # a colour from the palette
    frame.locator(".dfl-frame-label").hover()
    frame.locator(".dfl-frame-swatch").nth(2).click()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.dfl-frame[data-group=g1]')).borderTopColor === 'rgb(217, 130, 43)'")

    # undo: the colour, the label, the group; redo brings all three back
    undo = root.locator('.dfl-button[title^="Undo"]')
    redo = root.locator('.dfl-button[title^="Redo"]')
    undo.click()
    undo.click()
    page.wait_for_function("() => document.querySelector('.dfl-frame[data-group=g1] .dfl-frame-label')?.innerText === 'group 1'")
    undo.click()
    page.wait_for_function("() => !document.querySelector('.dfl-frame')")
    for _ in range(3):
        redo.click()
    page.wait_for_function("() => document.querySelector('.dfl-frame[data-group=g1] .dfl-frame-label')?.innerText === 'screening'")
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.dfl-frame[data-group=g1]')).borderTopColor === 'rgb(217, 130, 43)'")

    # a click on the label selects the group's steps: dragged together, the frame and the note follow
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.wait_for_function("() => !document.querySelector('.react-flow__node.selected')")
    frame.locator(".dfl-frame-label").click()
    page.wait_for_function(
        "() => ['squares', 'total'].every(id => document.querySelector(`.react-flow__node[data-id=${id}]`).matches('.selected'))")
    frame_from, note_from = frame.bounding_box(), note.bounding_box()
    drag(page, canvas.node("squares").locator(".dfl-node-name"), 0, 50)
    canvas.settle()
    moved = frame.bounding_box()["y"] - frame_from["y"]
    assert moved > 25
    assert note.bounding_box()["y"] - note_from["y"] == pytest.approx(moved, abs=1.5)

    # Delete removes the selected steps: the emptied group goes, the note stays, unpinned; undo restores all
    page.keyboard.press("Delete")
    page.wait_for_function("() => !document.querySelector('.react-flow__node-step')")
    assert root.locator(".dfl-frame").count() == 0
    assert note.get_attribute("data-attached") is None
    assert root.locator(".dfl-comment-tether").count() == 0
    undo.click()
    page.wait_for_function("() => document.querySelectorAll('.react-flow__node-step').length === 2")
    frame.wait_for()
    assert note.get_attribute("data-attached") == "total"

    # a free comment in the middle of the view, deleted again with the Delete key (one undo step each)
    page.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    page.wait_for_function("() => !document.querySelector('.react-flow__node.selected')")
    root.get_by_test_id("add-comment").click()
    free = root.locator('.dfl-comment[data-comment="c2"]')
    free.locator("textarea").fill("a free note")
    free.locator("textarea").press("Escape")  # cancels the typing: the note stays empty
    assert free.get_attribute("data-attached") is None
    assert free.locator(".dfl-comment-empty").count() == 1
    free.click()
    page.keyboard.press("Delete")
    page.wait_for_function("() => !document.querySelector('.dfl-comment[data-comment=c2]')")

    canvas.fit()
    canvas.settle()
    root.locator(".react-flow__controls-zoomout").click()  # fitting counts the nodes only: room for the note
    canvas.settle()
    root.screenshot(path=str(screenshots_dir / "canvas-annotations.png"))

    # the layout reached the Python side, and survives a round trip through the model
    layout = layout_in_kernel(notebook, "canvas.graph['layout']['templates'][canvas.graph['entrypoint']]")
    (comment,) = layout["comments"]
    assert comment["id"] == "c1" and comment["text"] == EDITED and comment["attached_to"] == "total"
    positions = layout["nodes"]
    assert comment["y"] + comment["height"] <= positions["total"]["y"] or comment["x"] >= positions["total"]["x"] + 240
    assert comment["width"] == pytest.approx(200 + 40 / zoom, abs=2)
    (group,) = layout["groups"]
    assert group == {"id": "g1", "label": "screening", "nodes": ["squares", "total"], "collapsed": False,
                     "color": "#d9822b"}
    again = layout_in_kernel(
        notebook, "(lambda g: g['layout']['templates'][g['entrypoint']])(WorkflowCanvas(canvas.workflow).graph)")
    assert again["comments"] == layout["comments"]
    assert again["groups"] == layout["groups"]

    # run it: the monitor draws the note and the group, read-only
    root.locator('.dfl-button[data-action="run"]').click()
    page.wait_for_function(
        "() => document.querySelectorAll('.dfl-node[data-phase=Succeeded]').length === 2", timeout=120_000)
    monitor = page.locator(".dfl-root.dfl-mode-monitor")
    assert monitor.locator('.dfl-comment[data-comment="c1"] .dfl-comment-text').inner_text() == EDITED
    assert monitor.locator('.dfl-frame[data-group="g1"] .dfl-frame-label').inner_text() == "screening"
    assert monitor.locator(".dfl-comment-delete, .dfl-comment-resize, .dfl-frame-swatch").count() == 0
    monitor.locator('.dfl-comment[data-comment="c1"]').dblclick()
    assert monitor.locator(".dfl-comment textarea").count() == 0


NESTED = """\
from dflow_lab import DAG, Step, Steps, Task, Workflow
from dflow_lab.python import PythonOPTemplate
from dflow_lab.widgets import WorkflowCanvas
from tutorial_ops import Describe, Squares

checks = Steps(name="checks")
checks.add(Step("check-a", PythonOPTemplate(Describe, image="python:3.11"), parameters={"value": 1.0}))
checks.add(Step("check-b", PythonOPTemplate(Describe, image="python:3.11"), parameters={"value": 2.0}))
dag = DAG(name="main")
dag.add(Task("squares", PythonOPTemplate(Squares, image="python:3.11"), parameters={"n": 6}))
dag.add(Task("checks", checks))
canvas = WorkflowCanvas(Workflow(name="nested", dag=dag), height=600)
canvas
"""


@pytest.mark.browser
def test_annotations_inside_a_group_node(lab, page, screenshots_dir):
    """A nested Steps template's own notes and groups are drawn inside its group node and move with it."""
    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", lab.root / "tutorial_ops.py")
    nb = NotebookPage(page, lab, "nested-notes.ipynb", [NESTED])
    nb.open()
    nb.run_all()
    page.wait_for_selector(".dfl-root .react-flow__node-container")
    canvas = CanvasPage(page)
    canvas.settle()
    root = canvas.root

    canvas.select("checks/check-a")
    root.get_by_test_id("add-comment").click()
    root.locator(".dfl-comment textarea").fill("inner note")
    root.locator(".dfl-comment textarea").press("Control+Enter")
    note = root.locator('.dfl-annotations[data-scope="checks"] .dfl-comment[data-comment="c1"]')
    assert note.get_attribute("data-attached") == "check-a"

    canvas.select("checks/check-a")
    canvas.click_node("checks/check-b", modifiers=["Control"])
    page.wait_for_selector('.react-flow__node[data-id="checks/check-b"].selected')
    page.wait_for_selector('.react-flow__node[data-id="checks/check-a"].selected')
    root.get_by_test_id("add-group").click()
    root.locator(".dfl-frame input").press("Enter")
    frame = root.locator('.dfl-annotations[data-scope="checks"] .dfl-frame[data-group="g1"]')
    assert frame.locator(".dfl-frame-label").inner_text() == "group 1"
    # the frame is drawn over the group node's body and under its steps: its label takes the pointer
    lb = frame.locator(".dfl-frame-label").bounding_box()
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).className", [lb["x"] + 5, lb["y"] + lb["height"] / 2])
    assert "dfl-frame-label" in hit
    a = canvas.node("checks/check-a").bounding_box()
    hit = page.evaluate("([x, y]) => !!document.elementFromPoint(x, y).closest('.react-flow__node')",
                        [a["x"] + a["width"] / 2, a["y"] + a["height"] / 2])
    assert hit

    # dragging the group node carries its notes and frames along
    frame_from, note_from = frame.bounding_box(), note.bounding_box()
    group = canvas.node("checks").locator(".dfl-node-header").first
    drag(page, group, 0, 70)
    canvas.settle()
    dy = frame.bounding_box()["y"] - frame_from["y"]
    assert dy > 30
    assert note.bounding_box()["y"] - note_from["y"] == pytest.approx(dy, abs=1.5)
    # the group node is selected now (React Flow raises it): the frame is raised with it
    page.wait_for_selector('.react-flow__node[data-id="checks"].selected')
    lb = frame.locator(".dfl-frame-label").bounding_box()
    hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).className", [lb["x"] + 5, lb["y"] + lb["height"] / 2])
    assert "dfl-frame-label" in hit
    root.screenshot(path=str(screenshots_dir / "canvas-annotations-nested.png"))

    layout = layout_in_kernel(nb, "canvas.graph['layout']['templates']['checks']")
    assert [c["attached_to"] for c in layout["comments"]] == ["check-a"]
    assert [g["nodes"] for g in layout["groups"]] == [["check-a", "check-b"]]
    assert "comments" not in canvas_layout_top(nb)


def canvas_layout_top(nb: NotebookPage) -> dict:
    return layout_in_kernel(nb, "canvas.graph['layout']['templates'][canvas.graph['entrypoint']]")
