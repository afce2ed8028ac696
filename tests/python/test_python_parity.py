"""Parity with the reference: the same dflow script under pydflow (debug mode) and under dflow-lab."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PYDFLOW = Path(os.environ.get("PYDFLOW_PYTHON", "/opt/pydflow-venv/bin/python"))


def _run(python: str, flavor: str, cwd: Path, script: str = "parity_duplicate.py") -> dict:
    cwd.mkdir()
    env = {**os.environ, "DFLOW_FLAVOR": flavor}
    env.pop("PYTHONPATH", None)
    if flavor == "dflow_lab":  # this checkout's dflow_lab, whatever the installed one points at
        env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([python, str(HERE / script)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_duplicate_example_runs_on_dflow_lab(tmp_path):
    got = _run(sys.executable, "dflow_lab", tmp_path / "lab")
    assert got == {"status": "Succeeded", "msg": "Hello" * 6, "bar": "Hi" * 6,
                   "odir": [["bar.txt", "World" * 6], ["foo.txt", "Hello" * 6]]}


@pytest.mark.skipif(not PYDFLOW.exists(), reason="the reference pydflow venv is not installed here")
def test_duplicate_example_matches_pydflow(tmp_path):
    assert _run(sys.executable, "dflow_lab", tmp_path / "lab") == _run(str(PYDFLOW), "dflow", tmp_path / "ref")


SLICES = {"status": "Succeeded",
          "inputs": {"total": 60, "texts": ["alpha", "beta", "gamma"]},
          "outputs": {"names": ["a.txt", "bb.txt", "ccc.txt", "dddd.txt", "eeeee.txt"],
                      "contents": ["text of a.txt", "text of bb.txt", "text of ccc.txt", "text of dddd.txt",
                                   "text of eeeee.txt"],
                      "sizes": [5, 6, 7, 8, 9],
                      "texts": ["TEXT OF A.TXT", "TEXT OF BB.TXT", "TEXT OF CCC.TXT", "TEXT OF DDDD.TXT",
                                "TEXT OF EEEEE.TXT"]}}


def test_slices_example_runs_on_dflow_lab(tmp_path):
    """Sliced inputs (a list parameter and artifact, stacked outputs) and sliced outputs (groups, sub-path
    slices), in one workflow (parity_slices.py)."""
    assert _run(sys.executable, "dflow_lab", tmp_path / "lab", "parity_slices.py") == SLICES


@pytest.mark.skipif(not PYDFLOW.exists(), reason="the reference pydflow venv is not installed here")
def test_slices_example_matches_pydflow(tmp_path):
    assert _run(str(PYDFLOW), "dflow", tmp_path / "ref", "parity_slices.py") == SLICES
