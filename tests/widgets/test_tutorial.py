"""The tutorial notebook runs from top to bottom in a real kernel (nbclient): build, edit, run, watch."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]


def test_tutorial_notebook_executes(tmp_path):
    for name in ("tutorial.ipynb", "tutorial_ops.py"):
        shutil.copy(REPO / "notebooks" / name, tmp_path / name)
    nb = nbformat.read(tmp_path / "tutorial.ipynb", as_version=4)
    # the kernel runs in tmp_path: the local engine's workspace (.dflow-lab) and the saved files go there
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()

    def text(i: int) -> str:
        return "".join(o.get("text", "") for o in nb.cells[i].get("outputs", []) if o.output_type == "stream")

    outputs = [text(i) for i in range(len(nb.cells))]
    joined = "\n".join(outputs)
    assert 'after the drop: ["missing-input: node ' in joined
    assert "after the wire: valid" in joined
    assert "['squares', 'total', 'describe', 'describe-half']" in joined  # Python → canvas
    assert "Succeeded - 4/4 succeeded" in joined
    assert "Succeeded {'text': 'the total is 15'}" in joined
    assert "['i', 'square'] [['0', '0'], ['1', '1'], ['2', '4'], ['3', '9'], ['4', '16']]" in joined
    assert "Succeeded {'Succeeded': 4} of 4" in joined
    assert (tmp_path / "squares.dflow.json").exists()
    widgets = [o for c in nb.cells for o in c.get("outputs", [])
               if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widgets) == 2  # the canvas and the monitor were displayed
