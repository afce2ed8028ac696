"""Fixtures of the iterate-loop tests: the count file per test (the workspace is tests/conftest.py's `workdir`)."""

from __future__ import annotations

import pytest


@pytest.fixture
def log(tmp_path):
    """The count file the test OPs append to (one line per execution)."""
    return tmp_path / "executions.txt"
