"""``dflow_lab.plugins.*``: the names dflow scripts import, used as dflow users use them."""

from __future__ import annotations

import importlib

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


def test_dispatcher_machines_map_to_dflow_labs_remote_executors():
    from dflow_lab.executors.base import RemoteExecutor, SlurmRemoteExecutor
    from dflow_lab.plugins.dispatcher import DispatcherExecutor

    slurm = DispatcherExecutor(
        machine_dict={"batch_type": "Slurm", "context_type": "SSHContext",
                      "remote_profile": {"hostname": "127.0.0.1", "port": 2222, "username": "u"}},
        resources_dict={"queue_name": "debug", "cpu_per_node": 2, "custom_flags": ["#SBATCH --time=5"]})
    ex = slurm.remote_executor()
    assert isinstance(ex, SlurmRemoteExecutor) and (ex.host, ex.port, ex.username) == ("127.0.0.1", 2222, "u")
    assert ex.header.splitlines() == ["#SBATCH --partition=debug", "#SBATCH --ntasks-per-node=2",
                                      "#SBATCH --time=5"]
    shell = DispatcherExecutor(host="127.0.0.1", port=2200, username="v")
    assert type(shell.remote_executor()) is RemoteExecutor
    with pytest.raises(ValueError, match="batch_type 'PBS'"):
        DispatcherExecutor(host="h", machine_dict={"batch_type": "PBS"}).render(PythonOPTemplate(Cat))
    with pytest.raises(ValueError, match="context_type 'Bohrium'"):
        DispatcherExecutor(machine_dict={"batch_type": "Slurm", "context_type": "Bohrium"}).remote_executor()
    with pytest.raises(ValueError, match="one line"):
        DispatcherExecutor(host="h", queue_name="a\nb").remote_executor()
