"""Browser benchmark of the canvas: time to render N nodes, elk layout time, and frame times while panning
and zooming. Runs the built widget bundle (dflow_lab/widgets/static) in Debian's headless Chromium with a
stand-in for anywidget's model, served from 127.0.0.1.

usage: python benchmarks/canvas_render.py [--render 1000] [--interact 5000] [--layout 1000]
Prints one line per measurement. Needs `npm run build` (or an installed package) and /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import tempfile
import threading
from pathlib import Path

from dflow_lab.widgets._static import STATIC

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage"]

PAGE = """<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/widget.css"></head>
<body style="margin:0"><div id="host" style="width:1400px"></div>
<script type="module">
import widget from "/widget.js";
const graph = await (await fetch("/graph.json")).json();
const traits = {graph, view: "canvas", issues: [], palette: [], actions: [], notice: null, workflow_state: null,
                height: 860};
const listeners = {};
const model = {
  get: (k) => traits[k], set: (k, v) => { traits[k] = v; }, save_changes() {},
  on(e, f) { (listeners[e] ??= []).push(f); }, off() {}, send() {},
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


def measure(context, root: Path, url: str, graph: dict, interact: bool, marker: str) -> dict:
    (root / "graph.json").write_text(json.dumps(graph))
    page = context.new_page()
    page.goto(f"{url}/index.html")
    page.wait_for_function("() => typeof window.startRender === 'function'")
    n = len(graph["templates"]["main"]["nodes"])
    cpu0 = cpu_seconds(marker)
    page.evaluate("() => window.startRender()")
    page.wait_for_function(f"() => document.querySelectorAll('.react-flow__node-step').length >= {n}",
                           timeout=300_000)
    render_ms = page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(performance.now() - window.t0)))")
    out = {"nodes": n, "render_ms": round(render_ms), "render_cpu_ms": round((cpu_seconds(marker) - cpu0) * 1000)}
    if interact:
        pane = page.locator(".react-flow__pane").bounding_box()
        cx, cy = pane["x"] + pane["width"] / 2, pane["y"] + pane["height"] / 2
        page.mouse.move(cx, cy)
        for _ in range(6):  # zoom in to a readable level first
            page.mouse.wheel(0, -300)
        page.evaluate("""() => { window.frames_ = []; window.recording = true;
            const tick = (t) => { window.frames_.push(t); if (window.recording) requestAnimationFrame(tick); };
            requestAnimationFrame(tick); }""")
        page.mouse.down()
        for i in range(120):  # a 2 s pan, one mouse move per frame at 60 Hz
            page.mouse.move(cx - i * 4, cy - i * 2)
        page.mouse.up()
        for _ in range(20):  # zoom out and in
            page.mouse.wheel(0, 120)
        for _ in range(20):
            page.mouse.wheel(0, -120)
        frames = page.evaluate("() => { window.recording = false; return window.frames_; }")
        gaps = sorted(b - a for a, b in zip(frames, frames[1:]))
        out.update({
            "frames": len(frames),
            "frame_p50_ms": round(gaps[len(gaps) // 2], 1),
            "frame_p95_ms": round(gaps[int(len(gaps) * 0.95)], 1),
            "dropped": sum(1 for g in gaps if g > 1.5 * 1000 / 60),
            "rendered_nodes": page.evaluate("() => document.querySelectorAll('.react-flow__node').length"),
        })
    page.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--render", type=int, default=1000)
    ap.add_argument("--interact", type=int, default=5000)
    ap.add_argument("--layout", type=int, default=1000)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("widget.js", "widget.css"):
            (root / name).write_bytes((STATIC / name).read_bytes())
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
                for label, graph, interact in [
                    ("laid-out nodes", dag(args.render), False),
                    ("nodes with elk auto-layout", dag(args.layout, laid_out=False), False),
                    ("laid-out nodes", dag(args.interact), True),
                ]:
                    r = measure(context, root, server.url, graph, interact, marker)
                    line = (f"render {r['nodes']} {label}: {r['render_ms']} ms to first frame "
                            f"(browser CPU {r['render_cpu_ms']} ms)")
                    if interact:
                        line += (f"; pan+zoom: {r['frames']} frames, p50 {r['frame_p50_ms']} ms, p95 "
                                 f"{r['frame_p95_ms']} ms, {r['dropped']} dropped (>25 ms), "
                                 f"{r['rendered_nodes']} nodes in the DOM while zoomed in")
                    print(line)
                context.close()
        finally:
            server.close()


if __name__ == "__main__":
    main()
