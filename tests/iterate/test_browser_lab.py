"""The iterate loop in a real ``jupyter lab`` (Playwright, Debian's headless Chromium): run a document, change
one step's parameter in the editor, Run from here in the monitor (the upstream steps are reused: a count file
written by each execution says so), the run picker and the comparison of the two runs, then Re-run failed
after a forced failure — on the local engine and in Argo mode (the lab configured for ``dflow-lab server``,
the Argo-compatible API server, on 127.0.0.1: its runs reuse through memoization); a retried step's attempts
with their logs; a fan-out's items, paged, filtered and compared. Screenshots go to ``test-artifacts/lab/``."""

# ruff: noqa: F811  (the fixtures of tests/lab/test_browser.py are imported by name)
from __future__ import annotations

import json

import pytest
import requests

from tests.lab.jupyter import JupyterServer, wait_for
from tests.lab.test_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    EDITOR,
    MONITOR,
    _open,
    _stable_box,
    browser,
    lab,
    page,
    reload_lab,
    shots,
    wait_for_lab,
)
from tests.lab.test_browser_theme import _theme
from tests.widgets.canvas_page import CanvasPage

from .ops import executions, pipeline

pytestmark = pytest.mark.browser


def _runs(lab, doc: str, engine: str = "local") -> list[dict]:
    r = requests.get(lab.api("workflows"), params={"document": doc, "engine": engine}, headers=lab.auth, timeout=30)
    return r.json()["workflows"]


def _monitor_of(page, name: str, engine: str = "local") -> None:
    page.evaluate("([name, engine]) => window.jupyterapp.commands.execute('dflow-lab:open-monitor', "
                  "{engine, name}).then(() => null)", [name, engine])


@pytest.fixture(params=["local", "argo"])
def engine(request, lab, page, tmp_path):
    """The engine the iterate flow runs on: the local one, or ``dflow-lab server`` on 127.0.0.1 (Argo mode),
    configured as the settings editor saves it (the page is reloaded to load the settings)."""
    if request.param == "local":
        yield "local"
        return
    from dflow_lab.apiserver import ArgoServer

    argo = ArgoServer(tmp_path / "argo-ws", port=0).start()
    url = f"{lab.url}/lab/api/settings/@dflow-lab/jupyterlab:plugin"
    try:
        raw = json.dumps({"argoHost": argo.url, "argoToken": argo.token})
        assert requests.put(url, headers=lab.auth, json={"raw": raw}, timeout=10).status_code == 204
        reload_lab(page)  # a document opened before the restored layout would be dropped by it
        wait_for(lambda: requests.get(lab.api("settings"), headers=lab.auth, timeout=10).json()["secrets"]["argoToken"],
                 30, "the server to hold the Argo token")
        yield "argo"
    finally:
        requests.put(url, headers=lab.auth, json={"raw": "{}"}, timeout=10)
        requests.put(lab.api("settings"), headers=lab.auth, json={"argoHost": "", "argoToken": ""}, timeout=10)
        argo.stop()


def _monitor_tabs(page) -> list[str]:
    """The labels of the open monitor tabs."""
    return page.evaluate("() => Array.from(window.jupyterapp.shell.widgets('main'))"
                         ".filter(w => w.id.startsWith('dflow-lab-monitor')).map(w => w.title.label)")


def _open_picker(page) -> None:
    page.locator(f"{MONITOR} [data-action='runs']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-run-menu")


def _compare_screenshot(page, path) -> None:
    """The compared graph at a zoom where its nodes read (the fitted view of the whole tab is small)."""
    page.locator(f"{MONITOR} .dfl-details .dfl-icon-button[title='Close']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-details", state="detached")
    size = page.viewport_size
    page.set_viewport_size({"width": 1900, "height": 760})  # a wide tab: the fitted zoom is near 1
    try:
        for theme, tag in (("JupyterLab Light", ""), ("JupyterLab Dark", "-dark")):
            _theme(page, theme)
            CanvasPage(page, MONITOR).fit()
            _stable_box(page.locator(f"{MONITOR} .react-flow__node[data-id='report']"))
            page.locator(f"{MONITOR}").screenshot(path=str(path.with_name(path.stem + tag + path.suffix)))
    finally:
        _theme(page, "JupyterLab Light")
        page.set_viewport_size(size)


