"""Fixtures of the iterate-loop tests: a fresh local workspace and count file per test."""

from __future__ import annotations

import pytest

from dflow_lab.config import config


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    monkeypatch.setitem(config, "mode", "local")
    monkeypatch.setitem(config, "detach", False)
    return tmp_path / "ws"


@pytest.fixture
def log(tmp_path):
    """The count file the test OPs append to (one line per execution)."""
    return tmp_path / "executions.txt"
