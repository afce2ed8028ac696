"""Partial re-runs in Argo mode (against ``dflow-lab server``): reuse_set through memoization, and the CLI."""

from __future__ import annotations

import json

from dflow_lab import reuse_set
from dflow_lab.argo.reuse import REUSED_FROM
from dflow_lab.main import main
from dflow_lab.rerun import document_label, runs_of
from tests.iterate.ops import executions, pipeline

from .conftest import needs_local_server


@needs_local_server  # the count file is written on this machine
def test_run_from_here_through_memoization(argo_mode, tmp_path):
    log = tmp_path / "count.txt"
    wf = pipeline(log, factor=2, name="argo-iter")
    wf.submit()
    assert wf.wait().status.phase == "Succeeded"
    wf2 = pipeline(log, factor=5, name="argo-iter")
    wf2.submit(reuse_step=reuse_set(wf2, wf.id, "scale", mode="from"))
    assert wf2.wait().status.phase == "Succeeded"
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 2}
    assert wf2.query().metadata.annotations[REUSED_FROM] == wf.id
    hits = {s.displayName for s in wf2.query_step() if (s.get("memoizationStatus") or {}).get("hit")}
    assert hits == {"prep", "item(0:0)", "item(1:1)", "item(2:2)"}
    assert wf2.query_step(name="report")[0].outputs.parameters["line"].value == "total=165"


@needs_local_server
def test_cli_failed_of_against_the_server(argo_mode, tmp_path, capsys):
    log = tmp_path / "count.txt"
    doc = tmp_path / "argo-pipe.dflow.json"
    doc.write_text(json.dumps(pipeline(log, fail=True, name="argo-cli").to_graph()))
    host = ["--host", argo_mode.url]
    main(host + ["run", str(doc)])
    first = runs_of(document_label(str(doc)))[0]
    name = first["metadata"]["name"]
    assert main(host + ["wait", name]) != 0
    doc.write_text(json.dumps(pipeline(log, name="argo-cli").to_graph()))
    assert main(host + ["run", str(doc), "--failed-of", name]) == 0
    newest = runs_of(document_label(str(doc)))[0]["metadata"]["name"]
    assert main(host + ["wait", newest]) == 0
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 1}


@needs_local_server  # removes the step directories on the server's side (the pods are gone)
def test_logs_of_gone_pods_come_from_the_archive(argo_mode, tmp_path):
    import shutil

    from dflow_lab.argo.client import ArgoBackend
    from dflow_lab.workflow import current_backend
    from tests.iterate.test_logs import retry_manifest

    backend = current_backend()
    assert isinstance(backend, ArgoBackend)
    manifest = retry_manifest(str(tmp_path / "n"), archive=False)
    del manifest["spec"]["archiveLogs"]  # the client archives logs unless the manifest says otherwise
    name = backend.submit(manifest, wait=True)["metadata"]["name"]
    wf = backend.get(name)
    assert wf["spec"]["archiveLogs"] is True
    pods = sorted((n for n in wf["status"]["nodes"].values() if n["type"] == "Pod"), key=lambda n: n["displayName"])
    assert len(pods) == 3
    for pod in pods:
        shutil.rmtree(argo_mode.workdir / "runs" / name / pod["id"])
    assert list(backend.logs(name, pods[0]["id"])) == ["attempt 1", "broken 1"]
    assert list(backend.logs(name, pods[2]["id"])) == ["attempt 3", "fine"]
