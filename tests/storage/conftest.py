"""Storage test set-up: a real S3-compatible server (moto's, over HTTP on 127.0.0.1) and config isolation."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator

import pytest

from dflow_lab.config import config, s3_config

ACCESS_KEY = "test-access-AKIA9"
SECRET_KEY = "test-secret-s3cr3t-VALUE"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoServer:
    """moto's S3 server as a child process on a fixed 127.0.0.1 port; can be stopped and restarted."""

    access_key = ACCESS_KEY
    secret_key = SECRET_KEY

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.proc.returncode}")
            try:
                urllib.request.urlopen(f"http://{self.endpoint}/moto-api/", timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"moto server did not answer on {self.endpoint} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.proc = None

    def make_bucket(self, name: str) -> None:
        from minio import Minio

        client = Minio(self.endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)
        if not client.bucket_exists(name):
            client.make_bucket(name)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def moto_factory() -> Iterator[Callable[[], MotoServer]]:
    """Start private moto servers (``moto_factory()``), for tests that stop and restart them."""
    started: list[MotoServer] = []

    def make() -> MotoServer:
        server = MotoServer()
        started.append(server)
        server.start()
        return server

    try:
        yield make
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def unused_port() -> int:
    """A 127.0.0.1 port nothing listens on."""
    return free_port()


@pytest.fixture
def isolated_config() -> Iterator[None]:
    """Restore ``config`` and ``s3_config`` after the test."""
    saved, saved_s3 = dict(config), dict(s3_config)
    try:
        yield
    finally:
        config.clear()
        config.update(saved)
        s3_config.clear()
        s3_config.update(saved_s3)


@pytest.fixture
def s3(moto_server: MotoServer, isolated_config) -> MotoServer:
    """``s3_config`` pointed at a fresh bucket of the moto server, with ``storage="s3"``."""
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    moto_server.make_bucket(bucket)
    s3_config.update(
        endpoint=moto_server.endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        secure=False,
        bucket_name=bucket,
        storage="s3",
        storage_client=None,
        prefix="",
    )
    return moto_server


@pytest.fixture
def local_store(tmp_path, isolated_config, monkeypatch):
    """``s3_config`` on the local store, with the local workspace and cwd under ``tmp_path``."""
    s3_config.update(storage="local", storage_client=None, prefix="")
    config["local_workdir"] = str(tmp_path / "ws")
    monkeypatch.chdir(tmp_path)
    return tmp_path
