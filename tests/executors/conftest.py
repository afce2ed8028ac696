"""Fixtures of the executor tests: the real services of ``services.py``, started once per session
(each skips with its reason when its part cannot start), and a fresh local workspace per test."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import pytest

from dflow_lab.config import config

from . import services

OPPKG = Path(__file__).resolve().parent / "oppkg"


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """sshd on 127.0.0.1:<free port>; ``.client_key`` logs in as ``services.TEST_USER``."""
    try:
        server = services.SSHD(tmp_path_factory.mktemp("sshd"))
    except services.Unavailable as e:
        pytest.skip(f"sshd cannot start here: {e}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def slurm():
    try:
        cluster = services.Slurm()
    except services.Unavailable as e:
        pytest.skip(f"Slurm cannot start here: {e}")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def slurm_sshd(tmp_path_factory, slurm):
    """An sshd whose sessions see the test cluster's SLURM_CONF (a Slurm login node)."""
    try:
        server = services.SSHD(tmp_path_factory.mktemp("sshd-slurm"), env=slurm.env)
    except services.Unavailable as e:
        pytest.skip(f"sshd cannot start here: {e}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """``{"busybox": tag, "python": tag}``, imported into podman from root filesystems made here."""
    work = tmp_path_factory.mktemp("images")
    try:
        run = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"  # concurrent test sessions must not remove each other's images
        tags = {"busybox": services.build_busybox_image(work, f"localhost/dflow-lab-test/busybox:{run}"),
                "python": services.build_python_image(work, f"localhost/dflow-lab-test/python:{run}")}
    except services.Unavailable as e:
        pytest.skip(f"podman cannot run containers here: {e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    yield tags
    for tag in tags.values():
        services.remove_image(tag)


@pytest.fixture(scope="session")
def execops():
    """The test OP package, imported as a user's top-level package would be."""
    sys.path.insert(0, str(OPPKG))
    import execops

    yield execops
    if str(OPPKG) in sys.path:
        sys.path.remove(str(OPPKG))


@pytest.fixture
def podman_config(monkeypatch, images):
    monkeypatch.setitem(config, "container_runtime", "podman")
    monkeypatch.setitem(config, "container_global_options", services.PODMAN_GLOBAL)
    monkeypatch.setitem(config, "container_run_options", services.PODMAN_RUN)
    monkeypatch.delenv("DFLOW_CONTAINER_RUNTIME", raising=False)
    return images


def remote_python() -> str:
    """The remote side's Python: Debian's (the test user cannot read the host's own interpreter)."""
    return "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
