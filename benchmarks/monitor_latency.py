"""Event-to-screen latency of the run monitor: from the moment a step ends to the moment its node turns
green in the browser, split into the stages of the way there.

A real ``jupyter lab`` (127.0.0.1, free port) runs a notebook that submits a chain of shell steps and shows
``wf.watch()``. A first step sleeps while the monitor is drawn, so that the steps measured change phase on
screen. Each measured step sleeps ``--pause`` seconds and, as its last act, writes the epoch time in ms
(``date +%s%3N``) to a file: the step's end. Stamps taken on the way, all on this machine's epoch clock:

1. the step's end (its stamp file);
2. the engine's event row saying it succeeded is visible in SQLite (a kernel thread reads every 2 ms);
3. the monitor's kernel side sends the status message (its ``send`` is wrapped);
4. the message arrives at the browser's kernel websocket (``WebSocket`` wrapped before JupyterLab loads);
5. the node's ``data-phase`` turns ``Succeeded`` (a MutationObserver).

usage: python benchmarks/monitor_latency.py [--steps 12] [--pause 0.3]

``--pause 0`` sends the events in a burst (the steps end as fast as the engine starts them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.widgets.jupyterlab_harness import CHROMIUM, CHROMIUM_ARGS, LabServer, NotebookPage  # noqa: E402

CELL = """\
import json, threading, time
started = time.time() * 1000
from dflow_lab import InputParameter, Inputs, ShellOPTemplate, Step, Workflow

wf = Workflow(name="latency")
# the monitor is drawn while this first step runs: the steps measured change phase on screen
wf.add(Step("warmup", ShellOPTemplate(name="warmup", image="alpine", script="sleep 4")))
work = ShellOPTemplate(name="work", image="alpine", inputs=Inputs(parameters={{"i": InputParameter()}}),
                       script="sleep {pause}; date +%s%3N > {stamps}/s{{{{inputs.parameters.i}}}}")
for i in range({steps}):
    wf.add(Step(f"s{{i}}", work, parameters={{"i": i}}))
wf.submit(wait=False)
monitor = wf.watch(height=400)
engine = {{}}

def stamp(store=monitor.run.backend.store, name=wf.id):
    seq = 0
    while len(engine) < {steps}:
        for ev in store.events(name, seq):
            seq = max(seq, ev["seq"])
            node = ev.get("node") or {{}}
            if node.get("phase") == "Succeeded" and node.get("type") == "Pod" and node["displayName"] != "warmup":
                engine.setdefault(node["displayName"], time.time() * 1000)
        time.sleep(0.002)

threading.Thread(target=stamp, daemon=True).start()
sent = {{}}
_send = monitor.run._send

def send_stamped(msg):
    now = time.time() * 1000
    for path, entry in (msg.get("changes") or {{}}).items():
        if entry and entry.get("phase") == "Succeeded" and path != "warmup":
            sent.setdefault(path, now)
    _send(msg)

monitor.run._send = send_stamped
monitor
"""

# stamps the arrival, at the browser's kernel websocket, of each status message naming a step as Succeeded
WS_HOOK = r"""(() => { const Orig = window.WebSocket; window.arrived = {};
  const decoder = new TextDecoder();
  window.WebSocket = class extends Orig { constructor(...a) { super(...a);
    this.addEventListener('message', (ev) => { const now = Date.now();
      const text = typeof ev.data === 'string' ? ev.data : decoder.decode(ev.data);
      if (!text.includes('"changes"')) return;
      const parts = text.split(/"(s\d+)":\s*\{/);  // [before, key, entry, key, entry, ...]
      for (let i = 1; i + 1 < parts.length; i += 2)
        if (/"phase":\s*"Succeeded"/.test(parts[i + 1]) && !(parts[i] in window.arrived)) window.arrived[parts[i]] = now;
    }); } };
})()"""

OBSERVER = """() => { window.seen = {};
  new MutationObserver((records) => { const now = Date.now();
    if (!window.drawn && document.querySelector('.dfl-node[data-phase]')) window.drawn = now;
    for (const r of records) {
      const el = r.target;
      if (el.dataset && el.dataset.phase === 'Succeeded' && /^s\\d+$/.test(el.dataset.path || '') && !(el.dataset.path in window.seen))
        window.seen[el.dataset.path] = now;
    } }).observe(document.body, {attributes: true, attributeFilter: ['data-phase'], childList: true, subtree: true}); }"""


def stage(a: dict, b: dict) -> str:
    d = sorted(b[k] - a[k] for k in a if k in b)
    if not d:
        return "n/a"
    return f"median {statistics.median(d):4.0f} ms  (min {min(d):.0f}, max {max(d):.0f}, n={len(d)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--pause", type=float, default=0.3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lab"
        root.mkdir()
        stamps = Path(tmp) / "stamps"
        stamps.mkdir()
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
                page.add_init_script(WS_HOOK)
                cell = CELL.format(steps=args.steps, pause=args.pause, stamps=stamps)
                nb = NotebookPage(page, lab, "latency.ipynb", [cell])
                nb.open()
                page.evaluate(OBSERVER)
                nb.run_all()
                page.wait_for_function(f"() => Object.keys(window.seen).length >= {args.steps}", timeout=120_000)
                screen = page.evaluate("() => window.seen")
                arrived = page.evaluate("() => window.arrived")
                drawn = page.evaluate("() => window.drawn")
                out = nb.run_cell("import time\nwhile len(engine) < %d: time.sleep(0.01)\nprint(json.dumps([engine, sent, started]))"
                                  % args.steps)
                engine, sent, started = json.loads(out.strip().splitlines()[-1])
                context.close()
        finally:
            lab.stop()
        ended = {p.name: float(p.read_text()) for p in stamps.iterdir()}
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.steps} steps of "
          f"{args.pause:g} s")
    print(f"  step ends -> engine event row          {stage(ended, engine)}")
    print(f"  event row -> kernel sends the message  {stage(engine, sent)}")
    print(f"  kernel send -> browser websocket       {stage(sent, arrived)}")
    print(f"  browser websocket -> node turns green  {stage(arrived, screen)}")
    print(f"step end to screen:                      {stage(ended, screen)}")
    print(f"engine event to screen:                  {stage(engine, screen)}")
    print(f"the cell starts -> monitor drawn with the run's phases: {drawn - started:.0f} ms")


if __name__ == "__main__":
    main()