def test_run_change_run_from_here_compare_and_rerun_failed(page, lab, engine, tmp_path):
    log = tmp_path / "count.txt"
    doc = f"iterate-{engine}.dflow.json"
    tag = "" if engine == "local" else f"-{engine}"
    start = "run" if engine == "local" else "submit"  # ▶ Run locally / Submit to Argo
    (lab.root / doc).write_text(json.dumps(pipeline(log, factor=2).to_graph(), indent=2))
    _open(page, doc)
    page.wait_for_selector(f"{EDITOR} [data-action='{start}']:not([disabled])")
    page.locator(f"{EDITOR} [data-action='{start}']").click()
    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Succeeded']", timeout=120_000)
    first = _runs(lab, doc, engine)[0]["name"]
    assert executions(log) == {"prep": 1, "item": 3, "scale": 1, "report": 1}

    # change scale's factor in the editor (its document is saved), then Run from here in the first run's monitor
    _open(page, doc)
    canvas = CanvasPage(page, EDITOR)
    canvas.select("scale")
    box = page.locator(f'{EDITOR} .dfl-properties input[data-field="factor"]')
    box.fill("5")
    box.press("Enter")
    box.press("Tab")  # the field commits on Enter or when it loses focus
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")

    def factor():
        g = json.loads((lab.root / doc).read_text())
        return next(n for n in g["templates"][g["entrypoint"]]["nodes"] if n["name"] == "scale")["parameters"]["factor"]

    wait_for(lambda: factor() in (5, "5"), 15, "the changed parameter to be saved")
    _monitor_of(page, first, engine)
    CanvasPage(page, MONITOR).click_node("scale")
    details = page.locator(f"{MONITOR} .dfl-details[data-path='scale']")
    details.locator("[data-action='run-from']").click()
    wait_for(lambda: len(_runs(lab, doc, engine)) == 2, 30, "the partial run to start")
    second = _runs(lab, doc, engine)[0]["name"]
    # the monitor may still show the first run's Succeeded for a moment: wait for the second run itself
    wait_for(lambda: _runs(lab, doc, engine)[0]["phase"] == "Succeeded", 120, "the partial run to succeed")
    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Succeeded']", timeout=120_000)
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 2}  # upstream reused, not run
    for step in ("prep", "item"):
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='{step}'] .dfl-reused-badge")
    assert page.locator(f"{MONITOR} .dfl-node[data-path='scale'] .dfl-reused-badge").count() == 0
    CanvasPage(page, MONITOR).click_node("prep")
    reused = page.locator(f"{MONITOR} .dfl-details[data-path='prep'] .dfl-reused")
    assert first in reused.inner_text()
    page.screenshot(path=str(ARTIFACTS / f"iterate-run-from-here{tag}.png"))

    diff = requests.get(lab.api(f"workflows/{engine}/{second}/compare"), params={"with": first}, headers=lab.auth,
                        timeout=30).json()
    assert sorted(p for p, e in diff["paths"].items() if e["state"] != "unchanged") == ["report", "scale"]

    # one monitor tab for the document: the partial run replaced the first run in it, named after the file
    assert _monitor_tabs(page) == [f"{doc} · runs"]
    # its run picker lists both runs with their start time, phase and progress; the newest is the one shown
    _open_picker(page)
    rows = page.locator(f"{MONITOR} .dfl-run-list .dfl-run-row")
    wait_for(lambda: rows.count() == 2, 30, "the run picker to list both runs")
    assert rows.evaluate_all("els => els.map(e => e.dataset.name)") == [second, first]
    assert rows.first.get_attribute("aria-current") == "true"
    for row in (rows.nth(0), rows.nth(1)):
        assert row.get_attribute("data-phase") == "Succeeded"
        assert row.locator(".dfl-run-when").inner_text().count(":") == 2  # hh:mm:ss today
        assert "succeeded" in row.locator(".dfl-run-progress").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"iterate-run-picker{tag}.png"))

    # compare the two runs on the graph: exactly the changed nodes are marked, the panel shows both sides
    page.locator(f"{MONITOR} [data-action='compare={first}']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='scale'] .dfl-status-line[data-compare='changed']")
    changed = page.eval_on_selector_all(f"{MONITOR} .dfl-status-line[data-compare='changed']",
                                        "els => els.map(e => e.closest('.dfl-node').dataset.path).sort()")
    assert changed == ["report", "scale"]
    for step in ("prep", "item"):
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='{step}'] .dfl-status-line[data-compare='unchanged']")
    CanvasPage(page, MONITOR).click_node("scale")
    sides = page.locator(f"{MONITOR} .dfl-details[data-path='scale'] .dfl-compare")
    row = sides.locator("tr[data-port='parameter:in factor']")
    row.wait_for()
    assert row.get_attribute("data-differs") == "true" and row.locator("td").all_inner_texts()[1:] == ["2", "5"]
    assert sides.locator("tr[data-port='parameter:in n']").count() == 0  # scale has no n
    _compare_screenshot(page, ARTIFACTS / f"iterate-compare{tag}.png")
    page.locator(f"{MONITOR} [data-action='compare-off']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-status-line[data-compare]", state="detached")

    # the picker shows the first run in the same tab
    _open_picker(page)
    page.locator(f"{MONITOR} .dfl-run-row[data-name='{first}']").click()
    page.wait_for_function("([name]) => document.querySelector("
                           "'.jp-MainAreaWidget:not(.lm-mod-hidden) .dfl-lab-monitor .dfl-run-picker') && "
                           "window.jupyterapp.shell.currentWidget.title.caption.includes(name)", arg=[first])
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='scale'][data-phase='Succeeded']")
    assert page.locator(f"{MONITOR} .dfl-reused-badge").count() == 0  # the first run ran every step
    assert _monitor_tabs(page) == [f"{doc} · runs"]

    # a forced failure, then Re-run failed from the failed run's monitor
    requests.post(lab.api("workflows"), headers=lab.auth, timeout=60, json={
        "graph": pipeline(log, factor=5, fail=True).to_graph(), "engine": engine, "path": doc})
    wait_for(lambda: _runs(lab, doc, engine)[0]["phase"] == "Failed", 120, "the forced failure")
    failed = _runs(lab, doc, engine)[0]["name"]
    # the document as it is in the editor now (fail=False) is what Re-run failed runs
    (lab.root / doc).write_text(json.dumps(pipeline(log, factor=5).to_graph(), indent=2))
    _open(page, doc)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:reload')")
    _monitor_of(page, failed, engine)
    CanvasPage(page, MONITOR).click_node("scale")
    page.locator(f"{MONITOR} .dfl-details[data-path='scale'] [data-action='rerun-failed']").click()
    wait_for(lambda: len(_runs(lab, doc, engine)) == 4 and _runs(lab, doc, engine)[0]["phase"] in ("Succeeded", "Failed"), 120,
             "the re-run of the failed steps to end")
    rerun = _runs(lab, doc, engine)[0]
    assert rerun["phase"] == "Succeeded" and rerun["reusedFrom"] == failed
    # the forced failure ran every step again; Re-run failed ran scale and report only
    assert executions(log) == {"prep": 2, "item": 6, "scale": 4, "report": 3}
    assert _monitor_tabs(page) == [f"{doc} · runs"]

    # the Workflows panel groups the runs by document: this document's four runs under its name
    page.evaluate("() => window.jupyterapp.commands.execute('dflow-lab:open-monitor').then(() => null)")
    group = page.locator(f".dfl-lab-group[data-document='{doc}']")
    group.wait_for()
    wait_for(lambda: group.locator(".dfl-lab-run").count() == 4, 30, "the document's group to list its runs")
    assert group.locator(".dfl-lab-group-name").inner_text() == doc
    assert group.locator(".dfl-lab-run").evaluate_all("els => els.map(e => e.dataset.name)") == [
        r["name"] for r in _runs(lab, doc, engine)]
    assert group.locator(".dfl-lab-run-engine").all_inner_texts() == [engine] * 4
    group.locator(".dfl-lab-group-head").click()  # folds the group
    page.wait_for_selector(f".dfl-lab-group[data-document='{doc}'] .dfl-lab-run", state="detached")
    group.locator(".dfl-lab-group-head").click()
    group.locator(".dfl-lab-run").first.wait_for()
    page.locator("#dflow-lab-workflows").screenshot(path=str(ARTIFACTS / f"iterate-workflows-grouped{tag}.png"))


