"""Gestures on the canvas in a Playwright page: drag from the palette, wire two ports, fit the view."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from .jupyterlab_harness import NotebookPage

REPO = Path(__file__).resolve().parents[2]

# resolves true when the viewport and every node keep their transform over 5 animation frames
STILL_FOR_5_FRAMES = """() => new Promise((resolve) => {
    const snap = () => [...document.querySelectorAll('.react-flow__viewport, .react-flow__node')]
        .map((e) => e.style.transform).join('|');
    const first = snap();
    let frames = 0;
    const tick = () => {
        if (snap() !== first) return resolve(false);
        if (++frames === 5) return resolve(true);
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})"""


def open_canvas(page, server, name: str, source: str) -> NotebookPage:
    """Run ``source`` (a cell showing a canvas; ``tutorial_ops`` importable) in notebook ``name`` of its own
    (its own kernel) on ``server``, and wait for the canvas's steps."""
    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", server.root / "tutorial_ops.py")
    nb = NotebookPage(page, server, name, [source])
    nb.open()
    nb.run_all()
    page.wait_for_selector(".dfl-root .react-flow__node-step", timeout=60_000)
    return nb


class CanvasPage:
    def __init__(self, page, root: str = ".dfl-root"):
        self.page = page
        self.root = page.locator(root).first

    def node(self, path: str):
        return self.root.locator(f'.react-flow__node[data-id="{path}"]')

    def handle(self, path: str, handle_id: str):
        return self.node(path).locator(f'.react-flow__handle[data-handleid="{handle_id}"]')

    def node_ids(self) -> list[str]:
        ids = self.root.locator(".react-flow__node-step, .react-flow__node-container").evaluate_all(
            "els => els.map(e => e.getAttribute('data-id'))")
        return sorted(ids)

    def select(self, path: str) -> None:
        """Click a node and wait until the canvas has it selected (keyboard focus is then in the canvas)."""
        self.click_node(path)
        self.page.wait_for_selector(f'.react-flow__node[data-id="{path}"].selected', timeout=15_000)

    def click_node(self, path: str, **click) -> None:
        """Click node ``path`` where it shows: the middle of its part inside the canvas's pane and the window,
        once the view is still (a fitted view may leave a node partly outside the pane, under the step panel);
        a node wholly outside the view is first brought to its middle with the step search, as a user would.

        Not Playwright's plain ``click()``: it aims at the node's middle and, where that is hidden, scrolls the
        React Flow wrapper (``overflow: hidden``) to reach it; React Flow undoes such a scroll on its next
        frame, and on a loaded machine that frame fell between the press and the release, so the release was
        over the pane and no click reached the node (the iterate lab test's clicks on ``scale``)."""
        self.root.scroll_into_view_if_needed()  # a notebook scrolled away from its canvas: scroll the notebook
        self.settle()
        spot = self._visible_middle(path)
        if spot is None:
            self.find(path)
            self.settle()
            spot = self._visible_middle(path)
        if spot is None:
            raise AssertionError(f"node {path} is outside the canvas's view even after the step search found it")
        self.node(path).click(position=spot, **click)

    def _visible_middle(self, path: str) -> dict | None:
        """The middle of node ``path``'s part in the pane and the window, relative to the node; None when none is."""
        box = self.node(path).bounding_box()
        pane = self.root.locator(".react-flow").bounding_box()
        size = self.page.viewport_size
        if not (box and pane and size):
            raise AssertionError(f"node {path} is not on the page")
        x0, x1 = max(box["x"], pane["x"], 0), min(box["x"] + box["width"], pane["x"] + pane["width"], size["width"])
        y0, y1 = max(box["y"], pane["y"], 0), min(box["y"] + box["height"], pane["y"] + pane["height"], size["height"])
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        return {"x": (x0 + x1) / 2 - box["x"], "y": (y0 + y1) / 2 - box["y"]}

    def find(self, path: str) -> None:
        """Go to node ``path`` with the step search (its name; Enter goes on to the next match until it is the
        one selected): the canvas selects it and centres it."""
        search = self.root.locator("[data-testid='node-search']")
        note = self.root.locator("[data-testid='node-search-note']")
        search.fill(path.rsplit("/", 1)[-1])
        search.press("Enter")
        self.page.wait_for_function("(e) => /^1 \\/ \\d+$/.test(e.innerText)", arg=note.element_handle())
        hits = int(note.inner_text().split("/")[1])
        for turn in range(1, hits + 1):
            if turn > 1:
                search.press("Enter")
                self.page.wait_for_function("([e, t]) => e.innerText.startsWith(`${t} /`)",
                                            arg=[note.element_handle(), turn])
            if self.node(path).evaluate("e => e.classList.contains('selected')"):
                return
        raise AssertionError(f"the step search for {path} does not find it")

    def fit(self) -> None:
        self.root.locator(".react-flow__controls-fitview").click()

    def auto_layout(self) -> None:
        """Press the Layout button (elkjs/stage columns), fit the view, and wait until nothing moves."""
        self.root.locator('.dfl-button[title="Lay out left to right"]').click()
        self.settle()
        self.fit()
        self.settle()

    def settle(self, timeout: float = 10) -> None:
        """Wait until the viewport and the nodes' positions are the same over a few animation frames.

        ``page.evaluate`` awaits the Promise each look returns (``wait_for_function`` would take the Promise
        itself as a truthy answer and return at once)."""
        deadline = time.monotonic() + timeout
        while not self.page.evaluate(STILL_FOR_5_FRAMES):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the canvas was still moving after {timeout:.0f} s")

    def drop_template(self, name: str, fx: float, fy: float) -> None:
        """Drag palette entry ``name`` onto the canvas at fraction (fx, fy) of the flow area."""
        pane = self.root.locator(".react-flow__pane")
        box = pane.bounding_box()
        self.root.locator(f'.dfl-palette-item[data-template="{name}"]').drag_to(
            pane, target_position={"x": box["width"] * fx, "y": box["height"] * fy})

    def wire(self, src_path: str, src_handle: str, dst_path: str, dst_handle: str) -> None:
        """Press on an output handle, move to an input handle, release (React Flow's connect gesture)."""
        a = self.handle(src_path, src_handle).bounding_box()
        b = self.handle(dst_path, dst_handle).bounding_box()
        mouse = self.page.mouse
        mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
        mouse.down()
        mouse.move((a["x"] + b["x"]) / 2, (a["y"] + b["y"]) / 2, steps=8)
        mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=8)
        mouse.up()

    def validity(self) -> str:
        return self.root.locator('[data-testid="validity"]').inner_text()
