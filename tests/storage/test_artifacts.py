"""dflow's artifact functions (upload/download/copy/catalogs) on the local store and on S3."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading

import pytest

from dflow_lab.common import HTTPArtifact, S3Artifact, jsonpickle
from dflow_lab.config import config, s3_config
from dflow_lab.storage import artifact_repository
from dflow_lab.storage.artifacts import MissingPathError, storage_client
from dflow_lab.storage.local import LocalStorageClient
from dflow_lab.storage.minio_client import MinioClient
from dflow_lab.utils import (
    catalog_of_artifact,
    copy_artifact,
    copy_s3,
    download_artifact,
    download_s3,
    path_list_of_artifact,
    path_object_of_artifact,
    upload_artifact,
    upload_s3,
)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch, isolated_config):
    """Each test runs against the local store and against the S3 server."""
    if request.param == "s3":
        request.getfixturevalue("s3")
    else:
        s3_config.update(storage="local", storage_client=None, prefix="")
    config["local_workdir"] = str(tmp_path / "ws")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "d" / "sub").mkdir(parents=True)
    (work / "d" / "sub" / "a.txt").write_text("alpha")
    (work / "b.txt").write_text("beta")
    return request.param


def tree(root):
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = open(p).read()
    return out


def test_store_selection(store):
    client = storage_client()
    assert isinstance(client, MinioClient if store == "s3" else LocalStorageClient)


@pytest.mark.parametrize("archive", ["tar", None])
def test_upload_list_keeps_relative_layout_and_catalog(store, tmp_path, archive):
    outside = tmp_path / "elsewhere" / "o.txt"
    outside.parent.mkdir()
    outside.write_text("out")
    art = upload_artifact(["d", "b.txt", str(outside)], archive=archive)
    assert isinstance(art, S3Artifact) and art.key.startswith("upload/")
    assert art.key.endswith(".tgz") == (archive == "tar")
    outside_rel = str(outside).lstrip("/")
    assert [i["dflow_list_item"] for i in art.path_list] == ["d", "b.txt", outside_rel]
    assert path_list_of_artifact(art) == ["d", "b.txt", outside_rel]
    paths = download_artifact(art, path=str(tmp_path / "dl"))
    assert paths == [str(tmp_path / "dl" / p) for p in ("d", "b.txt", outside_rel)]
    assert tree(tmp_path / "dl") == {"d/sub/a.txt": "alpha", "b.txt": "beta", outside_rel: "out"}


def test_upload_dict_set_and_none(store, tmp_path):
    art = upload_artifact({"x": "b.txt", "y": ["d/sub/a.txt", None]}, archive=None)
    assert path_object_of_artifact(art) == {"x": "b.txt", "y": ["d/sub/a.txt", None]}
    got = download_artifact(art, path=str(tmp_path / "dl"))
    assert got == {"x": str(tmp_path / "dl" / "b.txt"), "y": [str(tmp_path / "dl" / "d/sub/a.txt"), None]}
    one = download_artifact(art, path=str(tmp_path / "one"), slice="y.0")
    assert open(one).read() == "alpha"
    s = upload_artifact({"b.txt", "d"})
    assert sorted(path_list_of_artifact(s)) == ["b.txt", "d"]


def test_parent_and_child_paths_overlap(store, tmp_path):
    art = upload_artifact(["d/sub/a.txt", "d"], archive=None)
    download_artifact(art, path=str(tmp_path / "dl"))
    assert tree(tmp_path / "dl") == {"d/sub/a.txt": "alpha"}


def test_missing_path_is_an_error_before_anything_is_written(store):
    before = storage_client().list("", recursive=True)
    with pytest.raises(MissingPathError, match="nope.txt"):
        upload_artifact(["b.txt", "nope.txt"])
    with pytest.raises(RuntimeError):  # dflow raises RuntimeError: still catchable as such
        upload_artifact("nope.txt")
    assert storage_client().list("", recursive=True) == before


def test_sub_path_and_skip_exists(store, tmp_path):
    art = upload_artifact(["d", "b.txt"], archive=None)
    p = download_artifact(art, path=str(tmp_path / "s"), sub_path="d/sub/a.txt")
    assert p == str(tmp_path / "s" / "d" / "sub" / "a.txt") and open(p).read() == "alpha"
    sub = art.sub_path("b.txt")
    assert sub.key == art.key + "/b.txt"
    dest = tmp_path / "again"
    download_artifact(art, path=str(dest))
    before = os.stat(dest / "b.txt").st_ino
    download_artifact(art, path=str(dest), skip_exists=True)
    assert os.stat(dest / "b.txt").st_ino == before  # unchanged file kept, not fetched again


def test_extract_false_keeps_the_tgz(store, tmp_path):
    art = upload_artifact(["b.txt"])
    download_artifact(art, path=str(tmp_path / "raw"), extract=False)
    assert os.listdir(tmp_path / "raw") == [os.path.basename(art.key)]


def test_upload_download_copy_s3(store, tmp_path):
    key = upload_s3("d", key="mine/d")
    assert key == "mine/d"
    assert sorted(storage_client().list("mine/d/", recursive=True)) == ["mine/d/sub/a.txt"]
    assert upload_s3("b.txt", prefix="other") == "other/b.txt"
    copy_s3("mine/d", "copied/d")
    out = download_s3("copied/d", path=str(tmp_path / "c"))
    assert tree(out) == {"sub/a.txt": "alpha"}
    download_s3("other/b.txt", path=str(tmp_path / "k"), recursive=False)
    assert (tmp_path / "k" / "b.txt").read_text() == "beta"
    with pytest.raises(FileNotFoundError, match="nothing"):
        download_s3("nothing/here", path=str(tmp_path / "n"))


def test_copy_artifact_sorted(store, tmp_path):
    a = upload_artifact(["b.txt"], archive=None)
    b = upload_artifact(["d"], archive=None)
    merged = copy_artifact(a, b, sort=True)
    assert merged.key == b.key
    assert path_list_of_artifact(merged) == ["d", "b.txt"]
    download_artifact(merged, path=str(tmp_path / "m"))
    assert tree(tmp_path / "m") == {"d/sub/a.txt": "alpha", "b.txt": "beta"}


def test_uploaded_artifact_loads_in_engine_repository(store, tmp_path):
    """What upload_artifact stores is what the engine's repository hands a step (same keys)."""
    art = upload_artifact(["d", "b.txt"])
    repo = artifact_repository(config["local_workdir"])
    dest = tmp_path / "step" / "inputs" / "artifacts" / "x"
    repo.load({"name": "x", "s3": {"key": art.key}}, str(dest))
    files = tree(dest)
    catalog = [k for k in files if k.startswith(".dflow/")]
    assert len(catalog) == 1
    del files[catalog[0]]
    assert files == {"d/sub/a.txt": "alpha", "b.txt": "beta"}