def test_a_fanout_of_1000_items_expanded_and_filtered(page, lab):
    from dflow_lab.local.backend import LocalBackend

    from .test_compare import fanout_manifest

    backend = LocalBackend(lab.root / ".dflow-lab")  # the lab's local workspace
    name = backend.submit(fanout_manifest(1000), wait=True)["metadata"]["name"]
    _monitor_of(page, name)
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='each'] >> text=857/1000 succeeded, 143 failed")
    CanvasPage(page, MONITOR).click_node("each")
    fan = page.locator(f"{MONITOR} .dfl-details[data-path='each'] .dfl-fanout[data-total='1000']")
    fan.wait_for()
    assert "857 / 1000 ok, 143 failed" in fan.locator(".dfl-section-title").inner_text()
    assert fan.locator("li").count() == 200
    fan.locator("[data-page='next']").click()
    page.wait_for_function("() => document.querySelector('.dfl-fanout-range')?.textContent === '201–400 of 1000'")
    assert fan.locator("li").first.get_attribute("data-index") == "200"
    fan.locator(".dfl-fanout-filter").select_option("Failed")
    page.wait_for_selector(f"{MONITOR} .dfl-fanout[data-matching='143']")
    phases = set(fan.locator("li").evaluate_all("els => els.map(e => e.dataset.phase)"))
    assert phases == {"Failed"} and fan.locator("li").count() == 143
    assert fan.locator("li").first.get_attribute("data-index") == "3"
    fan.locator("li[data-index='10']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-fanout li[data-index='10'][aria-current='true']")
    page.screenshot(path=str(ARTIFACTS / "iterate-fanout-items.png"))


