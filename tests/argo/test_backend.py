"""The dflow Workflow API in Argo mode, over HTTP against ``dflow-lab server`` (or a real Argo server)."""

from __future__ import annotations

import json
import os

import pytest

from dflow_lab import (
    InputParameter,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Workflow,
    argo_range,
    query_archived_workflows,
    query_workflows,
)
from dflow_lab.argo.client import ArgoApiError, ArgoBackend
from dflow_lab.python import PythonOPTemplate
from dflow_lab.workflow import current_backend

from ..ops import Big, Square
from .conftest import needs_local_server, session_labels


def squares(name: str = "sq", labels: dict | None = None) -> tuple[Workflow, Step]:
    wf = Workflow(name, labels=labels)
    a = Step("a", PythonOPTemplate(Square), parameters={"x": 3}, key="a")
    wf.add(a)
    wf.add(Step("b", PythonOPTemplate(Square), parameters={"x": a.outputs.parameters["y"]}, key="b"))
    return wf, a


def test_backend_is_argo(argo_mode):
    wf, _ = squares()
    assert isinstance(wf.backend, ArgoBackend)
    assert argo_mode.token is None or argo_mode.token not in repr(wf.backend)


def test_submit_query_and_steps(argo_mode):
    wf, _ = squares(labels=session_labels(suite="argo-backend"))
    wf.submit()
    assert wf.id.startswith("sq-")
    assert wf.wait().status.phase == "Succeeded"
    assert wf.query_status() == "Succeeded"
    b = wf.query_step(key="b")[0]
    assert b.outputs.parameters["y"].value == 81
    assert wf.query_step_by_key("a")[0].outputs.parameters["y"].value == 9
    assert sorted(wf.query_keys_of_steps()) == ["a", "b"]
    assert [s.key for s in wf.query_step(name="b", type="Pod")] == ["b"]
    assert wf.query_step(phase="Failed") == []
    listed = query_workflows(labels=session_labels(suite="argo-backend"))
    assert [w.metadata.name for w in listed] == [wf.id]
    assert listed[0].status.phase == "Succeeded" and "nodes" not in listed[0].status  # summaries only
    assert wf.id in [w.metadata.name for w in query_archived_workflows(labels=session_labels(suite="argo-backend"))]
    assert [w.metadata.name for w in query_workflows(labels=session_labels(suite="none"))] == []


def test_fan_out_with_global_outputs(argo_mode):
    t = ShellOPTemplate(name="echo", image="alpine:3", script="echo {{inputs.parameters.i}} > /tmp/o")
    t.inputs.parameters = {"i": InputParameter()}
    t.outputs.parameters = {"o": OutputParameter(value_from_path="/tmp/o", global_name="last")}
    wf = Workflow("fan")
    wf.add(Step("e", t, parameters={"i": "{{item}}"}, with_param=argo_range(3), key="e-{{item}}"))
    wf.submit()
    wf.wait()
    assert sorted(wf.query_keys_of_steps()) == ["e-0", "e-1", "e-2"]
    outputs = wf.query_global_outputs()
    assert outputs.parameters["last"].name == "last"


def flaky_manifest(name: str) -> dict:
    """Step ``flaky`` fails on its first run and succeeds when run again: it keeps a mark on a volume of the
    workflow (what survives a retry in a container), not on the test's file system."""
    def keyed(step: str) -> dict:
        return {"name": step, "template": step, "arguments": {"parameters": [{"name": "dflow_key", "value": step}]}}

    def shell(step: str, script: str, **extra) -> dict:
        return {"name": step, "inputs": {"parameters": [{"name": "dflow_key"}]},
                "container": {"image": "alpine:3", "command": ["sh", "-c"], "args": [script], **extra}}

    return {
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"generateName": f"{name}-"},
        "spec": {
            "entrypoint": "main",
            "volumeClaimTemplates": [{"metadata": {"name": "state"}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}}],
            "templates": [
                {"name": "main", "steps": [[keyed("ok")], [keyed("flaky")]]},
                shell("ok", "echo ok"),
                shell("flaky", "if [ -e /state/seen ]; then echo fine; else touch /state/seen; exit 1; fi",
                      volumeMounts=[{"name": "state", "mountPath": "/state"}]),
            ],
        },
    }


def submit_flaky(name: str) -> Workflow:
    wf = Workflow(id=current_backend().submit(flaky_manifest(name))["metadata"]["name"])
    assert wf.wait().status.phase == "Failed"
    return wf


