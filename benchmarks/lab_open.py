"""Opening a large ``.dflow.json`` in JupyterLab: time from the open command to the first useful frame, by stage.

A real ``jupyter lab`` (127.0.0.1, free port, this checkout's extension) and Debian's headless Chromium. The
documents (``benchmarks/_big_graphs.py``, no saved layout): 1,000 distinct tasks in layers of 50 (1,046 edges),
10,000 in layers of 50 (10,910 edges), and the wide shapes of issue 18: 100 layers × 100 tasks, and a
fan-out/fan-in of 10,000. Each document is opened ``--repeat`` times in one page (the first open of the page
loads the canvas's code and starts the layout worker: reported apart), the tab closed between opens.

"First useful frame": the editor's first animation frame with the graph drawn at the fitted zoom, either as
React Flow nodes or as the overview canvas (``canvas.dfl-overview[data-drawn]``). The zoom it was drawn at says
whether names are readable there: the overview writes names from 12 % zoom (``LABEL_ZOOM`` in Overview.tsx),
React Flow's nodes always carry them.

Stages, from the front end's performance marks (``js/canvas/marks.ts``) and the resource timing of the requests,
read back from the page, all in ms from the open command:

- ``server``: the contents request, request sent → first byte (Jupyter reads the file);
- ``transfer``: first byte → last byte of the contents response;
- ``text``: the document's text is in the editor (``dfl:open:text``; JupyterLab's model, widget creation);
- ``parse``: the JSON parsed (``dfl:open:parsed``);
- ``layout``: ``dfl:layout:start`` → ``dfl:layout:end`` (the automatic layout, in a worker or not);
- ``frame``: the first useful frame;
- ``validate``: the server's validation of the document (it runs beside the first frame, not before it):
  request → answer, and the server's share of it (request sent → first byte).

On the last open of the wide shapes, the node search (issue 16's) jumps to ``t7777``: the time until that node
is in the DOM at zoom 1.

usage: python benchmarks/lab_open.py [--shapes 1000 10000 wide fan] [--repeat 4]

Prints one line per open, then each shape's median of the opens after the first; the load average is printed
beside each figure (the machine is shared). Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._big_graphs import fan, layered  # noqa: E402
from tests.lab.jupyter import JupyterServer, ensure_labextension  # noqa: E402
from tests.widgets.jupyterlab_harness import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

SHAPES = {
    "1000": ("1,000 tasks, layers of 50", lambda: layered(1000)),
    "10000": ("10,000 tasks, layers of 50", lambda: layered(10000)),
    "wide": ("100 layers x 100 tasks", lambda: layered(10000, width=100, extra=0)),
    "fan": ("fan-out/fan-in of 10,000", lambda: fan(10000)),
}

PREVIOUS = {"1000": "4.3 s the first time, 2.4-3.3 s after (issue 18, before this work)"}

VISIBLE = ".jp-MainAreaWidget:not(.lm-mod-hidden) .dfl-lab-editor"

OPEN = """async (path) => {
  if (!window.benchLong) {
    window.benchLong = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.benchLong.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask' });
  }
  window.benchLong.length = 0;
  performance.clearMarks(); performance.clearResourceTimings();
  performance.setResourceTimingBufferSize(10000);
  const t0 = performance.now();
  performance.mark('bench:open');
  window.benchFrame = null;
  const useful = () => {
    const root = document.querySelector('%(visible)s');
    if (!root) return null;
    const overview = root.querySelector('canvas.dfl-overview:not(.dfl-overview-under)');
    const drawn = overview ? Number(overview.dataset.drawn || 0) : 0;
    const dom = root.querySelectorAll('.react-flow__node-step').length;
    if (!drawn && !dom) return null;
    const vp = root.querySelector('.react-flow__viewport');
    const zoom = Number(/scale\\(([^)]+)\\)/.exec(vp.style.transform)?.[1] ?? 1);
    return { drawn, dom, zoom, overview: !!overview };
  };
  const tick = () => {
    const u = useful();
    if (u) { window.benchFrame = { ...u, t: performance.now() - t0 }; return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  await window.jupyterapp.commands.execute('docmanager:open', { path });
  return t0;
}""" % {"visible": VISIBLE}

STAGES = """([t0, path]) => {
  const marks = Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime - t0]));
  const res = performance.getEntriesByType('resource');
  const contents = res.filter((r) => r.name.includes('/api/contents/' + path)).pop();
  const validate = res.filter((r) => r.name.includes('/dflow-lab/api/validate')).pop();
  const mem = performance.memory ? performance.memory.usedJSHeapSize : null;
  const long = window.benchLong.map(([s, d]) => [s - t0, d]);
  return { marks, mem, long,
    contents: contents && { start: contents.startTime - t0, requestStart: contents.requestStart - t0,
                            responseStart: contents.responseStart - t0, responseEnd: contents.responseEnd - t0,
                            bytes: contents.encodedBodySize },
    validate: validate && { start: validate.startTime - t0, requestStart: validate.requestStart - t0,
                            responseStart: validate.responseStart - t0, responseEnd: validate.responseEnd - t0 } };
}"""


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def profile_top(profile: dict, n: int = 25) -> str:
    """The functions with the most self time, and with the most total time, in a CDP CPU profile."""
    nodes = {nd["id"]: nd for nd in profile["nodes"]}
    parent = {c: nd["id"] for nd in profile["nodes"] for c in nd.get("children", [])}
    per = (profile["endTime"] - profile["startTime"]) / max(1, len(profile["samples"])) / 1000

    def key(nid):
        cf = nodes[nid]["callFrame"]
        return f"{cf['functionName'] or '(anon)'} {cf['url'].rsplit('/', 1)[-1][:24]}:{cf['lineNumber'] + 1}"

    own: dict[str, float] = {}
    total: dict[str, float] = {}
    for sid in profile["samples"]:
        own[key(sid)] = own.get(key(sid), 0) + per
        seen, nid = set(), sid
        while nid is not None:
            k = key(nid)
            if k not in seen:
                seen.add(k)
                total[k] = total.get(k, 0) + per
            nid = parent.get(nid)
    top = lambda d: "\n".join(f"  {ms:8.0f} ms  {k}" for k, ms in sorted(d.items(), key=lambda kv: -kv[1])[:n])  # noqa: E731
    return f"self:\n{top(own)}\ntotal:\n{top(total)}"


def profile_bursts(profile: dict, over_ms: float = 50, n: int = 8) -> str:
    """The main thread's busy stretches over ``over_ms`` in a CDP CPU profile (runs of samples that are not
    idle), each with the functions of the canvas's bundle that took most of it (total time, so a stage's entry
    point shows): a long task attributed without aligning the profile's clock with the page's."""
    nodes = {nd["id"]: nd for nd in profile["nodes"]}
    parent = {c: nd["id"] for nd in profile["nodes"] for c in nd.get("children", [])}
    ours = ("lib_index_js", "widget.js", "blob:")
    out, burst, t, start = [], [], profile["startTime"], None

    def flush(end):
        if burst and (end - start) / 1000 >= over_ms:
            total: dict[str, float] = {}
            for sid, dt in burst:
                seen, nid = set(), sid
                while nid is not None:
                    cf = nodes[nid]["callFrame"]
                    if any(o in cf["url"] for o in ours) and cf["functionName"] and cf["functionName"] not in seen:
                        seen.add(cf["functionName"])
                        total[cf["functionName"]] = total.get(cf["functionName"], 0) + dt / 1000
                    nid = parent.get(nid)
            top = sorted(total.items(), key=lambda kv: -kv[1])[:n]
            out.append(f"  busy {(end - start) / 1000:.0f} ms: " + ", ".join(f"{k} {v:.0f}" for k, v in top))

    for sid, dt in zip(profile["samples"], profile["timeDeltas"]):
        t += dt
        if nodes[sid]["callFrame"]["functionName"] == "(idle)":
            flush(t)
            burst, start = [], None
            continue
        if start is None:
            start = t
        burst.append((sid, dt))
    if start is not None:
        flush(t)
    return "\n".join(out)


def search_jump(page, name: str) -> str:
    """Type ``name`` into the canvas's node search, press Enter: how long until that node is in the DOM (handed
    to React Flow, names readable) and at what zoom."""
    box = page.locator(f"{VISIBLE} [data-testid='node-search']")
    box.fill(name)
    t0 = time.monotonic()
    box.press("Enter")
    sel = f"{VISIBLE} .react-flow__node[data-id='{name}']:not([style*='visibility: hidden'])"
    page.wait_for_selector(sel, timeout=60_000)
    page.wait_for_function(f"() => {{ const vp = document.querySelector('{VISIBLE} .react-flow__viewport'); "
                           f"return Number(/scale\\(([^)]+)\\)/.exec(vp.style.transform)[1]) >= 0.99; }}",
                           timeout=60_000)
    note = page.locator(f"{VISIBLE} [data-testid='node-search-note']").text_content()
    return (f"search {name!r} + Enter: the node in the DOM at zoom 1 after {time.monotonic() - t0:.2f} s "
            f"(match {note})")


def open_once(page, path: str, label: str, profile: bool = False, search: str | None = None) -> dict:
    cdp = None
    if profile:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 500})
        cdp.send("Profiler.start")
    t0 = page.evaluate(OPEN, path)
    page.wait_for_function("() => window.benchFrame", timeout=300_000, polling=100)
    frame = page.evaluate("() => window.benchFrame")
    # validation answers after the first frame: wait for it (bounded) so its figure is in
    try:
        page.wait_for_function("() => performance.getEntriesByName('dfl:validate:end').length", timeout=120_000)
    except Exception:  # noqa: BLE001 - reported as missing, not fatal for the other figures
        pass
    # the long tasks of the open: until the page has been quiet (no long task) for a second after validation
    try:
        page.wait_for_function("""() => { const v = performance.getEntriesByName('dfl:validate:end').pop();
          const last = window.benchLong.reduce((m, [s, d]) => Math.max(m, s + d), 0);
          const now = performance.now();
          return v && now - v.startTime > 1000 && now - last > 1000; }""", timeout=60_000, polling=200)
    except Exception:  # noqa: BLE001 - the long tasks so far are reported
        pass
    st = page.evaluate(STAGES, [t0, path])
    if cdp:
        prof = cdp.send("Profiler.stop")["profile"]
        print(profile_top(prof))
        print(profile_bursts(prof))
        cdp.detach()
        print("  marks: " + ", ".join(f"{k} {t:.0f}" for k, t in sorted(st["marks"].items(), key=lambda kv: kv[1])))
        spans = sorted(st["marks"].items(), key=lambda kv: kv[1])
        for start, dur in st["long"]:
            inside = [k for k, t in spans if start <= t <= start + dur]
            before = [k for k, t in spans if t < start]
            print(f"  long task at {start:.0f} ms, {dur:.0f} ms: after {before[-1] if before else '-'}"
                  f"{'; spans ' + ', '.join(inside) if inside else ''}")
    found = search_jump(page, search) if search else None
    m, c, v = st["marks"], st["contents"] or {}, st["validate"] or {}
    out = {"frame": frame["t"], "zoom": frame["zoom"], "drawn": frame["drawn"], "dom": frame["dom"],
           "server": c.get("responseStart", 0) - c.get("requestStart", 0),
           "transfer": c.get("responseEnd", 0) - c.get("responseStart", 0), "bytes": c.get("bytes"),
           "text": m.get("dfl:open:text"), "parse": m.get("dfl:open:parsed"),
           "layout_start": m.get("dfl:layout:start"), "layout_end": m.get("dfl:layout:end"),
           "validate": (v.get("responseEnd", 0) - v.get("start", 0)) if v else None,
           "validate_server": (v.get("responseStart", 0) - v.get("requestStart", 0)) if v else None,
           "heap_mb": st["mem"] / 2**20 if st["mem"] else None, "search": found,
           "long_before": [d for s, d in st["long"] if s < frame["t"]],
           "long_after": [d for s, d in st["long"] if s >= frame["t"]]}
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    page.wait_for_function(f"() => !document.querySelector('{VISIBLE}')", timeout=60_000)
    return out


def longs(ds: list[float]) -> str:
    return f"{len(ds)} (max {max(ds):.0f} ms)" if ds else "0"


def fmt(r: dict) -> str:
    def ms(x):
        return "-" if x is None else f"{x:.0f}"
    layout = (r["layout_end"] - r["layout_start"]) if r["layout_end"] is not None else None
    names = "names readable" if r["dom"] or r["zoom"] >= 0.12 else "no names (zoom below 0.12)"
    return (f"first useful frame {r['frame']:.0f} ms [server {ms(r['server'])}, transfer {ms(r['transfer'])} "
            f"({(r['bytes'] or 0) / 1e6:.1f} MB), text in editor at {ms(r['text'])}, parsed at {ms(r['parse'])}, "
            f"layout {ms(layout)} (done at {ms(r['layout_end'])}), frame at {ms(r['frame'])}]; zoom {r['zoom']:.3f}, "
            f"{r['drawn'] or r['dom']} nodes drawn, {names}; validation beside it {ms(r['validate'])} ms "
            f"(server {ms(r['validate_server'])}); JS heap {r['heap_mb'] or 0:.0f} MB; "
            f"long tasks (over 50 ms) to the frame {longs(r['long_before'])}, after it {longs(r['long_after'])}"
            + (f"; {r['search']}" if r.get("search") else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    ap.add_argument("--repeat", type=int, default=4)
    ap.add_argument("--profile", action="store_true", help="print the top self-time functions of each open "
                    "(build with `npm run build:dev` for readable names)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    ensure_labextension()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        root = home / "root"
        root.mkdir()
        for key in args.shapes:
            (root / f"big-{key}.dflow.json").write_text(json.dumps(SHAPES[key][1](), indent=1))
        lab = JupyterServer(home, root, app="lab")
        try:
            with sync_playwright() as pw:
                context = pw.chromium.launch_persistent_context(
                    str(home / "profile"), executable_path=CHROMIUM, headless=True,
                    args=[*CHROMIUM_ARGS, "--enable-precise-memory-info"], viewport={"width": 1440, "height": 900})
                page = context.pages[0] if context.pages else context.new_page()
                page.goto(f"{lab.url}/lab?token={lab.token}&reset")
                page.wait_for_function("() => window.jupyterapp && "
                                       "window.jupyterapp.commands.hasCommand('dflow-lab:new-workflow')",
                                       timeout=120_000)
                page.wait_for_selector(".jp-LauncherCard", timeout=120_000)
                print(f"{os.cpu_count()} cores; Chromium window 1440x900; {load()}")
                summary = []
                first = True
                for key in args.shapes:
                    label = SHAPES[key][0]
                    rs = []
                    for i in range(args.repeat):
                        r = open_once(page, f"big-{key}.dflow.json", label, args.profile,
                                      search="t7777" if key in ("wide", "fan") and i == args.repeat - 1 else None)
                        tag = "first open of the page" if first else f"open {i + 1}"
                        first = False
                        print(f"{label}, {tag}: {fmt(r)}; {load()}", flush=True)
                        if i:
                            rs.append(r)
                    if rs:
                        med = statistics.median(r["frame"] for r in rs)
                        summary.append(f"{label}: median {med / 1000:.2f} s to the first useful frame over "
                                       f"{len(rs)} opens (range {min(r['frame'] for r in rs) / 1000:.2f}-"
                                       f"{max(r['frame'] for r in rs) / 1000:.2f} s); previously "
                                       f"{PREVIOUS.get(key, 'not measured')}; {load()}")
                context.close()
        finally:
            lab.stop()
    print("\n".join(summary))


if __name__ == "__main__":
    main()
