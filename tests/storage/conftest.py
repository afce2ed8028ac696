"""Storage test set-up: a real S3-compatible server (moto's, over HTTP on 127.0.0.1) and config isolation."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from s3server import MotoServer, free_port

from dflow_lab.config import config, s3_config


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
        access_key=moto_server.access_key,
        secret_key=moto_server.secret_key,
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
