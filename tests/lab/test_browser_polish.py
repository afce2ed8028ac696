"""Issue 16's polish in a real JupyterLab (Debian's headless chromium): File → New → Workflow from the
menu bar; a ``.py`` OP written outside JupyterLab (a plain file write) reaches the palette of an open
document within 2 s, without a reload; text of a small graph at its fitted zoom is at least 11 px; the
progress of a local run adds up (header, node badges and Workflows panel: "k/N" with the planned total,
failed, skipped, omitted). Screenshots in JupyterLab Light and Dark go to ``test-artifacts/lab/``
(polish-*.png)."""

# ruff: noqa: F811  (the fixtures of test_browser.py are imported by name)
from __future__ import annotations

import json
import os
import re
from datetime import datetime

import pytest
import requests

from tests.widgets.canvas_page import CanvasPage

from .jupyter import wait_for
from .test_browser import EDITOR, MONITOR, browser, lab, page, shots  # noqa: F401
from .test_browser_theme import _theme

pytestmark = pytest.mark.browser

OUTSIDE_OPS = '''from dflow_lab.python import OP


@OP.function
def triple_it(x: int) -> {"y": int}:
    return {"y": 3 * x}
'''

SECOND_OP = '''

@OP.function
def negate_it(x: int) -> {"y": int}:
    return {"y": -x}
'''


def _both_themes(page, shots, name: str) -> None:
    """Screenshots of the page in JupyterLab Light and Dark (``polish-<name>-light/dark.png``)."""
    for theme, tag in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        _theme(page, theme)
        page.screenshot(path=str(shots / f"polish-{name}-{tag}.png"))


def test_file_new_workflow_from_the_menu_bar(page, lab, shots):
    (lab.root / "menu").mkdir(exist_ok=True)
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:go-to-path', {path: 'menu'})")
    page.wait_for_function("() => document.querySelector('.jp-FileBrowser .jp-BreadCrumbs')"
                           "?.textContent.includes('menu')")
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel", has_text="New").first.hover()
    item = page.locator(".lm-Menu-item[data-command='dflow-lab:new-workflow']")
    item.wait_for()
    assert item.locator(".lm-Menu-itemLabel").inner_text() == "Workflow"
    item.hover()
    page.screenshot(path=str(shots / "polish-new-menu-open-light.png"))
    item.click()
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='shell']")
    created = lab.root / "menu" / "workflow.dflow.json"
    wait_for(created.exists, 10, "the new document in the file browser's folder")
    assert json.loads(created.read_text())["templates"] == {"main": {"kind": "dag"}}
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path") == "menu/workflow.dflow.json"
    _both_themes(page, shots, "new-from-menu")


def test_an_op_written_outside_jupyterlab_reaches_the_palette(page, lab, shots):
    folder = lab.root / "outside"
    folder.mkdir(exist_ok=True)
    (folder / "watched.dflow.json").write_text(json.dumps(
        {"version": 1, "name": "watched", "entrypoint": "main", "templates": {"main": {"kind": "dag"}}}))
    page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:open', "
                  "{path: 'outside/watched.dflow.json'}); }")
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='shell']")
    assert page.locator(f"{EDITOR} .dfl-palette-item[data-template='triple-it']").count() == 0

    ops = folder / "outside_ops.py"
    ops.write_text(OUTSIDE_OPS)  # a plain write: not through JupyterLab's contents API
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='triple-it'][data-source='outside/outside_ops.py']",
                           timeout=2_000)
    with open(ops, "a") as f:  # an edit in place (same name): the second OP joins
        f.write(SECOND_OP)
    st = ops.stat()
    os.utime(ops, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # a coarse-mtime filesystem still sees it
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='negate-it']", timeout=2_000)
    _both_themes(page, shots, "outside-op")
    ops.unlink()  # and a removed file takes its OPs away
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='triple-it']", state="detached", timeout=2_000)


def _shell(script: str, **extra) -> dict:
    return {"kind": "shell", "script": script, **extra}


