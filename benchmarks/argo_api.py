"""Argo API benchmark: dflow-lab's Argo client and the reference dflow (pydflow) against ``dflow-lab server``.

usage: python benchmarks/argo_api.py [N]
Starts a server on a free 127.0.0.1 port over a temporary workspace, runs one workflow, then times N status
queries (``query_status``) and N full queries (``query``, with the status nodes) with each client, and the
round trip submit → Succeeded of a one-step workflow over HTTP. Prints JSON lines with seconds and ratios.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dflow_lab import Workflow, config
from dflow_lab.apiserver import ArgoServer
from dflow_lab.argo.client import ArgoBackend

PYDFLOW = Path("/opt/pydflow-venv/bin/python")
MANIFEST = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "bench-"},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine:3", "command": ["sh", "-c"], "args": ["echo hi"]}}]}}

PYDFLOW_LOOP = """
import sys, time
from dflow import Workflow, config
config["host"], config["token"], config["namespace"] = sys.argv[1], sys.argv[2], "argo"
wf, n = Workflow(id=sys.argv[3]), int(sys.argv[4])
t = time.perf_counter()
for _ in range(n):
    wf.query_status()
status = time.perf_counter() - t
t = time.perf_counter()
for _ in range(n):
    wf.query()
print(status, time.perf_counter() - t)
"""


def main(n: int = 200) -> None:
    with tempfile.TemporaryDirectory() as ws, ArgoServer(ws, port=0) as server:
        config.update(mode="argo", host=server.url, token=server.token, namespace="argo")
        backend = ArgoBackend()
        t = time.perf_counter()
        name = backend.submit(MANIFEST)["metadata"]["name"]
        backend.wait(name, timeout=60)
        print(json.dumps({"benchmark": "submit_to_succeeded_over_http", "seconds": round(time.perf_counter() - t, 4)}))
        wf = Workflow(id=name)
        t = time.perf_counter()
        for _ in range(n):
            wf.query_status()
        ours_status = time.perf_counter() - t
        t = time.perf_counter()
        for _ in range(n):
            wf.query()
        ours_query = time.perf_counter() - t
        row = {"benchmark": "queries", "n": n, "dflow_lab_query_status_s": round(ours_status, 4),
               "dflow_lab_query_s": round(ours_query, 4)}
        if PYDFLOW.exists():
            out = subprocess.run([str(PYDFLOW), "-c", PYDFLOW_LOOP, server.url, server.token, name, str(n)],
                                 capture_output=True, text=True, check=True).stdout.split()
            ref_status, ref_query = float(out[0]), float(out[1])
            row.update(pydflow_query_status_s=round(ref_status, 4), pydflow_query_s=round(ref_query, 4),
                       query_status_speedup=round(ref_status / ours_status, 2),
                       query_speedup=round(ref_query / ours_query, 2))
        print(json.dumps(row))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