def test_attempts_and_their_logs_after_restarting_the_server(browser, tmp_path):
    """A retried step's attempts, each with its own log, in the monitor of a lab started anew."""
    from .test_lab_server import retry_graph

    home = tmp_path / "home"
    srv = JupyterServer(home, home / "root", app="lab")
    try:
        r = requests.post(srv.api("workflows"), headers=srv.auth, timeout=60,
                          json={"graph": retry_graph(tmp_path / "n"), "engine": "local", "path": "flaky.dflow.json"})
        name = r.json()["name"]
        wait_for(lambda: requests.get(srv.api(f"workflows/local/{name}"), headers=srv.auth, timeout=30)
                 .json()["workflow"]["phase"] == "Succeeded", 120, "the retried run to succeed")
    finally:
        srv.stop()
    srv = JupyterServer(home, home / "root", app="lab")  # the restarted server
    page = browser.new_page()
    try:
        page.set_default_timeout(60_000)
        page.goto(f"{srv.url}/lab?token={srv.token}&reset")
        wait_for_lab(page)
        _monitor_of(page, name)
        CanvasPage(page, MONITOR).click_node("second")
        attempts = page.locator(f"{MONITOR} .dfl-details[data-path='second'] .dfl-attempts")
        attempts.wait_for()
        panel = page.locator(f"{MONITOR} .dfl-details[data-path='second']")
        assert panel.locator(".dfl-detail-meta .dfl-chip").first.inner_text() == "Succeeded"  # the step, not an attempt
        assert panel.locator(".dfl-fanout").count() == 0 and "attempt 3" in panel.locator(".dfl-logs").inner_text()
        assert attempts.locator(".dfl-attempt").evaluate_all("els => els.map(e => e.dataset.phase)") == [
            "Failed", "Failed", "Succeeded"]
        assert "exit code 3" in attempts.locator(".dfl-attempt[data-attempt='1']").inner_text()
        attempts.locator(".dfl-attempt[data-attempt='1'] .dfl-attempt-log").click()
        logs = page.locator(f"{MONITOR} .dfl-details[data-path='second'] .dfl-logs")
        page.wait_for_function("() => document.querySelector('.dfl-logs')?.textContent.startsWith('attempt 2')")
        assert "broken 2" in logs.inner_text()
        page.screenshot(path=str(ARTIFACTS / "iterate-attempts.png"))
    finally:
        page.close()
        srv.stop()


