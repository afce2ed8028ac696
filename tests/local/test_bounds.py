"""Bounds of the local engine on what a manifest can ask for: loop sizes, recursion depth, message length.

Each bound refuses with an error naming the workflow, the step and the field, and stores nothing (or one
failed node) for it; see docs/security.md, "Bounds".
"""

from __future__ import annotations

import os
import signal

import pytest

from dflow_lab.bounds import MESSAGE_MAX, cut_text
from dflow_lab.config import config
from dflow_lab.errors import WorkflowValueError
from dflow_lab.local.engine import engine_alive

from .local_helpers import manifest, sh, wait_for

SEQ_BOMB = 10 ** 9


def _loop(**loop) -> dict:
    return manifest([
        {"name": "main", "steps": [[{"name": "fan", "template": "echo", **loop,
                                     "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]}}]]},
        sh("echo", "echo {{inputs.parameters.x}}", inputs={"parameters": [{"name": "x"}]}),
    ])


def _nothing_stored(backend) -> None:
    assert backend.store.workflows() == []
    assert not (backend.workdir / "runs").exists() or not any((backend.workdir / "runs").iterdir())


# -- loops ------------------------------------------------------------------------------------------

def test_literal_sequence_of_a_billion_is_refused_before_anything_is_stored(backend):
    m = _loop(withSequence={"count": str(SEQ_BOMB)})
    with pytest.raises(WorkflowValueError) as e:
        backend.submit(m)
    text = str(e.value)
    assert "withSequence" in text and "1,000,000,000 items" in text and "local_max_items" in text
    assert "'fan'" in text and "template 'main'" in text
    _nothing_stored(backend)


def test_sequence_by_end_and_literal_items_are_bounded_too(backend, monkeypatch):
    monkeypatch.setitem(config, "local_max_items", 5)
    with pytest.raises(WorkflowValueError, match=r"withSequence.*6 items"):
        backend.submit(_loop(withSequence={"start": "10", "end": "5"}))
    with pytest.raises(WorkflowValueError, match=r"withItems.*6 items"):
        backend.submit(_loop(withItems=list(range(6))))
    _nothing_stored(backend)
    ok = backend.submit(_loop(withItems=list(range(5))))
    assert ok["status"]["phase"] == "Succeeded"


def test_sequence_count_from_a_parameter_fails_the_step_without_expanding(backend):
    m = _loop(withSequence={"count": "{{workflow.parameters.n}}"})
    m["spec"]["arguments"] = {"parameters": [{"name": "n", "value": str(SEQ_BOMB)}]}
    wf = backend.submit(m)
    assert wf["status"]["phase"] in ("Failed", "Error")
    nodes = wf["status"]["nodes"]
    assert len(nodes) <= 3  # the workflow, the step group, the refused step: no item node
    fan = next(n for n in nodes.values() if n["displayName"] == "fan")
    assert fan["phase"] == "Error"
    assert "withSequence" in fan["message"] and "1,000,000,000 items" in fan["message"]
    assert f"workflow {wf['metadata']['name']!r}" in fan["message"]


def test_with_param_over_the_bound_fails_the_task(backend, monkeypatch):
    monkeypatch.setitem(config, "local_max_items", 3)
    m = manifest([
        {"name": "main", "dag": {"tasks": [
            {"name": "fan", "template": "echo", "withParam": "{{workflow.parameters.list}}",
             "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]}}]}},
        sh("echo", "echo {{inputs.parameters.x}}", inputs={"parameters": [{"name": "x"}]}),
    ])
    m["spec"]["arguments"] = {"parameters": [{"name": "list", "value": "[1, 2, 3, 4]"}]}
    wf = backend.submit(m)
    fan = next(n for n in wf["status"]["nodes"].values() if n["displayName"] == "fan")
    assert fan["phase"] == "Error" and "withParam" in fan["message"] and "4 items" in fan["message"]
    assert not [n for n in wf["status"]["nodes"].values() if n["displayName"].startswith("fan(")]


def test_a_bound_that_is_not_a_positive_number_is_refused(backend, monkeypatch):
    monkeypatch.setitem(config, "local_max_items", 0)
    with pytest.raises(ValueError, match="local_max_items"):
        backend.submit(_loop(withItems=[1]))


# -- recursion --------------------------------------------------------------------------------------

def _recursive(nap: str | None = None) -> dict:
    steps = [[{"name": "again", "template": "main"}]]
    templates = [{"name": "main", "steps": steps}]
    if nap:
        steps.insert(0, [{"name": "nap", "template": "nap"}])
        templates.append(sh("nap", nap))
    return manifest(templates)


def test_a_template_that_calls_itself_stops_at_argos_depth(backend):
    wf = backend.submit(_recursive())
    assert wf["status"]["phase"] in ("Failed", "Error")
    nodes = list(wf["status"]["nodes"].values())
    deepest = [n for n in nodes if "Maximum recursion depth exceeded" in (n.get("message") or "")]
    assert len(deepest) == 1 and deepest[0]["phase"] == "Error"
    assert "depth 100" in deepest[0]["message"] and "local_max_depth" in deepest[0]["message"]
    # 99 template calls (the entrypoint and 98 nested), each a Steps node with one step group, then the refused one
    assert sum(1 for n in nodes if n["type"] == "Steps") == 99
    assert len(nodes) == 99 * 2 + 1


def test_recursion_depth_is_configurable(backend, monkeypatch):
    monkeypatch.setitem(config, "local_max_depth", 5)
    wf = backend.submit(_recursive())
    assert sum(1 for n in wf["status"]["nodes"].values() if n["type"] == "Steps") == 4
    assert "depth 5" in next(n["message"] for n in wf["status"]["nodes"].values() if n["phase"] == "Error")


def test_a_recursive_run_whose_engine_is_killed_ends_on_resume(backend, monkeypatch, tmp_path):
    monkeypatch.setitem(config, "local_max_depth", 12)
    started, flag = tmp_path / "started", tmp_path / "flag"
    # each level's `nap` notes that it started, then waits (bounded, 60 s) for a flag the test creates after the resume
    nap = f"echo x >> {started}; i=0; while [ ! -e {flag} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"
    wf = backend.submit(_recursive(nap), wait=False)
    name = wf["metadata"]["name"]
    wait_for(lambda: started.exists(), what="the first level's nap")
    pid = backend.engine_pid(name)
    os.kill(pid, signal.SIGKILL)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    assert not engine_alive(backend.workdir, name)
    assert backend.get(name)["status"]["phase"] == "Running"  # nobody ends it but a resume
    backend.resume(name)
    wait_for(lambda: started.read_text().count("x") == 2, what="the nap to run again after the resume")
    flag.write_text("")
    done = backend.wait(name, timeout=120)
    assert done["status"]["phase"] in ("Failed", "Error")
    nodes = done["status"]["nodes"].values()
    assert any("Maximum recursion depth exceeded" in (n.get("message") or "") for n in nodes)
    assert sum(1 for n in nodes if n["type"] == "Steps") == 11
    assert not [n for n in nodes if n["phase"] in ("Running", "Pending")]
    wait_for(lambda: not engine_alive(backend.workdir, name), what="engine exit")


# -- messages ---------------------------------------------------------------------------------------

def test_cut_text_keeps_head_tail_and_the_length():
    assert cut_text("short") == "short"
    text = "a" * 10_000 + "END"
    out = cut_text(text)
    assert len(out) <= MESSAGE_MAX and out.startswith("aaa") and out.endswith("END")
    assert "10,003 characters, cut" in out
    assert len(cut_text("x" * 5000, 100)) <= 100


def test_a_two_megabyte_when_is_refused_with_a_bounded_message(backend):
    huge = "{{workflow.parameters.a}} == " + "1" * (2 * 1024 * 1024)
    m = manifest([
        {"name": "main", "steps": [[{"name": "s", "template": "echo", "when": huge}]]},
        sh("echo", "echo hi"),
    ])
    m["spec"]["arguments"] = {"parameters": [{"name": "a", "value": "1"}]}
    wf = backend.submit(m)
    for n in wf["status"]["nodes"].values():
        assert len(n.get("message") or "") <= MESSAGE_MAX
    s = next(n for n in wf["status"]["nodes"].values() if n["displayName"] == "s")
    assert "characters, cut" in s["message"] and "when" in s["message"]
    assert len(wf["status"].get("message") or "") <= MESSAGE_MAX
    for event in backend.events(wf["metadata"]["name"]):
        assert len((event.get("node") or {}).get("message") or "") <= MESSAGE_MAX


def test_errors_quoting_a_document_are_bounded(backend):
    m = manifest([{"name": "main", "steps": [[{"name": "s", "template": "t" * 100_000}]]}])
    with pytest.raises(WorkflowValueError) as e:
        backend.submit(m)
    assert len(str(e.value)) <= MESSAGE_MAX and "characters, cut" in str(e.value)
