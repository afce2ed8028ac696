"""The server extension against a real ``jupyter server``: auth and XSRF, graphs, documents, palette,
running a workflow on the local engine, its live event stream, details, logs and artifact previews,
and settings whose secrets never come back."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from .graphs import flaky_graph, table_graph
from .jupyter import REPO, JupyterServer, jupyter_env, wait_for

EXAMPLES = Path(os.environ.get("DFLOW_LAB_SHARED", REPO.parent / "shared")) / "argo" / "examples"


def _get(server, path, **kw):
    return requests.get(server.api(path), headers=server.auth, timeout=30, **kw)


def _post(server, path, body):
    return requests.post(server.api(path), headers=server.auth, json=body, timeout=60)


@pytest.fixture(scope="module")
def palette(server):
    r = _get(server, "palette")
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(scope="module")
def finished_run(server, palette):
    """A workflow run on the local engine through the API, waited for until it finished."""
    graph = table_graph(palette["entries"], name="squares", n=4)
    r = _post(server, "workflows", {"graph": graph, "engine": "local"})
    assert r.status_code == 201, r.text
    name = r.json()["name"]
    assert name.startswith("squares-")

    def done():
        w = _get(server, f"workflows/local/{name}").json()["workflow"]
        return w if w["phase"] in ("Succeeded", "Failed", "Error") else None

    workflow = wait_for(done, 120, f"workflow {name} to finish", interval=0.25)
    assert workflow["phase"] == "Succeeded", _get(server, f"workflows/local/{name}/logs").text
    return name


# -- the extension is enabled by jupyter-config/ ------------------------------------------------------

def test_server_extension_listed_enabled(tmp_path):
    """The file pip installs into ``etc/jupyter/jupyter_server_config.d`` enables a valid extension."""
    env = jupyter_env(tmp_path)
    config_d = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.d"
    config_d.mkdir(parents=True)
    shutil.copy(REPO / "jupyter-config" / "jupyter_server_config.d" / "dflow_lab.json", config_d)
    out = subprocess.run([sys.executable, "-m", "jupyter_server", "extension", "list"], env=env,
                         capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
    assert "dflow_lab.jupyter enabled" in text, text
    assert re.search(r"dflow_lab\.jupyter\s+\S*\s*OK", text), text


# -- authentication and XSRF ---------------------------------------------------------------------------

def test_requests_without_auth_are_refused(server):
    for path in ("workflows", "palette", "settings", "workflows/local/nope/events"):
        r = requests.get(server.api(path), timeout=10)
        assert r.status_code == 403, (path, r.status_code, r.text)
    r = requests.post(server.api("validate"), json={"graph": {}}, timeout=10)
    assert r.status_code == 403
    r = requests.get(server.api("workflows"), headers={"Authorization": "token wrong"}, timeout=10)
    assert r.status_code == 403


def test_cookie_session_needs_the_xsrf_token(server):
    s = requests.Session()
    s.get(f"{server.url}/login", timeout=10)
    xsrf = s.cookies.get("_xsrf")
    assert xsrf
    r = s.post(f"{server.url}/login", data={"password": server.token, "_xsrf": xsrf}, allow_redirects=False,
               timeout=10)
    assert r.status_code in (302, 303), r.text
    assert s.get(server.api("settings"), timeout=10).status_code == 200  # the login cookie is enough for GET
    body = {"graph": {"version": 1, "name": "x", "entrypoint": "main", "templates": {"main": {"kind": "dag"}}}}
    refused = s.post(server.api("validate"), json=body, timeout=10)
    assert refused.status_code == 403, refused.text
    assert "xsrf" in refused.text.lower()
    refused_put = s.put(server.api("settings"), json={"namespace": "x"}, timeout=10)
    assert refused_put.status_code == 403
    accepted = s.post(server.api("validate"), json=body, headers={"X-XSRFToken": xsrf}, timeout=10)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"issues": []}


# -- graphs and documents ------------------------------------------------------------------------------

def test_validate_reports_issues_with_their_place(server, palette):
    graph = table_graph(palette["entries"])
    assert _post(server, "validate", {"graph": graph}).json() == {"issues": []}
    graph["templates"]["main"]["edges"][0]["target"]["port"] = "tabel"
    issues = _post(server, "validate", {"graph": graph}).json()["issues"]
    codes = {(i["code"], i["node"]) for i in issues}
    assert ("unknown-port", "sum") in codes, issues
    assert ("missing-input", "sum") in codes, issues


def test_bad_bodies_are_clear_errors(server):
    r = requests.post(server.api("validate"), headers=server.auth, data=b"{not json", timeout=10)
    assert r.status_code == 400 and "not JSON" in r.json()["message"]
    r = _post(server, "validate", {"graph": [1, 2]})
    assert r.status_code == 400 and "'graph'" in r.json()["message"]
    assert "traceback" not in r.json()


def test_documents_round_trip_json_and_yaml(server, palette):
    graph = table_graph(palette["entries"])
    graph["layout"] = {"templates": {"main": {"nodes": {"make": {"x": 10, "y": 20}}}}}
    for fmt in ("json", "yaml"):
        text = _post(server, "documents/dump", {"graph": graph, "format": fmt}).json()["text"]
        back = _post(server, "documents/parse", {"text": text, "path": f"w.dflow.{fmt}"}).json()
        assert back == {"graph": graph, "format": fmt}
    assert yaml.safe_load(text)["layout"]["templates"]["main"]["nodes"]["make"] == {"x": 10, "y": 20}
    r = _post(server, "documents/parse", {"text": "- a\n- b\n", "path": "list.dflow.yaml"})
    assert r.status_code == 400 and "list.dflow.yaml" in r.json()["message"]


def test_argo_yaml_opens_as_a_graph_and_saves_as_argo(server):
    text = (EXAMPLES / "steps.yaml").read_text()
    parsed = _post(server, "documents/parse", {"text": text, "path": "steps.yaml"}).json()
    assert parsed["format"] == "argo"
    graph = parsed["graph"]
    assert graph["entrypoint"] == "hello-hello-hello"
    assert graph["templates"]["hello-hello-hello"]["kind"] == "steps"
    assert _post(server, "validate", {"graph": graph}).json()["issues"] == []
    saved = _post(server, "documents/dump", {"graph": graph, "format": "argo"}).json()["text"]
    manifest = yaml.safe_load(saved)
    assert manifest["kind"] == "Workflow"
    assert manifest["spec"]["entrypoint"] == "hello-hello-hello"


def test_code_generation(server, palette):
    pytest.importorskip("dflow_lab.code_gen", reason="dflow_lab.code_gen has not landed yet")
    graph = table_graph(palette["entries"], name="squares")
    r = _post(server, "code", {"graph": graph})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["filename"] == "squares_workflow.py"
    compile(body["code"], body["filename"], "exec")
    assert "dflow_lab_testops" in body["code"]


# -- palette --------------------------------------------------------------------------------------------

def test_palette_lists_configured_modules_and_entry_points_with_signs(server, palette):
    by_name = {e["name"]: e for e in palette["entries"]}
    assert by_name["make-table"]["source"] == "dflow_lab_testops"
    sign = by_name["make-table"]["template"]
    assert sign["kind"] == "python" and sign["op"] == "dflow_lab_testops:MakeTable"
    assert sign["inputs"]["parameters"]["n"] == {"type": "int", "default": 3}
    assert sign["outputs"]["artifacts"]["table"]["type"] == "pathlib.Path"
    assert by_name["shout"]["source"] == "dflow-lab-testops (shout)"
    assert by_name["shout"]["template"]["outputs"]["parameters"]["loud"]["type"] == "str"
    assert "whisper" not in by_name  # the entry point names one class
    errors = {e["source"]: e["message"] for e in palette["errors"]}
    assert "dflow_lab_testops_missing" in errors["dflow-lab-testops-broken (broken)"]
    r = _get(server, "palette", params={"module": "no_such_module_here"})
    assert any(e["source"] == "no_such_module_here" for e in r.json()["errors"])


def test_the_entry_point_package_is_installed_not_on_a_path(server, palette):
    """tests/lab/testops is pip-installed (scripts/install.sh --dev, or jupyter.ensure_testops): its
    distribution lives in the environment's site-packages, and the server's palette offers its entry point
    though nothing of tests/lab is on the server's PYTHONPATH."""
    from importlib import metadata

    from .jupyter import HERE

    dist = metadata.distribution("dflow-lab-testops")
    where = Path(str(dist.locate_file("dflow_lab_testops_ep.py"))).resolve()
    assert where.is_file() and HERE not in where.parents, where
    assert [ep.value for ep in dist.entry_points if ep.group == "dflow_lab.ops"] == ["dflow_lab_testops_ep:Shout"]
    assert not any(str(HERE / "testops") in p for p in server.env["PYTHONPATH"].split(os.pathsep))
    assert any(e["name"] == "shout" and e["source"] == "dflow-lab-testops (shout)" for e in palette["entries"])


