"""Every public name of the dflow reference exists in dflow_lab (``dflow.X`` -> ``dflow_lab.X``)."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import SHARED

SCRIPT = SHARED / "reference" / "api_coverage.py"
REFERENCE = SHARED / "reference" / "dflow-api.txt"


def test_full_public_api_coverage():
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(REFERENCE), "--public", "--list-missing"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = proc.stdout.strip().splitlines()[-1]
    done, total = last.split(": ")[1].split("/")
    missing = [line for line in proc.stdout.splitlines() if line.startswith("missing ")]
    assert proc.returncode == 0 and done == total, "\n".join(missing)
