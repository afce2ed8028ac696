"""A live run of many trivial tasks watched in the browser: the JupyterLab monitor tab and the notebook widget.

The run: ``benchmarks/_big_graphs.live(N)``, N Python OP tasks (``Noop``, tests/lab/liveops) in layers of 100 on the
local engine. A real ``jupyter lab`` (127.0.0.1, free port) and Debian's headless Chromium, 1440×900.

- ``--where lab``: the run is started through the extension's REST API and its monitor opened with
  ``dflow-lab:open-monitor`` (the server's event stream, ``dflow_lab/jupyter/stream.py``);
- ``--where widget``: a notebook cell submits it and shows ``wf.watch()`` (the kernel's comm). Every message the
  kernel sends on any comm is counted (``comm.base_comm.BaseComm.send`` wrapped before the monitor is made):
  messages and bytes (JSON of the data plus buffers).

Measured in the page, from the moment the monitor is asked for to the end of the run:

- long tasks (``PerformanceObserver`` ``longtask``: main-thread tasks over 50 ms), split into those before the
  monitor's first frame (opening: layout, first render) and those after (following the run);
- the header's progress text, read every 0.5 s: its total must be N throughout and its succeeded count never go
  back; the last one is compared with the engine's final state (``N/N succeeded``);
- a pan while the run goes on (120 mouse moves with the button down, as benchmarks/canvas_render.py), once a
  tenth of the run is done: frames and frames dropped (a gap over 25 ms);
- the page's JS heap (``performance.memory``, precise) at the first frame, the end, and its peak among samples;
- what each long task while opening and after the first frame was (``--trace``, on by default): a Chromium trace of the page
  (benchmarks/_trace.py) splits it into GC, style, layout, paint and script and names the functions the
  sampling profiler saw most in it (``npm run build:dev`` and ``npm run build:dev -w @dflow-lab/jupyterlab``
  for readable names). The trace costs a little: ``--no-trace`` for the figures without it.

usage: python benchmarks/live_monitor.py [--where lab widget] [--tasks 10000] [--no-trace] [--repeat N]
Not a test: nothing is asserted; the load average is printed beside the figures (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OPS = REPO / "tests" / "lab" / "liveops"  # the Noop OP of the run
sys.path[:0] = [str(REPO), str(OPS)]

import requests  # noqa: E402

from benchmarks import _trace  # noqa: E402
from benchmarks._big_graphs import live  # noqa: E402
from tests.lab.jupyter import JupyterServer, ensure_labextension  # noqa: E402
from tests.widgets.jupyterlab_harness import CHROMIUM, CHROMIUM_ARGS, NotebookPage  # noqa: E402

INSTRUMENT = """() => {
  window.bench = { longtasks: [], frames: [], recording: false, t0: performance.now(), drawn: null };
  performance.mark('bench-open');  // the trace's "asked for the monitor"
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.bench.longtasks.push([e.startTime - window.bench.t0, e.duration]);
  }).observe({ type: 'longtask' });
  const tick = (t) => {
    if (window.bench.recording) window.bench.frames.push(t);
    if (window.bench.drawn === null && document.querySelector(
        '%(root)s canvas.dfl-overview[data-drawn]:not([data-drawn="0"]), %(root)s .react-flow__node-step')) {
      window.bench.drawn = performance.now() - window.bench.t0;
      performance.mark('bench-drawn');  // the trace's "first frame"
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

SAMPLE = """() => {
  const p = document.querySelector('%(root)s [data-testid="workflow-progress"]');
  const phase = document.querySelector('%(root)s [data-testid="workflow-phase"]');
  return { t: performance.now() - window.bench.t0, progress: p ? p.textContent : null,
           phase: phase ? phase.textContent : null,
           heap: performance.memory ? performance.memory.usedJSHeapSize : null,
           dom: document.getElementsByTagName('*').length,
           flow: document.querySelectorAll('%(root)s .react-flow__node').length };
}"""

LAB_ROOT = ".jp-MainAreaWidget:not(.lm-mod-hidden) .dfl-lab-monitor"
WIDGET_ROOT = ".jp-OutputArea-output .dfl-root"

CELL = """\
import json
from comm.base_comm import BaseComm
traffic = {{"messages": 0, "bytes": 0, "status_messages": 0, "status_bytes": 0}}
_send = BaseComm.send

def _counted(self, data=None, metadata=None, buffers=None, **kw):
    size = len(json.dumps(data, default=str)) + sum(len(memoryview(b).cast("B")) for b in buffers or [])
    traffic["messages"] += 1
    traffic["bytes"] += size
    content = (data or {{}}).get("content") if isinstance(data, dict) else None
    if isinstance(content, dict) and content.get("type") == "status":
        traffic["status_messages"] += 1
        traffic["status_bytes"] += size
    return _send(self, data, metadata, buffers, **kw)

BaseComm.send = _counted
from benchmarks._big_graphs import live
from dflow_lab import Workflow
wf = Workflow.from_graph(live({tasks}))
wf.submit(wait=False)
monitor = wf.watch(height=620)
monitor
"""

PROGRESS = re.compile(r"(\d+)/(\d+) succeeded")


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def pan(page, root: str) -> dict:
    """A 2 s pan (120 moves, one a frame at 60 Hz) over the monitor's pane; the frame gaps meanwhile."""
    box = page.locator(f"{root} .react-flow__pane").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.evaluate("() => { window.bench.frames = []; window.bench.recording = true; performance.mark('bench-pan'); }")
    page.mouse.down()
    for i in range(120):
        page.mouse.move(cx - i * 3, cy - i * 1.5)
    page.mouse.up()
    frames = page.evaluate("() => { window.bench.recording = false; performance.mark('bench-pan-end'); "
                           "return window.bench.frames; }")
    gaps = sorted(b - a for a, b in zip(frames, frames[1:]))
    if not gaps:
        return {"frames": 0, "dropped": 0, "p95": 0, "max": 0}
    return {"frames": len(gaps), "dropped": sum(g > 25 for g in gaps), "p95": gaps[int(len(gaps) * 0.95)],
            "max": gaps[-1], "load": load()}


def follow(page, root: str, tasks: int, timeout: float, profile: bool = False) -> dict:
    """Sample the header until the run ends, panning once a tenth of it has succeeded."""
    samples, pans = [], []
    cdp = None
    if profile:  # a CPU profile of the page while it follows the run (no pan then)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 1000})
        cdp.send("Profiler.start")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = page.evaluate(SAMPLE % {"root": root})
        samples.append(s)
        m = PROGRESS.search(s["progress"] or "")
        done = int(m.group(1)) if m else 0
        if not profile and not pans and done >= tasks // 10 and done < tasks * 0.8:
            pans.append(pan(page, root))
        if s["phase"] and s["phase"].strip() in ("Succeeded", "Failed", "Error") and done == tasks:
            break
        if s["phase"] and s["phase"].strip() in ("Failed", "Error"):
            break
        page.wait_for_timeout(500)
    if cdp:
        from benchmarks.lab_open import profile_top

        print(profile_top(cdp.send("Profiler.stop")["profile"], 40))
    return {"samples": samples, "pans": pans}


def report(where: str, tasks: int, bench: dict, followed: dict, extra: str = "",
           traced: dict | None = None) -> None:
    drawn = bench["drawn"] or 0
    long = bench["longtasks"]
    opening = [d for t, d in long if t <= drawn]
    running = [d for t, d in long if t > drawn]
    samples = followed["samples"]
    totals, done, bad = set(), [], []
    for s in samples:
        m = PROGRESS.search(s["progress"] or "")
        if m:
            totals.add(int(m.group(2)))
            done.append(int(m.group(1)))
    monotonic = all(a <= b for a, b in zip(done, done[1:]))
    if totals - {tasks}:
        bad.append(f"totals seen {sorted(totals)}")
    if not monotonic:
        bad.append("the succeeded count went back")
    heaps = [s["heap"] for s in samples if s["heap"]]
    last = samples[-1] if samples else {}
    print(f"{where}, {tasks:,} tasks: monitor's first frame {drawn / 1000:.2f} s after it was asked for; "
          f"long tasks while opening: {len(opening)} (max {max(opening, default=0):.0f} ms, "
          f"total {sum(opening):.0f} ms); while following the run: {len(running)} over 50 ms "
          f"(max {max(running, default=0):.0f} ms: {sorted(round(d) for d in running)[-8:]})")
    print(f"  header: {len(samples)} samples, total {sorted(totals)} throughout, succeeded count "
          f"{'never went back' if monotonic else 'WENT BACK'}; last: {last.get('progress')!r} "
          f"({(last.get('phase') or '').strip()}){'; ' + '; '.join(bad) if bad else ''}")
    for p in followed["pans"]:
        print(f"  pan during the run: {p['frames']} frames, {p['dropped']} dropped (> 25 ms), p95 gap "
              f"{p['p95']:.1f} ms, max {p['max']:.1f} ms; {p['load']}")
    if not followed["pans"]:
        print("  pan during the run: not done (the run ended before a tenth of it was seen)")
    if heaps:
        print(f"  JS heap: {heaps[0] / 2**20:.0f} MB at the first sample, peak {max(heaps) / 2**20:.0f} MB, "
              f"{heaps[-1] / 2**20:.0f} MB at the end; DOM elements of the page: {samples[0]['dom']:,} first, "
              f"max {max(s['dom'] for s in samples):,} (React Flow nodes in the monitor: max "
              f"{max(s['flow'] for s in samples):,})")
    if extra:
        print(f"  {extra}")
    if traced is not None:
        print(f"  long tasks while opening in the trace: {len(traced['opening'])}")
        for task in traced["opening"]:
            print(_trace.describe(task))
        print(f"  long tasks after the first frame in the trace: {len(traced['following'])}")
        for task in traced["following"]:
            print(_trace.describe(task))
        print(f"  tasks over 20 ms during the pan in the trace: {len(traced['pan'])}")
        for task in traced["pan"]:
            print(_trace.describe(task))
    print(f"  {load()}", flush=True)


def trace_start(page, trace: bool):
    """A CDP session tracing the page (None without ``--trace``)."""
    if not trace:
        return None
    cdp = page.context.new_cdp_session(page)
    _trace.start(cdp)
    return cdp


def trace_stop(page, cdp) -> dict | None:
    """The long tasks after the first frame, and the tasks over 20 ms during the pan, attributed (None when not
    tracing)."""
    if cdp is None:
        return None
    events = _trace.stop(page, cdp)
    if os.environ.get("LIVE_MONITOR_TRACE"):  # keep the trace (chrome://tracing or Perfetto read it)
        Path(os.environ["LIVE_MONITOR_TRACE"]).write_text(json.dumps({"traceEvents": events}))
    return {"opening": _trace.long_tasks(events, "bench-open", 50, "bench-drawn"),
            "following": _trace.long_tasks(events, "bench-drawn"),
            "pan": _trace.long_tasks(events, "bench-pan", 20, "bench-pan-end") if _trace.mark_ts(events, "bench-pan")
            else []}


def browser(pw, home: Path):
    return pw.chromium.launch_persistent_context(
        str(home / "profile"), executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--enable-precise-memory-info", "--disable-background-timer-throttling",
              "--disable-renderer-backgrounding"], viewport={"width": 1440, "height": 900})


def run_lab(pw, tasks: int, timeout: float, profile: bool = False, trace: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        lab = JupyterServer(home, home / "root", app="lab", python_path=[OPS])
        try:
            context = browser(pw, home)
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{lab.url}/lab?token={lab.token}&reset")
            page.wait_for_function("() => window.jupyterapp && "
                                   "window.jupyterapp.commands.hasCommand('dflow-lab:open-monitor')", timeout=120_000)
            r = requests.post(lab.api("workflows"), headers=lab.auth, timeout=120,
                              json={"graph": live(tasks), "engine": "local"})
            if not r.ok:
                raise SystemExit(f"the run was refused: {r.status_code} {r.text[:2000]}")
            name = r.json()["name"]
            cdp = trace_start(page, trace)
            page.evaluate(INSTRUMENT % {"root": LAB_ROOT})
            page.evaluate("(name) => { window.jupyterapp.commands.execute('dflow-lab:open-monitor', "
                          "{engine: 'local', name}); }", name)
            page.wait_for_function("() => window.bench.drawn !== null", timeout=300_000)
            followed = follow(page, LAB_ROOT, tasks, timeout, profile)
            bench = page.evaluate("() => window.bench")
            traced = trace_stop(page, cdp)
            final = requests.get(lab.api(f"workflows/local/{name}"), headers=lab.auth, timeout=60).json()
            engine = final["workflow"]["progress"]
            report("JupyterLab monitor tab", tasks, bench, followed,
                   f"the engine's count at the end: {engine}", traced)
            context.close()
        finally:
            lab.stop()


def run_widget(pw, tasks: int, timeout: float, profile: bool = False, trace: bool = True) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        lab = JupyterServer(home, home / "root", app="lab", python_path=[OPS])
        lab.root = home / "root"
        lab.open_url = lambda path: f"{lab.url}/lab/tree/{path}?token={lab.token}&reset"  # NotebookPage's way in
        try:
            context = browser(pw, home)
            page = context.pages[0] if context.pages else context.new_page()
            nb = NotebookPage(page, lab, "live.ipynb", [CELL.format(tasks=tasks)])
            nb.open(timeout=120)
            cdp = trace_start(page, trace)
            page.evaluate(INSTRUMENT % {"root": WIDGET_ROOT})
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function("() => window.bench.drawn !== null", timeout=300_000)
            followed = follow(page, WIDGET_ROOT, tasks, timeout, profile)
            bench = page.evaluate("() => window.bench")
            traced = trace_stop(page, cdp)
            out = nb.run_cell("wf.wait(600)\nprint(json.dumps({**traffic, 'phase': wf.query_status()}))", timeout=900)
            traffic = json.loads(out.strip().splitlines()[-1])
            report("notebook widget", tasks, bench, followed,
                   f"kernel comm traffic for the run: {traffic['messages']} messages, {traffic['bytes'] / 1e6:.2f} MB "
                   f"(status messages: {traffic['status_messages']}, {traffic['status_bytes'] / 1e6:.2f} MB); "
                   f"run {traffic['phase']}", traced)
            context.close()
        finally:
            lab.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--where", nargs="+", default=["lab", "widget"], choices=["lab", "widget"])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds a run may take")
    ap.add_argument("--profile", action="store_true", help="print the page's CPU profile while it follows the run "
                    "(no pan then; `npm run build:dev` for readable names)")
    ap.add_argument("--no-trace", dest="trace", action="store_false",
                    help="no Chromium trace (the long tasks are then counted but not attributed)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    ensure_labextension()
    print(f"{os.cpu_count()} cores; {load()}")
    with sync_playwright() as pw:
        for _ in range(args.repeat):
            for where in args.where:
                (run_lab if where == "lab" else run_widget)(pw, args.tasks, args.timeout, args.profile, args.trace)


if __name__ == "__main__":
    main()
