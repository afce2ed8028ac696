"""Fixtures of the local engine tests: a fresh workspace per test and manifest helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from dflow_lab.local.backend import LocalBackend


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    """A LocalBackend on a fresh workspace."""
    return LocalBackend(tmp_path / "ws")


