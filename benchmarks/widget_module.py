"""The notebook widget's ES module arriving in a page, as anywidget brings it, in Debian's headless Chromium.

For each build directory given (``dflow_lab/widgets/static`` of a checkout; several to compare builds side by
side, interleaved), a fresh page: the module's text is put in a JSON message as the kernel's comm-open carries it
(the ``_esm`` trait), and the page then does what JupyterLab and anywidget do with it: ``JSON.parse`` of the
message, a Blob of the text, ``import()`` of its Blob URL (the module's first evaluation). Printed: the module's
size, the milliseconds of each step, and the main thread's long tasks (``PerformanceObserver`` ``longtask``:
over 50 ms) meanwhile. Nothing is rendered: this is the module alone, not the widget's first render.

usage: python benchmarks/widget_module.py [--repeat N] DIR [DIR ...]
Not a test: nothing is asserted; the load average is printed beside each figure (the machine is shared).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import tempfile
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage", "--disable-gpu"]

ARRIVE = """async (name) => {
  const long = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) long.push(Math.round(e.duration)); })
    .observe({ type: 'longtask' });
  const text = await (await fetch('/' + name, { cache: 'no-store' })).text();
  const message = JSON.stringify({ header: {}, content: { data: { state: { _esm: text } } } });
  await new Promise((r) => setTimeout(r, 200));  // the fetch's own work is over
  let t = performance.now();
  const esm = JSON.parse(message).content.data.state._esm;
  const parse = performance.now() - t;
  t = performance.now();
  const url = URL.createObjectURL(new Blob([esm], { type: 'text/javascript' }));
  const blob = performance.now() - t;
  t = performance.now();
  await import(url);
  const evaluated = performance.now() - t;
  await new Promise((r) => setTimeout(r, 300));  // the observer reports the tasks of the import
  return { parse, blob, evaluated, long };
}"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no request log
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("static", nargs="+", type=Path, help="directories holding a widget.js")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = []
        for i, d in enumerate(args.static):
            name = f"widget-{i}.js"
            (root / name).write_bytes((d / "widget.js").read_bytes())
            names.append((name, d))
        (root / "index.html").write_text("<!doctype html><html><body></body></html>")
        handler = functools.partial(Quiet, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/index.html"
        print(f"{os.cpu_count()} cores")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
                for run in range(args.repeat):
                    for name, d in names:
                        page = browser.new_page()
                        page.goto(url)
                        r = page.evaluate(ARRIVE, name)
                        page.close()
                        size = (root / name).stat().st_size / 1e6
                        print(f"run {run + 1} {d} ({size:.2f} MB): JSON.parse {r['parse']:.0f} ms, Blob "
                              f"{r['blob']:.0f} ms, import {r['evaluated']:.0f} ms; long tasks {r['long'] or 'none'}; "
                              f"load {os.getloadavg()[0]:.1f}", flush=True)
                browser.close()
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