def test_palette_picks_up_ops_edited_since(server):
    """A module the user edits (here in the server's root, importable as its working directory)."""
    op = """
class {name}(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({{"x": int}})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({{"y": int}})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({{"y": op_in["x"]}})
"""
    module = server.root / "my_live_ops.py"
    module.write_text("from dflow_lab.python import OP, OPIO, OPIOSign\n" + op.format(name="First"))
    names = lambda: {e["name"] for e in _get(server, "palette", params={"module": "my_live_ops"}).json()["entries"]}  # noqa: E731
    assert {"first"} <= names() and "second" not in names()
    module.write_text(module.read_text() + op.format(name="Second"))
    assert {"first", "second"} <= names()


def test_palette_follows_the_op_modules_setting(server):
    names = lambda: {e["name"] for e in _get(server, "palette").json()["entries"]}  # noqa: E731
    assert "whisper" not in names()  # the entry point offers Shout only
    r = requests.put(server.api("settings"), headers=server.auth, json={"opModules": ["dflow_lab_testops_ep"]},
                     timeout=10)
    assert r.status_code == 200 and r.json()["opModules"] == ["dflow_lab_testops_ep"]
    try:
        assert {"whisper", "shout", "make-table"} <= names()
    finally:
        requests.put(server.api("settings"), headers=server.auth, json={"opModules": []}, timeout=10)