# a run with every kind of count: a fan-out whose size is known only when `prepare` has run (its items two
# at a time), a step skipped by its `when`, a failed step, and two steps omitted because of that failure
PROGRESS_GRAPH = {
    "version": 1, "name": "counts", "entrypoint": "main",
    "templates": {
        "prep": _shell("mkdir -p /tmp/outputs/parameters\necho '[1, 2, 3, 4, 5, 6]' > /tmp/outputs/parameters/items\n",
                       outputs={"parameters": {"items": {"type": "str", "value_from_path": "/tmp/outputs/parameters/items"},
                                               "n": {"type": "int", "value": 1}}}),
        "item": _shell("sleep 1.5\necho {{inputs.parameters.x}}\n", inputs={"parameters": {"x": {"type": "str"}}}),
        "ok": _shell("echo fine\n"),
        "bad": _shell("echo broken >&2; exit 3\n"),
        "main": {"kind": "dag", "parallelism": 2, "nodes": [
            {"name": "prepare", "template": "prep"},
            {"name": "each", "template": "item", "parameters": {"x": "{{item}}"}},
            {"name": "skipped", "template": "ok", "when": "{{tasks.prepare.outputs.parameters.n}} > 5"},
            {"name": "broken", "template": "bad"},
            {"name": "after-broken", "template": "ok"},
            {"name": "last", "template": "ok"},
        ], "edges": [
            {"kind": "parameter", "source": {"node": "prepare", "port": "items"},
             "target": {"node": "each", "option": "with_param"}},
            {"kind": "control", "source": {"node": "prepare"}, "target": {"node": "skipped"}},
            {"kind": "control", "source": {"node": "each"}, "target": {"node": "broken"}},
            {"kind": "control", "source": {"node": "broken"}, "target": {"node": "after-broken"}},
            {"kind": "control", "source": {"node": "after-broken"}, "target": {"node": "last"}},
        ]},
    },
}
# prepare + 6 items + skipped + broken + after-broken + last
FINAL_COUNTS = "7/11 succeeded, 1 failed, 1 skipped, 2 omitted"


def test_progress_adds_up_in_header_badges_and_panel(page, lab, shots):
    (lab.root / "counts.dflow.json").write_text(json.dumps(PROGRESS_GRAPH, indent=2))
    page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:open', "
                  "{path: 'counts.dflow.json'}); }")
    canvas = CanvasPage(page, EDITOR)
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the workflow to validate")
    page.locator(f"{EDITOR} [data-action='run']").click()
    header = page.locator(f"{MONITOR} [data-testid='workflow-progress']")
    badge = page.locator(f"{MONITOR} .dfl-node[data-path='each'] .dfl-phase")
    row = page.locator(".dfl-lab-run[data-name^='counts-']").first

    # while the fan-out runs (two items at a time): the total is the plan (11), not the steps created so far
    def midway():
        phase = page.locator(f"{MONITOR} .dfl-node[data-path='each']").get_attribute("data-phase")
        text, items = header.inner_text(), badge.inner_text()
        return phase == "Running" and "/11 succeeded" in text and "/6 succeeded" in items and (text, items)
    text, items = wait_for(midway, 120, "the planned totals while the fan-out runs", interval=0.05)
    done = int(text.split("/")[0])
    assert 1 <= done < 7, text  # prepare done, some items not yet
    page.screenshot(path=str(shots / "polish-progress-running-light.png"))

    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Failed']", timeout=120_000)
    wait_for(lambda: header.inner_text() == FINAL_COUNTS, 15, "the header's final counts")
    wait_for(lambda: row.locator(".dfl-lab-run-progress").inner_text() == FINAL_COUNTS, 30,
             "the Workflows panel's counts to be the header's")
    assert badge.inner_text() == "6/6 succeeded"
    phases = {p: page.locator(f"{MONITOR} .dfl-node[data-path='{p}']").get_attribute("data-phase")
              for p in ("prepare", "skipped", "broken", "after-broken", "last")}
    assert phases == {"prepare": "Succeeded", "skipped": "Skipped", "broken": "Failed",
                      "after-broken": "Omitted", "last": "Omitted"}
    # skipped and omitted steps have a look of their own: dashed, and dotted on a hatched ground
    look = {p: page.locator(f"{MONITOR} .dfl-node[data-path='{p}']").evaluate(
        "e => [getComputedStyle(e).borderTopStyle, getComputedStyle(e).backgroundImage]") for p in ("skipped", "last")}
    assert look["skipped"][0] == "dashed" and look["skipped"][1] == "none", look
    assert look["last"][0] == "dotted" and "repeating-linear-gradient" in look["last"][1], look
    # a step of less than 10 s shows tenths, from the engine's sub-second times (Argo's stay whole seconds)
    name = row.get_attribute("data-name")
    run = requests.get(lab.api(f"workflows/local/{name}"), headers=lab.auth, timeout=30).json()
    each = run["status"]["each"]
    assert re.fullmatch(r"[\d-]+T[\d:]+\.\d{3}Z", each["startedAt"]) and each["finishedAt"].endswith("Z")
    seconds = (datetime.fromisoformat(each["finishedAt"].replace("Z", "+00:00"))
               - datetime.fromisoformat(each["startedAt"].replace("Z", "+00:00"))).total_seconds()
    assert 3 <= seconds < 10  # six items of 1.5 s, two at a time
    duration = page.locator(f"{MONITOR} .dfl-node[data-path='each'] .dfl-duration").inner_text()
    assert duration == f"{int(seconds * 10) / 10:.1f} s", (duration, seconds)
    for path in ("skipped", "last"):  # steps that did not run have no duration
        assert page.locator(f"{MONITOR} .dfl-node[data-path='{path}'] .dfl-duration").count() == 0
    CanvasPage(page, MONITOR).fit()  # the fit button shows every step, the omitted ones too
    CanvasPage(page, MONITOR).settle()
    _both_themes(page, shots, "progress")


