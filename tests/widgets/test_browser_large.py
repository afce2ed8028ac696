"""A 600-step workflow in a real JupyterLab: the overview when zoomed out, a click on it zooms in and selects, an
edit comes back to Python (the graph came as binary JSON), live phases colour it, the minimap moves the view, and
the nodes brought into view are handed to React Flow."""

from __future__ import annotations

import re
import time

import pytest

from .canvas_page import CanvasPage
from .jupyterlab_harness import NotebookPage

pytestmark = pytest.mark.browser

N = 600
ROWS = 25
BUILD = f"""\
from dflow_lab import DAG, ShellOPTemplate, Task, Workflow
from dflow_lab.widgets import WorkflowCanvas
import dflow_lab.widgets._wire as wire
wire.BINARY_OVER = 4096  # this graph's JSON is under the 64 KiB threshold: it takes the binary path here too

echo = ShellOPTemplate(name="echo", image="alpine:3.20", script="echo hi")
dag = DAG(name="main")
for i in range({N}):
    dag.add(Task(f"t{{i}}", echo))
wf = Workflow(name="large", dag=dag)
wf.graph_layout = {{"templates": {{"main": {{"nodes": {{
    f"t{{i}}": {{"x": (i // {ROWS}) * 330, "y": (i % {ROWS}) * 110}} for i in range({N})}}}}}}}}
canvas = WorkflowCanvas(wf, height=600)
canvas
"""

VIEWPORT = """() => {
  const m = /translate\\(([-\\d.e]+)px, ?([-\\d.e]+)px\\) scale\\(([-\\d.e]+)\\)/
    .exec(document.querySelector('.dfl-root .react-flow__viewport').style.transform);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}"""

OVERVIEW = "canvas.dfl-overview[data-drawn]:not(.dfl-overview-under)"


def viewport(page) -> tuple[float, float, float]:
    return tuple(page.evaluate(VIEWPORT))


def screen_point(page, fx: float, fy: float) -> tuple[float, float]:
    """Where flow point (fx, fy) is on the page."""
    x, y, zoom = viewport(page)
    pane = page.locator(".dfl-root .react-flow").bounding_box()
    return pane["x"] + x + fx * zoom, pane["y"] + y + fy * zoom


SETTLED = """() => new Promise((resolve) => {
    const count = () => document.querySelectorAll('.dfl-root .react-flow__node').length;
    const first = count();
    let frames = 0;
    const tick = () => {
        if (count() !== first) return resolve(false);
        if (++frames === 30) return resolve(true);
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})"""


def wait_still(page, timeout: float = 30) -> None:
    """Wait until the viewport has stopped moving (an animated zoom ends) and the hand-over is done: the nodes in
    the DOM the same for 30 frames (page.evaluate awaits the Promise; wait_for_function would not)."""
    CanvasPage(page).settle(timeout=20)
    deadline = time.monotonic() + timeout
    while not page.evaluate(SETTLED):
        assert time.monotonic() < deadline, "the canvas did not settle"


def pixel(page, sx: float, sy: float) -> list[int]:
    """The overview's colour at page point (sx, sy)."""
    return page.evaluate(
        """([sx, sy]) => {
            const c = document.querySelector('canvas.dfl-overview');
            const box = c.getBoundingClientRect();
            const r = c.width / box.width;
            return [...c.getContext('2d').getImageData(Math.round((sx - box.x) * r), Math.round((sy - box.y) * r), 1, 1).data];
        }""",
        [sx, sy],
    )


def theme_colour(page, name: str) -> list[int]:
    """A theme colour of the canvas as RGBA (what the overview fills with)."""
    return page.evaluate(
        """(name) => {
            const root = document.querySelector('.dfl-root');
            const c = document.createElement('canvas');
            c.width = c.height = 1;
            const ctx = c.getContext('2d');
            ctx.fillStyle = getComputedStyle(root).getPropertyValue(name).trim();
            ctx.fillRect(0, 0, 1, 1);
            return [...ctx.getImageData(0, 0, 1, 1).data];
        }""",
        name,
    )