def test_retry_failed_workflow(argo_mode):
    wf = submit_flaky("retry")
    first_ok = wf.query_step(key="ok")[0]
    assert wf.query_step(key="flaky")[0].phase == "Failed"
    wf.retry()
    assert wf.wait().status.phase == "Succeeded"
    assert wf.query_step(key="flaky")[0].phase == "Succeeded"
    assert wf.query_step(key="ok")[0].finishedAt == first_ok.finishedAt  # kept, not run again


def test_retry_steps_by_id(argo_mode):
    wf = submit_flaky("retry-steps")
    failed = wf.query_step(key="flaky")[0]
    wf.retry_steps([failed.id])
    assert wf.wait().status.phase == "Succeeded"
    with pytest.raises(Exception, match="no step with id"):
        wf.retry_steps(["no-such-node"])


def test_resubmit_is_a_new_workflow(argo_mode):
    wf, _ = squares("resub")
    wf.submit()
    wf.wait()
    old = wf.id
    wf.resubmit()
    assert wf.id != old
    assert wf.wait().status.phase == "Succeeded"
    assert wf.query_step(key="b")[0].outputs.parameters["y"].value == 81


def sleeper(name: str, seconds: int = 60) -> Workflow:
    t = ShellOPTemplate(name="sleep", image="alpine:3", script=f"sleep {seconds}")
    wf = Workflow(name)
    wf.add(Step("s1", t, key="s1"))
    wf.add(Step("s2", t, key="s2"))
    return wf


def wait_for(predicate, what: str, timeout: float = 60):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_terminate_running_workflow(argo_mode):
    wf = sleeper("term")
    wf.submit()
    wait_for(lambda: wf.query_step(key="s1", phase="Running"), "s1 running")
    wf.terminate()
    final = wf.wait()
    assert final.status.phase in ("Failed", "Error")
    assert wf.query_step(key="s2") == []


def test_stop_running_workflow(argo_mode):
    wf = sleeper("stop")
    wf.submit()
    wait_for(lambda: wf.query_step(key="s1", phase="Running"), "s1 running")
    wf.stop()
    assert wf.wait().status.phase in ("Failed", "Error")


def test_suspend_and_resume(argo_mode):
    wf = sleeper("susp", seconds=2)
    wf.submit()
    wait_for(lambda: wf.query_step(key="s1", phase="Running"), "s1 running")
    wf.suspend()
    wait_for(lambda: wf.query_step(key="s1", phase="Succeeded"), "s1 done")
    assert wf.query_step(key="s2") == []  # suspended: s2 does not start
    wf.resume()
    assert wf.wait().status.phase == "Succeeded"
    assert wf.query_step(key="s2")[0].phase == "Succeeded"


def test_delete_keeps_the_run_in_the_archive(argo_mode):
    wf, _ = squares("del", labels=session_labels(suite="archive"))
    wf.submit()
    wf.wait()
    wf.delete()
    assert wf.id not in [w.metadata.name for w in query_workflows()]
    archived = query_archived_workflows(labels=session_labels(suite="archive"))
    assert [w.metadata.name for w in archived] == [wf.id]
    again = wf.query()  # found in the archive, nodes and all
    assert again.status.phase == "Succeeded"
    assert wf.query_step(key="b")[0].outputs.parameters["y"].value == 81
    with pytest.raises(ArgoApiError) as e:
        Workflow(id="never-was").query()
    assert e.value.status == 404 and "never-was" in str(e.value)


def test_reuse_step_through_memoization(argo_mode):
    wf, _ = squares("reuse")
    wf.submit()
    wf.wait()
    old = wf.query_step(key="a")[0]
    old.modify_output_parameter("y", 5)
    wf2, _ = squares("reuse")
    wf2.submit(reuse_step=[old])
    assert wf2.wait().status.phase == "Succeeded"
    a2 = wf2.query_step(key="a")[0]
    assert a2.outputs.parameters["y"].value == 5
    assert a2.memoizationStatus.hit is True
    assert wf2.query_step(key="b")[0].outputs.parameters["y"].value == 25