# -- running and watching --------------------------------------------------------------------------------

def test_invalid_graph_is_refused_before_anything_runs(server, palette):
    before = _get(server, "workflows").json()["workflows"]
    graph = table_graph(palette["entries"], name="broken")
    graph["templates"]["main"]["nodes"][0]["parameters"] = {"n": "many"}
    r = _post(server, "workflows", {"graph": graph, "engine": "local"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert "broken" in body["message"]
    assert any(i["node"] == "make" and i["port"] == "n" for i in body["issues"]), body
    after = _get(server, "workflows").json()["workflows"]
    assert [w["name"] for w in after] == [w["name"] for w in before]


def test_argo_engine_unconfigured_is_a_clear_error(server, palette):
    r = _post(server, "workflows", {"graph": table_graph(palette["entries"]), "engine": "argo"})
    assert r.status_code == 503 and "Argo host" in r.json()["message"]
    r = _get(server, "workflows", params={"engine": "mars"})
    assert r.status_code == 400


def test_run_locally_then_list_and_get(server, finished_run):
    rows = _get(server, "workflows").json()
    row = next(w for w in rows["workflows"] if w["name"] == finished_run)
    assert row["engine"] == "local" and row["phase"] == "Succeeded"
    assert row["progress"] == {"counts": {"Succeeded": 2}, "total": 2}
    assert row["duration"] is not None and row["duration"] >= 0
    got = _get(server, f"workflows/local/{finished_run}").json()
    assert got["status"]["make"]["phase"] == "Succeeded" and got["status"]["sum"]["phase"] == "Succeeded"
    assert {n["name"] for n in got["graph"]["templates"][got["graph"]["entrypoint"]]["nodes"]} == {"make", "sum"}
    assert _get(server, "workflows/local/no-such-run").status_code == 404


def test_a_run_submitted_elsewhere_is_drawn_from_its_manifest(server):
    """A run started outside the lab (a notebook, the CLI) into the same workspace: listed and drawn."""
    from dflow_lab.local.backend import LocalBackend

    manifest = yaml.safe_load((EXAMPLES / "steps.yaml").read_text())
    obj = LocalBackend(server.root / ".dflow-lab").submit(manifest, wait=True)
    name = obj["metadata"]["name"]
    got = _get(server, f"workflows/local/{name}").json()
    assert got["graph_error"] is None
    assert got["graph"]["entrypoint"] == "hello-hello-hello"
    assert got["workflow"]["phase"] == "Succeeded" and got["status"]["hello2b"]["phase"] == "Succeeded"
    assert name in {w["name"] for w in _get(server, "workflows").json()["workflows"]}


def test_event_stream_replays_and_ends(server, finished_run):
    with requests.get(server.api(f"workflows/local/{finished_run}/events"), headers=server.auth, stream=True,
                      timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        messages, ended = [], False
        for line in r.iter_lines(decode_unicode=True):
            if line == "event: end":
                ended = True
            elif line.startswith("data: ") and not ended:
                messages.append(json.loads(line[6:]))
    assert ended
    first = messages[0]
    assert first["type"] == "status" and first["reset"] is True
    assert first["changes"]["make"]["phase"] == "Succeeded"
    assert first["changes"]["sum"]["phase"] == "Succeeded"
    state = messages[1]
    assert state["type"] == "workflow" and state["state"]["phase"] == "Succeeded"
    assert state["state"]["progress"] == "2/2 succeeded"


def test_event_stream_follows_a_live_run(server, palette):
    from dflow_lab.runview.live import merge_status

    r = _post(server, "workflows", {"graph": table_graph(palette["entries"], name="live", n=2), "engine": "local"})
    name = r.json()["name"]
    phases: dict[str, list[str]] = {}
    known: dict[str, dict] = {}
    final = None
    with requests.get(server.api(f"workflows/local/{name}/events"), headers=server.auth, stream=True,
                      timeout=120) as resp:
        for line in resp.iter_lines(decode_unicode=True):
            if line == "event: end":
                break
            if not line.startswith("data: "):
                continue
            msg = json.loads(line[6:])
            if msg["type"] == "status":  # deltas: only the fields that changed (merge_status folds them)
                merge_status(known, msg)
                for path in msg["changes"]:
                    phases.setdefault(path, []).append(known[path]["phase"])
            else:
                final = msg["state"]
    assert final is not None and final["phase"] == "Succeeded"
    assert phases["make"][-1] == "Succeeded" and phases["sum"][-1] == "Succeeded"
    kept = server.root / ".dflow-lab" / "lab-graphs" / "local" / f"{name}.json"
    assert json.loads(kept.read_text())["name"] == "live"  # the graph it was run from, for its monitor
    assert requests.delete(server.api(f"workflows/local/{name}"), headers=server.auth, timeout=30).status_code == 204
    assert not kept.exists()


def test_step_details_logs_and_artifact_previews(server, finished_run):
    details = _get(server, f"workflows/local/{finished_run}/details", params={"path": "make"}).json()
    assert details["phase"] == "Succeeded"
    outputs = {o["name"]: o for o in details["outputs"]}
    assert outputs["count"]["value"] == "4"
    table = outputs["table"]["preview"]
    assert table["kind"] == "table" and table["columns"] == ["i", "square"]
    assert table["rows"] == [["0", "0"], ["1", "1"], ["2", "4"], ["3", "9"]]
    assert "wrote 4 rows" in details["logs"]

    art = _get(server, f"workflows/local/{finished_run}/artifacts",
               params={"path": "sum", "name": "report", "io": "outputs"}).json()
    assert art["preview"]["kind"] == "json"
    assert json.loads(art["preview"]["text"]) == {"rows": 4, "total": 14}
    missing = _get(server, f"workflows/local/{finished_run}/artifacts", params={"path": "sum", "name": "nope"})
    assert missing.status_code == 404 and "nope" in missing.json()["message"]

    logs = _get(server, f"workflows/local/{finished_run}/logs").json()
    assert any("total 14" in line for line in logs["lines"]) and logs["truncated"] is False


def test_actions_resubmit_and_bad_action(server, finished_run):
    r = _post(server, f"workflows/local/{finished_run}/actions", {"action": "explode"})
    assert r.status_code == 400 and "explode" in r.json()["message"]
    r = _post(server, f"workflows/local/{finished_run}/actions", {"action": "resubmit"})
    assert r.status_code == 200, r.text
    again = r.json()["name"]
    assert again != finished_run
    wait_for(lambda: _get(server, f"workflows/local/{again}").json()["workflow"]["phase"] == "Succeeded", 120,
             f"resubmitted run {again}", interval=0.25)
    gone = requests.delete(server.api(f"workflows/local/{again}"), headers=server.auth, timeout=30)
    assert gone.status_code == 204
    assert _get(server, f"workflows/local/{again}").status_code == 404
    assert again not in {w["name"] for w in _get(server, "workflows").json()["workflows"]}


# -- settings and secrets ----------------------------------------------------------------------------------

def test_settings_keep_secrets_server_side(server):
    secret = "tok-s3cr3t-value-42"
    r = requests.put(server.api("settings"), headers=server.auth, timeout=10,
                     json={"argoHost": "https://127.0.0.1:9", "namespace": "lab", "argoToken": secret,
                           "defaultImage": "python:3.12"})
    assert r.status_code == 200, r.text
    assert secret not in r.text
    public = _get(server, "settings").json()
    assert public["argoHost"] == "https://127.0.0.1:9" and public["namespace"] == "lab"
    assert public["secrets"] == {"argoToken": True, "artifactSecretKey": False}
    assert secret not in json.dumps(public)
    secrets_file = server.home / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert json.loads(secrets_file.read_text())["argoToken"] == secret
    listing = _get(server, "workflows")  # Argo is now configured: its failure is reported, redacted
    assert listing.status_code == 200
    assert secret not in listing.text
    assert "argo" in listing.json()["errors"]
    assert secret not in server.log()
    bad = requests.put(server.api("settings"), headers=server.auth, json={"argoHots": "x"}, timeout=10)
    assert bad.status_code == 400 and "argoHots" in bad.json()["message"]
    bad = requests.put(server.api("settings"), headers=server.auth, json={"opModules": "a,b"}, timeout=10)
    assert bad.status_code == 400
    r = requests.put(server.api("settings"), headers=server.auth, timeout=10,
                     json={"argoHost": "", "argoToken": "", "namespace": "argo", "defaultImage": ""})
    assert r.json()["secrets"]["argoToken"] is False
    assert "argoToken" not in json.loads(secrets_file.read_text())


def test_submit_to_argo_then_list_watch_and_log(server, tmp_path):
    """Argo through the settings: a dflow-lab Argo-compatible server stands in for Argo (no Kubernetes here)."""
    from dflow_lab.apiserver import ArgoServer

    argo = ArgoServer(tmp_path / "argo-ws", port=0).start()
    try:
        r = requests.put(server.api("settings"), headers=server.auth, timeout=10,
                         json={"argoHost": argo.url, "argoToken": argo.token, "namespace": "argo"})
        assert r.status_code == 200 and argo.token not in r.text
        graph = _post(server, "documents/parse", {"text": (EXAMPLES / "steps.yaml").read_text(),
                                                  "path": "steps.yaml"}).json()["graph"]
        r = _post(server, "workflows", {"graph": graph, "engine": "argo"})
        assert r.status_code == 201, r.text
        name = r.json()["name"]
        with requests.get(server.api(f"workflows/argo/{name}/events"), headers=server.auth, stream=True,
                          timeout=120) as resp:
            states = [json.loads(line[6:])["state"] for line in resp.iter_lines(decode_unicode=True)
                      if line.startswith("data: ") and '"type": "workflow"' in line]
        assert states[-1]["phase"] == "Succeeded", states
        rows = _get(server, "workflows").json()
        assert rows["errors"] == {}
        row = next(w for w in rows["workflows"] if w["name"] == name)
        assert row["engine"] == "argo" and row["phase"] == "Succeeded"
        got = _get(server, f"workflows/argo/{name}").json()
        assert {got["status"][s]["phase"] for s in ("hello1", "hello2a", "hello2b")} == {"Succeeded"}
        lines = _get(server, f"workflows/argo/{name}/logs").json()["lines"]
        assert {"hello1", "hello2a", "hello2b"} <= {line.strip() for line in lines}, lines
        assert _get(server, "workflows/argo/no-such-run").status_code == 404
        requests.put(server.api("settings"), headers=server.auth, json={"argoToken": "wrong-token"}, timeout=10)
        refused = _get(server, f"workflows/argo/{name}")
        assert refused.status_code == 502 and "wrong-token" not in refused.text, refused.text
    finally:
        requests.put(server.api("settings"), headers=server.auth, json={"argoHost": "", "argoToken": ""}, timeout=10)
        argo.stop()


def test_retry_one_failed_step_by_its_canvas_path(server, tmp_path):
    marker = tmp_path / "go"
    graph = flaky_graph(marker)
    name = _post(server, "workflows", {"graph": graph, "engine": "local"}).json()["name"]
    phase = lambda: _get(server, f"workflows/local/{name}").json()["workflow"]["phase"]  # noqa: E731
    wait_for(lambda: phase() in ("Failed", "Error"), 60, f"{name} to fail", interval=0.25)
    r = _post(server, f"workflows/local/{name}/actions", {"action": "retry", "path": "first"})
    assert r.status_code == 400 and "nothing failed" in r.json()["message"]
    marker.write_text("")
    r = _post(server, f"workflows/local/{name}/actions", {"action": "retry", "path": "second"})
    assert r.status_code == 200, r.text
    wait_for(lambda: phase() == "Succeeded", 60, f"{name} to succeed after the retry", interval=0.25)
    details = _get(server, f"workflows/local/{name}/details", params={"path": "second"}).json()
    assert "through" in details["logs"]


def test_api_lives_under_the_servers_base_url(tmp_path):
    """Behind JupyterHub or a proxy the server has a base URL: the API is below it, and only there."""
    srv = JupyterServer(tmp_path, tmp_path / "root", base_url="/user/ada/")
    try:
        assert srv.api("settings").startswith(f"http://127.0.0.1:{srv.port}/user/ada/dflow-lab/api/")
        assert requests.get(srv.api("settings"), headers=srv.auth, timeout=10).status_code == 200
        bare = f"http://127.0.0.1:{srv.port}/dflow-lab/api/settings"
        assert requests.get(bare, headers=srv.auth, timeout=10).status_code == 404
    finally:
        srv.stop()


def test_palette_finds_ops_next_to_a_document_in_a_folder_and_runs_them(server):
    """No settings, no PYTHONPATH: a .py beside ``proj/flow.dflow.json`` is offered and imported from there."""
    proj = server.root / "proj_near"
    proj.mkdir(exist_ok=True)
    (proj / "proj_near_ops.py").write_text(
        "from dflow_lab.python import OP\n\n\n@OP.function\ndef triple(x: int) -> {'y': int}:\n    return {'y': 3 * x}\n")
    body = _get(server, "palette", params={"path": "proj_near/flow.dflow.json"}).json()
    by_name = {e["name"]: e for e in body["entries"]}
    assert [e["name"] for e in body["entries"][:3]] == ["shell", "python-script", "container"]  # built-ins first
    triple = by_name["triple"]
    assert triple["source"] == "proj_near/proj_near_ops.py" and triple["line"] == 4
    assert triple["template"]["op"] == "proj_near_ops:triple"
    assert "triple" not in {e["name"] for e in _get(server, "palette").json()["entries"]}  # not the root's
    for bad in ("../elsewhere.dflow.json", "/etc/flow.dflow.json"):
        r = _get(server, "palette", params={"path": bad})
        assert r.status_code == 400 and "path" in r.json()["message"], r.text

    graph = {"version": 1, "name": "near", "entrypoint": "main", "templates": {
        "main": {"kind": "dag", "nodes": [{"name": "t", "template": "triple", "parameters": {"x": 14}}]},
        "triple": triple["template"]}}
    r = _post(server, "workflows", {"graph": graph, "engine": "local", "path": "proj_near/flow.dflow.json"})
    assert r.status_code == 201, r.text
    name = r.json()["name"]
    phase = wait_for(lambda: _get(server, f"workflows/local/{name}").json()["workflow"]["phase"]
                     if _get(server, f"workflows/local/{name}").json()["workflow"]["phase"] in ("Succeeded", "Failed", "Error")
                     else None, 120, "the run to finish", interval=0.25)
    assert phase == "Succeeded", _get(server, f"workflows/local/{name}/logs").text
    details = _get(server, f"workflows/local/{name}/details", params={"path": "t"}).json()
    assert {o["name"]: o.get("value") for o in details["outputs"]}["y"] == "42"
