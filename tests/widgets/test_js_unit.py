"""The canvas's own unit tests (js/test, node's test runner), run from pytest so that CI runs them too."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_canvas_js_unit_tests():
    if shutil.which("node") is None or not (REPO / "node_modules" / "esbuild").exists():
        pytest.fail("node and the npm packages are needed: run `npm ci` in the repository (scripts/install.sh does)")
    r = subprocess.run(["node", "js/test/run.mjs"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "# fail 0" in r.stdout and "# pass " in r.stdout
