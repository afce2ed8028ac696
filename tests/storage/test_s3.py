"""MinioClient and the S3 repository against a real S3-compatible server (moto's) over HTTP."""

from __future__ import annotations

import hashlib
import os
import tarfile

import pytest

from dflow_lab.config import s3_config
from dflow_lab.storage import ObjectNotFound, StorageError, artifact_repository
from dflow_lab.storage.minio_client import MinioClient
from dflow_lab.storage.repository import RemoteRepository
from dflow_lab.storage.retry import RetryPolicy

MiB = 1 << 20


@pytest.fixture
def outdir(tmp_path):
    d = tmp_path / "out"
    (d / "sub").mkdir(parents=True)
    (d / "sub" / "a.txt").write_text("alpha")
    (d / "b.txt").write_text("beta")
    return d


def test_repository_uses_s3_with_argo_keys(s3, outdir, tmp_path):
    repo = artifact_repository(tmp_path / "ws")
    assert isinstance(repo, RemoteRepository) and isinstance(repo.client, MinioClient)
    loc = repo.save(str(outdir), "wf-abc/wf-abc-123/out.tgz")
    assert loc == {"s3": {"key": "wf-abc/wf-abc-123/out.tgz"}}
    # exactly one object, a gzipped tar with the output's basename as its top entry (as Argo)
    assert repo.client.list("wf-abc/", recursive=True) == ["wf-abc/wf-abc-123/out.tgz"]
    repo.client.download("wf-abc/wf-abc-123/out.tgz", str(tmp_path / "o.tgz"))
    with tarfile.open(tmp_path / "o.tgz") as tf:
        assert sorted(tf.getnames()) == ["out", "out/b.txt", "out/sub", "out/sub/a.txt"]
    assert repo.exists("wf-abc/wf-abc-123/out.tgz") and not repo.exists("wf-abc/wf-abc-123/out")
    repo.load({"name": "in", **loc}, str(tmp_path / "in"))
    assert (tmp_path / "in" / "sub" / "a.txt").read_text() == "alpha"


def test_s3_no_archive_and_sub_path(s3, outdir, tmp_path):
    repo = artifact_repository(tmp_path / "ws")
    loc = repo.save(str(outdir), "wf/p/dir", archive=None)
    assert loc["archive"] == {"none": {}}
    assert repo.client.list("wf/p/dir", recursive=True) == ["wf/p/dir/b.txt", "wf/p/dir/sub/a.txt"]
    repo.load(loc, str(tmp_path / "d"))
    assert (tmp_path / "d" / "sub" / "a.txt").read_text() == "alpha"
    repo.load({**loc, "subPath": "sub"}, str(tmp_path / "s"))
    assert os.listdir(tmp_path / "s") == ["a.txt"]
    f = repo.save(str(outdir / "b.txt"), "wf/p/file", archive=None)
    repo.load(f, str(tmp_path / "f"))
    assert (tmp_path / "f").read_text() == "beta"
    with pytest.raises(FileNotFoundError, match="wf/p/nothing"):
        repo.load({"s3": {"key": "wf/p/nothing"}}, str(tmp_path / "n"))


def test_client_methods(s3, tmp_path):
    c = MinioClient()
    f = tmp_path / "f"
    f.write_bytes(b"payload")
    c.upload("k/a/f", str(f))
    c.copy("k/a/f", "k/b/g")
    assert c.list("k/") == ["k/a/", "k/b/"]
    assert c.list("k/", recursive=True) == ["k/a/f", "k/b/g"]
    assert c.get_md5("k/b/g") == hashlib.md5(b"payload").hexdigest()
    c.download("k/b/g", str(tmp_path / "x" / "g"))
    assert (tmp_path / "x" / "g").read_bytes() == b"payload"
    assert c.exists("k/a/f") and not c.exists("k/a/nope")
    with pytest.raises(FileNotFoundError, match="k/a/nope"):
        c.download("k/a/nope", str(tmp_path / "nope"))
    assert not list(tmp_path.glob("nope*"))  # no partial file left behind


def test_multipart_upload_larger_than_part_size(s3, tmp_path):
    big = tmp_path / "big.bin"
    chunk = os.urandom(MiB)
    with open(big, "wb") as fh:
        for i in range(12):
            fh.write(bytes([i]) + chunk[1:])
    c = MinioClient(part_size=5 * MiB)
    c.upload("big/big.bin", str(big))
    # a multipart ETag is "<md5 of part md5s>-<number of parts>"
    assert c.get_md5("big/big.bin").endswith("-3")
    c.download("big/big.bin", str(tmp_path / "back.bin"))
    assert hashlib.md5((tmp_path / "back.bin").read_bytes()).hexdigest() == hashlib.md5(big.read_bytes()).hexdigest()


def test_user_storage_client_is_used(isolated_config, s3, outdir, tmp_path):
    class Recording(MinioClient):
        calls: list[str] = []

        def upload(self, key, path):
            self.calls.append(key)
            super().upload(key, path)

    client = Recording()
    s3_config.update(storage="local", storage_client=client)
    repo = artifact_repository(tmp_path / "ws")
    assert repo.client is client
    repo.save(str(outdir), "wf/p/o.tgz")
    assert Recording.calls == ["wf/p/o.tgz"]


