"""``synchronization`` on the local engine: template-level mutexes and semaphores (the semaphore's limit from
a workspace config map) bound how many nodes run at once; a workflow-level mutex serialises workflows."""

from __future__ import annotations

from pathlib import Path

from dflow_lab.local.backend import LocalBackend
from dflow_lab.local.objects import ObjectStore

from .local_helpers import manifest, sh


def _max_overlap(trace: Path) -> int:
    """The most holders inside at once, from a trace of 'in'/'out' lines appended by the steps."""
    now = most = 0
    for line in trace.read_text().split():
        now += 1 if line == "in" else -1
        most = max(most, now)
    assert now == 0
    return most


def _fan_out(trace: Path, sync: dict, n: int = 4) -> dict:
    work = sh("work", f"echo in >> {trace}; sleep 0.3; echo out >> {trace}", synchronization=sync)
    main = {"name": "main", "steps": [[{"name": "w", "template": "work", "withSequence": {"count": str(n)}}]]}
    return manifest([main, work])


def test_template_mutex_admits_one_node_at_a_time(tmp_path):
    backend = LocalBackend(tmp_path / "ws")
    trace = tmp_path / "trace"
    wf = backend.submit(_fan_out(trace, {"mutexes": [{"name": "one"}]}))
    assert wf["status"]["phase"] == "Succeeded"
    assert _max_overlap(trace) == 1 and trace.read_text().split().count("in") == 4


def test_semaphore_limit_comes_from_a_config_map(tmp_path):
    backend = LocalBackend(tmp_path / "ws")
    ObjectStore(backend.workdir).create({"kind": "ConfigMap", "metadata": {"name": "my-config"},
                                         "data": {"template": "2"}})
    trace = tmp_path / "trace"
    wf = backend.submit(_fan_out(trace, {"semaphores": [{"configMapKeyRef": {"name": "my-config", "key": "template"}}]},
                                 n=6))
    assert wf["status"]["phase"] == "Succeeded"
    assert 1 <= _max_overlap(trace) <= 2 and trace.read_text().split().count("in") == 6


def test_missing_semaphore_config_map_errors_naming_the_step(tmp_path):
    backend = LocalBackend(tmp_path / "ws")
    wf = backend.submit(_fan_out(tmp_path / "trace", {"semaphores": [{"configMapKeyRef": {"name": "nope", "key": "k"}}]},
                                 n=1))
    assert wf["status"]["phase"] in ("Failed", "Error")
    assert any("config map 'nope' does not exist" in (n.get("message") or "") and "step" in n["message"]
               for n in wf["status"]["nodes"].values())


def test_workflow_level_mutex_serialises_workflows(tmp_path):
    backend = LocalBackend(tmp_path / "ws")
    trace = tmp_path / "trace"
    step = sh("main", f"echo in >> {trace}; sleep 0.3; echo out >> {trace}")
    names = [backend.submit(manifest([step], synchronization={"mutex": {"name": "wf"}}), wait=False)["metadata"]["name"]
             for _ in range(3)]
    assert [backend.wait(n, timeout=120)["status"]["phase"] for n in names] == ["Succeeded"] * 3
    assert _max_overlap(trace) == 1