def test_catalog_of_step_output_tgz(store, tmp_path):
    """A step's tar output carrying a catalog: the catalog is read from inside the archive."""
    out = tmp_path / "out"
    (out / "f").mkdir(parents=True)
    (out / "f" / "x").write_text("x")
    from dflow_lab.storage.catalog import write_catalog

    write_catalog(str(out), [{"dflow_list_item": "f/x", "order": 0}])
    repo = artifact_repository(config["local_workdir"])
    repo.save(str(out), "wf/pod/out.tgz")
    assert path_list_of_artifact({"s3": {"key": "wf/pod/out.tgz"}}) == ["f/x"]
    assert catalog_of_artifact(S3Artifact(key="nothing-here")) == []


def test_s3artifact_dict_and_pickle_have_no_secrets(s3):
    art = S3Artifact(key="k/a")
    d = art.to_dict()
    assert d["key"] == "k/a" and d["bucket_name"] == s3_config["bucket_name"]
    assert s3.secret_key not in str(d) and s3.access_key not in str(d)
    assert S3Artifact.from_dict(d) == art
    text = jsonpickle.dumps({"a": art[0]})
    assert s3.secret_key not in text and s3.access_key not in text
    back = jsonpickle.loads(text)["a"]
    assert isinstance(back, S3Artifact) and back.key == "k/a" and back.slice == 0
    assert s3.secret_key not in repr(art)


def test_s3artifact_prefix_and_errors(isolated_config):
    s3_config["prefix"] = "team/"
    assert S3Artifact(key="x").key == "team/x"
    assert S3Artifact(key="team/x").key == "team/x"
    with pytest.raises(ValueError, match="key"):
        S3Artifact()
    with pytest.raises(TypeError, match="bogus"):
        S3Artifact(key="x", bogus=1)
    imports: set = set()
    assert S3Artifact(key="team/x").evalable_repr(imports) == "S3Artifact(key='team/x')"


@pytest.fixture
def http_dir(tmp_path):
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_artifacts(http_dir, tmp_path, isolated_config):
    root, base = http_dir
    (root / "data.bin").write_bytes(b"\x00\x01payload")
    path = HTTPArtifact(f"{base}/data.bin?token=abc").download(path=str(tmp_path / "h"))
    assert open(path, "rb").read() == b"\x00\x01payload"
    assert "token" not in repr(HTTPArtifact(f"{base}/data.bin?token=abc"))
    s3_config.update(storage="local", storage_client=None)
    repo = artifact_repository(tmp_path / "ws")
    repo.load({"name": "h", "http": {"url": f"{base}/data.bin"}}, str(tmp_path / "in" / "h"))
    assert hashlib.md5((tmp_path / "in" / "h").read_bytes()).hexdigest() == hashlib.md5(b"\x00\x01payload").hexdigest()
    with pytest.raises(Exception, match="404"):
        repo.load({"name": "h", "http": {"url": f"{base}/missing"}}, str(tmp_path / "in" / "m"))
    assert not (tmp_path / "in" / "m").exists()


def test_manifest_with_s3_artifact_carries_no_credentials(s3):
    from dflow_lab import InputArtifact, ShellOPTemplate, Step, Workflow

    use = ShellOPTemplate(name="use", image="alpine", script="cat /data/in")
    use.inputs.artifacts = {"inp": InputArtifact(path="/data/in")}
    wf = Workflow(name="secrets")
    wf.add(Step(name="use", template=use, artifacts={"inp": S3Artifact(key="upload/x/data.tgz")}))
    text = wf.to_yaml() if hasattr(wf, "to_yaml") else str(wf.to_dict())
    assert "upload/x/data.tgz" in text
    assert s3.secret_key not in text and s3.access_key not in text
