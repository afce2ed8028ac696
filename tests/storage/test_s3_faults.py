"""Faults of a real S3 server: stopped and restarted in the middle of an upload and of a download."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time

import boto3
import pytest

from dflow_lab.config import s3_config
from dflow_lab.storage.minio_client import MinioClient
from dflow_lab.storage.repository import RemoteRepository
from dflow_lab.storage.retry import RetryPolicy

MiB = 1 << 20
BUCKET = "restart-bucket"
PATIENT = RetryPolicy(tries=10, backoff=0.25, max_backoff=4.0)  # ~25 s of patience in all


@pytest.fixture
def own_server(isolated_config, moto_factory):
    server = moto_factory()
    server.make_bucket(BUCKET)
    s3_config.update(
        endpoint=server.endpoint, access_key=server.access_key, secret_key=server.secret_key,
        secure=False, bucket_name=BUCKET, storage="s3", storage_client=None,
    )
    return server


def boto(server):
    return boto3.client(
        "s3", endpoint_url=f"http://{server.endpoint}", region_name="us-east-1",
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
    )


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.002)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def md5(path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def run_in_thread(fn):
    box: dict = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as exc:  # reported to the test below
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, box


def test_server_restarted_mid_multipart_upload(own_server, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="dflow_lab.storage")
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(MiB))
    client = MinioClient(part_size=5 * MiB, parallel_uploads=1, retry=PATIENT)
    repo = RemoteRepository(client)
    key = "wf/wf-1/big"
    thread, box = run_in_thread(lambda: repo.save(str(src), key, archive=None))

    s3 = boto(own_server)
    wait_for(lambda: s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads"), 60, "a multipart upload to start")
    # mid-upload: parts are arriving, the object itself is not visible
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix=key)
    own_server.stop()
    wait_for(lambda: any("retrying" in r.getMessage() for r in caplog.records), 60, "a failed try")
    own_server.start()
    own_server.make_bucket(BUCKET)  # moto keeps its data in memory: a restarted one starts empty

    thread.join(timeout=120)
    assert not thread.is_alive()
    assert "error" not in box, box.get("error")
    assert box["result"] == {"s3": {"key": key}, "archive": {"none": {}}}
    back = tmp_path / "back.bin"
    repo.load(box["result"], str(back))
    assert md5(back) == md5(src)


def test_server_restarted_mid_download(own_server, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="dflow_lab.storage")
    src = tmp_path / "many"
    src.mkdir()
    for i in range(300):
        (src / f"f{i:03d}.dat").write_bytes(os.urandom(64 * 1024))
    client = MinioClient(retry=PATIENT, workers=1)
    repo = RemoteRepository(client)
    loc = repo.save(str(src), "wf/wf-2/many", archive=None)

    dest = tmp_path / "dest"
    thread, box = run_in_thread(lambda: repo.load(loc, str(dest)))

    def staged_files():
        return sum(len(files) for d, _, files in os.walk(tmp_path) if os.path.basename(d).startswith("dest.tmp-"))

    wait_for(lambda: staged_files() >= 5, 60, "the download to be under way")
    own_server.stop()
    wait_for(lambda: any("retrying" in r.getMessage() for r in caplog.records), 60, "a failed try")
    assert not dest.exists()  # nothing is placed at the destination before the whole artifact is in
    own_server.start()
    own_server.make_bucket(BUCKET)
    # a server with durable storage comes back with its objects: put them back as it would
    RemoteRepository(MinioClient(retry=PATIENT)).save(str(src), "wf/wf-2/many", archive=None)

    thread.join(timeout=120)
    assert not thread.is_alive()
    assert "error" not in box, box.get("error")
    assert sorted(os.listdir(dest)) == sorted(os.listdir(src))
    for name in os.listdir(src):
        assert md5(dest / name) == md5(src / name)
