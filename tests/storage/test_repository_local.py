"""The local store behind ``artifact_repository``: Argo semantics, zero-copy moves, atomicity, key safety."""

from __future__ import annotations

import os
import tarfile

import pytest

from dflow_lab.config import s3_config
from dflow_lab.storage import LocalStorageClient, artifact_repository
from dflow_lab.storage.repository import LocalRepository


@pytest.fixture
def repo(tmp_path, isolated_config):
    s3_config.update(storage="local", storage_client=None)
    return artifact_repository(tmp_path / "ws")


@pytest.fixture
def outdir(tmp_path):
    d = tmp_path / "step" / "out"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a.txt").write_text("alpha")
    (d / "b.txt").write_text("beta")
    (d / "empty").mkdir()
    return d


def test_default_is_local_store_under_workspace(repo, tmp_path):
    assert isinstance(repo, LocalRepository)
    assert repo.client.root == str(tmp_path / "ws" / "artifacts")


def test_tar_directory_roundtrip_as_argo(repo, outdir, tmp_path):
    loc = repo.save(str(outdir), "wf/wf-123/out.tgz")
    assert loc == {"s3": {"key": "wf/wf-123/out.tgz"}}
    assert repo.exists("wf/wf-123/out.tgz")
    dest = tmp_path / "next" / "inputs" / "artifacts" / "in"
    repo.load({"name": "in", "path": "/tmp/in", **loc}, str(dest))
    # the single top entry (the output directory) becomes the destination itself
    assert sorted(os.listdir(dest)) == ["b.txt", "empty", "sub"]
    assert (dest / "sub" / "a.txt").read_text() == "alpha"
    assert (dest / "empty").is_dir()


def test_load_is_zero_copy_on_one_disk(repo, outdir, tmp_path):
    repo.save(str(outdir), "wf/p/out.tgz")
    dest = tmp_path / "in"
    repo.load({"s3": {"key": "wf/p/out.tgz"}}, str(dest))
    assert os.stat(dest / "b.txt").st_ino == os.stat(outdir / "b.txt").st_ino


def test_tar_object_is_a_real_tgz_to_storage_clients(repo, outdir, tmp_path):
    repo.save(str(outdir), "wf/p/out.tgz")
    assert repo.client.list("wf/p/") == ["wf/p/out.tgz"]
    assert repo.client.list("wf/", recursive=True) == ["wf/p/out.tgz"]
    tgz = tmp_path / "dl.tgz"
    repo.client.download("wf/p/out.tgz", str(tgz))
    with tarfile.open(tgz) as tf:
        names = sorted(tf.getnames())
    assert names == ["out", "out/b.txt", "out/empty", "out/sub", "out/sub/a.txt"]
    assert repo.client.get_md5("wf/p/out.tgz") == repo.client.get_md5("wf/p/out.tgz")


