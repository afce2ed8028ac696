"""Local engine scale benchmark: DAG, Steps and fan-out of N trivial Python OP tasks, N up to 10,000.

    python benchmarks/engine_scale.py                          # N = 1,000, 2,000, 4,000, 10,000; all shapes
    python benchmarks/engine_scale.py --sizes 1000 2000 --shapes dag
    python benchmarks/engine_scale.py --profile dag:4000      # cProfile of the engine thread, top 25

Shapes (the same ``y = x + 1`` Python OP everywhere):

- ``dag``: a DAG of N tasks in layers of 10, each task fed by the task in its column of the layer before;
- ``steps``: a Steps template of N/10 groups of 10 steps, each step fed by the step in its column of the
  group before;
- ``fanout``: one step looped over N items (``with_param``).

Each (shape, N) runs in a fresh process (a warm-up run first starts the worker pool).  The workflow is
compiled before the clock starts; printed: wall seconds from ``submit``, the engine's CPU per task (CPU
time of the submitting process, where the engine runs, during the run: scheduling, scopes, status
nodes, SQLite; the OPs run in worker processes and are not counted), wall per task, and the engine
process's peak RSS growth over the run.  Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout: the OP is tests.ops.Inc
WIDTH = 10


def build(shape: str, n: int):
    from dflow_lab import DAG, Step, Task, Workflow, argo_range
    from dflow_lab.python import PythonOPTemplate
    from tests.ops import Inc  # the tests' shared OPs; the workers import it from the checkout

    template = PythonOPTemplate(Inc)
    if shape == "fanout":
        wf = Workflow(f"fanout-{n}")
        wf.add(Step("inc", template, parameters={"x": "{{item}}"}, with_param=argo_range(n)))
        return wf
    if shape == "dag":
        dag = DAG(name="layers")
        tasks: list = []
        for i in range(n):
            x = tasks[i - WIDTH].outputs.parameters["y"] if i >= WIDTH else 0
            tasks.append(Task(f"t{i}", template, parameters={"x": x}))
        dag.add(tasks)
        return Workflow(f"dag-{n}", dag=dag)
    if shape == "steps":
        wf = Workflow(f"steps-{n}")
        previous: list = []
        for g in range(n // WIDTH):
            group = [Step(f"s{g}-{c}", template,
                          parameters={"x": previous[c].outputs.parameters["y"] if previous else 0})
                     for c in range(WIDTH)]
            wf.add(group)
            previous = group
        return wf
    raise SystemExit(f"unknown shape {shape!r}")


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def one(shape: str, n: int, profile: bool) -> dict:
    """Run one (shape, N) in this process; the figures as a dict."""
    from dflow_lab.local.backend import LocalBackend

    warm = build("fanout", 4)
    LocalBackend().submit(warm.to_dict(), wait=True)
    manifest = build(shape, n).to_dict()
    backend = LocalBackend()
    rss0 = _rss_mb()
    peak0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    profiler = None
    if profile:
        import cProfile

        from dflow_lab.local.engine import EngineHost

        profiler = cProfile.Profile(time.thread_time)  # CPU of the engine thread, not wall time
        EngineHost.get().loop.call_soon_threadsafe(profiler.enable)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    wf = backend.submit(manifest, wait=True)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    if profiler is not None:
        import io
        import pstats

        from dflow_lab.local.engine import EngineHost

        EngineHost.get().loop.call_soon_threadsafe(profiler.disable)
        time.sleep(0.2)
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue(), file=sys.stderr)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    phase = wf["status"]["phase"]
    return {"shape": shape, "n": n, "phase": phase, "wall": wall, "cpu": cpu, "rss_before_mb": rss0,
            "peak_growth_mb": max(0.0, peak - max(peak0, rss0)), "nodes": len(wf["status"].get("nodes") or {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 10000])
    parser.add_argument("--shapes", nargs="+", default=["dag", "steps", "fanout"])
    parser.add_argument("--profile", help="SHAPE:N: profile the engine on one run (stderr)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one or args.profile:
        shape, n = (args.one or args.profile).split(":")
        with tempfile.TemporaryDirectory(prefix="dflow-lab-scale-") as tmp:
            os.chdir(tmp)
            sys.path.insert(0, str(ROOT))  # tests.ops
            from dflow_lab.config import config

            config["mode"] = "local"
            config["local_workdir"] = str(Path(tmp) / "ws")
            print(json.dumps(one(shape, int(n), bool(args.profile))), flush=True)
        return

    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores", flush=True)
    print(f"{'shape':<8}{'N':>7}{'phase':>11}{'wall s':>9}{'wall ms/task':>14}{'engine CPU ms/task':>20}"
          f"{'peak RSS +MB':>14}", flush=True)
    for shape in args.shapes:
        for n in args.sizes:
            proc = subprocess.run([sys.executable, __file__, "--one", f"{shape}:{n}"], capture_output=True,
                                  text=True, timeout=7200)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
            if proc.returncode != 0 or not lines:
                print(f"{shape:<8}{n:>7}  failed: {proc.stderr[-1500:]}", flush=True)
                continue
            r = json.loads(lines[-1])
            print(f"{shape:<8}{n:>7}{r['phase']:>11}{r['wall']:>9.2f}{1000 * r['wall'] / n:>14.2f}"
                  f"{1000 * r['cpu'] / n:>20.2f}{r['peak_growth_mb']:>14.1f}", flush=True)


if __name__ == "__main__":
    main()
