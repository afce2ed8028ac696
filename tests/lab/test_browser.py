"""The JupyterLab extension in a real ``jupyter lab`` driven by Playwright in Debian's headless Chromium:
create a workflow from the launcher, add and wire nodes, save, reopen, generate code, run locally, watch
it succeed in the side panel, preview an artifact; requests without the XSRF token are refused; secrets
typed in the settings leave the browser. Screenshots go to ``test-artifacts/lab/``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.widgets.canvas_page import CanvasPage
from tests.widgets.jupyterlab_harness import CHROMIUM, chromium_context

from .graphs import flaky_graph, table_graph
from .jupyter import REPO, JupyterServer, ensure_labextension, wait_for

pytestmark = pytest.mark.browser

LIVEOPS = Path(__file__).resolve().parent / "liveops"  # the Noop OP of the large live runs (test_browser_scale)
EXAMPLES = Path(os.environ.get("DFLOW_LAB_SHARED", REPO.parent / "shared")) / "argo" / "examples"
ARTIFACTS = Path(os.environ.get("DFLOW_LAB_TEST_ARTIFACTS", REPO / "test-artifacts")) / "lab"
VISIBLE = ".jp-MainAreaWidget:not(.lm-mod-hidden)"  # the tab in front (others stay in the DOM, hidden)
EDITOR = f"{VISIBLE} .dfl-lab-editor .dfl-root"
MONITOR = f"{VISIBLE} .dfl-lab-monitor .dfl-root"


@pytest.fixture(scope="module")
def shots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    ensure_labextension()
    home = tmp_path_factory.mktemp("lab-home")
    srv = JupyterServer(home, home / "root", app="lab", extra=["--DflowLab.op_modules=dflow_lab_testops"],
                        python_path=[LIVEOPS])
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory, playwright_driver):
    yield from chromium_context(playwright_driver, tmp_path_factory.mktemp("chromium-profile"), 1440, 900)


@pytest.fixture
def page(browser, lab, shots, request):
    """A JupyterLab page; its final state is saved as a screenshot, and page errors fail the test."""
    page = browser.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{lab.url}/lab?token={lab.token}&reset")
    wait_for_lab(page)
    page.wait_for_selector(".jp-LauncherCard")
    try:
        yield page
    finally:
        page.screenshot(path=str(shots / f"{request.node.name}-final.png"))
        page.close()
    assert not errors, errors


def wait_for_lab(page) -> None:
    """Until the plugin is active and JupyterLab has restored its saved layout. A document opened before the
    restore is dropped by it (the saved dock layout replaces the main area), so tests open nothing earlier."""
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('dflow-lab:new-workflow')")
    page.evaluate("() => window.jupyterapp.restored.then(() => null)")


def reload_lab(page) -> None:
    """Reload the page (the plugin loads its settings again) and wait for the restored layout."""
    page.reload()
    wait_for_lab(page)


def _open(page, path: str, factory: str | None = None) -> None:
    page.evaluate("async ([path, factory]) => { await window.jupyterapp.commands.execute('docmanager:open', "
                  "factory ? {path, factory} : {path}); }", [path, factory])


def _stable_box(locator, timeout: float = 10) -> dict:
    """The bounding box of ``locator`` once it stopped moving (the view may still be fitting itself)."""
    last: list = [None]

    def settled():
        box = locator.bounding_box()
        same = box is not None and box == last[0]
        last[0] = box
        return box if same else None

    return wait_for(settled, timeout, "the canvas to stop moving", interval=0.15)


def _wire(page, canvas: CanvasPage, src: str, src_handle: str, dst: str, dst_handle: str, attempts: int = 3) -> None:
    """Wire two ports with the mouse, once the view has settled; a gesture that raced a view change is redone."""
    edge = page.locator(f"{EDITOR} .react-flow__edge.dfl-edge-artifact")
    for _ in range(attempts):
        _stable_box(canvas.handle(src, src_handle))
        _stable_box(canvas.handle(dst, dst_handle))
        canvas.wire(src, src_handle, dst, dst_handle)
        try:
            edge.first.wait_for(timeout=5_000)
            return
        except PlaywrightTimeout:  # the view moved under the gesture
            canvas.fit()
    raise AssertionError(f"could not wire {src}.{src_handle} to {dst}.{dst_handle}")


def _json_or_none(path: Path) -> dict:
    """The JSON in ``path``, or ``{}`` while it is not written yet."""
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _current_tab_dirty(page) -> bool:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.title.className.includes('jp-mod-dirty')")


def test_create_wire_save_reopen_and_generate_code(page, lab, shots):
    page.locator(".jp-LauncherCard", has_text="New Workflow").click()
    page.wait_for_selector(f"{EDITOR} .dfl-palette-item[data-template='make-table']")
    path = lab.root / "workflow.dflow.json"
    assert json.loads(path.read_text())["templates"] == {"main": {"kind": "dag"}}
    canvas = CanvasPage(page, EDITOR)

    canvas.drop_template("make-table", 0.1, 0.3)
    canvas.node("make-table").wait_for()
    canvas.drop_template("summarize", 0.85, 0.6)
    canvas.node("summarize").wait_for()
    canvas.fit()
    wait_for(lambda: canvas.validity() == "1 problem", 15, "summarize's unfed table input to be reported")
    _wire(page, canvas, "make-table", "out:artifact:table", "summarize", "in:artifact:table")
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the wired workflow to validate")
    assert _current_tab_dirty(page)
    page.screenshot(path=str(shots / "editor-wired.png"))

    # Edit → Undo/Redo walk the file's own history
    page.evaluate("() => window.jupyterapp.commands.execute('editmenu:undo')")
    page.wait_for_selector(f"{EDITOR} .react-flow__edge.dfl-edge-artifact", state="detached")
    page.evaluate("() => window.jupyterapp.commands.execute('editmenu:redo')")
    page.wait_for_selector(f"{EDITOR} .react-flow__edge.dfl-edge-artifact")
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the redone wire to validate")
    assert _current_tab_dirty(page)

    page.locator(f"{EDITOR} [data-action='save']").click()
    wait_for(lambda: not _current_tab_dirty(page), 15, "the document to be saved")
    saved = json.loads(path.read_text())
    main = saved["templates"]["main"]
    assert sorted(n["name"] for n in main["nodes"]) == ["make-table", "summarize"]
    assert main["edges"] == [{"kind": "artifact", "source": {"node": "make-table", "port": "table"},
                              "target": {"node": "summarize", "port": "table"}}]
    assert saved["templates"]["make-table"]["op"] == "dflow_lab_testops:MakeTable"
    assert set(saved["layout"]["templates"]["main"]["nodes"]) >= {"make-table", "summarize"}

    page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
    page.wait_for_selector(EDITOR, state="detached")
    _open(page, "workflow.dflow.json")  # the Workflow Editor is the default for *.dflow.json
    page.wait_for_selector(f"{EDITOR} .react-flow__edge.dfl-edge-artifact")
    assert canvas.node_ids() == ["make-table", "summarize"]
    assert not _current_tab_dirty(page)

    page.locator(f"{EDITOR} [data-action='code']").click()
    code_path = lab.root / "workflow_workflow.py"
    wait_for(code_path.exists, 30, "the generated Python file")
    code = code_path.read_text()
    compile(code, str(code_path), "exec")
    assert "dflow_lab_testops" in code and "MakeTable" in code
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.title.label === 'workflow_workflow.py'")
    page.screenshot(path=str(shots / "generated-code.png"))

    # and run the workflow just drawn: it succeeds in the side panel
    _open(page, "workflow.dflow.json")
    page.locator(f"{EDITOR} [data-action='run']").click()
    page.wait_for_selector(".dfl-lab-run[data-phase='Succeeded'][data-name^='workflow-']", timeout=120_000)


def test_run_locally_watch_in_side_panel_and_preview_an_artifact(page, lab, shots):
    palette = requests.get(lab.api("palette"), headers=lab.auth, timeout=30).json()["entries"]
    (lab.root / "squares.dflow.json").write_text(json.dumps(table_graph(palette, name="squares", n=5), indent=2))
    _open(page, "squares.dflow.json")
    page.wait_for_selector(f"{EDITOR} .react-flow__node[data-id='make']")
    wait_for(lambda: CanvasPage(page, EDITOR).validity() == "✓ valid", 15, "the workflow to validate")
    page.locator(f"{EDITOR} [data-action='run']").click()

    page.wait_for_selector(f"{MONITOR} .react-flow__node[data-id='sum']")
    row = page.locator(".dfl-lab-run[data-name^='squares-']").first
    row.wait_for()
    page.wait_for_selector(".dfl-lab-run[data-phase='Succeeded'][data-name^='squares-']", timeout=120_000)
    assert "2/2 succeeded" in row.inner_text()
    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Succeeded']")
    for step in ("make", "sum"):
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='{step}'][data-phase='Succeeded']")

    CanvasPage(page, MONITOR).click_node("make")
    table = page.locator(f"{MONITOR} .dfl-details .dfl-preview-table")
    table.wait_for()
    text = table.inner_text()
    assert "square" in text and "16" in text  # the CSV artifact as a table: the row 4, 16
    logs = page.locator(f"{MONITOR} .dfl-details").inner_text()
    assert "wrote 5 rows" in logs
    page.screenshot(path=str(shots / "monitor-artifact-preview.png"))

    # a run opened from the side panel shows the same monitor
    page.evaluate("() => window.jupyterapp.shell.currentWidget.close()")
    page.wait_for_selector(MONITOR, state="detached")
    page.evaluate("() => window.jupyterapp.shell.activateById('filebrowser')")
    page.wait_for_selector(".dfl-lab-panel", state="hidden")
    page.evaluate("() => window.jupyterapp.commands.execute('dflow-lab:open-monitor').then(() => null)")
    page.wait_for_selector(".dfl-lab-panel", state="visible")
    row.click()
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='sum'][data-phase='Succeeded']")


def test_requests_without_the_xsrf_token_are_refused(page, lab):
    result = page.evaluate("""async () => {
        const body = JSON.stringify({graph: {version: 1, name: 'x', entrypoint: 'main', templates: {main: {kind: 'dag'}}}});
        const bare = await fetch('/dflow-lab/api/validate', {method: 'POST', body, credentials: 'same-origin'});
        const xsrf = document.cookie.split('; ').find(c => c.startsWith('_xsrf=')).slice(6);
        const withToken = await fetch('/dflow-lab/api/validate', {method: 'POST', body, credentials: 'same-origin',
            headers: {'X-XSRFToken': decodeURIComponent(xsrf)}});
        const anonymous = await fetch('/dflow-lab/api/workflows', {credentials: 'omit'});
        return [bare.status, await bare.text(), withToken.status, anonymous.status];
    }""")
    bare_status, bare_text, with_token, anonymous = result
    assert bare_status == 403 and "xsrf" in bare_text.lower()
    assert with_token == 200
    assert anonymous == 403


def test_argo_settings_secret_leaves_the_browser_and_submit_works(page, lab, shots, tmp_path):
    """Settings as the settings editor saves them: the token goes to the server and leaves the browser's
    settings; then Submit to Argo runs on a dflow-lab Argo-compatible server (no Kubernetes here)."""
    from dflow_lab.apiserver import ArgoServer

    argo = ArgoServer(tmp_path / "argo-ws", port=0).start()
    url = f"{lab.url}/lab/api/settings/@dflow-lab/jupyterlab:plugin"
    try:
        raw = json.dumps({"argoHost": argo.url, "argoToken": argo.token, "opModules": ["no_such_ops_module"]})
        r = requests.put(url, headers=lab.auth, json={"raw": raw}, timeout=10)  # what the settings editor saves
        assert r.status_code == 204, r.text
        reload_lab(page)  # the plugin loads its settings: hands the secret to the server and removes it
        wait_for(lambda: requests.get(lab.api("settings"), headers=lab.auth, timeout=10).json()["secrets"]["argoToken"],
                 30, "the server to hold the Argo token")
        settings_file = lab.settings_dir / "@dflow-lab" / "jupyterlab" / "plugin.jupyterlab-settings"
        wait_for(lambda: argo.token not in settings_file.read_text(), 30, "the token to leave the user settings")
        assert argo.url in settings_file.read_text()
        public = requests.get(lab.api("settings"), headers=lab.auth, timeout=10).json()
        assert public["argoHost"] == argo.url and argo.token not in json.dumps(public)
        assert argo.token not in page.content()

        (lab.root / "steps-argo.yaml").write_text((EXAMPLES / "steps.yaml").read_text())
        _open(page, "steps-argo.yaml", "Workflow Editor")
        # the OP module of the settings is missing: its palette group says so
        error = page.locator(f"{EDITOR} [data-testid='palette-error'][data-source='no_such_ops_module']")
        error.wait_for()
        assert "no_such_ops_module" in error.inner_text()
        submit = page.locator(f"{EDITOR} [data-action='submit']")
        page.wait_for_selector(f"{EDITOR} [data-action='submit']:not([disabled])")
        submit.click()
        page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='hello2b'][data-phase='Succeeded']", timeout=120_000)
        row = page.locator(".dfl-lab-run[data-phase='Succeeded'][data-name^='steps-']").first
        row.wait_for()
        assert "argo" in row.inner_text()
        page.screenshot(path=str(shots / "argo-submit-monitor.png"))
    finally:
        requests.put(url, headers=lab.auth, json={"raw": "{}"}, timeout=10)
        requests.put(lab.api("settings"), headers=lab.auth, json={"argoHost": "", "argoToken": ""}, timeout=10)
        argo.stop()


def test_secret_typed_in_the_password_dialog_goes_to_the_server_only(page, lab):
    secrets = lambda: requests.get(lab.api("settings"), headers=lab.auth, timeout=10).json()["secrets"]  # noqa: E731
    assert secrets()["artifactSecretKey"] is False
    page.evaluate("() => { window.jupyterapp.commands.execute('dflow-lab:set-artifact-secret-key'); }")
    field = page.locator(".jp-Dialog input[type='password']")
    field.fill("s3-secret-from-dialog")
    page.locator(".jp-Dialog .jp-mod-accept").click()
    wait_for(lambda: secrets()["artifactSecretKey"], 15, "the server to hold the secret key")
    assert "s3-secret-from-dialog" not in page.content()
    settings_file = lab.settings_dir / "@dflow-lab" / "jupyterlab" / "plugin.jupyterlab-settings"
    assert not settings_file.exists() or "s3-secret-from-dialog" not in settings_file.read_text()
    page.evaluate("() => window.jupyterapp.commands.execute('dflow-lab:forget-secrets').then(() => null)")
    wait_for(lambda: not secrets()["artifactSecretKey"], 15, "the secret to be forgotten")


def test_yaml_documents_argo_open_with_revert_and_notebook(page, lab, shots):
    # graph YAML: edits are written back as YAML by the server extension
    palette = requests.get(lab.api("palette"), headers=lab.auth, timeout=30).json()["entries"]
    doc = lab.root / "tables.dflow.yaml"
    doc.write_text(requests.post(lab.api("documents/dump"), headers=lab.auth, timeout=30, json={
        "graph": table_graph(palette, name="tables"), "format": "yaml"}).json()["text"])
    _open(page, "tables.dflow.yaml")
    canvas = CanvasPage(page, EDITOR)
    page.wait_for_selector(f"{EDITOR} .react-flow__node[data-id='sum']")
    assert not _current_tab_dirty(page)  # laying out a file without positions is not an edit
    canvas.drop_template("shout", 0.5, 0.85)
    canvas.node("shout").wait_for()
    wait_for(lambda: _current_tab_dirty(page), 15, "the edit to make the document dirty")

    # revert: back to the file on disk
    page.evaluate("() => { window.jupyterapp.commands.execute('docmanager:reload'); }")  # File → Reload from Disk
    page.locator(".jp-Dialog .jp-mod-accept").click()  # "discard unsaved changes?"
    page.wait_for_selector(f"{EDITOR} .react-flow__node[data-id='shout']", state="detached")
    assert canvas.node_ids() == ["make", "sum"] and not _current_tab_dirty(page)

    canvas.drop_template("shout", 0.5, 0.85)
    canvas.node("shout").wait_for()
    msg = page.locator(f"{EDITOR} .dfl-side input[data-field='msg']")  # the new step is selected: its properties
    msg.fill('"hello"')
    msg.press("Enter")
    wait_for(lambda: canvas.validity() == "✓ valid", 15, "the literal to satisfy shout's input")
    page.locator(f"{EDITOR} .react-flow__pane").click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")  # right after the edit: the save waits for it to reach the text

    def saved_nodes():
        nodes = (yaml.safe_load(doc.read_text()) or {}).get("templates", {}).get("main", {}).get("nodes", [])
        return nodes if len(nodes) == 3 else None

    nodes = wait_for(saved_nodes, 15, "Ctrl+S to save the YAML document")
    assert [n["name"] for n in nodes] == ["make", "sum", "shout"]
    assert nodes[2]["parameters"] == {"msg": "hello"}
    wait_for(lambda: not _current_tab_dirty(page), 15, "the saved document to be clean")

    # the same file edited as text beside the canvas stays unsaved (the canvas view follows the text)
    _open(page, "tables.dflow.yaml", "Editor")
    page.locator(f"{VISIBLE} .cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("labels: {team: lab}\n")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.context.model.toString().includes('team: lab')")
    assert _current_tab_dirty(page)
    _open(page, "tables.dflow.yaml", "Workflow Editor")
    assert _current_tab_dirty(page)
    page.locator(f"{EDITOR} [data-action='save']").click()
    wait_for(lambda: "team: lab" in doc.read_text(), 15, "the text edit to be saved from the canvas view")

    # Generate Notebook: the code in a new notebook
    page.locator(f"{EDITOR} [data-action='notebook']").click()
    notebook = lab.root / "tables_workflow.ipynb"
    cells = wait_for(lambda: _json_or_none(notebook).get("cells"), 30, "the generated notebook")
    assert cells[0]["cell_type"] == "code" and "Workflow(" in "".join(cells[0]["source"])

    # an Argo workflow YAML opens with "Open With → Workflow Editor" and is drawn from the model
    (lab.root / "steps.yaml").write_text((EXAMPLES / "steps.yaml").read_text())
    _open(page, "steps.yaml", "Workflow Editor")
    page.wait_for_selector(f"{EDITOR} .react-flow__node[data-id='hello2b']")
    assert {"hello1", "hello2a", "hello2b"} <= set(CanvasPage(page, EDITOR).node_ids())
    assert not _current_tab_dirty(page)
    page.screenshot(path=str(shots / "argo-yaml-open-with.png"))


def test_a_failed_step_is_retried_from_its_panel(page, lab, shots, tmp_path):
    marker = tmp_path / "go"
    graph = flaky_graph(marker)
    (lab.root / "flaky.dflow.json").write_text(json.dumps(graph))
    _open(page, "flaky.dflow.json")
    page.wait_for_selector(f"{EDITOR} [data-action='run']:not([disabled])")
    page.locator(f"{EDITOR} [data-action='run']").click()
    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Failed']", timeout=60_000)
    CanvasPage(page, MONITOR).click_node("second")
    details = page.locator(f"{MONITOR} .dfl-details[data-path='second']")
    details.wait_for()
    assert "not yet" in details.inner_text()
    page.screenshot(path=str(shots / "monitor-failed-step.png"))
    marker.write_text("")
    details.locator("button", has_text="retry").click()
    page.wait_for_selector(f"{MONITOR} [data-testid='workflow-phase'][data-phase='Succeeded']", timeout=60_000)
    page.wait_for_selector(f"{MONITOR} .dfl-node[data-path='second'][data-phase='Succeeded']")
