"""A Chromium trace of a page (the DevTools protocol's Tracing domain) and what each long task in it was.

``start(cdp)`` begins tracing the page's renderer (timeline, garbage collection, and the V8 sampling profiler at
its default interval); ``stop(page, cdp)`` ends it and returns the trace events. ``long_tasks(events, after)``
finds the renderer main thread's tasks over 50 ms that began after the user-timing mark ``after`` (the
benchmark's "first frame" mark) and tells each one's share by kind, from the trace events inside it:

- ``gc`` (V8's minor and major GC, wherever they ran inside the task), ``style`` (``UpdateLayoutTree``,
  ``ParseHTML``/``RecalculateStyles``), ``layout``, ``paint`` (``Paint``, ``PrePaint``, ``Layerize``,
  ``UpdateLayer…``, commits), ``script`` (the rest of ``FunctionCall``/``EvaluateScript``/``TimerFire``/… that
  is not one of the above), ``other``;
- the functions with the most self samples of the sampling profiler inside the task (readable names need a
  non-minified build: ``npm run build:dev`` for the widget, ``npm run build:dev -w @dflow-lab/jupyterlab`` for
  the lab extension).

Limits: the profiler samples about every 0.1 ms to 1 ms, so a function's share is approximate; the trace's
own overhead makes tasks a little longer than without it. Not a test; used by benchmarks/live_monitor.py.
"""

from __future__ import annotations

import json
from collections import defaultdict

CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8",
    "v8.execute",
    "disabled-by-default-v8.gc",
    "blink.user_timing",
    "disabled-by-default-v8.cpu_profiler",
]

GC = ("MinorGC", "MajorGC", "V8.GC", "BlinkGC", "GCEvent", "V8.ScavengeTask", "ScavengeTask", "V8.GCScavenger",
      "V8.GCFinalizeMC", "V8.GCIncrementalMarking", "V8.GC_MC", "V8.GC_SCAVENGER", "CppGC")
STYLE = ("UpdateLayoutTree", "RecalculateStyles", "ParseHTML", "ParseAuthorStyleSheet", "InvalidateLayout",
         "ScheduleStyleRecalculation")
LAYOUT = ("Layout", "UpdateLayout")
PAINT = ("Paint", "PrePaint", "Layerize", "UpdateLayer", "UpdateLayerTree", "CompositeLayers", "Commit",
         "PaintImage", "Decode Image", "Rasterize", "RasterTask", "PaintSetup")


def kind(name: str) -> str:
    if name.startswith(GC) or "GC" in name.split(".")[-1][:3]:
        return "gc"
    if name.startswith(STYLE):
        return "style"
    if name in LAYOUT:
        return "layout"
    if name.startswith(PAINT):
        return "paint"
    if name in ("RunTask", "ThreadControllerImpl::RunTask", "RunMicrotasks"):
        return "other"
    return "script"


def start(cdp) -> None:
    cdp.send("Tracing.start", {"transferMode": "ReturnAsStream", "traceConfig": {
        "recordMode": "recordContinuously", "includedCategories": CATEGORIES, "excludedCategories": ["*"]}})


def stop(page, cdp, timeout: float = 120) -> list[dict]:
    done: list[dict] = []
    cdp.on("Tracing.tracingComplete", lambda e: done.append(e))
    cdp.send("Tracing.end")
    waited = 0.0
    while not done and waited < timeout:
        page.wait_for_timeout(100)
        waited += 0.1
    if not done:
        raise RuntimeError(f"the trace did not complete in {timeout:.0f} s")
    handle = done[0]["stream"]
    chunks = []
    while True:
        r = cdp.send("IO.read", {"handle": handle, "size": 1 << 22})
        chunks.append(r["data"])
        if r.get("eof"):
            break
    cdp.send("IO.close", {"handle": handle})
    data = json.loads("".join(chunks))
    return data["traceEvents"] if isinstance(data, dict) else data


def _main_thread(events: list[dict]) -> tuple[int, int] | None:
    """(pid, tid) of the page's renderer main thread (``CrRendererMain`` with the most events)."""
    mains = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
             and (e.get("args") or {}).get("name") == "CrRendererMain"}
    count: dict[tuple[int, int], int] = defaultdict(int)
    for e in events:
        if (e.get("pid"), e.get("tid")) in mains:
            count[(e["pid"], e["tid"])] += 1
    return max(count, key=count.get) if count else None


