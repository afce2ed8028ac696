"""The notebook widget's opening: elk comes from the kernel only when a layout needs it, and lays out on the main
thread where the page's Content-Security-Policy refuses workers (js/canvas/elk.ts, js/widget/elkFromKernel.ts)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .canvas_page import CanvasPage
from .conftest import served
from .jupyterlab_harness import CHROMIUM, LabServer, NotebookPage

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]

# a DAG without saved positions: the widget lays it out with elk
DAG_CANVAS = """\
from dflow_lab import DAG, Task, Workflow
from dflow_lab.python import PythonOPTemplate
from dflow_lab.widgets import WorkflowCanvas
from tutorial_ops import Describe, Squares, Total

dag = DAG(name="main")
squares = Task("squares", PythonOPTemplate(Squares, image="python:3.11"), parameters={"n": 4})
total = Task("total", PythonOPTemplate(Total, image="python:3.11"), parameters={"scale": 0.5},
             artifacts={"table": squares.outputs.artifacts["table"]})
describe = Task("describe", PythonOPTemplate(Describe, image="python:3.11"),
                parameters={"value": total.outputs.parameters["total"]})
for t in (squares, total, describe):
    dag.add(t)
canvas = WorkflowCanvas(Workflow(name="opening", dag=dag), height=480)
canvas
"""

# a page policy that refuses every worker (Blob workers included) and allows the rest
NO_WORKERS = "worker-src 'none'"

# records the page's CSP violations, before any script runs
RECORD = """() => {
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation',
    (e) => window.cspViolations.push(`${e.effectiveDirective} ${String(e.blockedURI).split(':')[0]}`));
}"""


@pytest.fixture(scope="module")
def lab_without_workers(tmp_path_factory):
    """A JupyterLab whose pages carry ``Content-Security-Policy: worker-src 'none'`` (set by the server: a response
    rewritten in the browser would lose Chromium's local-network permission for the kernel's websocket)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    settings = '{"headers": {"Content-Security-Policy": "%s"}}' % NO_WORKERS
    yield from served(LabServer(tmp_path_factory.mktemp("lab-csp"), args=[f"--ServerApp.tornado_settings={settings}"]))


def _x(canvas: CanvasPage, path: str) -> float:
    transform = canvas.node(path).evaluate("e => e.style.transform")
    m = re.match(r"translate\(([-\d.e]+)px, ([-\d.e]+)px\)", transform)
    assert m, f"node {path}: transform {transform!r}"
    return float(m.group(1))


def test_elk_lays_out_on_the_main_thread_where_the_csp_refuses_workers(lab_without_workers, page, screenshots_dir):
    """A page whose CSP is ``worker-src 'none'`` (no Blob workers): the widget still lays out a DAG with elk,
    evaluating the script the kernel sent on the main thread (the documented fallback)."""
    lab = lab_without_workers
    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", lab.root / "tutorial_ops.py")
    page.add_init_script(f"({RECORD})()")
    nb = NotebookPage(page, lab, "csp.ipynb", [DAG_CANVAS])
    nb.open()
    nb.run_all()
    page.wait_for_selector(".dfl-root .react-flow__node-step", timeout=60_000)
    canvas = CanvasPage(page)
    assert canvas.node_ids() == ["describe", "squares", "total"]
    # elk's left-to-right layers: each step right of the one it reads from (all at 0 if no layout ran)
    page.wait_for_function(
        """() => {
            const x = (id) => {
                const n = document.querySelector(`.react-flow__node[data-id="${id}"]`);
                return n ? new DOMMatrix(getComputedStyle(n).transform).m41 : NaN;
            };
            return x('squares') < x('total') && x('total') < x('describe');
        }""",
        timeout=60_000,
    )
    assert _x(canvas, "squares") < _x(canvas, "total") < _x(canvas, "describe")
    # the worker was refused by the page's policy: the layout ran on the main thread
    page.wait_for_function("() => window.cspViolations.includes('worker-src blob')", timeout=30_000)
    page.locator(".dfl-root").screenshot(path=str(screenshots_dir / "widget-elk-no-worker.png"))