@pytest.fixture
def s3_repository(monkeypatch):
    """The artifact repository of both the client and the server's engine: the one configured in ``DFLOW_S3_*``
    when the suite runs against a real Argo with its repository, else a real S3-compatible server (moto) of
    the test's own."""
    from dflow_lab.config import s3_config
    from tests.storage.s3server import MotoServer

    if os.environ.get("DFLOW_S3_ENDPOINT"):
        monkeypatch.setitem(s3_config, "storage", "s3")
        yield None
        return
    server = MotoServer()
    server.start()
    try:
        server.make_bucket("argo-artifacts")
        values = {"endpoint": server.endpoint, "access_key": server.access_key, "secret_key": server.secret_key,
                  "secure": False, "bucket_name": "argo-artifacts", "storage": "s3"}
        for k, v in values.items():
            monkeypatch.setitem(s3_config, k, v)
            monkeypatch.setenv(f"DFLOW_S3_{k.upper()}", str(v))  # the engine processes the server starts
        monkeypatch.setitem(s3_config, "storage_client", None)
        yield server
    finally:
        server.stop()


def test_big_parameter_through_s3(argo_mode, s3_repository):
    wf = Workflow("big")
    wf.add(Step("big", PythonOPTemplate(Big), parameters={"n": 20000}, key="big"))
    wf.submit()
    assert wf.wait().status.phase == "Succeeded"
    step = wf.query_step(key="big")[0]
    assert "dflow_bigpar_data" in step.outputs.artifacts  # the value is not in the status
    value = step.outputs.parameters["data"].value  # loaded from S3 on first access
    if isinstance(value, str):  # the big parameter's artifact does not carry its type (as in local mode)
        value = json.loads(value)
    assert value["values"][-1] == 19999


def test_big_input_parameter_in_manifest(argo_mode):
    """A 2 MB parameter value travels in the request body (the server's default limit is 64 MiB)."""
    payload = "x" * (2 * 1024 * 1024)
    t = ShellOPTemplate(name="wc", image="alpine:3", script="printf %s '{{inputs.parameters.p}}' | wc -c > /tmp/n")
    t.inputs.parameters = {"p": InputParameter()}
    t.outputs.parameters = {"n": OutputParameter(value_from_path="/tmp/n")}
    wf = Workflow("bigin")
    wf.add(Step("wc", t, parameters={"p": payload}, key="wc"))
    wf.submit()
    assert wf.wait().status.phase == "Succeeded"
    assert wf.query_step(key="wc")[0].outputs.parameters["n"].value.strip() == str(len(payload))


def test_logs_and_events(argo_mode):
    t = ShellOPTemplate(name="say", image="alpine:3", script="echo line-one; echo line-two")
    wf = Workflow("logs")
    wf.add(Step("say", t, key="say"))
    wf.submit()
    backend = wf.backend
    seen = []
    after = 0
    while not any(e.get("workflow", {}).get("phase") == "Succeeded" for e in seen):
        batch = backend.events(wf.id, after=after, timeout=10)
        assert batch, "no event within 10 s"
        seen += batch
        after = batch[-1]["seq"]
    assert [e["seq"] for e in seen] == sorted(e["seq"] for e in seen)
    assert any(e.get("node", {}).get("displayName") == "say" for e in seen)
    node = wf.query_step(key="say")[0]
    assert list(backend.logs(wf.id, node.id)) == ["line-one", "line-two"]
    assert list(backend.logs(wf.id)) == ["line-one", "line-two"]


def test_errors_name_the_workflow(argo_mode):
    with pytest.raises(ArgoApiError) as e:
        Workflow(id="no-such-wf").query()
    assert e.value.status == 404 and "no-such-wf" in str(e.value)
    wf = Workflow("bad", steps=Steps("bad-steps"))
    wf.add(Step("a", PythonOPTemplate(Square), parameters={"x": 1}))
    manifest = wf.to_dict()
    manifest["spec"]["entrypoint"] = "missing"
    with pytest.raises(ArgoApiError) as e:
        wf.backend.submit(manifest)
    assert e.value.status == 400 and "entrypoint" in str(e.value)


@needs_local_server
def test_bad_manifest_with_reuse_writes_no_cache_entry(argo_mode):
    wf, _ = squares("reusebad")
    wf.submit()
    wf.wait()
    old = wf.query_step(key="a")[0]
    manifest = squares("reusebad")[0].to_dict()
    manifest["metadata"] = {"name": "reusebad-x"}
    entrypoint, manifest["spec"]["entrypoint"] = manifest["spec"]["entrypoint"], "missing"
    with pytest.raises(ArgoApiError) as e:
        wf.backend.submit(manifest, reuse_step=[old])
    assert e.value.status == 400 and "entrypoint" in str(e.value)
    assert argo_mode.server.backend.store.memo_get("dflow-reusebad-x", "reusebad-x-a", None) is None
    manifest["spec"]["entrypoint"] = entrypoint
    wf.backend.submit(manifest, reuse_step=[old])
    assert argo_mode.server.backend.store.memo_get("dflow-reusebad-x", "reusebad-x-a", None) is not None
    assert wf.backend.wait("reusebad-x", timeout=60)["status"]["phase"] == "Succeeded"


