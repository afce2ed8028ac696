"""``dflow_lab.plugins.*``: the names dflow scripts import, used as dflow users use them."""

from __future__ import annotations

import base64
import importlib
import json

import pytest

from dflow_lab import Step, Workflow, upload_artifact
from dflow_lab.common import S3Artifact
from dflow_lab.config import config
from dflow_lab.errors import CapabilityNotAvailable
from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate

NAMES = {
    "dispatcher": ["DispatcherExecutor", "DispatcherArtifact"],
    "datasets": ["DatasetsArtifact", "wait_for_mount"],
    "metadata": ["MetadataClient"],
    "lineage": ["LineageClient", "LocalLineageClient"],
    "ray": ["RayClusterExecutor"],
    "bohrium": ["BohriumExecutor", "BohriumContext", "TiefblueClient", "BohriumDatasetsArtifact", "login",
                "create_job_group", "config", "s3_config"],
}


@pytest.mark.parametrize("module", sorted(NAMES))
def test_the_plugin_modules_import_with_dflows_names(module):
    mod = importlib.import_module("dflow_lab.plugins." + module)
    for name in NAMES[module]:
        assert hasattr(mod, name), f"dflow_lab.plugins.{module}.{name}"


class Cat(OP):
    @classmethod
    def get_input_sign(cls):
        from pathlib import Path

        return OPIOSign({"foo": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"text": str})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"text": op_in["foo"].read_text()})


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_lineage_in_the_local_state_registers_uploads_and_resolves_urns(workdir, monkeypatch):
    from dflow_lab.plugins.metadata import MetadataClient

    monkeypatch.setitem(config, "lineage", MetadataClient(project="p"))
    (workdir / "foo.txt").write_text("Hi")
    art = upload_artifact("foo.txt", namespace="lineage-test", dataset_name="foo")
    assert art.urn.startswith("urn:dflow-lab:artifact:lineage-test/foo")
    assert config["lineage"].get_artifact_metadata(art.urn).uri == art.key
    wf = Workflow("lineage")
    wf.add(Step("cat", PythonOPTemplate(Cat), artifacts={"foo": S3Artifact(urn=art.urn)}, key="cat"))
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(key="cat")[0].outputs.parameters["text"].value == "Hi"
    with pytest.raises(KeyError, match="no artifact registered"):
        config["lineage"].get_artifact_metadata("urn:dflow-lab:artifact:nope/none")


def test_lineage_records_workflows_and_tasks(workdir):
    from dflow_lab.plugins.lineage import LocalLineageClient

    client = LocalLineageClient()
    wf_urn = client.register_workflow("wf")
    outs = client.register_task("t", {"a": "urn:x"}, {"out": "key/of/out"}, wf_urn)
    assert client.get_artifact_metadata(outs["out"]).uri == "key/of/out"
    assert [t["name"] for t in client.tasks_of(wf_urn)] == ["t"]
    with pytest.raises(ValueError, match="namespace"):
        client.register_artifact("", "n", "k")


def test_services_dflow_lab_cannot_reach_say_what_they_need(workdir):
    from dflow_lab.plugins import bohrium, datasets, metadata, ray

    wf = Workflow("r")
    wf.add(Step("s", PythonOPTemplate(Cat), artifacts={"foo": S3Artifact(key="k")},
                executor=ray.RayClusterExecutor()))
    with pytest.raises(CapabilityNotAvailable, match="Ray cluster"):
        wf.submit()
    assert wf.id is None  # refused before anything was submitted
    for build in (bohrium.BohriumContext, bohrium.TiefblueClient, lambda: bohrium.login("u"),
                  lambda: datasets.DatasetsArtifact("e", 1), lambda: bohrium.BohriumDatasetsArtifact("p")):
        with pytest.raises(CapabilityNotAvailable, match="Bohrium"):
            build()
    with pytest.raises(CapabilityNotAvailable, match="Bohrium account"):
        bohrium.BohriumExecutor().render(PythonOPTemplate(Cat))
    with pytest.raises(CapabilityNotAvailable, match="DataHub GMS"):
        metadata.MetadataClient(gms_endpoint="https://gms.example")


def test_dispatcher_machines_are_built_as_dflow_builds_them(tmp_path):
    """dflow's defaults and merge order (json_file, then machine_dict), secrets out of the rendered
    template; the steps running through dpdispatcher are in tests/executors/test_dispatcher.py."""
    from dflow_lab.plugins.dispatcher import DispatcherExecutor

    key = tmp_path / "id_test"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key-material\n-----END OPENSSH PRIVATE KEY-----\n")
    conf = tmp_path / "machine.json"
    conf.write_text(json.dumps({"machine": {"batch_type": "Shell", "remote_profile": {"port": 2201}},
                                "resources": {"cpu_per_node": 4}}))
    ex = DispatcherExecutor(host="10.0.0.1", username="u", password="pw-secret", private_key_file=str(key),
                            json_file=str(conf), machine_dict={"remote_profile": {"timeout": 30}},
                            resources_dict={"queue_name": "debug"})
    assert ex.machine_dict == {"batch_type": "Shell", "context_type": "SSHContext", "remote_root": "/home/u/dflow/workflows",
                               "remote_profile": {"port": 2201, "timeout": 30, "hostname": "10.0.0.1", "username": "u"}}
    assert ex.resources_dict["cpu_per_node"] == 4 and ex.resources_dict["queue_name"] == "debug"
    assert ex.resources_dict["envs"]["DFLOW_POD"] == "{{pod.name}}"  # no two steps share a submission hash
    assert DispatcherExecutor(host="h").machine_dict["batch_type"] == "Slurm"  # dflow's default
    assert DispatcherExecutor(host="h").remote_root == "/root/dflow/workflows"
    assert "pw-secret" not in repr(ex)
    rendered = ex.render(PythonOPTemplate(Cat))
    d = rendered.convert_to_argo()
    text = json.dumps(d)
    assert "pw-secret" not in text and "not-a-real-key-material" not in text
    source = d["script"]["source"]
    spec = json.loads(base64.urlsafe_b64decode(source.split("main(")[1].split(")")[0].strip("'")).decode())
    assert spec["transport"]["type"] == "dispatcher" and spec["transport"]["machine"]["remote_profile"]["port"] == 2201
    assert "password" not in json.dumps(spec) and "key_filename" not in json.dumps(spec)
    refs = {e["name"] for e in d["script"]["env"] if "valueFrom" in e}
    assert {"DFLOW_LAB_SSH_PASSWORD", "DFLOW_LAB_SSH_KEY"} <= refs
    with pytest.raises(CapabilityNotAvailable, match="Bohrium"):
        DispatcherExecutor(machine_dict={"batch_type": "Bohrium", "context_type": "Bohrium"}).render(PythonOPTemplate(Cat))
    with pytest.raises(ValueError, match="one line"):
        DispatcherExecutor(host="h", queue_name="a\nb").render(PythonOPTemplate(Cat))
    with pytest.raises(ValueError, match="no host"):
        DispatcherExecutor(machine_dict={"batch_type": "Shell"}).render(PythonOPTemplate(Cat))
