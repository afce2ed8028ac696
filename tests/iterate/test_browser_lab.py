"""The iterate loop in a real ``jupyter lab`` (Playwright, Debian's headless Chromium): run a document, change
one step's parameter in the editor, Run from here in the monitor (the upstream steps are reused: a count file
written by each execution says so), then Re-run failed after a forced failure, and a retried step's attempts
with their logs. Screenshots go to ``test-artifacts/lab/``."""

# ruff: noqa: F811  (the fixtures of tests/lab/test_browser.py are imported by name)
from __future__ import annotations

import json

import pytest
import requests

from tests.lab.jupyter import JupyterServer, wait_for
from tests.lab.test_browser import ARTIFACTS, EDITOR, MONITOR, _open, browser, lab, page, shots  # noqa: F401 (fixtures)
from tests.widgets.canvas_page import CanvasPage

from .ops import executions, pipeline

pytestmark = pytest.mark.browser


def _runs(lab, doc: str) -> list[dict]:
    r = requests.get(lab.api("workflows"), params={"document": doc}, headers=lab.auth, timeout=30)
    return r.json()["workflows"]


def _monitor_of(page, name: str) -> None:
    page.evaluate("([name]) => window.jupyterapp.commands.execute('dflow-lab:open-monitor', "
                  "{engine: 'local', name}).then(() => null)", [name])


def test_run_change_run_from_here_compare_and_rerun_failed(page, lab, tmp_path):
    log = tmp_path / "count.txt"
    doc = "iterate.dflow.json"
    (lab.root / doc).write_text(json.dumps(pipeline(log, factor=2).to_graph(), indent=2))
    _open(page, doc)
    page.wait_for_selector(f"{EDITOR} [data-action='run']:not([disabled])")
    page.locator(f"{EDITOR} [data-action='run']").click()
    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Succeeded']", timeout=120_000)
    first = _runs(lab, doc)[0]["name"]
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
    _monitor_of(page, first)
    page.locator(f"{MONITOR} .react-flow__node[data-id='scale']").click()
    details = page.locator(f"{MONITOR} .dfl-details[data-path='scale']")
    details.locator("[data-action='run-from']").click()
    wait_for(lambda: len(_runs(lab, doc)) == 2, 30, "the partial run to start")
    second = _runs(lab, doc)[0]["name"]
    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Succeeded']", timeout=120_000)
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 2}  # upstream reused, not run
    for step in ("prep", "item"):
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='{step}'] .dfl-reused-badge")
    assert page.locator(f"{MONITOR} .dfl-node[data-path='scale'] .dfl-reused-badge").count() == 0
    page.locator(f"{MONITOR} .react-flow__node[data-id='prep']").click()
    reused = page.locator(f"{MONITOR} .dfl-details[data-path='prep'] .dfl-reused")
    assert first in reused.inner_text()
    page.screenshot(path=str(ARTIFACTS / "iterate-run-from-here.png"))

    diff = requests.get(lab.api(f"workflows/local/{second}/compare"), params={"with": first}, headers=lab.auth,
                        timeout=30).json()
    assert sorted(p for p, e in diff["paths"].items() if e["state"] != "unchanged") == ["report", "scale"]

    # compare the two runs on the graph: exactly the changed nodes are marked, the panel shows both sides
    page.locator(f"{MONITOR} [data-action='compare={first}']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='scale'] .dfl-status-line[data-compare='changed']")
    changed = page.eval_on_selector_all(f"{MONITOR} .dfl-status-line[data-compare='changed']",
                                        "els => els.map(e => e.closest('.dfl-node').dataset.path).sort()")
    assert changed == ["report", "scale"]
    for step in ("prep", "item"):
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='{step}'] .dfl-status-line[data-compare='unchanged']")
    page.locator(f"{MONITOR} .react-flow__node[data-id='scale']").click()
    sides = page.locator(f"{MONITOR} .dfl-details[data-path='scale'] .dfl-compare")
    row = sides.locator("tr[data-port='parameter:in factor']")
    row.wait_for()
    assert row.get_attribute("data-differs") == "true" and row.locator("td").all_inner_texts()[1:] == ["2", "5"]
    assert sides.locator("tr[data-port='parameter:in n']").count() == 0  # scale has no n
    page.screenshot(path=str(ARTIFACTS / "iterate-compare.png"))
    page.locator(f"{MONITOR} [data-action='compare-off']").click()
    page.wait_for_selector(f"{MONITOR} .dfl-status-line[data-compare]", state="detached")

    # a forced failure, then Re-run failed from the failed run's monitor
    requests.post(lab.api("workflows"), headers=lab.auth, timeout=60, json={
        "graph": pipeline(log, factor=5, fail=True).to_graph(), "engine": "local", "path": doc})
    wait_for(lambda: _runs(lab, doc)[0]["phase"] == "Failed", 120, "the forced failure")
    failed = _runs(lab, doc)[0]["name"]
    # the document as it is in the editor now (fail=False) is what Re-run failed runs
    (lab.root / doc).write_text(json.dumps(pipeline(log, factor=5).to_graph(), indent=2))
    _open(page, doc)
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:reload')")
    _monitor_of(page, failed)
    page.locator(f"{MONITOR} .react-flow__node[data-id='scale']").click()
    page.locator(f"{MONITOR} .dfl-details[data-path='scale'] [data-action='rerun-failed']").click()
    wait_for(lambda: len(_runs(lab, doc)) == 4 and _runs(lab, doc)[0]["phase"] in ("Succeeded", "Failed"), 120,
             "the re-run of the failed steps to end")
    rerun = _runs(lab, doc)[0]
    assert rerun["phase"] == "Succeeded" and rerun["reusedFrom"] == failed
    # the forced failure ran every step again; Re-run failed ran scale and report only
    assert executions(log) == {"prep": 2, "item": 6, "scale": 4, "report": 3}


def test_a_fanout_of_1000_items_expanded_and_filtered(page, lab):
    from dflow_lab.local.backend import LocalBackend

    from .test_compare import fanout_manifest

    backend = LocalBackend(lab.root / ".dflow-lab")  # the lab's local workspace
    name = backend.submit(fanout_manifest(1000), wait=True)["metadata"]["name"]
    _monitor_of(page, name)
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='each'] >> text=857/1000 succeeded, 143 failed")
    page.locator(f"{MONITOR} .react-flow__node[data-id='each']").click()
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
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('dflow-lab:open-monitor')")
        _monitor_of(page, name)
        page.locator(f"{MONITOR} .react-flow__node[data-id='second']").click()
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
