"""Attempts and durable logs: each retry attempt keeps its own log, error and times; with ``archiveLogs`` a
step's log is stored with the run's artifacts and stays readable when its step directory is gone and after
the engine's process is replaced."""

from __future__ import annotations

import shutil
import subprocess
import sys

from dflow_lab.local.backend import LocalBackend


def retry_manifest(count: str, archive: bool = True) -> dict:
    """Step ``flaky`` fails on its first two attempts (a count file says which attempt it is)."""
    script = (f"n=$(cat {count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {count}; "
              "echo attempt $n; if [ $n -lt 3 ]; then echo broken $n >&2; exit 3; fi; echo fine")
    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": "logs-"},
        "spec": {
            "entrypoint": "main", "archiveLogs": archive,
            "templates": [
                {"name": "main", "steps": [[{"name": "flaky", "template": "flaky"}]]},
                {"name": "flaky", "retryStrategy": {"limit": 3},
                 "script": {"image": "alpine:3", "command": ["sh"], "source": script}},
            ],
        },
    }


def test_attempts_each_with_log_error_and_duration(tmp_path):
    backend = LocalBackend(tmp_path / "ws")
    wf = backend.submit(retry_manifest(str(tmp_path / "n")), wait=True)
    name = wf["metadata"]["name"]
    assert wf["status"]["phase"] == "Succeeded"
    nodes = backend.get(name)["status"]["nodes"]
    retry = next(n for n in nodes.values() if n["type"] == "Retry")
    attempts = [nodes[c] for c in retry["children"]]
    assert [a["phase"] for a in attempts] == ["Failed", "Failed", "Succeeded"]
    assert [a["displayName"] for a in attempts] == ["flaky(0)", "flaky(1)", "flaky(2)"]
    for i, a in enumerate(attempts, 1):
        assert list(backend.logs(name, a["id"]))[0] == f"attempt {i}"
        assert a["startedAt"] and a["finishedAt"]
    assert "exit code 3" in attempts[0]["message"]
    assert list(backend.logs(name, attempts[1]["id"])) == ["attempt 2", "broken 2"]


def test_archived_logs_survive_the_step_directory_and_a_restart(tmp_path):
    ws = tmp_path / "ws"
    backend = LocalBackend(ws)
    name = backend.submit(retry_manifest(str(tmp_path / "n")), wait=True)["metadata"]["name"]
    nodes = backend.get(name)["status"]["nodes"]
    pods = sorted((n for n in nodes.values() if n["type"] == "Pod"), key=lambda n: n["displayName"])
    for pod in pods:
        arts = {a["name"]: a for a in pod["outputs"].get("artifacts") or []}
        assert arts["main-logs"]["s3"]["key"].endswith("/main.log")
        shutil.rmtree(pod["hostDir"])  # the step's directory (a pod) is gone
    # another process (a restarted server) reads them from the run's artifacts
    code = ("import sys; from dflow_lab.local.backend import LocalBackend; b = LocalBackend(sys.argv[1]); "
            "print('|'.join(b.logs(sys.argv[2], sys.argv[3])))")
    out = subprocess.run([sys.executable, "-c", code, str(ws), name, pods[1]["id"]], capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "attempt 2|broken 2"
    text, end, skipped = backend.read_log(name, pods[2]["id"])
    assert text == "attempt 3\nfine\n" and end == len(text) and not skipped


def test_without_archive_logs_nothing_is_stored(tmp_path):
    backend = LocalBackend(tmp_path / "ws")
    name = backend.submit(retry_manifest(str(tmp_path / "n"), archive=False), wait=True)["metadata"]["name"]
    pods = [n for n in backend.get(name)["status"]["nodes"].values() if n["type"] == "Pod"]
    assert all(not any(a["name"] == "main-logs" for a in (p.get("outputs") or {}).get("artifacts") or [])
               for p in pods)
