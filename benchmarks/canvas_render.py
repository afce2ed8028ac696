"""Browser benchmark of the canvas: time to render N nodes, elk layout time (and the longest frame gap while
elk runs), and frame times while panning and zooming, per phase, and while the nodes brought into view are then
handed to React Flow. Runs the built widget bundle
(dflow_lab/widgets/static) in Debian's headless Chromium with a stand-in for anywidget's model, served from
127.0.0.1.

usage: python benchmarks/canvas_render.py [--render 1000] [--interact 5000] [--layout 1000] [--repeat 1] [--static DIR]
Prints one line per measurement (the pan/zoom one per phase and run). Needs `npm run build` (or an installed
package) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import tempfile
import threading
import time
from pathlib import Path

from dflow_lab.widgets._static import STATIC

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage"]

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/widget.css"></head>
<body style="margin:0"><div id="host" style="width:1400px"></div>
<script type="module">
import widget from "/widget.js";
const graph = await (await fetch("/graph.json", { cache: "no-store" })).json();  // each page its own graph
const traits = {graph, view: "canvas", issues: [], palette: [], actions: [], notice: null, workflow_state: null,
                height: 860};
const listeners = {};
const model = {
  get: (k) => traits[k], set: (k, v) => { traits[k] = v; }, save_changes() {},
  on(e, f) { (listeners[e] ??= []).push(f); }, off(e, f) { listeners[e] = (listeners[e] ?? []).filter((g) => g !== f); },
  send(msg) {  // the kernel's part: elk's script, asked for by the first elk layout (js/widget/elkFromKernel.ts)
    if (msg?.type !== "elk-script") return;
    fetch("/elk-worker.min.js").then((r) => r.arrayBuffer()).then((b) => {
      for (const f of listeners["msg:custom"] ?? []) f({ type: "elk-script" }, [new DataView(b)]);
    });
  },
};
window.startRender = () => {
  window.t0 = performance.now();
  widget.render({ model, el: document.getElementById("host") });
};
</script></body></html>"""


def dag(n: int, width: int = 25, laid_out: bool = True) -> dict:
    """A DAG of n tasks in layers of `width`, each fed by one task of the layer before."""
    template = {"kind": "shell", "script": "echo", "inputs": {"parameters": {"x": {"type": "int"}}},
                "outputs": {"parameters": {"y": {"type": "int"}}}}
    nodes, edges, positions = [], [], {}
    for i in range(n):
        layer, row = divmod(i, width)
        nodes.append({"name": f"t{i}", "template": "work", **({"parameters": {"x": i}} if layer == 0 else {})})
        if layer:
            edges.append({"kind": "parameter", "source": {"node": f"t{i - width}", "port": "y"},
                          "target": {"node": f"t{i}", "port": "x"}})
        positions[f"t{i}"] = {"x": layer * 330, "y": row * 110}
    graph = {"version": 1, "name": "bench", "entrypoint": "main",
             "templates": {"main": {"kind": "dag", "nodes": nodes, "edges": edges}, "work": template}}
    if laid_out:
        graph["layout"] = {"templates": {"main": {"nodes": positions}}}
    return graph


class Server:
    def __init__(self, root: Path):
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()


