"""The local engine moves artifacts through the configured store: the local store, or S3 with Argo's keys."""

from __future__ import annotations

import pytest

from dflow_lab.config import config, s3_config
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


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_engine_passes_artifacts_through_the_store(storage, request, tmp_path, monkeypatch, isolated_config):
    if storage == "s3":
        request.getfixturevalue("s3")
    else:
        s3_config.update(storage="local", storage_client=None)
    config["local_workdir"] = str(tmp_path / "ws")
    monkeypatch.chdir(tmp_path)
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