def test_compare_marks_the_changed_items_of_a_fanout(page, lab):
    """Two runs of one document whose fan-out items fail on different items: the compared group lists its
    items, those whose phase or outputs changed marked, and an item's panel shows both sides."""
    from dflow_lab.local.backend import LocalBackend
    from dflow_lab.rerun import DOCUMENT_LABEL, document_label

    from .test_compare import fanout_manifest

    doc = "fan.dflow.json"
    backend = LocalBackend(lab.root / ".dflow-lab")

    def run(values: list[int]) -> str:
        m = fanout_manifest(len(values))
        m["metadata"].update(labels={DOCUMENT_LABEL: document_label(str(lab.root / doc))},
                             annotations={"dflow-lab/document-path": doc})
        step = m["spec"]["templates"][0]["steps"][0][0]
        del step["withSequence"]
        step["withParam"] = json.dumps(values)  # an item fails when its value % 7 == 3
        return backend.submit(m, wait=True)["metadata"]["name"]

    values = list(range(20))
    first = run(values)
    values[8], values[12] = 10, 13  # item 8 now fails (10 % 7 == 3), item 12 takes another value and succeeds
    second = run(values)
    changed = [8, 12]
    _monitor_of(page, second)
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='each'][data-phase]")
    _open_picker(page)
    page.locator(f"{MONITOR} [data-action='compare={first}']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='each'] .dfl-status-line[data-compare='changed']")
    CanvasPage(page, MONITOR).click_node("each")
    fan = page.locator(f"{MONITOR} .dfl-details[data-path='each'] .dfl-fanout[data-total='20']")
    fan.wait_for()
    page.wait_for_selector(f"{MONITOR} .dfl-fanout-list li[data-compare]")
    marks = fan.locator("li").evaluate_all("els => els.map(e => [Number(e.dataset.index), e.dataset.compare])")
    assert sorted(i for i, state in marks if state == "changed") == changed
    assert sum(1 for _, state in marks if state == "unchanged") == 20 - len(changed)
    assert "2 items changed, 18 unchanged" in fan.locator(".dfl-fanout-compare").inner_text()
    fan.locator("li[data-index='8']").click()
    sides = page.locator(f"{MONITOR} .dfl-details[data-path='each'] .dfl-compare")
    page.wait_for_function("() => document.querySelector('.dfl-details .dfl-compare')?.dataset.state === 'changed'")
    assert "inputs" in sides.locator(".dfl-section-title").inner_text()
    assert "phase" in sides.locator(".dfl-section-title").inner_text()
    row = sides.locator("tr[data-port='parameter:in i']")
    assert row.get_attribute("data-differs") == "true" and row.locator("td").all_inner_texts()[1:] == ["8", "10"]
    page.screenshot(path=str(ARTIFACTS / "iterate-fanout-compare.png"))