def cpu_seconds(marker: str) -> float:
    """CPU time used so far by the browser's processes (those whose command line holds ``marker``).

    The machine may be shared: wall-clock times then include waiting for a core, CPU time does not."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return total


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


DRAWN = """() => {
  const el = document.querySelector('.react-flow__node-step, canvas.dfl-overview[data-drawn]');
  if (el && window.tDrawn === undefined) window.tDrawn = performance.now();
  return !!el;
}"""

SCALE = "Number(/scale\\(([^)]+)\\)/.exec(document.querySelector('.react-flow__viewport').style.transform)[1])"

SETTLED = """() => new Promise((resolve) => {
  const count = () => document.querySelectorAll('.react-flow__node').length;
  const first = count();
  let frames = 0;
  const tick = () => {
    if (count() !== first) return resolve(false);
    if (++frames === 30) return resolve(first > 0);  // half a second: the hand-over pauses only when done
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""

FRAMES_10 = """() => new Promise((resolve) => {
  let n = 0;
  const tick = () => (++n === 10 ? resolve(true) : requestAnimationFrame(tick));
  requestAnimationFrame(tick);
})"""

RECORD = """() => { window.frames_ = []; window.phase = 'start'; window.recording = true;
  const tick = (t) => { window.frames_.push([t, window.phase]); if (window.recording) requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def settle(page, timeout: float = 30) -> None:
    """Wait until the number of nodes in the DOM has not changed for 30 frames. (page.wait_for_function does
    not wait for a returned Promise: it takes the Promise itself as the truthy answer.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(SETTLED):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the canvas did not settle in {timeout} s")


def frame_stats(frames: list[list], phase: str | None = None) -> dict:
    """Gaps between consecutive animation frames (each gap counted in the phase of the frame that ends it)."""
    gaps = sorted(b[0] - a[0] for a, b in zip(frames, frames[1:]) if phase is None or b[1] == phase)
    if not gaps:
        return {"frames": 0, "p50": 0.0, "p95": 0.0, "max": 0.0, "dropped": 0}
    return {"frames": len(gaps), "p50": round(gaps[len(gaps) // 2], 1), "p95": round(gaps[int(len(gaps) * 0.95)], 1),
            "max": round(gaps[-1], 1), "dropped": sum(1 for g in gaps if g > 1.5 * 1000 / 60)}


class Trace:
    """A Chromium trace of the page's main thread (CDP Tracing), to tell the page's own work per frame from time
    spent waiting for a core on a shared machine."""

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.stream = None
        self.cdp.on("Tracing.tracingComplete", lambda e: setattr(self, "stream", e["stream"]))
        self.cdp.send("Tracing.start", {"categories": "toplevel,devtools.timeline", "transferMode": "ReturnAsStream"})

    def stop(self, page) -> list[dict]:
        self.cdp.send("Tracing.end")
        for _ in range(600):  # bounded: up to a minute for Chromium to hand the trace over
            if self.stream:
                break
            page.wait_for_timeout(100)
        chunks = []
        while True:
            r = self.cdp.send("IO.read", {"handle": self.stream})
            chunks.append(r["data"])
            if r.get("eof"):
                break
        self.cdp.send("IO.close", {"handle": self.stream})
        data = json.loads("".join(chunks))
        return data["traceEvents"] if isinstance(data, dict) else data


def cpu_per_frame(events: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """Per animation frame, by the phase marked with console.timeStamp("phase:<name>") before it: the gap (ms)
    since the frame before, and the main-thread CPU time (ms) of the tasks started in that gap. The page's main
    thread is the one that logged the marks (earlier pages' renderers may still be in the trace)."""
    marks = sorted((e["ts"], e["pid"], e["tid"], e["args"]["data"]["message"][6:]) for e in events
                   if e.get("name") == "TimeStamp" and str(e.get("args", {}).get("data", {}).get("message", "")).startswith("phase:"))
    if not marks:
        return {}
    main = marks[0][1:3]
    on_main = sorted((e for e in events if (e.get("pid"), e.get("tid")) == main), key=lambda e: e["ts"])
    frames: list[float] = []
    for e in on_main:  # a frame may run its animation frame callbacks in more than one task: one frame
        if e["name"] == "FireAnimationFrame" and e.get("ph") == "X" and (not frames or e["ts"] - frames[-1] > 4000):
            frames.append(e["ts"])
    tasks = [(e["ts"], e.get("tdur", e.get("dur", 0)) / 1000) for e in on_main
             if e["name"] == "ThreadControllerImpl::RunTask" and e.get("ph") == "X"]
    out: dict[str, list[tuple[float, float]]] = {}
    for a, b in zip(frames, frames[1:]):
        phase = next((m for t, _, _, m in reversed(marks) if t <= b), None)
        if phase:
            out.setdefault(phase, []).append(((b - a) / 1000, sum(d for t, d in tasks if a <= t < b)))
    return out


def measure(context, root: Path, url: str, graph: dict, interact: bool, marker: str) -> dict:
    (root / "graph.json").write_text(json.dumps(graph))
    page = context.new_page()
    page.goto(f"{url}/index.html")
    page.wait_for_function("() => typeof window.startRender === 'function'")
    n = len(graph["templates"]["main"]["nodes"])
    cpu0 = cpu_seconds(marker)
    page.evaluate(RECORD)  # frame gaps from the start: a layout on the main thread shows as one long gap
    page.evaluate("() => window.startRender()")
    page.wait_for_function(DRAWN, timeout=300_000)
    render_ms = page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(performance.now() - window.t0)))")
    startup = page.evaluate("() => { window.recording = false; return window.frames_.filter(f => f[0] <= window.tDrawn); }")
    drawn = page.evaluate("""() => {
      const c = document.querySelector('canvas.dfl-overview[data-drawn]');
      return c ? `an overview of ${c.dataset.drawn} nodes`
               : `${document.querySelectorAll('.react-flow__node-step').length} nodes in the DOM`; }""")
    out = {"nodes": n, "render_ms": round(render_ms), "render_cpu_ms": round((cpu_seconds(marker) - cpu0) * 1000),
           "drawn": drawn, "startup": frame_stats(startup)}
    if interact:
        pane = page.locator(".react-flow__pane").bounding_box()
        cx, cy = pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2
        page.mouse.move(cx, cy)
        for _ in range(12):  # zoom in to a readable level first (under load, Chromium merges wheel events)
            if page.evaluate(f"() => {SCALE} >= 0.55"):
                break
            before = page.evaluate(f"() => {SCALE}")
            page.mouse.wheel(0, -300)
            page.wait_for_function(f"() => {SCALE} !== {before}", timeout=10_000)
        settle(page)  # the nodes in view are in the DOM, the hand-over is done
        out["zoom"] = round(page.evaluate(f"() => {SCALE}"), 2)
        trace = Trace(page)
        page.evaluate(FRAMES_10)  # starting the trace stalls the page a frame or two: not part of the pan
        page.evaluate(RECORD)
        page.evaluate("() => { window.phase = 'pan'; console.timeStamp('phase:pan'); }")
        page.mouse.down()
        for i in range(120):  # a 2 s pan, one mouse move per frame at 60 Hz
            page.mouse.move(cx - i * 4, cy - i * 2)
        page.mouse.up()
        page.evaluate("() => { window.phase = 'zoom out'; console.timeStamp('phase:zoom out'); }")
        for _ in range(20):  # zoom out and in
            page.mouse.wheel(0, 120)
        page.evaluate("() => { window.phase = 'zoom in'; console.timeStamp('phase:zoom in'); }")
        for _ in range(20):
            page.mouse.wheel(0, -120)
        # the view is still: the nodes that came into view are handed to React Flow (mounted), paced per frame
        page.evaluate("() => { window.phase = 'hand-over'; console.timeStamp('phase:hand-over'); }")
        settle(page)
        page.evaluate("() => { window.phase = 'end'; console.timeStamp('phase:end'); }")
        page.wait_for_function("() => window.frames_.length > 2 && window.frames_.at(-1)[1] === 'end'")
        frames = page.evaluate("() => { window.recording = false; return window.frames_; }")
        out["cpu"] = cpu_per_frame(trace.stop(page))
        out["phases"] = {ph: frame_stats(frames, ph) for ph in ("pan", "zoom out", "zoom in", "hand-over")}
        out["all"] = frame_stats([f for f in frames if f[1] not in ("hand-over", "end")])
        out["rendered_nodes"] = page.evaluate("() => document.querySelectorAll('.react-flow__node').length")
    page.close()
    return out


def fmt(s: dict) -> str:
    return f"{s['frames']} frames, p50 {s['p50']} ms, p95 {s['p95']} ms, max {s['max']} ms, {s['dropped']} dropped"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--render", type=int, default=1000)
    ap.add_argument("--interact", type=int, default=5000)
    ap.add_argument("--layout", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=1, help="pan/zoom runs at --interact nodes")
    ap.add_argument("--static", type=Path, default=STATIC, help="the widget bundle's directory (default: the package's)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("widget.js", "widget.css", "elk-worker.min.js"):  # elk's script: not in builds before 2026-12-05
            if (args.static / name).exists() or name != "elk-worker.min.js":
                (root / name).write_bytes((args.static / name).read_bytes())
        (root / "index.html").write_text(PAGE)
        server = Server(root)
        try:
            profile = root / "chromium-profile"  # its path marks the browser's processes
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
                    viewport={"width": 1400, "height": 900})
                marker = str(profile)
                print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
                runs = [("laid-out nodes", dag(args.render), False),
                        ("nodes with elk auto-layout", dag(args.layout, laid_out=False), False)]
                runs += [("laid-out nodes", dag(args.interact), True)] * args.repeat
                for label, graph, interact in runs:
                    r = measure(context, root, server.url, graph, interact, marker)
                    print(f"render {r['nodes']} {label}: {r['render_ms']} ms to first frame "
                          f"(browser CPU {r['render_cpu_ms']} ms), {r['drawn']}; frames until drawn: "
                          f"max gap {r['startup']['max']} ms, {r['startup']['dropped']} over 25 ms")
                    if interact:
                        for phase, st in r["phases"].items():
                            traced = r["cpu"].get(phase, [(0.0, 0.0)])
                            cpu = sorted(work for _, work in traced)
                            long = [work for gap, work in traced if gap > 1.5 * 1000 / 60]
                            print(f"  {phase}: {fmt(st)} (>25 ms); main-thread work a frame: p95 "
                                  f"{cpu[int(len(cpu) * 0.95)]:.1f} ms, max {cpu[-1]:.1f} ms, "
                                  f"{sum(1 for c in cpu if c > 1000 / 60)} frames over 16.7 ms; in the trace "
                                  f"{len(long)} frame gaps over 25 ms, their work "
                                  f"[{', '.join(f'{w:.1f}' for w in long)}] ms")
                        print(f"  pan+zoom from zoom {r['zoom']}: {fmt(r['all'])} (>25 ms); {r['rendered_nodes']} "
                              f"nodes in the DOM after zooming back in; load average {os.getloadavg()[0]:.1f}")
                context.close()
        finally:
            server.close()


if __name__ == "__main__":
    main()
