"""The README's example runs on the local engine and prints what its steps produced."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_hello_example_runs_locally(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "hello.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("workflow hello-") and lines[0].endswith(": Succeeded")
    assert "square-3 -> 9" in lines
    assert "squares: [0, 1, 4, 9, 16]" in lines
    assert (tmp_path / ".dflow-lab").is_dir(), "the local workspace is created where the script runs"


def test_readme_first_workflow_runs(tmp_path):
    import re

    block = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)[0]
    script = tmp_path / "first.py"
    script.write_text(block)
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["Succeeded", "9"]
