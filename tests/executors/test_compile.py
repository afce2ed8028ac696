"""What the executors render, without services: Argo manifests valid against the schema (the session's
conftest checks every ``to_dict``), the runner's spec, secrets kept out, and the spec's round trip for
arbitrary scripts (hypothesis)."""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dflow_lab import (
    ContainerExecutor,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    RemoteExecutor,
    ShellOPTemplate,
    SlurmJobTemplate,
    SlurmRemoteExecutor,
    Step,
    Workflow,
)
from dflow_lab.executors.container import resolve_tags
from dflow_lab.executors.render import EXECUTOR_ANNOTATION, JOB_ID_PARAMETER
from dflow_lab.executors.runner import RUNNER_MARKER, TAG_ENV, decode_spec


def _template(script: str = "echo {{inputs.parameters.x}} > /tmp/outputs/parameters/y") -> ShellOPTemplate:
    t = ShellOPTemplate(name="work", image="busybox:1", script=script)
    t.inputs.parameters["x"] = InputParameter()
    t.inputs.artifacts["a"] = InputArtifact(path="/tmp/inputs/artifacts/a", optional=True)
    t.outputs.parameters["y"] = OutputParameter(value_from_path="/tmp/outputs/parameters/y")
    t.outputs.artifacts["b"] = OutputArtifact(path="/tmp/outputs/artifacts/b")
    return t


def _spec(template: dict) -> dict:
    source = template["script"]["source"]
    assert source.startswith(RUNNER_MARKER)
    return decode_spec(re.search(r"main\('([^']+)'\)", source).group(1))


EXECUTORS = {
    "remote": lambda key: RemoteExecutor(host="login.example.org", port=2222, username="me", private_key_file=key),
    "slurm": lambda key: SlurmRemoteExecutor(host="login.example.org", username="me", password="pw-123-secret",
                                             header="#SBATCH -N 1", interval=5),
    "slurm-job": lambda key: SlurmJobTemplate(header="#SBATCH -N 1", node_selector={"hpc": "yes"}),
    "container": lambda key: ContainerExecutor(podman="podman", image_pull_policy="Never"),
}


@pytest.mark.parametrize("kind", sorted(EXECUTORS))
def test_every_executor_compiles_to_a_valid_manifest(kind, tmp_path):
    key = tmp_path / "id_test"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEYMATERIAL\n-----END OPENSSH PRIVATE KEY-----\n")
    wf = Workflow("compiled")
    wf.add(Step("work", _template(), parameters={"x": "v"}, executor=EXECUTORS[kind](str(key))))
    manifest = wf.to_dict()  # validated against Argo's schema by tests/conftest.py
    text = json.dumps(manifest)
    assert "SECRETKEYMATERIAL" not in text and "pw-123-secret" not in text
    [t] = [t for t in manifest["spec"]["templates"] if "script" in t]
    info = json.loads(t["metadata"]["annotations"][EXECUTOR_ANNOTATION])
    assert info["kind"] == type(EXECUTORS[kind](str(key))).__name__
    assert [a["path"] for a in t["inputs"]["artifacts"]] == ["/tmp/inputs/artifacts/a"]
    assert {p["name"] for p in t["outputs"]["parameters"]} >= {"y"}
    if kind == "container":
        assert t["script"]["image"] == "busybox:1"
        return
    spec = _spec(t)
    assert spec["inputs"] == ["/tmp/inputs/artifacts/a"]
    assert spec["outputs"] == ["/tmp/outputs/parameters/y", "/tmp/outputs/artifacts/b"]
    assert spec["tags"][f"{TAG_ENV}0"] == "inputs.parameters.x"
    assert set(spec["tags"].values()) == {"inputs.parameters.x", "workflow.name", "pod.name"}
    env = {e["name"]: e for e in t["script"]["env"]}
    assert env[f"{TAG_ENV}0"]["value"] == "{{inputs.parameters.x}}"
    if kind == "remote":
        assert spec["transport"] == {"type": "ssh", "host": "login.example.org", "port": 2222, "username": "me",
                                     "retries": -1}
        assert "secretKeyRef" in env["DFLOW_LAB_SSH_KEY"]["valueFrom"]
    if kind == "slurm":
        assert spec["slurm"] == {"header": "#SBATCH -N 1", "interval": 5}
        assert "secretKeyRef" in env["DFLOW_LAB_SSH_PASSWORD"]["valueFrom"]
        assert any(p["name"] == JOB_ID_PARAMETER for p in t["outputs"]["parameters"])
    if kind == "slurm-job":
        assert spec["transport"] == {"type": "local"} and t["nodeSelector"] == {"hpc": "yes"}
    again = Workflow("compiled")
    again.add(Step("work", _template(), parameters={"x": "v"}, executor=EXECUTORS[kind](str(key))))
    assert [t["name"] for t in again.to_dict()["spec"]["templates"]] == [
        t["name"] for t in manifest["spec"]["templates"]]  # stable names: no random suffix


def test_reference_helpers_and_repr():
    ex = RemoteExecutor(host="h", password="hunter2")
    assert "hunter2" not in repr(ex)
    assert ex.execute("ls ~").startswith("execute -1 ")
    with pytest.raises(ValueError, match="host"):
        RemoteExecutor(host="bad host")
    with pytest.raises(ValueError, match="clean"):
        RemoteExecutor(host="h", clean="sometimes")


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60)


@settings(max_examples=int(os.environ.get("DFLOW_LAB_HYPOTHESIS_EXAMPLES", "60")), derandomize=True, deadline=None,
          database=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=_text, after=_text, value=_text)
def test_any_script_and_value_survive_the_spec(before, after, value):
    """Whatever the script holds (quotes, braces, /tmp, newlines), the runner gets it back exactly, with the
    parameter's value put where its tag was — the value travels as data in the environment."""
    script = f"{before}{{{{inputs.parameters.x}}}}{after}"
    t = _template(script)
    rendered = RemoteExecutor(host="h", password="p").render(t).convert_to_argo()
    spec = _spec(rendered)
    tags = spec["tags"]
    var = next(v for v, tag in tags.items() if tag == "inputs.parameters.x")
    old = dict(os.environ)
    try:
        for v, tag in tags.items():
            os.environ[v] = value if v == var else "{{" + tag + "}}"
        resolved = resolve_tags(spec["script"], tags)
    finally:
        os.environ.clear()
        os.environ.update(old)
    expected = script.replace("{{inputs.parameters.x}}", value)
    assert resolved == expected


def test_slurm_job_resource_manifest_as_the_reference():
    import yaml

    from dflow_lab.slurm import SlurmJob

    t = _template("echo hi > /tmp/outputs/parameters/y")
    text = SlurmJob(header="#SBATCH -N 1", node_selector={"n": "1"}, workdir="wd").get_manifest(t)
    m = yaml.safe_load(text)
    assert (m["apiVersion"], m["kind"], m["metadata"]["name"]) == ("wlm.sylabs.io/v1alpha1", "SlurmJob", "{{pod.name}}")
    assert m["spec"]["nodeSelector"] == {"n": "1"}
    batch = m["spec"]["batch"]
    assert batch.startswith("#SBATCH -N 1\nmkdir -p wd\ncd wd\n")
    assert "echo hi > wd/tmp/outputs/parameters/y" in batch and batch.rstrip().endswith("sh script")
