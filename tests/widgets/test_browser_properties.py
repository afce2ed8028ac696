"""The canvas's properties panel in a real JupyterLab (headless Chromium): literal artifacts, slices and the
fan-out thresholds of a step, edited in the panel, reach the model (`canvas.workflow`) and the generated code
(`canvas.code`); input that cannot be committed is refused beside its field."""

from __future__ import annotations

import json

import pytest

from .canvas_page import CanvasPage, open_canvas

pytestmark = pytest.mark.browser


BUILD = """\
from dflow_lab import Workflow, Step
from dflow_lab.python import PythonOPTemplate
from dflow_lab.widgets import WorkflowCanvas
from tutorial_ops import Squares, Total

wf = Workflow(name="fanout")
squares = Step("squares", PythonOPTemplate(Squares, image="python:3.11"), parameters={"n": 4})
total = Step("total", PythonOPTemplate(Total, image="python:3.11"), parameters={"scale": 0.5}, with_param=[0, 1])
wf.add(squares)
wf.add(total)
canvas = WorkflowCanvas(wf, ops=["tutorial_ops"], height=900)
canvas
"""

# Reads the edited step back from the model the canvas hands out, and from the code it generates (run).
READ_BACK = """\
import json
from dflow_lab.common import S3Artifact

def total_step(workflow):
    stages = workflow.entrypoint.steps
    return next(s for stage in stages for s in (stage if isinstance(stage, list) else [stage]) if s.name == "total")

def summary(step):
    art = step.inputs.artifacts["table"].source
    return {
        "artifact": [type(art).__name__, art.key] if isinstance(art, S3Artifact) else repr(art),
        "slices": {k: getattr(step.slices, k) for k in ("input_parameter", "output_parameter", "pool_size", "group_size")},
        "with_param": step.with_param,
        "scale": step.inputs.parameters["scale"].value,
        "ratio": step.continue_on_success_ratio,
    }

space = {}
exec(canvas.code, space)
print(json.dumps({"model": summary(total_step(canvas.workflow)), "code": summary(total_step(space["wf"]))}))
"""


@pytest.fixture
def notebook(request, lab, page):
    return open_canvas(page, lab, f"{request.node.name}.ipynb", BUILD)


def commit(page, field: str, text: str) -> None:
    box = page.locator(f'.dfl-properties input[data-field="{field}"]')
    box.fill(text)
    box.press("Enter")


def refused(page, field: str) -> str:
    """The inline error of a field whose text was not committed."""
    error = page.locator(f'.dfl-properties [data-error-for="{field}"]')
    error.wait_for(timeout=10_000)
    assert page.locator(f'.dfl-properties input[data-field="{field}"]').get_attribute("aria-invalid") == "true"
    return error.inner_text()


def wait_valid(page) -> None:
    page.wait_for_function("() => document.querySelector('[data-testid=validity]').innerText === '✓ valid'")


def test_artifacts_slices_and_thresholds_reach_the_model_and_the_code(notebook, screenshots_dir):
    page = notebook.page
    canvas = CanvasPage(page)
    page.wait_for_selector('.dfl-problem[data-code="missing-input"]')  # total's table is fed by nothing
    canvas.select("total")
    panel = page.locator(".dfl-properties")
    kind = panel.locator('select[data-field="artifacts.table.kind"]')
    assert kind.input_value() == ""
    assert "required" in kind.locator("option").first.inner_text()
    assert panel.locator('[data-testid="slices-hint"]').count() == 0  # total fans out (with_param)

    # an S3 key: an empty key is refused and nothing changes, then the key is given and the problem goes away
    kind.select_option("s3")
    page.locator('.dfl-properties input[data-field="artifacts.table"]').press("Enter")
    assert refused(page, "artifacts.table") == "the S3 key cannot be empty"
    assert page.locator('.dfl-problem[data-code="missing-input"]').count() == 1
    commit(page, "artifacts.table", "inputs/table.csv")
    wait_valid(page)
    assert panel.locator('[data-error-for="artifacts.table"]').count() == 0

    # slices: the template's ports, ticked; then the sliced input takes a list
    for port in ("input_parameter.scale", "output_parameter.total"):
        panel.locator(f'input[data-field="slices.{port}"]').check()
        page.wait_for_function(f"() => document.querySelector('.dfl-properties input[data-field=\"slices.{port}\"]')"
                               ".checked")
    assert not panel.locator('input[data-field="slices.input_artifact.table"]').is_checked()
    commit(page, "scale", "[0.5, 1.5]")
    canvas.node("total").locator(".dfl-port-literal").filter(has_text="[0.5").wait_for()
    wait_valid(page)  # a list into a sliced float input is no type mismatch

    # counts and ratios: a bad value is refused beside its field, a good one committed
    commit(page, "slices.group_size", "1.5")
    assert refused(page, "slices.group_size") == "group size must be a whole number"
    page.locator('.dfl-properties input[data-field="slices.group_size"]').press("Escape")
    commit(page, "slices.pool_size", "0")
    assert refused(page, "slices.pool_size") == "pool size must be at least 1 (or -1)"
    commit(page, "slices.pool_size", "-1")
    commit(page, "continue_on_success_ratio", "1.5")
    assert refused(page, "continue_on_success_ratio") == "continue_on_success_ratio must be between 0 and 1 (got 1.5)"
    page.locator(".dfl-side").screenshot(path=str(screenshots_dir / "canvas-properties-refused.png"))
    commit(page, "continue_on_success_ratio", "0.5")
    ratio = panel.locator('input[data-field="continue_on_success_ratio"]')
    page.wait_for_function("() => !document.querySelector('.dfl-properties [data-error-for]')")
    wait_valid(page)

    # one change is one undo step
    page.locator('.dfl-button[title^="Undo"]').click()
    page.wait_for_function("() => document.querySelector('.dfl-properties input[data-field=continue_on_success_ratio]')"
                           ".value === ''")
    page.locator('.dfl-button[title^="Redo"]').click()
    page.wait_for_function("() => document.querySelector('.dfl-properties input[data-field=continue_on_success_ratio]')"
                           ".value === '0.5'")
    assert ratio.input_value() == "0.5"
    page.locator(".dfl-side").screenshot(path=str(screenshots_dir / "canvas-properties.png"))

    # the model the canvas hands out, and the code it generates, both carry every field
    out = json.loads(notebook.run_cell(READ_BACK).strip().splitlines()[-1])
    expected = {
        "artifact": ["S3Artifact", "inputs/table.csv"],
        "slices": {"input_parameter": ["scale"], "output_parameter": ["total"], "pool_size": -1, "group_size": None},
        "with_param": [0, 1],
        "scale": [0.5, 1.5],
        "ratio": 0.5,
    }
    assert out == {"model": expected, "code": expected}
    code = notebook.run_cell("print(canvas.code)")
    assert 'artifacts={"table": S3Artifact(key="inputs/table.csv")}' in code
    assert 'slices=Slices(input_parameter=["scale"], output_parameter=["total"], pool_size=-1)' in code

    # a wire into the port replaces the literal, and the panel shows where the artifact now comes from
    canvas.auto_layout()
    canvas.wire("squares", "out:artifact:table", "total", "in:artifact:table")
    wired = panel.locator('.dfl-wired[data-port="table"]')
    wired.wait_for()
    assert wired.inner_text().split("\n")[-1] == "← squares.table"
    assert panel.locator('select[data-field="artifacts.table.kind"]').count() == 0
    out = notebook.run_cell("g = canvas.graph\n"
                            "print([n.get('artifacts') for n in g['templates'][g['entrypoint']]['nodes']])")
    assert out.strip() == "[None, None]"