def test_workflow_host_overrides_local_mode(argo_endpoint, monkeypatch):
    from dflow_lab.config import config

    monkeypatch.setitem(config, "mode", "local")
    monkeypatch.setitem(config, "host", None)
    monkeypatch.setitem(config, "token", None)
    wf = Workflow("override", host=argo_endpoint.url, token=argo_endpoint.token, namespace=argo_endpoint.namespace)
    wf.add(Step("a", PythonOPTemplate(Square), parameters={"x": 4}, key="a"))
    wf.submit()
    assert isinstance(wf.backend, ArgoBackend)
    assert wf.wait().status.phase == "Succeeded"
    assert wf.query_step(key="a")[0].outputs.parameters["y"].value == 16


def test_pod_level_calls_need_a_cluster(argo_mode):
    from dflow_lab.errors import CapabilityNotAvailable

    wf, _ = squares("pods")
    wf.submit()
    wf.wait()
    step = wf.query_step(key="a")[0]
    with pytest.raises(ArgoApiError) as e:  # the Kubernetes API (here: the Argo host) has no such pod
        step.get_pod()
    assert e.value.status == 404 and wf.id in str(e.value)
    group = wf.query_step(type="Steps")[0]
    with pytest.raises(ValueError, match="not a pod"):
        group.delete_pod()
    with pytest.raises(CapabilityNotAvailable, match="Kubernetes pod"):
        step.set_script("echo changed")


def test_artifacts_through_s3(argo_mode, s3_repository, tmp_path, monkeypatch):
    from dflow_lab import InputArtifact, OutputArtifact, download_artifact, upload_artifact

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("from the client")
    art = upload_artifact("in.txt")
    t = ShellOPTemplate(name="copy", image="alpine:3",
                        script="mkdir -p /tmp/out && cat /tmp/in/in.txt > /tmp/out/res.txt && echo ' + engine' >> "
                               "/tmp/out/res.txt")
    t.inputs.artifacts = {"inp": InputArtifact(path="/tmp/in")}
    t.outputs.artifacts = {"out": OutputArtifact(path="/tmp/out")}
    wf = Workflow("s3art")
    wf.add(Step("copy", t, artifacts={"inp": art}, key="copy"))
    wf.submit()
    assert wf.wait().status.phase == "Succeeded", wf.query_step(key="copy")[0].get("message")
    out = wf.query_step(key="copy")[0].outputs.artifacts["out"]
    assert "s3" in out
    download_artifact(out, path=tmp_path / "dl")
    assert [p.read_text() for p in (tmp_path / "dl").rglob("res.txt")] == ["from the client + engine\n"]


def test_resume_a_suspend_template(argo_mode):
    """Argo's suspend-template example (its delay shortened): the workflow waits at "approve" until resumed."""
    import yaml

    from tests.conftest import EXAMPLES_DIR

    manifest = yaml.safe_load((EXAMPLES_DIR / "suspend-template.yaml").read_text())
    for t in manifest["spec"]["templates"]:
        if t["name"] == "delay":
            t["suspend"]["duration"] = "1"
    backend = current_backend()
    wf = Workflow(id=backend.submit(manifest)["metadata"]["name"])
    wait_for(lambda: wf.query_step(name="approve", phase="Running"), "the approval step")
    assert wf.query_step(name="release") == []
    wf.resume()
    assert wf.wait().status.phase == "Succeeded"
    assert [s.phase for s in wf.query_step(name="release")] == ["Succeeded"]


def test_memoized_resubmit_reuses_what_succeeded(argo_mode):
    backend = current_backend()
    first = Workflow(id=backend.submit(flaky_manifest("memo"))["metadata"]["name"])
    assert first.wait().status.phase == "Failed"
    ok = first.query_step(key="ok")[0]
    again = Workflow(id=backend.resubmit(first.id, memoized=True)["metadata"]["name"])
    assert again.id != first.id
    assert again.wait().status.phase == "Failed"  # the failed step ran again, on the new run's fresh volume
    assert again.query_step(key="flaky")[0].phase == "Failed"
    reused = again.query_step(key="ok")[0]
    assert reused.phase == "Succeeded" and reused.finishedAt == ok.finishedAt
