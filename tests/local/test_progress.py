"""The workflow's ``status.progress`` means what Argo's does (workflow/progress/updater.go): the sum over
executable nodes (pods and suspend nodes among them) of ``0/1``, complete once a node Succeeded, was
Skipped or Omitted; a failed pod stays at ``0/1``."""

from __future__ import annotations

from .local_helpers import manifest, sh

OK = sh("ok", "true")
BAD = sh("bad", "exit 1")
PAUSE = {"name": "pause", "suspend": {"duration": "0"}}


def test_failed_workflow_counts_succeeded_pods_and_suspend_nodes(backend):
    main = {"name": "main", "steps": [[{"name": "a", "template": "ok"}], [{"name": "p", "template": "pause"}],
                                      [{"name": "c", "template": "bad"}]]}
    wf = backend.submit(manifest([main, OK, BAD, PAUSE]), wait=True)
    assert wf["status"]["phase"] == "Failed"
    assert wf["status"]["progress"] == "2/3"  # a and the suspend node done; c failed


def test_omitted_and_continued_tasks(backend):
    dag = {"name": "main", "dag": {"tasks": [
        {"name": "a", "template": "bad", "continueOn": {"failed": True}},
        {"name": "b", "template": "ok", "depends": "a.Succeeded"},   # omitted: not executable, not counted
        {"name": "c", "template": "ok", "depends": "a"},
    ]}}
    wf = backend.submit(manifest([dag, OK, BAD]), wait=True)
    assert wf["status"]["phase"] == "Succeeded"
    assert wf["status"]["progress"] == "1/2"  # c succeeded; a failed (continued) stays 0/1
