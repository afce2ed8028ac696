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

import pytest

from .jupyter import wait_for
from .test_browser import EDITOR, browser, lab, page, shots  # noqa: F401
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
