"""Graph tests: ``fixture_ops`` (the OPs the pydflow fixtures name) is importable from this directory."""

from __future__ import annotations

import sys

import pytest

from .helpers import HERE, load_fixture

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))


@pytest.fixture
def example_graph() -> dict:
    """The full example of docs/graph-format.md."""
    return load_fixture("example.json")
