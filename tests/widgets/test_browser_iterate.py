"""The iterate loop in the notebook widget, in a real JupyterLab notebook (Playwright, Debian's headless
Chromium): run the canvas, change one step's parameter in the editor, go back to the run's monitor, Run from
here (the upstream steps are reused: the count file each execution appends to says so), then the run picker
lists both runs and compares them: exactly the changed nodes are marked, the step panel shows both sides,
and the fan-out group's items are marked one by one. Screenshots in Light and Dark go to
``test-artifacts/widgets/`` (iterate-widget-*.png)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.iterate.ops import executions
from tests.lab.test_browser_theme import _theme

from .canvas_page import CanvasPage
from .jupyterlab_harness import NotebookPage, wait_until

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ROOT = ".dflow-lab-widget .dfl-root"

CANVAS = """\
from iterate_ops import pipeline
from dflow_lab.widgets import WorkflowCanvas

canvas = WorkflowCanvas(pipeline({log!r}, factor=2), save_path="iterate-widget.dflow.json", height=620)
canvas
"""


def _phase_is(page, phase: str) -> None:
    page.wait_for_selector(f"{ROOT} [data-testid='workflow-phase'][data-phase='{phase}']", timeout=120_000)


def test_run_change_run_from_here_and_compare_in_the_widget(lab, page, screenshots_dir, tmp_path):
    log = tmp_path / "count.txt"
    # a wide notebook: the fitted graph is drawn in full (below half size, nodes are drawn compact, without
    # their status lines and badges)
    page.set_viewport_size({"width": 1900, "height": 960})
    shutil.copy(REPO / "tests" / "iterate" / "ops.py", lab.root / "iterate_ops.py")  # the kernel imports it
    nb = NotebookPage(page, lab, "iterate-widget.ipynb", [CANVAS.format(log=str(log))])
    nb.open()
    nb.run_all()
    canvas = CanvasPage(page, ROOT)
    canvas.node("scale").wait_for()
    page.locator(f"{ROOT} [data-action='run']").click()
    _phase_is(page, "Succeeded")
    assert executions(log) == {"prep": 1, "item": 3, "scale": 1, "report": 1}
    first = nb.run_cell("print(canvas.run.name)").strip()

    # back to the editor: scale's factor 2 → 5
    page.locator(f"{ROOT} [data-action='edit']").click()
    page.wait_for_selector(f"{ROOT}.dfl-mode-edit")
    canvas.select("scale")
    box = page.locator(f'{ROOT} .dfl-properties input[data-field="factor"]')
    box.fill("5")
    box.press("Enter")
    box.press("Tab")  # the field commits on Enter or when it loses focus
    wait_until(lambda: nb.run_cell(
        "print(next(n for n in canvas.graph['templates'][canvas.graph['entrypoint']]['nodes']"
        " if n['name'] == 'scale')['parameters']['factor'])").strip() == "5", 60, "the kernel to have factor 5")

    # "◉ Runs": the monitor of the first run again; Run from here on scale runs the graph as edited now
    page.locator(f"{ROOT} [data-action='monitor']").click()
    page.wait_for_selector(f"{ROOT}.dfl-mode-monitor")
    _phase_is(page, "Succeeded")
    canvas.fit()
    canvas.click_node("scale")
    page.locator(f"{ROOT} .dfl-details[data-path='scale'] [data-action='run-from']").click()
    page.wait_for_function("(r) => document.querySelector(r + \" [data-action='runs']\")?.textContent"
                           ".startsWith('Runs (2)')", arg=ROOT)
    _phase_is(page, "Succeeded")
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 2}  # upstream reused, not run
    canvas.fit()
    for step in ("prep", "item"):
        page.wait_for_selector(f"{ROOT} .dfl-node[data-path='{step}'] .dfl-reused-badge")
    assert page.locator(f"{ROOT} .dfl-node[data-path='scale'] .dfl-reused-badge").count() == 0
    second = nb.run_cell("print(canvas.run.name)").strip()
    assert second != first

    # the run picker: both runs, newest first, with start time, phase and progress
    page.locator(f"{ROOT} [data-action='runs']").click()
    rows = page.locator(f"{ROOT} .dfl-run-list .dfl-run-row")
    wait_until(lambda: rows.count() == 2, 30, "the picker to list both runs")
    assert rows.evaluate_all("els => els.map(e => e.dataset.name)") == [second, first]
    assert rows.first.get_attribute("aria-current") == "true"
    for i in (0, 1):
        assert rows.nth(i).get_attribute("data-phase") == "Succeeded"
        assert rows.nth(i).locator(".dfl-run-when").inner_text().count(":") == 2
        assert rows.nth(i).locator(".dfl-run-progress").inner_text() == "6/6 succeeded"
    page.locator(f"{ROOT} .dfl-run-menu").screenshot(path=str(screenshots_dir / "iterate-widget-run-picker.png"))

    # compare with the first run: exactly the changed nodes are marked
    page.locator(f"{ROOT} [data-action='compare={first}']").click()
    page.wait_for_selector(f"{ROOT} .dfl-node[data-path='scale'] .dfl-status-line[data-compare='changed']")
    changed = page.eval_on_selector_all(f"{ROOT} .dfl-status-line[data-compare='changed']",
                                        "els => els.map(e => e.closest('.dfl-node').dataset.path).sort()")
    assert changed == ["report", "scale"]
    for step in ("prep", "item"):
        page.wait_for_selector(f"{ROOT} .dfl-node[data-path='{step}'] .dfl-status-line[data-compare='unchanged']")
    assert f"Compared with {first}: 2 changed, 2 unchanged" in page.locator(f"{ROOT} [data-testid='notice']").inner_text()

    # the step panel shows both sides of scale
    canvas.click_node("scale")
    row = page.locator(f"{ROOT} .dfl-details[data-path='scale'] .dfl-compare tr[data-port='parameter:in factor']")
    row.wait_for()
    wait_until(lambda: row.locator("td").all_inner_texts()[1:] == ["2", "5"], 30, "the first run's side of scale")
    assert row.get_attribute("data-differs") == "true"

    # the fan-out group: its items a page at a time, each marked against the first run (all reused: unchanged)
    canvas.click_node("item")
    fan = page.locator(f"{ROOT} .dfl-details[data-path='item'] .dfl-fanout[data-total='3']")
    fan.wait_for()
    page.wait_for_selector(f"{ROOT} .dfl-fanout-list li[data-compare]")
    assert fan.locator("li").evaluate_all("els => els.map(e => e.dataset.compare)") == ["unchanged"] * 3
    assert "0 items changed, 3 unchanged" in fan.locator(".dfl-fanout-compare").inner_text()
    fan.locator(".dfl-fanout-filter").select_option("Failed")
    page.wait_for_selector(f"{ROOT} .dfl-fanout[data-matching='0']")
    fan.locator(".dfl-fanout-filter").select_option("")
    page.wait_for_selector(f"{ROOT} .dfl-fanout[data-matching='3']")
    canvas.click_node("scale")
    wait_until(lambda: row.locator("td").all_inner_texts()[1:] == ["2", "5"], 30, "the first run's side of scale")
    page.locator(ROOT).screenshot(path=str(screenshots_dir / "iterate-widget-compare-panel.png"))
    page.locator(f"{ROOT} .dfl-details .dfl-icon-button[title='Close']").click()  # the graph alone, fitted
    page.wait_for_selector(f"{ROOT} .dfl-details", state="detached")
    try:
        for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
            _theme(page, theme)
            canvas.fit()
            canvas.settle()
            page.locator(ROOT).screenshot(path=str(screenshots_dir / f"iterate-widget-compare-{tag}.png"))
            page.locator(f"{ROOT} [data-action='runs']").click()
            menu = page.locator(f"{ROOT} .dfl-run-menu")
            menu.screenshot(path=str(screenshots_dir / f"iterate-widget-run-picker-{tag}.png"))
            page.locator(f"{ROOT} [data-action='runs']").click()
            menu.wait_for(state="detached")
    finally:
        _theme(page, "JupyterLab Light")

    # the picker shows the first run in the same widget; ending the comparison clears the marks
    page.locator(f"{ROOT} [data-action='compare-off']").click()
    page.wait_for_selector(f"{ROOT} .dfl-status-line[data-compare]", state="detached")
    page.locator(f"{ROOT} [data-action='runs']").click()
    page.locator(f"{ROOT} .dfl-run-row[data-name='{first}']").click()
    wait_until(lambda: nb.run_cell("print(canvas.run.name)").strip() == first, 60, "the widget to show the first run")
    _phase_is(page, "Succeeded")
    assert page.locator(f"{ROOT} .dfl-reused-badge").count() == 0  # the first run ran every step
