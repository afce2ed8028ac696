"""The local engine moves artifacts through the configured store: the local store, or S3 with Argo's keys."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

from dflow_lab.config import config, s3_config
from dflow_lab.python import OP, OPIO, Artifact, OPIOSign
from dflow_lab.utils import download_artifact, upload_artifact

pytest.importorskip("dflow_lab.local.engine")


def run_pipeline(tmp_path, name: str):
    from dflow_lab import InputArtifact, OutputArtifact, ShellOPTemplate, Step, Workflow

    # declared paths outside /tmp: the workspace is under pytest's /tmp, and the engine's mapping of
    # declared paths in scripts must not meet the step's own paths (see the report on that)
    gen = ShellOPTemplate(name="gen", image="alpine", script="mkdir -p /data/out/sub && echo hi > /data/out/sub/a.txt")
    gen.outputs.artifacts = {"out": OutputArtifact(path="/data/out")}
    use = ShellOPTemplate(
        name="use", image="alpine", script="cat /data/in/sub/a.txt /data/up/data.txt > /data/r.txt"
    )
    use.inputs.artifacts = {"inp": InputArtifact(path="/data/in"), "up": InputArtifact(path="/data/up")}
    use.outputs.artifacts = {"r": OutputArtifact(path="/data/r.txt")}
    (tmp_path / "data.txt").write_text("uploaded\n")
    uploaded = upload_artifact("data.txt")
    wf = Workflow(name=name)
    s1 = Step(name="gen", template=gen)
    s2 = Step(name="use", template=use, artifacts={"inp": s1.outputs.artifacts["out"], "up": uploaded})
    wf.add(s1)
    wf.add(s2)
    wf.submit(wait=True)
    assert wf.query_status() == "Succeeded"
    return wf


def _use_store(storage: str, request, tmp_path, monkeypatch) -> None:
    """Run with ``storage``: moto's S3 server (the ``s3`` fixture) or the local store; the workspace under
    ``tmp_path``, which is the working directory."""
    if storage == "s3":
        request.getfixturevalue("s3")
    else:
        s3_config.update(storage="local", storage_client=None)
    config["local_workdir"] = str(tmp_path / "ws")
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_engine_passes_artifacts_through_the_store(storage, request, tmp_path, monkeypatch, isolated_config):
    _use_store(storage, request, tmp_path, monkeypatch)
    wf = run_pipeline(tmp_path, f"store-{storage}")
    use = wf.query_step(name="use")[0]
    key = use.outputs.artifacts["r"].s3.key
    wf_name = key.split("/")[0]
    # Argo's default key: <workflow name>/<pod name>/<artifact name>.tgz
    assert wf_name.startswith(f"store-{storage}") and key.startswith(f"{wf_name}/{wf_name}-use-")
    assert key.endswith("/r.tgz") and key.count("/") == 2
    download_artifact(use.outputs.artifacts["r"], path=str(tmp_path / "dl"))
    assert (tmp_path / "dl" / "r.txt").read_text() == "hi\nuploaded\n"
    from dflow_lab.storage.artifacts import storage_client

    keys = storage_client().list(f"{wf_name}/", recursive=True)
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == ["out.tgz", "r.tgz"]
    if storage == "s3":  # nothing went to the local store
        assert not (tmp_path / "ws" / "artifacts" / wf_name).exists()


class Write(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"name": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"out": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        Path(op_in["name"]).write_text("hi " + op_in["name"])
        return OPIO({"out": Path(op_in["name"])})


class Upper(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"f": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"text": str})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"text": op_in["f"].read_text().upper()})


class Texts(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"texts": List[str]})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"texts": List[str]})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"texts": op_in["texts"]})


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_sliced_output_artifacts_and_sub_path_slices_through_the_store(storage, request, tmp_path, monkeypatch,
                                                                       isolated_config):
    """The items of a sliced fan-out save their parts under their init step's key (objects added under one
    prefix in S3, files added to one directory in the local store); a sub-path sliced step reads them back."""
    from dflow_lab import Step, Workflow, argo_range
    from dflow_lab.python import PythonOPTemplate, Slices
    from dflow_lab.storage.artifacts import storage_client

    _use_store(storage, request, tmp_path, monkeypatch)
    names = ["a.txt", "b.txt", "c.txt"]
    wf = Workflow(name=f"sliced-{storage}")
    write = Step("write", PythonOPTemplate(Write, slices=Slices(input_parameter=["name"], output_artifact=["out"])),
                 parameters={"name": names}, with_param=argo_range(3))
    upper = Step("upper", PythonOPTemplate(Upper, slices=Slices(sub_path=True, input_artifact=["f"],
                                                                output_parameter=["text"], group_size=2, pool_size=2)),
                 artifacts={"f": write.outputs.artifacts["out"]})
    wf.add(write)
    wf.add(upper)
    wf.add(Step("texts", PythonOPTemplate(Texts), parameters={"texts": upper.outputs.parameters["text"]}, key="texts"))
    wf.submit(wait=True)
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(key="texts")[0].outputs.parameters["texts"].value == [f"HI {n.upper()}" for n in names]
    init = wf.query_step(name="write-init-artifact")[0]
    key = init.outputs.artifacts["out"].s3.key
    assert key.startswith(f"{wf.id}/") and key.endswith("/out")
    objects = sorted(k[len(key) + 1:] for k in storage_client().list(key + "/", recursive=True))
    assert [o for o in objects if not o.startswith(".dflow/")] == names  # every item's file under one key
    assert len([o for o in objects if o.startswith(".dflow/")]) == 1 + 3  # the init catalog and one per item