CHAIN = {
    "version": 1, "name": "chain", "entrypoint": "main",
    "templates": {
        "ok": _shell("echo fine\n", inputs={"parameters": {"x": {"type": "str", "default": "1"}}},
                     outputs={"parameters": {"y": {"type": "str", "value_from_path": "/tmp/y"}}}),
        "main": {"kind": "dag", "nodes": [{"name": f"step-{i}", "template": "ok"} for i in range(6)],
                 "edges": [{"kind": "parameter", "source": {"node": f"step-{i}", "port": "y"},
                            "target": {"node": f"step-{i + 1}", "port": "x"}} for i in range(5)]},
    },
}

SMALLEST_TEXT = """(root) => {
    const zoom = Number(getComputedStyle(root.querySelector('.react-flow__viewport')).transform.split(',')[3]) || 1;
    let min = Infinity;
    for (const e of root.querySelectorAll('.react-flow__node *')) {
        if (![...e.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim())) continue;
        if (!e.getClientRects().length) continue;
        min = Math.min(min, parseFloat(getComputedStyle(e).fontSize) * zoom);
    }
    return {zoom, min};
}"""


def test_text_of_a_small_graph_is_readable_at_its_fitted_zoom(page, lab, shots):
    """Six steps in a row are wider than the pane at 100 %: the fitted view keeps them readable and starts
    at the first step (the rest is a pan away), instead of shrinking the text below 11 px."""
    (lab.root / "chain.dflow.json").write_text(json.dumps(CHAIN, indent=2))
    page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:open', "
                  "{path: 'chain.dflow.json'}); }")
    canvas = CanvasPage(page, EDITOR)
    canvas.node("step-5").wait_for(state="attached")
    for attempt in ("opened", "laid out"):
        if attempt == "laid out":
            page.locator(f"{EDITOR} .dfl-button[title='Lay out left to right']").click()
        canvas.settle()
        measured = page.locator(EDITOR).evaluate(SMALLEST_TEXT)
        assert measured["min"] >= 11, (attempt, measured)
        pane = page.locator(f"{EDITOR} .react-flow").bounding_box()
        first = canvas.node("step-0").bounding_box()
        assert pane["x"] <= first["x"] and first["x"] + first["width"] <= pane["x"] + pane["width"], attempt
        assert pane["y"] <= first["y"] and first["y"] + first["height"] <= pane["y"] + pane["height"], attempt
    last = canvas.node("step-5").bounding_box()
    assert last["x"] > pane["x"] + pane["width"]  # the graph is wider than the pane at this zoom
    _both_themes(page, shots, "small-graph-fitted")