def test_a_large_workflow_overview_click_monitor_and_minimap(lab, page, screenshots_dir):
    nb = NotebookPage(page, lab, "large.ipynb", [BUILD])
    nb.open()
    nb.run_all()
    canvas = CanvasPage(page)
    # fitted to 600 nodes, the graph is an overview: one canvas draws them all, React Flow mounts none
    page.wait_for_selector(f".dfl-root {OVERVIEW}", timeout=60_000)
    page.wait_for_function(f"() => document.querySelector('{OVERVIEW}').dataset.drawn === '{N}'")
    assert page.locator(".dfl-root .dfl-flow.dfl-lod-overview").count() == 1
    assert page.locator(".dfl-root .react-flow__node-step").count() == 0
    assert viewport(page)[2] < 0.45
    page.screenshot(path=str(screenshots_dir / "large-overview.png"))

    # a click on step t30 (second column, sixth row) zooms in on it and selects it
    sx, sy = screen_point(page, 330 + 150, 5 * 110 + 40)
    page.mouse.click(sx, sy)
    page.wait_for_selector('.dfl-root .react-flow__node[data-id="t30"].selected', timeout=30_000)
    wait_still(page)
    x, y, zoom = viewport(page)
    assert zoom == pytest.approx(0.8)
    assert page.locator(f".dfl-root {OVERVIEW}").count() == 0
    assert page.locator(".dfl-root .dfl-flow.dfl-lod-overview").count() == 0
    # React Flow holds the nodes in and just around the view, not the 600
    mounted = canvas.node_ids()
    assert "t30" in mounted and "t31" in mounted
    assert 6 < len(mounted) < 150, len(mounted)
    assert "t30" in page.locator(".dfl-root .dfl-side").inner_text()  # the properties panel shows it
    page.screenshot(path=str(screenshots_dir / "large-zoomed-in.png"))

    # the graph reached the page as one binary buffer of its JSON (dflow_lab/widgets/_wire.py); an edit on the
    # canvas comes back to Python as the graph dict: delete the selected t30
    page.keyboard.press("Delete")
    page.wait_for_function("() => !document.querySelector('.dfl-root .react-flow__node[data-id=\"t30\"]')")
    out = nb.run_cell(
        "from dflow_lab.widgets._wire import graph_to_json\n"
        "g = canvas.graph\n"
        "names = [n['name'] for n in g['templates'][g['entrypoint']]['nodes']]\n"
        "print(type(graph_to_json(g, canvas)).__name__, type(g).__name__, len(names), 't30' in names)")
    assert "memoryview dict 599 False" in out, out

    # a pan brings new nodes into view: drawn beneath at once, mounted once the view is still
    pane = page.locator(".dfl-root .react-flow__pane").bounding_box()
    cx, cy = screen_point(page, 330 + 285, 5 * 110 + 40)  # between two columns: the pane, not a node
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 600, cy, steps=10)
    page.mouse.up()
    wait_still(page)
    x2, _, _ = viewport(page)
    assert x2 == pytest.approx(x - 600, abs=2)
    after = canvas.node_ids()
    assert set(after) - set(mounted), "the nodes that came into view are mounted"
    left, right = screen_point(page, 0, 0)[0], pane["x"] + pane["width"]
    for node_id in after:  # every mounted node is in or near the view
        box = canvas.node(node_id).bounding_box()
        assert box["x"] + box["width"] > left - pane["width"] and box["x"] < right + pane["width"], node_id

    # the minimap moves the view there, at the same zoom
    minimap = page.locator('.dfl-root [data-testid="overview-map"]').bounding_box()
    page.mouse.click(minimap["x"] + minimap["width"] * 0.85, minimap["y"] + minimap["height"] * 0.5)
    wait_still(page)
    x3, y3, zoom3 = viewport(page)
    assert zoom3 == pytest.approx(0.8) and x3 < x2 - 2000
    assert any(int(re.sub(r"\D", "", i)) >= 450 for i in canvas.node_ids()), "the last columns are in view"

    # monitoring: live phases colour the overview (and the DOM nodes' data-phase)
    nb.run_cell('canvas.view = "monitor"\n'
                f'canvas.send({{"type": "status", "reset": True, "changes": {{f"t{{i}}": '
                f'{{"phase": "Succeeded" if i % 2 == 0 else "Failed"}} for i in range({N})}}}})')
    page.wait_for_selector(".dfl-root.dfl-mode-monitor")
    page.locator(".dfl-root .react-flow__controls-fitview").click()
    page.wait_for_selector(f".dfl-root {OVERVIEW}", timeout=30_000)
    wait_still(page)
    ok, bad = theme_colour(page, "--dfl-ok"), theme_colour(page, "--dfl-bad")
    assert ok != bad
    for i, colour in ((0, ok), (1, bad), (ROWS + 1, ok), (N - 1, bad)):
        fx, fy = (i // ROWS) * 330 + 150, (i % ROWS) * 110 + 40
        assert pixel(page, *screen_point(page, fx, fy)) == colour, f"t{i}"
    assert page.locator(".dfl-root .react-flow__node-step").count() == 0, "React Flow let go of every node"
    # the minimap, painted over frames, shows both phases too: its nodes are a few pixels each, their colours
    # blended with their outlines, so pixels are counted as green (Succeeded) or red (Failed), not matched exactly
    assert ok[1] > ok[0] + 40 and bad[0] > bad[1] + 80, (ok, bad)
    page.wait_for_function(
        """() => {
            const c = document.querySelector('.dfl-root [data-testid="overview-map"]');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let green = 0, red = 0;
            for (let i = 0; i < d.length; i += 4) {
                const [r, g, b, a] = [d[i], d[i + 1], d[i + 2], d[i + 3]];
                if (a && g > r + 40 && g > b + 30) green++;
                else if (a && r > g + 80 && r > b + 80) red++;
            }
            return green > 50 && red > 50;
        }""",
        timeout=30_000,
    )
    page.screenshot(path=str(screenshots_dir / "large-monitor-overview.png"))
    # zoomed in again, the DOM nodes carry their phases
    sx, sy = screen_point(page, 150, 40)
    page.mouse.click(sx, sy)
    page.wait_for_selector('.dfl-root .dfl-node[data-path="t0"][data-phase="Succeeded"]', timeout=30_000)
    page.wait_for_selector('.dfl-root .dfl-node[data-path="t1"][data-phase="Failed"]', timeout=30_000)