def _samples(events: list[dict], pid: int, tid: int) -> list[tuple[float, str]]:
    """(ts, function) of the sampling profiler's samples on the main thread: the ``ProfileChunk`` events of the
    ``Profile`` begun on that thread (a worker's profile has another id)."""
    ids = {e.get("id") for e in events if e.get("name") == "Profile" and e.get("pid") == pid and e.get("tid") == tid}
    nodes: dict[int, str] = {}
    out: list[tuple[float, str]] = []
    ts: float | None = None
    mine = [e for e in events if e.get("name") in ("Profile", "ProfileChunk") and e.get("pid") == pid
            and e.get("id") in ids]
    for e in sorted(mine, key=lambda e: e.get("ts", 0)):
        data = (e.get("args") or {}).get("data") or {}
        if e["name"] == "Profile":
            ts = data.get("startTime", e.get("ts"))
            continue
        cpu = data.get("cpuProfile") or {}
        for nd in cpu.get("nodes") or []:
            cf = nd.get("callFrame") or {}
            url = (cf.get("url") or "").rsplit("/", 1)[-1][:28]
            nodes[nd["id"]] = f"{cf.get('functionName') or '(anon)'} {url}:{cf.get('lineNumber', -1) + 1}"
        if ts is None:
            ts = e.get("ts", 0)
        for sid, delta in zip(cpu.get("samples") or [], data.get("timeDeltas") or []):
            ts += delta
            out.append((ts, nodes.get(sid, "?")))
    return out


def mark_ts(events: list[dict], name: str) -> float | None:
    """The trace time (µs) of user-timing mark ``name``."""
    for e in events:
        if e.get("name") == name and "user_timing" in (e.get("cat") or ""):
            return e["ts"]
    return None


def long_tasks(events: list[dict], after: str, threshold_ms: float = 50, before: str | None = None) -> list[dict]:
    """The main thread's tasks over ``threshold_ms`` after mark ``after`` (and before mark ``before``, when
    given): ``{"start_ms" (from the mark), "ms", "kinds": {kind: ms}, "events": [(name, ms)],
    "functions": [(function, ms)]}``."""
    main = _main_thread(events)
    if main is None:
        return []
    pid, tid = main
    t0 = mark_ts(events, after) or 0
    t1 = (mark_ts(events, before) or float("inf")) if before else float("inf")
    mine = [e for e in events if e.get("pid") == pid and e.get("tid") == tid and e.get("ph") == "X" and "dur" in e]
    mine.sort(key=lambda e: (e["ts"], -e["dur"]))
    tasks = [e for e in mine if e["name"] in ("RunTask", "ThreadControllerImpl::RunTask")
             and e["dur"] > threshold_ms * 1000 and t0 <= e["ts"] < t1]
    # keep outermost tasks only
    outer: list[dict] = []
    for t in tasks:
        if outer and t["ts"] < outer[-1]["ts"] + outer[-1]["dur"]:
            continue
        outer.append(t)
    samples = _samples(events, pid, tid)
    out = []
    for t in outer:
        lo, hi = t["ts"], t["ts"] + t["dur"]
        inside = [e for e in mine if lo <= e["ts"] < hi and e is not t]
        # exclusive time by event name: each event's duration minus its direct children's
        excl: dict[str, float] = defaultdict(float)
        stack: list[list] = []  # [event, child time]
        for e in inside:
            end = e["ts"] + e["dur"]
            while stack and stack[-1][0]["ts"] + stack[-1][0]["dur"] <= e["ts"]:
                done, child = stack.pop()
                excl[done["name"]] += done["dur"] - child
            if stack:
                stack[-1][1] += min(e["dur"], stack[-1][0]["ts"] + stack[-1][0]["dur"] - e["ts"])
            stack.append([e, 0.0])
            del end
        while stack:
            done, child = stack.pop()
            excl[done["name"]] += done["dur"] - child
        kinds: dict[str, float] = defaultdict(float)
        for name, us in excl.items():
            kinds[kind(name)] += us / 1000
        accounted = sum(excl.values())
        kinds["other"] += max(0.0, (t["dur"] - accounted) / 1000)
        funcs: dict[str, float] = defaultdict(float)
        inside_samples = [f for ts, f in samples if lo <= ts < hi]
        per = t["dur"] / 1000 / max(1, len(inside_samples))
        for f in inside_samples:
            funcs[f] += per
        out.append({
            "start_ms": (lo - t0) / 1000,
            "ms": t["dur"] / 1000,
            # the main thread's own CPU time in the task (the trace's thread clock): below "ms" by the time it
            # waited for a core, which a loaded machine adds to every task
            "cpu_ms": t["tdur"] / 1000 if "tdur" in t else None,
            "kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
            "events": sorted(((n, us / 1000) for n, us in excl.items()), key=lambda kv: -kv[1])[:6],
            "functions": sorted(funcs.items(), key=lambda kv: -kv[1])[:6],
        })
    return out


def describe(task: dict) -> str:
    """One line per long task: its length, shares by kind, top trace events and top functions."""
    kinds = ", ".join(f"{k} {ms:.0f}" for k, ms in task["kinds"].items() if ms >= 1)
    evs = ", ".join(f"{n} {ms:.0f}" for n, ms in task["events"] if ms >= 1)
    fns = ", ".join(f"{n} {ms:.0f}" for n, ms in task["functions"] if ms >= 1)
    cpu = f" (thread CPU {task['cpu_ms']:.0f} ms)" if task.get("cpu_ms") is not None else ""
    return (f"    +{task['start_ms'] / 1000:.2f} s: {task['ms']:.0f} ms{cpu} = {kinds}\n"
            f"      events: {evs}\n      functions: {fns or '(no samples)'}")
