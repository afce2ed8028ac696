"""A live run of 2,000 tasks followed to its end in the lab's monitor tab (issue 18): the header's progress
counts the whole run while it runs (never the steps started so far: "121/121 succeeded" was the old
bug), its succeeded count never goes back, and at the end it says every step succeeded, as the engine does.
Counts only: nothing here measures time (benchmarks/live_monitor.py does, on 10,000 tasks)."""

# ruff: noqa: F811  (the fixtures of test_browser.py are imported by name)
from __future__ import annotations

import re
import sys
import time

import pytest
import requests

from .test_browser import LIVEOPS, MONITOR, browser, lab, page, shots  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

N = 2000
PROGRESS = re.compile(r"(\d+)/(\d+) succeeded")


def _live_graph(n: int) -> dict:
    sys.path.insert(0, str(LIVEOPS))
    try:
        from benchmarks._big_graphs import live

        return live(n)
    finally:
        sys.path.remove(str(LIVEOPS))


def test_a_2000_task_live_run_in_the_monitor_keeps_its_counts_to_the_end(page, lab, shots):
    r = requests.post(lab.api("workflows"), headers=lab.auth, json={"graph": _live_graph(N), "engine": "local"},
                      timeout=120)
    assert r.status_code == 201, r.text
    name = r.json()["name"]
    page.evaluate("(name) => window.jupyterapp.commands.execute('dflow-lab:open-monitor', "
                  "{engine: 'local', name}).then(() => null)", name)
    header = page.locator(f"{MONITOR} [data-testid='workflow-progress']")
    phase = page.locator(f"{MONITOR} [data-testid='workflow-phase']")
    header.wait_for(timeout=120_000)
    seen: list[tuple[int, int]] = []
    deadline = time.monotonic() + 900  # bounded: a 2,000-task run on a loaded 2-core machine
    while time.monotonic() < deadline:
        m = PROGRESS.search(header.text_content() or "")
        if m:
            seen.append((int(m.group(1)), int(m.group(2))))
        if phase.get_attribute("data-phase") in ("Succeeded", "Failed", "Error") and seen and seen[-1][0] in (0, N):
            if seen[-1][0] == N or phase.get_attribute("data-phase") != "Succeeded":
                break
        page.wait_for_timeout(250)
    page.screenshot(path=str(shots / "monitor-2000-live.png"))
    assert phase.get_attribute("data-phase") == "Succeeded"
    assert seen, "the header never showed a progress"
    assert {total for _, total in seen} == {N}, f"totals seen while running: {sorted({t for _, t in seen})}"
    done = [d for d, _ in seen]
    assert done == sorted(done), "the succeeded count went back"
    assert seen[-1] == (N, N)
    assert header.text_content().strip() == f"{N}/{N} succeeded"
    engine = requests.get(lab.api(f"workflows/local/{name}"), headers=lab.auth, timeout=60).json()
    assert engine["workflow"]["progress"] == {"counts": {"Succeeded": N}, "total": N}
    # the overview draws the whole run; the nodes React Flow holds (if any) are all green
    phases = page.evaluate(f"() => [...document.querySelectorAll(\"{MONITOR} .dfl-node[data-phase]\")]"
                           ".map((n) => n.dataset.phase)")
    assert set(phases) <= {"Succeeded"}, set(phases)