def test_options_are_shown_and_slices_wait_for_a_fan_out(notebook, screenshots_dir):
    page = notebook.page
    canvas = CanvasPage(page)
    canvas.select("squares")
    panel = page.locator(".dfl-properties")
    assert panel.locator('[data-testid="slices-hint"]').inner_text() == (
        "Slices split a fan-out: set with_param or with_sequence first, or slice input artifacts by sub_path")
    assert panel.locator('input[data-field="slices.input_parameter.n"]').is_disabled()
    # sub-path slices need no fan-out (the items are an artifact's entries): offered, and they ask for an artifact
    sub_path = panel.locator('input[data-field="slices.sub_path"]')
    assert sub_path.is_enabled()
    sub_path.check()
    page.wait_for_function("() => document.querySelector('[data-testid=slices-problem]')")
    assert panel.locator('[data-testid="slices-problem"]').inner_text() == "tick the input artifacts to slice by sub-path"
    assert panel.locator('[data-testid="slices-hint"]').inner_text().startswith("Sub-path slices: one step per entry")
    assert panel.locator('input[data-field="slices.slices"]').get_attribute("placeholder") == "{{item.order}}"
    sub_path.uncheck()
    page.wait_for_function("() => !document.querySelector('[data-testid=slices-problem]')")
    assert panel.locator('input[data-field="slices.input_parameter.n"]').is_disabled()
    commit(page, "seq count", "2.5")
    assert refused(page, "seq count").startswith("seq count must be a whole number")
    page.locator('.dfl-properties input[data-field="seq count"]').press("Escape")
    # with a fan-out the slices can be set
    commit(page, "with_param", "[1, 2]")
    page.wait_for_function("() => !document.querySelector('[data-testid=slices-hint]')")
    assert panel.locator('input[data-field="slices.input_parameter.n"]').is_enabled()

    # further Step/Task arguments set in Python are shown, not edited: a task's textual dependencies
    notebook.run_cell(
        "from dflow_lab import DAG, Task\n"
        "from tutorial_ops import Describe\n"
        "dag = DAG(name='main')\n"
        "dag.add(Task('squares', PythonOPTemplate(Squares, image='python:3.11'), parameters={'n': 4}, "
        "util_image='busybox:1.36'))\n"
        "dag.add(Task('describe', PythonOPTemplate(Describe, image='python:3.11'), parameters={'value': 1.0}, "
        "dependencies=['squares.Failed']))\n"
        "canvas.workflow = Workflow(name='opts', dag=dag)")
    canvas.node("describe").wait_for()
    canvas.select("describe")
    option = panel.locator('[data-option="dependencies"]')
    option.wait_for()
    assert option.inner_text().split("\n")[-1] == "squares.Failed"
    assert option.locator("input").count() == 0
    page.locator(".dfl-side").screenshot(path=str(screenshots_dir / "canvas-properties-options.png"))
    canvas.select("squares")
    assert panel.locator('[data-option="util_image"]').inner_text().split("\n")[-1] == "busybox:1.36"