def test_credentials_never_shown(s3, tmp_path):
    ACCESS_KEY, SECRET_KEY = s3.access_key, s3.secret_key
    c = MinioClient(retry=RetryPolicy(tries=1))
    for text in (repr(c), str(c.to_dict()), repr(artifact_repository(tmp_path))):
        assert ACCESS_KEY not in text and SECRET_KEY not in text
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(c)
    import copy

    assert copy.deepcopy({"client": c})["client"] is c
    wrong = MinioClient(bucket_name="no-such-bucket-here", retry=RetryPolicy(tries=1))
    with pytest.raises(ObjectNotFound, match="NoSuchBucket") as err:
        wrong.upload("x", __file__)
    assert "no-such-bucket-here" in str(err.value)
    assert ACCESS_KEY not in str(err.value) and SECRET_KEY not in str(err.value)


def test_server_down_fails_after_bounded_retries(isolated_config, unused_port, tmp_path, caplog):
    ACCESS_KEY, SECRET_KEY = "AKIA-down-test", "down-secret-value"
    s3_config.update(
        endpoint=f"127.0.0.1:{unused_port}", access_key=ACCESS_KEY, secret_key=SECRET_KEY, storage="s3"
    )
    c = MinioClient(retry=RetryPolicy(tries=3, backoff=0.01))
    f = tmp_path / "f"
    f.write_text("x")
    repo = RemoteRepository(c)
    with pytest.raises(StorageError, match="failed after 3 tries") as err:
        repo.save(str(f), "wf/p/f.tgz")
    assert "wf/p/f.tgz" in str(err.value)
    assert ACCESS_KEY not in str(err.value) and SECRET_KEY not in str(err.value)
    assert len([r for r in caplog.records if "retrying" in r.getMessage()]) == 2
    assert all(SECRET_KEY not in r.getMessage() for r in caplog.records)


def test_object_keys_with_dotdot_are_not_written_outside(s3, tmp_path):
    c = MinioClient()
    f = tmp_path / "f"
    f.write_text("evil")
    c.upload("wf/p/dir/ok.txt", str(f))
    # S3 keys are opaque strings: another client may store this one (minio refuses to)
    import boto3

    boto3.client(
        "s3", endpoint_url=f"http://{s3.endpoint}", region_name="us-east-1",
        aws_access_key_id=s3.access_key, aws_secret_access_key=s3.secret_key,
    ).put_object(Bucket=c.bucket_name, Key="wf/p/dir/x/../../../../escape.txt", Body=b"evil")
    assert "wf/p/dir/x/../../../../escape.txt" in c.list("wf/p/dir", recursive=True)
    repo = RemoteRepository(c)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    with pytest.raises(ValueError, match=r"'\.\.'"):
        repo.load({"s3": {"key": "wf/p/dir"}, "archive": {"none": {}}}, str(work / "dest"))
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "a" / "escape.txt").exists()
    assert os.listdir(work) == []


def test_other_bucket_is_refused(s3, tmp_path):
    repo = artifact_repository(tmp_path / "ws")
    with pytest.raises(ValueError, match="bucket 'elsewhere'"):
        repo.load({"name": "a", "s3": {"bucket": "elsewhere", "key": "k"}}, str(tmp_path / "a"))


def test_s3_zip_artifact(s3, outdir, tmp_path):
    repo = artifact_repository(tmp_path / "ws")
    loc = repo.save(str(outdir), "wf/p/out.zip", archive={"zip": {}})
    assert repo.client.list("wf/p/", recursive=True) == ["wf/p/out.zip"]
    repo.load({"name": "z", **loc}, str(tmp_path / "in"))
    assert (tmp_path / "in" / "sub" / "a.txt").read_text() == "alpha"


def test_debug_s3_selects_s3(s3, tmp_path):
    from dflow_lab.config import config

    s3_config["storage"] = "local"
    config["debug_s3"] = True  # dflow's switch for S3 with the local engine
    assert isinstance(artifact_repository(tmp_path / "ws"), RemoteRepository)
    config["debug_s3"] = False
    assert not isinstance(artifact_repository(tmp_path / "ws"), RemoteRepository)
    s3_config["storage"] = "ftp"
    with pytest.raises(ValueError, match="ftp"):
        artifact_repository(tmp_path / "ws")


def test_set_s3_config_endpoint_url_sets_secure(isolated_config):
    """An endpoint given as a URL sets ``secure`` from its scheme (the README says so); a contradiction is refused."""
    from dflow_lab import set_s3_config
    from dflow_lab.config import s3_config

    set_s3_config(endpoint="https://minio.example.org:9000/")
    assert (s3_config["endpoint"], s3_config["secure"]) == ("minio.example.org:9000", True)
    set_s3_config(endpoint="http://127.0.0.1:9000")
    assert (s3_config["endpoint"], s3_config["secure"]) == ("127.0.0.1:9000", False)
    with pytest.raises(ValueError, match="secure=False"):
        set_s3_config(endpoint="https://minio.example.org", secure=False)
    set_s3_config(endpoint="minio.example.org:9000", secure=True)
    assert (s3_config["endpoint"], s3_config["secure"]) == ("minio.example.org:9000", True)
