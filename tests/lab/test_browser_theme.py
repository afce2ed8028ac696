"""The canvas in JupyterLab's Light and Dark themes: a run with succeeded, failed, skipped and omitted steps
in the monitor, and the editor with its palette, properties, minimap and zoom controls. Every node title is
readable on its phase's colour (contrast ratio at least 4.5, WCAG AA) and React Flow's own parts take the
theme's colours. Screenshots of both themes go to ``test-artifacts/lab/`` (theme-*.png)."""

# ruff: noqa: F811  (the fixtures of test_browser.py are imported by name)
from __future__ import annotations

import json
import re

import pytest

from tests.widgets.canvas_page import CanvasPage

from .jupyter import wait_for
from .test_browser import EDITOR, MONITOR, _open, browser, lab, page, shots  # noqa: F401

pytestmark = pytest.mark.browser

PHASES_GRAPH = {
    "version": 1, "name": "phases", "entrypoint": "main",
    "templates": {
        "ok": {"kind": "shell", "script": "echo fine\n",
               "outputs": {"parameters": {"n": {"type": "int", "value": 1}}}},
        "bad": {"kind": "shell", "script": "echo broken >&2; exit 3\n"},
        "main": {"kind": "dag", "nodes": [
            {"name": "prepare", "template": "ok"},
            {"name": "skipped", "template": "ok", "when": "{{tasks.prepare.outputs.parameters.n}} > 5"},
            {"name": "broken", "template": "bad"},
            {"name": "after-broken", "template": "ok"},
        ], "edges": [
            {"kind": "control", "source": {"node": "prepare"}, "target": {"node": "skipped"}},
            {"kind": "control", "source": {"node": "prepare"}, "target": {"node": "broken"}},
            {"kind": "control", "source": {"node": "broken"}, "target": {"node": "after-broken"}},
        ]},
    },
}

# the contrast of each node title on its node, and the colours of React Flow's parts, read in the page
READ_COLOURS = """(root) => {
  const rgb = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/) || text.match(/color\\(srgb ([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    const scale = text.startsWith('color(') ? 255 : 1;
    return parts.slice(0, 3).map((v) => v * scale);
  };
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const box = document.querySelector(root);
  const nodes = [...box.querySelectorAll('.dfl-node[data-path]')].map((n) => {
    const title = n.querySelector('.dfl-node-name');
    const bg = rgb(getComputedStyle(n).backgroundColor), fg = rgb(getComputedStyle(title).color);
    return {path: n.dataset.path, phase: n.dataset.phase || null, contrast: bg && fg ? contrast(bg, fg) : 0};
  });
  const bgOf = (sel) => { const e = box.querySelector(sel); return e ? lum(rgb(getComputedStyle(e).backgroundColor)) : null; };
  return {nodes, pane: bgOf('.react-flow'), minimap: bgOf('.react-flow__minimap'),
          control: bgOf('.react-flow__controls-button'), page: lum(rgb(getComputedStyle(document.body).backgroundColor) || [255, 255, 255])};
}"""


def _theme(page, name: str) -> None:
    page.evaluate("async (t) => { await window.jupyterapp.commands.execute('apputils:change-theme', {theme: t}); }", name)
    light = "true" if name == "JupyterLab Light" else "false"
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")
    page.wait_for_selector("#jupyterlab-splash", state="detached")  # the theme's loading splash is gone


def test_light_and_dark_themes_keep_every_part_readable(page, lab, shots):
    (lab.root / "phases.dflow.json").write_text(json.dumps(PHASES_GRAPH, indent=2))
    _open(page, "phases.dflow.json")
    canvas = CanvasPage(page, EDITOR)
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the workflow to validate")
    page.locator(f"{EDITOR} [data-action='run']").click()
    for path, phase in (("prepare", "Succeeded"), ("broken", "Failed")):
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='{path}'][data-phase='{phase}']", timeout=120_000)
    page.wait_for_selector(".dfl-lab-run[data-name^='phases-'][data-phase='Failed']", timeout=120_000)
    skipped = page.locator(f"{MONITOR} .dfl-node[data-path='skipped']").get_attribute("data-phase")
    omitted = page.locator(f"{MONITOR} .dfl-node[data-path='after-broken']").get_attribute("data-phase")
    assert skipped == "Skipped" and omitted == "Omitted"  # downstream of the failed task, as Argo records it

    for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        _theme(page, theme)
        colours = page.evaluate(READ_COLOURS, MONITOR)
        for node in colours["nodes"]:
            assert node["contrast"] >= 4.5, (theme, node)
        assert {n["phase"] for n in colours["nodes"]} >= {"Succeeded", "Failed", "Skipped"}
        if tag == "dark":
            assert colours["page"] < 0.2
            for part in ("pane", "minimap", "control"):
                assert colours[part] is not None and colours[part] < 0.2, (part, colours)
        page.screenshot(path=str(shots / f"theme-{tag}-monitor.png"))
        _open(page, "phases.dflow.json")
        page.wait_for_selector(f"{EDITOR} .react-flow__node[data-id='broken']")
        canvas.select("broken")
        colours = page.evaluate(READ_COLOURS, EDITOR)
        for node in colours["nodes"]:
            assert node["contrast"] >= 4.5, (theme, node)
        if tag == "dark":
            for part in ("pane", "minimap", "control"):
                assert colours[part] < 0.2, (part, colours)
        page.screenshot(path=str(shots / f"theme-{tag}-editor.png"))
        page.evaluate("() => window.jupyterapp.commands.execute('dflow-lab:open-monitor').then(() => null)")
        page.locator(".dfl-lab-run[data-name^='phases-']").first.click()
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='broken'][data-phase='Failed']")
    _theme(page, "JupyterLab Light")
    assert re.match(r"phases-", page.locator(".dfl-lab-run").first.get_attribute("data-name"))