def test_no_archive_file_and_directory(repo, outdir, tmp_path):
    loc = repo.save(str(outdir / "b.txt"), "wf/p/file", archive=None)
    assert loc == {"s3": {"key": "wf/p/file"}, "archive": {"none": {}}}
    loc2 = repo.save(str(outdir), "wf/p/dir", archive={"none": {}})
    assert repo.client.list("wf/p/dir/", recursive=True) == ["wf/p/dir/b.txt", "wf/p/dir/sub/a.txt"]
    repo.load(loc, str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "beta"
    repo.load(loc2, str(tmp_path / "d"))
    assert (tmp_path / "d" / "sub" / "a.txt").read_text() == "alpha"


def test_single_file_tar(repo, outdir, tmp_path):
    repo.save(str(outdir / "b.txt"), "wf/p/b.tgz")
    repo.load({"s3": {"key": "wf/p/b.tgz"}}, str(tmp_path / "x"))
    assert (tmp_path / "x").read_text() == "beta"


def test_sub_path_of_unarchived_directory(repo, outdir, tmp_path):
    loc = repo.save(str(outdir), "wf/p/dir", archive=None)
    repo.load({**loc, "subPath": "sub/a.txt"}, str(tmp_path / "a"))
    assert (tmp_path / "a").read_text() == "alpha"


def test_raw_and_missing(repo, tmp_path):
    repo.load({"name": "r", "raw": {"data": "hello"}}, str(tmp_path / "r"))
    assert (tmp_path / "r").read_text() == "hello"
    with pytest.raises(FileNotFoundError, match="wf/nope"):
        repo.load({"name": "x", "s3": {"key": "wf/nope"}}, str(tmp_path / "n"))
    with pytest.raises(ValueError, match="'g'.*not supported"):
        repo.load({"name": "g", "git": {"repo": "x"}}, str(tmp_path / "g"))
    with pytest.raises(ValueError, match="s3.key is missing"):
        repo.load({"name": "k", "s3": {}}, str(tmp_path / "k"))
    assert not os.path.exists(tmp_path / "n") and not os.path.exists(tmp_path / "g")


def test_save_errors_before_writing(repo, tmp_path):
    with pytest.raises(FileNotFoundError, match="wf/p/out.tgz"):
        repo.save(str(tmp_path / "missing"), "wf/p/out.tgz")
    with pytest.raises(ValueError, match="rar"):
        repo.save(str(tmp_path), "wf/p/out.rar", archive={"rar": {}})
    assert repo.client.list("", recursive=True) == []


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/abs/key", "", "a/./b"])
def test_keys_cannot_escape_the_store(repo, outdir, tmp_path, key):
    with pytest.raises(ValueError, match="key"):
        repo.save(str(outdir), key)
    assert not (tmp_path / "escape").exists() and not (tmp_path / "b").exists()


def test_overwrite_replaces_atomically(repo, outdir, tmp_path):
    repo.save(str(outdir), "wf/p/out.tgz")
    (outdir / "b.txt").unlink()
    (outdir / "c.txt").write_text("gamma")
    repo.save(str(outdir), "wf/p/out.tgz")
    repo.load({"s3": {"key": "wf/p/out.tgz"}}, str(tmp_path / "in"))
    assert sorted(os.listdir(tmp_path / "in")) == ["c.txt", "empty", "sub"]
    # nothing is left in the staging area
    assert os.listdir(repo.client.staging) == []


def test_failed_save_leaves_no_artifact(repo, tmp_path):
    src = tmp_path / "bad"
    src.mkdir()
    (src / "ok.txt").write_text("x")
    os.symlink(str(src / "gone"), src / "dangling")
    with pytest.raises(FileNotFoundError):
        repo.save(str(src), "wf/p/bad.tgz")
    assert not repo.exists("wf/p/bad.tgz")
    assert os.listdir(repo.client.staging) == []


def test_symlinked_outputs_are_stored_as_files(repo, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("payload")
    src = tmp_path / "out"
    src.mkdir()
    os.symlink(str(data), src / "link.txt")
    repo.save(str(src), "wf/p/out.tgz")
    repo.load({"s3": {"key": "wf/p/out.tgz"}}, str(tmp_path / "in"))
    assert not os.path.islink(tmp_path / "in" / "link.txt")
    assert (tmp_path / "in" / "link.txt").read_text() == "payload"


def test_uploaded_tgz_object_is_unpacked_unless_archive_none(repo, outdir, tmp_path):
    from dflow_lab.storage.archive import make_tar

    tgz = tmp_path / "x.tgz"
    make_tar(str(outdir), str(tgz))
    repo.client.upload("up/x.tgz", str(tgz))
    repo.load({"s3": {"key": "up/x.tgz"}}, str(tmp_path / "in"))
    assert (tmp_path / "in" / "sub" / "a.txt").read_text() == "alpha"
    repo.load({"s3": {"key": "up/x.tgz"}, "archive": {"none": {}}}, str(tmp_path / "raw.tgz"))
    assert (tmp_path / "raw.tgz").read_bytes() == tgz.read_bytes()


def test_storage_client_object_semantics(tmp_path):
    c = LocalStorageClient(tmp_path / "store")
    f = tmp_path / "f"
    f.write_text("one")
    c.upload("a/b/c.txt", str(f))
    c.upload("a/bc.txt", str(f))
    f.write_text("two")  # the stored object is a copy, unaffected
    assert c.list("a/b") == ["a/b/", "a/bc.txt"]
    assert c.list("a/b", recursive=True) == ["a/b/c.txt", "a/bc.txt"]
    c.copy("a/b/c.txt", "z/c.txt")
    c.download("z/c.txt", str(tmp_path / "out" / "c.txt"))
    assert (tmp_path / "out" / "c.txt").read_text() == "one"
    import hashlib

    assert c.get_md5("z/c.txt") == hashlib.md5(b"one").hexdigest()
    assert c.list("nothing/") == []
    with pytest.raises(FileNotFoundError):
        c.download("a/missing", str(tmp_path / "m"))


def test_many_small_artifacts(repo, tmp_path):
    """A 1,000-step fan-out's worth of save/load round trips through the local store."""
    src = tmp_path / "one.txt"
    src.write_text("x")
    for i in range(1000):
        repo.save(str(src), f"wf/p{i}/o.tgz")
    for i in range(1000):
        repo.load({"s3": {"key": f"wf/p{i}/o.tgz"}}, str(tmp_path / "in" / str(i)))
    assert len(repo.client.list("wf/", recursive=True)) == 1000
    assert (tmp_path / "in" / "999").read_text() == "x"


def test_argo_output_keys():
    from dflow_lab.storage.repository import argo_output_key

    assert argo_output_key("wf-1/wf-1-123", {"name": "out", "path": "/tmp/o"}) == "wf-1/wf-1-123/out.tgz"
    assert argo_output_key("wf/pod", {"name": "out", "path": "/tmp/o.txt", "archive": {"none": {}}}) == "wf/pod/o.txt"
    assert argo_output_key("wf/pod/", {"name": "x", "archive": {"tar": {"compressionLevel": 0}}}) == "wf/pod/x.tgz"
    assert argo_output_key("wf/pod", {"name": "x", "path": "/p", "archive": {"zip": {}}}) == "wf/pod/x.zip"
    # Argo's key-only artifacts keep the key they name
    assert argo_output_key("wf/pod", {"name": "file", "path": "/mnt/file", "s3": {"key": "my-file"}}) == "my-file"
    # a directory path with a trailing slash: the key uses its cleaned basename
    assert argo_output_key("wf/pod", {"name": "a", "path": "/tmp/", "archive": {"none": {}}}) == "wf/pod/tmp"


def test_declared_archive_modes_on_load(repo, outdir, tmp_path):
    repo.save(str(outdir), "wf/p/out.tgz")
    # archive none on the consumer: it gets the .tgz itself, as on Argo
    repo.load({"s3": {"key": "wf/p/out.tgz"}, "archive": {"none": {}}}, str(tmp_path / "raw.tgz"))
    with tarfile.open(tmp_path / "raw.tgz") as tf:
        assert "out/sub/a.txt" in tf.getnames()
    # archive tar declared on something that is not a tarball is an error naming the key
    repo.save(str(outdir / "b.txt"), "wf/p/plain", archive=None)
    with pytest.raises(ValueError, match="wf/p/plain.*not a gzipped tar"):
        repo.load({"s3": {"key": "wf/p/plain"}, "archive": {"tar": {}}}, str(tmp_path / "t"))
    assert not (tmp_path / "t").exists()


def test_concurrent_saves_and_loads(repo, tmp_path):
    """The engine saves and loads from several threads at once."""
    from concurrent.futures import ThreadPoolExecutor

    src = tmp_path / "one"
    src.mkdir()
    (src / "f.txt").write_text("x")

    def work(i: int) -> str:
        repo.save(str(src), f"wf/p{i}/o.tgz")
        repo.load({"s3": {"key": f"wf/p{i}/o.tgz"}}, str(tmp_path / "in" / str(i)))
        return (tmp_path / "in" / str(i) / "f.txt").read_text()

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(work, range(400))) == ["x"] * 400
    assert len(repo.client.list("wf/", recursive=True)) == 400
    assert os.listdir(repo.client.staging) == []


def test_copies_instead_of_links_when_configured(tmp_path, isolated_config, outdir):
    from dflow_lab.config import config

    s3_config.update(storage="local", storage_client=None)
    config["local_artifact_links"] = False
    repo = artifact_repository(tmp_path / "ws")
    repo.save(str(outdir), "wf/p/out.tgz")
    repo.load({"s3": {"key": "wf/p/out.tgz"}}, str(tmp_path / "in"))
    (tmp_path / "in" / "b.txt").write_text("edited in place")  # a tool rewriting its input
    repo.load({"s3": {"key": "wf/p/out.tgz"}}, str(tmp_path / "again"))
    assert (tmp_path / "again" / "b.txt").read_text() == "beta"


def test_zip_archives(repo, outdir, tmp_path):
    import zipfile

    loc = repo.save(str(outdir), "wf/p/out.zip", archive={"zip": {}})
    assert loc == {"s3": {"key": "wf/p/out.zip"}, "archive": {"zip": {}}}
    repo.client.download("wf/p/out.zip", str(tmp_path / "o.zip"))
    with zipfile.ZipFile(tmp_path / "o.zip") as zf:
        assert sorted(zf.namelist()) == ["out/b.txt", "out/sub/a.txt"]
    repo.load({"name": "z", **loc}, str(tmp_path / "in"))
    assert (tmp_path / "in" / "sub" / "a.txt").read_text() == "alpha"
    one = repo.save(str(outdir / "b.txt"), "wf/p/b.zip", archive="zip")
    repo.load(one, str(tmp_path / "b"))
    assert (tmp_path / "b").read_text() == "beta"
