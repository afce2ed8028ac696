"""Event-to-screen latency of the run monitor: from the moment the local engine records that a step
succeeded (its event row in SQLite) to the moment the monitor's node turns green in the browser.

A real ``jupyter lab`` (127.0.0.1, free port) runs a notebook that submits a chain of steps and shows
``wf.watch()``; a thread in the kernel reads the engine's event table every 2 ms and stamps each step's
Succeeded event; a MutationObserver in Debian's headless Chromium stamps each node's change of
``data-phase``. Both stamps are this machine's epoch clock.

usage: python benchmarks/monitor_latency.py [--steps 12]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.widgets.jupyterlab_harness import CHROMIUM, CHROMIUM_ARGS, LabServer, NotebookPage  # noqa: E402

CELL = """\
import json, threading, time
from dflow_lab import Step, Workflow
from dflow_lab.python import PythonOPTemplate
from tutorial_ops import Describe

wf = Workflow(name="latency")
for i in range({steps}):
    wf.add(Step(f"s{{i}}", PythonOPTemplate(Describe, image="python:3.11"), parameters={{"value": float(i)}}))
wf.submit(wait=False)
monitor = wf.watch(height=400)
stamps = {{}}

def stamp(store=monitor.run.backend.store, name=wf.id):
    seq = 0
    while len(stamps) < {steps}:
        for ev in store.events(name, seq):
            seq = max(seq, ev["seq"])
            node = ev.get("node") or {{}}
            if node.get("phase") == "Succeeded" and node.get("type") == "Pod":
                stamps.setdefault(node["displayName"], time.time() * 1000)
        time.sleep(0.002)

threading.Thread(target=stamp, daemon=True).start()
monitor
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lab"
        root.mkdir()
        shutil.copy(REPO / "notebooks" / "tutorial_ops.py", root)
        lab = LabServer(root)
        lab.start()
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(Path(tmp) / "profile"), executable_path=CHROMIUM, headless=True,
                    args=[*CHROMIUM_ARGS, "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                          "--disable-backgrounding-occluded-windows"],
                    viewport={"width": 1400, "height": 900})
                page = context.pages[0] if context.pages else context.new_page()  # the window's own tab
                nb = NotebookPage(page, lab, "latency.ipynb", [CELL.format(steps=args.steps)])
                nb.open()
                page.evaluate("""() => { window.seen = {};
                    new MutationObserver((records) => { const now = Date.now();
                      for (const r of records) {
                        const el = r.target;
                        if (el.dataset && el.dataset.phase === 'Succeeded' && el.dataset.path && !(el.dataset.path in window.seen))
                          window.seen[el.dataset.path] = now;
                      } }).observe(document.body, {attributes: true, attributeFilter: ['data-phase'], subtree: true}); }""")
                nb.run_all()
                page.wait_for_function(f"() => Object.keys(window.seen).length >= {args.steps}", timeout=300_000)
                screen = page.evaluate("() => window.seen")
                out = nb.run_cell("import time\nwhile len(stamps) < %d: time.sleep(0.01)\nprint(json.dumps(stamps))"
                                  % args.steps)
                engine = json.loads(out.strip().splitlines()[-1])
                context.close()
        finally:
            lab.stop()
    lat = sorted(screen[k] - engine[k] for k in engine if k in screen)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"event-to-screen latency over {len(lat)} steps: median {statistics.median(lat):.0f} ms, "
          f"max {max(lat):.0f} ms, min {min(lat):.0f} ms")


if __name__ == "__main__":
    main()
