"""``dflow-lab server`` over HTTP: auth, bad input, spec conformance, streams, TLS, headers, the argo SDK."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import jsonschema
import pytest

from dflow_lab.apiserver import ArgoServer
from dflow_lab.argo.client import ArgoApiError, ArgoBackend
from dflow_lab.config import config
from tests.conftest import SHARED

from .conftest import needs_local_server

pytestmark = needs_local_server
SWAGGER = json.loads((SHARED / "argo" / "swagger.json").read_text())
D = "io.argoproj.workflow.v1alpha1."


def conforms(obj: dict, definition: str) -> None:
    """Validate a response against a definition of Argo's swagger."""
    schema = {"definitions": SWAGGER["definitions"], "$ref": f"#/definitions/{definition}"}
    jsonschema.Draft4Validator(schema).validate(obj)


def manifest(name: str | None = None, script: str = "echo hi", labels: dict | None = None) -> dict:
    meta: dict = {"name": name} if name else {"generateName": "srv-"}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": meta,
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "container": {"image": "alpine:3", "command": ["sh", "-c"], "args": [script]}}]}}


class Client:
    def __init__(self, server: ArgoServer):
        self.server = server
        self.port = server.port

    def request(self, method: str, path: str, body: object = None, *, token: str | None = "default",
                headers: dict | None = None, raw: bytes | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        tok = self.server.token if token == "default" else token
        if tok:
            h["Authorization"] = f"Bearer {tok}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        return resp.status, (json.loads(text.splitlines()[0]) if text.strip() else {})

    def stream(self, path: str, accept: str = "application/json") -> list[dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.server.token}", "Accept": accept})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        text = resp.read().decode()
        conn.close()
        if accept == "text/event-stream":
            return [json.loads(block[len("data: "):]) for block in text.split("\n\n") if block.strip()]
        return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ArgoServer(tmp_path_factory.mktemp("srv"), port=0, max_body=4 * 1024 * 1024) as s:
        yield s


@pytest.fixture
def client(server) -> Client:
    return Client(server)


def run(client: Client, m: dict, ns: str = "argo") -> dict:
    status, wf = client.request("POST", f"/api/v1/workflows/{ns}", {"workflow": m})
    assert status == 200, wf
    name = wf["metadata"]["name"]
    ArgoBackend(host=client.server.url, token=client.server.token, namespace=ns).wait(name, timeout=60)
    return client.request("GET", f"/api/v1/workflows/{ns}/{name}")[1]


# -- auth ------------------------------------------------------------------------------------------------

def test_token_is_generated_and_private(server):
    path = server.token_path
    assert path.read_text().strip() == server.token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(server.token) >= 40


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_unauthenticated_requests_are_refused(client, server, token):
    before = len(server.backend.list())
    status, err = client.request("POST", "/api/v1/workflows/argo", {"workflow": manifest()}, token=token)
    assert status == 401 and err["code"] == 16 and "Bearer" in err["message"]
    assert client.request("GET", "/api/v1/workflows/argo", token=token)[0] == 401
    assert len(server.backend.list()) == before  # nothing written


def test_basic_scheme_is_refused(client):
    status, _ = client.request("GET", "/api/v1/version", token=None, headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert status == 401


def test_token_file_readable_by_others_is_refused(tmp_path):
    (tmp_path / "argo-server.token").write_text("t0ken")
    os.chmod(tmp_path / "argo-server.token", 0o644)
    with pytest.raises(PermissionError, match="readable by other users"):
        ArgoServer(tmp_path, port=0)


def test_never_binds_beyond_loopback_unless_told(tmp_path):
    with pytest.raises(ValueError, match="allow_remote"):
        ArgoServer(tmp_path, host="0.0.0.0", port=0)
    with pytest.raises(ValueError, match="without authentication"):
        ArgoServer(tmp_path, host="0.0.0.0", port=0, allow_remote=True, auth=False)
    s = ArgoServer(tmp_path, port=0)
    try:
        assert s.bound_addresses == [("127.0.0.1", s.port)]
    finally:
        s.stop()


# -- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/workflows/argo/..%2F..%2Fetc", "/api/v1/workflows/argo/a%2Fb", "/api/v1/workflows/argo/UPPER",
    "/api/v1/workflows/argo/a_b", "/api/v1/workflows/Bad_NS", "/api/v1/workflows/argo/" + "a" * 300,
    "/api/v1/workflows/argo/x%00y",
])
def test_bad_names_are_refused(client, path):
    status, err = client.request("GET", path)
    assert status == 400 and err["code"] == 3
    assert "invalid" in err["message"] or "encoded" in err["message"]


@pytest.mark.parametrize("name", ["../evil", "a/b", "Evil", "x" * 260, "-a", "a..b"])
def test_bad_workflow_name_in_body_is_refused_and_nothing_written(client, server, name):
    before = len(server.backend.list())
    status, err = client.request("POST", "/api/v1/workflows/argo", {"workflow": manifest(name)})
    assert status == 400 and "invalid workflow name" in err["message"]
    assert len(server.backend.list()) == before


@pytest.mark.parametrize("meta", [{"generateName": "../../victimdir-"}, {"generateName": "a/"},
                                  {"name": "a" * 64}, {"name": "../../victimdir"}])
def test_workflow_names_follow_the_engines_one_validator(client, server, meta):
    before = len(server.backend.list())
    body = manifest()
    body["metadata"] = meta
    status, err = client.request("POST", "/api/v1/workflows/argo", {"workflow": body})
    assert status == 400 and ("invalid workflow name" in err["message"] or "invalid generateName" in err["message"])
    assert len(server.backend.list()) == before


def test_oversized_body_is_refused(client, server):
    before = len(server.backend.list())
    big = manifest()
    big["spec"]["arguments"] = {"parameters": [{"name": "p", "value": "x" * (5 * 1024 * 1024)}]}
    status, err = client.request("POST", "/api/v1/workflows/argo", {"workflow": big})
    assert status == 413 and err["code"] == 8 and "limit" in err["message"]
    assert len(server.backend.list()) == before


def test_huge_declared_body_is_refused_before_reading(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"POST /api/v1/workflows/argo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  server.token.encode() + b"\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000000000000\r\n\r\n{")
        reply = b""
        while chunk := s.recv(65536):  # the server answers, then closes: the body is never read
            reply += chunk
        reply = reply.decode()
    assert reply.startswith("HTTP/1.1 413") and "limit" in reply


@pytest.mark.parametrize("headers,status", [("Transfer-Encoding: chunked", 411), ("Content-Length: lots", 400)])
def test_body_framing_is_checked(server, headers, status):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"POST /api/v1/workflows/argo HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  server.token.encode() + b"\r\nConnection: close\r\n" + headers.encode() + b"\r\n\r\n")
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    assert reply.decode().startswith(f"HTTP/1.1 {status}")


@pytest.mark.parametrize("raw,what", [(b"{not json", "malformed JSON"), (b"[1, 2]", "JSON object"),
                                      (b"\xff\xfe", "malformed JSON"), (b'{"workflow": 3}', "workflow")])
def test_malformed_bodies_are_refused(client, server, raw, what):
    before = len(server.backend.list())
    status, err = client.request("POST", "/api/v1/workflows/argo", raw=raw)
    assert status == 400 and what in err["message"]
    assert len(server.backend.list()) == before


def test_invalid_manifest_is_refused_with_the_field(client):
    m = manifest()
    m["spec"]["entrypoint"] = "nope"
    status, err = client.request("POST", "/api/v1/workflows/argo", {"workflow": m})
    assert status == 400 and "spec.entrypoint" in err["message"]


def test_unknown_paths_and_methods(client):
    assert client.request("GET", "/api/v1/nothing")[0] == 404
    assert client.request("PATCH", "/api/v1/workflows/argo")[0] in (404, 405, 501)
    assert client.request("PUT", "/api/v1/workflows/argo")[0] == 405
    assert client.request("PUT", "/api/v1/workflows/argo/x/explode")[0] == 404
    status, err = client.request("GET", "/api/v1/workflows/argo/does-not-exist")
    assert status == 404 and err["code"] == 5 and "does-not-exist" in err["message"]
    assert client.request("GET", "/api/v1/workflows/argo?listOptions.labelSelector=a%20in%20(b")[0] == 400
    assert client.request("GET", "/api/v1/workflows/argo?listOptions.limit=-1")[0] == 400


def test_archive_keeps_deleted_finished_workflows(client, server):
    wf = run(client, manifest(labels={"arch": "1"}))
    name, uid = wf["metadata"]["name"], wf["metadata"]["uid"]
    assert client.request("DELETE", f"/api/v1/archived-workflows/{uid}")[0] == 409  # not deleted yet
    assert client.request("DELETE", f"/api/v1/workflows/argo/{name}")[0] == 200
    assert client.request("GET", f"/api/v1/workflows/argo/{name}")[0] == 404
    status, archived = client.request("GET", f"/api/v1/archived-workflows/{uid}")
    assert status == 200 and archived["status"]["phase"] == "Succeeded" and archived["status"]["nodes"]
    conforms(archived, D + "Workflow")
    listing = client.request("GET", "/api/v1/archived-workflows?listOptions.labelSelector=arch%3D1")[1]
    assert [w["metadata"]["uid"] for w in listing["items"]] == [uid]
    assert client.request("DELETE", f"/api/v1/archived-workflows/{uid}")[0] == 200
    assert client.request("GET", f"/api/v1/archived-workflows/{uid}")[0] == 404
    assert client.request("GET", "/api/v1/archived-workflows/..%2Fetc")[0] == 400


def test_namespaces_are_separate(client):
    wf = run(client, manifest(), ns="team-a")
    name = wf["metadata"]["name"]
    assert client.request("GET", f"/api/v1/workflows/other/{name}")[0] == 404
    names = [w["metadata"]["name"] for w in client.request("GET", "/api/v1/workflows/other")[1]["items"]]
    assert name not in names
    m = manifest()
    m["metadata"]["namespace"] = "team-b"
    status, err = client.request("POST", "/api/v1/workflows/team-a", {"workflow": m})
    assert status == 400 and "namespace" in err["message"]


def test_duplicate_name_conflicts(client):
    run(client, manifest("dup-one"))
    status, err = client.request("POST", "/api/v1/workflows/argo", {"workflow": manifest("dup-one")})
    assert status == 409 and err["code"] == 6


# -- responses conform to the swagger ------------------------------------------------------------------------

def test_responses_conform_to_the_swagger(client):
    conforms(client.request("GET", "/api/v1/version")[1], D + "Version")
    conforms(client.request("GET", "/api/v1/info")[1], D + "InfoResponse")
    status, created = client.request("POST", "/api/v1/workflows/argo",
                                     {"workflow": manifest(labels={"conf": "yes"})})
    assert status == 200
    conforms(created, D + "Workflow")
    name = created["metadata"]["name"]
    ArgoBackend(host=client.server.url, token=client.server.token).wait(name, timeout=60)
    status, wf = client.request("GET", f"/api/v1/workflows/argo/{name}")
    conforms(wf, D + "Workflow")
    assert wf["status"]["phase"] == "Succeeded" and wf["status"]["nodes"]
    assert all("hostDir" not in n for n in wf["status"]["nodes"].values())
    listing = client.request("GET", "/api/v1/workflows/argo?listOptions.labelSelector=conf%3Dyes")[1]
    conforms(listing, D + "WorkflowList")
    assert [w["metadata"]["name"] for w in listing["items"]] == [name]
    conforms(client.request("GET", "/api/v1/archived-workflows?listOptions.labelSelector=conf=yes")[1],
             D + "WorkflowList")
    conforms(client.request("GET", f"/api/v1/archived-workflows/{wf['metadata']['uid']}")[1], D + "Workflow")
    conforms(client.request("POST", "/api/v1/workflows/argo/lint", {"workflow": manifest()})[1], D + "Workflow")
    status, resub = client.request("PUT", f"/api/v1/workflows/argo/{name}/resubmit", {"memoized": False})
    assert status == 200 and resub["metadata"]["name"] != name
    conforms(resub, D + "Workflow")
    for event in client.stream(f"/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3D{name}"
                               "&listOptions.timeoutSeconds=1"):
        conforms(event["result"], D + "WorkflowWatchEvent")
    for entry in client.stream(f"/api/v1/workflows/argo/{name}/log?logOptions.container=main"):
        conforms(entry["result"], D + "LogEntry")
    status, err = client.request("GET", "/api/v1/workflows/argo/nope")
    conforms(err, "grpc.gateway.runtime.Error")
    assert client.request("DELETE", f"/api/v1/workflows/argo/{resub['metadata']['name']}")[1] == {}
    conforms({}, D + "WorkflowDeleteResponse")


def test_fields_projection(client):
    wf = run(client, manifest(labels={"proj": "1"}))
    name = wf["metadata"]["name"]
    got = client.request("GET", f"/api/v1/workflows/argo/{name}?fields=metadata.name,status.phase")[1]
    assert got == {"metadata": {"name": name}, "status": {"phase": "Succeeded"}}
    listing = client.request("GET", "/api/v1/workflows/argo?listOptions.labelSelector=proj%3D1"
                                    "&fields=metadata,items.metadata.name,items.status.phase")[1]
    assert listing["items"] == [{"metadata": {"name": name}, "status": {"phase": "Succeeded"}}]
    dropped = client.request("GET", f"/api/v1/workflows/argo/{name}?fields=-status.nodes")[1]
    assert "nodes" not in dropped["status"] and dropped["status"]["phase"] == "Succeeded"


def test_concurrent_clients(client, server):
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> str:
        backend = ArgoBackend(host=server.url, token=server.token, namespace="argo")
        name = backend.submit(manifest(script=f"echo {i}", labels={"burst": "1"}))["metadata"]["name"]
        return backend.wait(name, timeout=120)["status"]["phase"]

    with ThreadPoolExecutor(6) as pool:
        phases = list(pool.map(one, range(6)))
    assert phases == ["Succeeded"] * 6
    listing = client.request("GET", "/api/v1/workflows/argo?listOptions.labelSelector=burst%3D1")[1]
    assert len({w["metadata"]["name"] for w in listing["items"]}) == 6


def test_list_pages(client):
    names = {run(client, manifest(labels={"page": "p"}))["metadata"]["name"] for _ in range(3)}
    got, token = [], None
    while True:
        query = "listOptions.labelSelector=page%3Dp&listOptions.limit=2" + (f"&listOptions.continue={token}"
                                                                            if token else "")
        page = client.request("GET", f"/api/v1/workflows/argo?{query}")[1]
        got += [w["metadata"]["name"] for w in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
    assert sorted(got) == sorted(names) and len(got) == 3


def test_label_selector_forms(client):
    run(client, manifest(labels={"tier": "gold", "sel": "t"}))
    run(client, manifest(labels={"tier": "silver", "sel": "t"}))

    def names(sel: str) -> int:
        from urllib.parse import quote

        return len(client.request("GET", f"/api/v1/workflows/argo?listOptions.labelSelector={quote(sel)}")[1]["items"])

    assert names("sel=t") == 2
    assert names("sel=t,tier=gold") == 1
    assert names("sel=t,tier!=gold") == 1
    assert names("sel,tier in (gold, silver)") == 2
    assert names("sel=t,tier notin (gold)") == 1
    assert names("sel=t,!tier") == 0


def test_log_stream_follows_a_running_workflow(client):
    status, wf = client.request("POST", "/api/v1/workflows/argo",
                                {"workflow": manifest(script="for i in 1 2 3; do echo n$i; sleep 0.2; done")})
    name = wf["metadata"]["name"]
    lines = client.stream(f"/api/v1/workflows/argo/{name}/log?logOptions.container=main&logOptions.follow=true")
    assert [x["result"]["content"] for x in lines] == ["n1", "n2", "n3"]
    pod = lines[0]["result"]["podName"]
    again = client.stream(f"/api/v1/workflows/argo/{name}/{pod}/log?grep=n2")
    assert [x["result"]["content"] for x in again] == ["n2"]
    assert client.request("GET", f"/api/v1/workflows/argo/{name}/log?podName=nope")[0] == 404


def test_watch_stream_sees_a_run_to_its_end(client):
    status, wf = client.request("POST", "/api/v1/workflows/argo", {"workflow": manifest(script="sleep 0.5")})
    name = wf["metadata"]["name"]
    phases = []
    for accept in ("application/json", "text/event-stream"):
        events = client.stream(f"/api/v1/workflow-events/argo?listOptions.fieldSelector=metadata.name%3D{name}"
                               "&listOptions.timeoutSeconds=3", accept=accept)
        assert events[0]["result"]["type"] == "ADDED"
        assert {e["result"]["type"] for e in events[1:]} <= {"MODIFIED"}
        phases += [e["result"]["object"]["status"].get("phase") for e in events]
    assert phases[-1] == "Succeeded"
    assert client.request("DELETE", f"/api/v1/workflows/argo/{name}")[0] == 200


def test_watch_reports_deletion(client, server):
    wf = run(client, manifest(labels={"watch": "del"}))
    name = wf["metadata"]["name"]
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/api/v1/workflow-events/argo?listOptions.labelSelector=watch%3Ddel"
                        "&listOptions.timeoutSeconds=20", headers={"Authorization": f"Bearer {server.token}"})
    resp = conn.getresponse()
    first = json.loads(resp.readline())["result"]
    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", name)
    assert client.request("DELETE", f"/api/v1/workflows/argo/{name}")[0] == 200
    second = json.loads(resp.readline())["result"]
    assert (second["type"], second["object"]["metadata"]["name"]) == ("DELETED", name)
    conn.close()


def test_memoization_cache_configmaps(client):
    bad = {"metadata": {"name": "c1"}, "data": {}}
    assert client.request("POST", "/api/v1/namespaces/argo/configmaps", bad)[0] == 422
    cm = {"metadata": {"name": "c1", "labels": {"workflows.argoproj.io/configmap-type": "Cache"}},
          "data": {"k": "not json"}}
    assert client.request("POST", "/api/v1/namespaces/argo/configmaps", cm)[0] == 400


def test_parameter_configmaps_feed_configmapkeyref(client):
    cm = {"metadata": {"name": "simple-parameters", "labels": {"workflows.argoproj.io/configmap-type": "Parameter"}},
          "data": {"msg": "from the server"}}
    assert client.request("POST", "/api/v1/namespaces/argo/configmaps", cm)[0] == 200
    wf = manifest()
    wf["spec"]["arguments"] = {"parameters": [{"name": "m", "valueFrom": {"configMapKeyRef": {
        "name": "simple-parameters", "key": "msg"}}}]}
    wf["spec"]["templates"] = [{"name": "main", "container": {"image": "busybox", "command": ["echo"],
                                                               "args": ["{{workflow.parameters.m}}"]}}]
    wf["spec"]["entrypoint"] = "main"
    got = run(client, wf)
    assert got["status"]["phase"] == "Succeeded"
    root = next(n for n in got["status"]["nodes"].values() if n["name"] == got["metadata"]["name"])
    assert root["outputs"]["result"] == "from the server"


# -- the argo-workflows SDK, TLS and headers ------------------------------------------------------------------

def test_argo_sdk_typed_api_reads_our_responses(server, client):
    import argo_workflows
    from argo_workflows.apis import InfoServiceApi, WorkflowServiceApi

    wf = run(client, manifest(labels={"sdk": "1"}))
    conf = argo_workflows.Configuration(host=server.url)
    conf.api_key["BearerToken"] = "Bearer " + server.token
    api_client = argo_workflows.ApiClient(conf)
    api = WorkflowServiceApi(api_client)
    got = api.get_workflow("argo", wf["metadata"]["name"])
    assert got.status.phase == "Succeeded"
    listing = api.list_workflows("argo", list_options_label_selector="sdk=1")
    assert [w.metadata.name for w in listing.items] == [wf["metadata"]["name"]]
    assert InfoServiceApi(api_client).get_version().version.startswith("v4")
    conf_bad = argo_workflows.Configuration(host=server.url)
    with pytest.raises(argo_workflows.ApiException) as e:
        WorkflowServiceApi(argo_workflows.ApiClient(conf_bad)).list_workflows("argo")
    assert e.value.status == 401


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command (Debian package openssl) to make a certificate")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(d / "key.pem"),
                    "-out", str(d / "cert.pem")], check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


def test_tls_verification_switch(tmp_path, tls_files, monkeypatch):
    cert, key = tls_files
    with ArgoServer(tmp_path, port=0, tls_cert=str(cert), tls_key=str(key)) as s:
        assert s.url.startswith("https://")
        monkeypatch.setitem(config, "verify_ssl", True)
        with pytest.raises(ArgoApiError) as e:
            ArgoBackend(host=s.url, token=s.token, namespace="argo").list()
        assert "CERTIFICATE_VERIFY_FAILED" in str(e.value) and s.token not in str(e.value)
        monkeypatch.setitem(config, "verify_ssl", False)
        assert ArgoBackend(host=s.url, token=s.token, namespace="argo").list() == []


class _Gateway(BaseHTTPRequestHandler):
    """A reverse proxy that admits only requests carrying ``X-Gateway-Key: open-sesame`` (as API gateways do);
    the first ``unavailable`` requests get 503, as from an overloaded load balancer."""

    upstream: int = 0
    unavailable: list = []
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _forward(self):
        if self.unavailable:
            self.unavailable.pop()
            body = b'{"code": 14, "message": "upstream unavailable"}'
            self.send_response(503)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.headers.get("X-Gateway-Key") != "open-sesame":
            body = b'{"code": 7, "message": "gateway: missing X-Gateway-Key"}'
            self.send_response(403)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "x-gateway-key")}
        conn.request(self.command, self.path, body=data, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.getheader("Content-Type") or "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


def test_custom_http_headers_reach_the_server(server, monkeypatch):
    handler = type("G", (_Gateway,), {"upstream": server.port, "unavailable": []})
    gateway = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=gateway.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{gateway.server_address[1]}"
        monkeypatch.setitem(config, "http_headers", {})
        with pytest.raises(ArgoApiError) as e:
            ArgoBackend(host=url, token=server.token, namespace="argo").list()
        assert e.value.status == 403
        monkeypatch.setitem(config, "http_headers", {"X-Gateway-Key": "open-sesame"})
        assert isinstance(ArgoBackend(host=url, token=server.token, namespace="argo").list(), list)
        handler.unavailable.extend([1, 1])  # reads are tried again after a 503
        assert isinstance(ArgoBackend(host=url, token=server.token, namespace="argo").list(), list)
        assert handler.unavailable == []
        handler.unavailable.extend([1])  # writes are not: the server may have done them
        with pytest.raises(ArgoApiError) as e:
            ArgoBackend(host=url, token=server.token, namespace="argo").resume("whatever")
        assert e.value.status == 503
    finally:
        gateway.shutdown()
        gateway.server_close()


def test_unreachable_server_error_is_clear(monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setitem(config, "verify_ssl", True)
    with pytest.raises(ArgoApiError, match="cannot reach"):
        ArgoBackend(host=f"http://127.0.0.1:{port}", token="secret-token-value", namespace="argo").get("w")
    try:
        ArgoBackend(host=f"http://127.0.0.1:{port}", token="secret-token-value", namespace="argo").get("w")
    except ArgoApiError as e:
        assert "secret-token-value" not in str(e)


def test_host_is_required(monkeypatch):
    monkeypatch.setitem(config, "host", None)
    with pytest.raises(ValueError, match="host"):
        ArgoBackend()
    assert urlsplit(ArgoBackend(host="127.0.0.1:2746").host).scheme == "https"


def test_token_as_argo_prints_it(server):
    backend = ArgoBackend(host=server.url, token="Bearer " + server.token, namespace="argo")
    assert isinstance(backend.list(), list)
    assert server.token not in repr(backend)


# -- WorkflowTemplates, ClusterWorkflowTemplates and config maps over HTTP ------------------------------------

def _wft(name: str, kind: str = "WorkflowTemplate", msg: str = "from a template") -> dict:
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": {"name": name, "labels": {"team": "a"}},
            "spec": {"entrypoint": "main", "templates": [
                {"name": "main", "steps": [[{"name": "say", "template": "say"}]]},
                {"name": "say", "container": {"image": "busybox", "command": ["echo"], "args": [msg]}}]}}


def test_workflow_template_endpoints(client):
    base = "/api/v1/workflow-templates/argo"
    status, made = client.request("POST", base, {"namespace": "argo", "template": _wft("lib")})
    assert status == 200, made
    conforms(made, D + "WorkflowTemplate")
    assert made["metadata"]["namespace"] == "argo" and made["metadata"]["uid"]
    assert client.request("POST", base, {"template": _wft("lib")})[0] == 409
    status, listed = client.request("GET", base + "?listOptions.labelSelector=team%3Da")
    assert status == 200
    conforms(listed, D + "WorkflowTemplateList")
    assert [t["metadata"]["name"] for t in listed["items"]] == ["lib"]
    assert client.request("GET", base + "?listOptions.labelSelector=team%3Db")[1]["items"] == []
    assert client.request("GET", "/api/v1/workflow-templates/other")[1]["items"] == []  # another namespace
    status, got = client.request("GET", base + "/lib")
    assert status == 200 and got["spec"] == made["spec"]
    assert client.request("GET", "/api/v1/workflow-templates/other/lib")[0] == 404
    # lint checks like create and keeps nothing; a bad template is a 400 naming what is wrong
    assert client.request("POST", base + "/lint", {"template": _wft("linted")})[0] == 200
    assert client.request("GET", base + "/linted")[0] == 404
    bad = _wft("bad")
    bad["spec"]["entrypoint"] = "nope"
    status, err = client.request("POST", base + "/lint", {"template": bad})
    assert status == 400 and "nope" in err["message"]
    status, err = client.request("POST", base, {"template": {**_wft("../x")}})
    assert status == 400
    # update keeps uid and creation time; the name must match the path
    changed = _wft("lib", msg="updated")
    status, upd = client.request("PUT", base + "/lib", {"name": "lib", "template": changed})
    assert status == 200 and upd["metadata"]["uid"] == made["metadata"]["uid"]
    assert client.request("PUT", base + "/other", {"template": changed})[0] == 404
    # a workflow created over HTTP runs it by workflowTemplateRef, and a templateRef to its steps template
    got = run(client, {"metadata": {"generateName": "by-ref-"}, "spec": {"workflowTemplateRef": {"name": "lib"}}})
    assert got["status"]["phase"] == "Succeeded", got["status"].get("message")
    assert {n["displayName"]: n for n in got["status"]["nodes"].values()}["say"]["outputs"]["result"] == "updated"
    steps = manifest()
    steps["spec"]["templates"] = [{"name": "main", "steps": [[{"name": "call",
                                                               "templateRef": {"name": "lib", "template": "main"}}]]}]
    got = run(client, steps)
    assert got["status"]["phase"] == "Succeeded", got["status"].get("message")
    status, deleted = client.request("DELETE", base + "/lib")
    assert status == 200 and deleted == {}
    conforms(deleted, D + "WorkflowTemplateDeleteResponse")
    assert client.request("DELETE", base + "/lib")[0] == 404


def test_cluster_workflow_template_endpoints(client):
    base = "/api/v1/cluster-workflow-templates"
    status, made = client.request("POST", base, {"template": _wft("glib", "ClusterWorkflowTemplate")})
    assert status == 200, made
    conforms(made, D + "ClusterWorkflowTemplate")
    assert "namespace" not in made["metadata"]
    status, err = client.request("POST", base, {"template": _wft("glib2")})  # the wrong kind
    assert status == 400 and "ClusterWorkflowTemplate" in err["message"]
    status, listed = client.request("GET", base)
    conforms(listed, D + "ClusterWorkflowTemplateList")
    assert [t["metadata"]["name"] for t in listed["items"]] == ["glib"]
    assert client.request("POST", base + "/lint", {"template": _wft("x", "ClusterWorkflowTemplate")})[0] == 200
    assert client.request("GET", base + "/glib")[1]["kind"] == "ClusterWorkflowTemplate"
    got = run(client, {"metadata": {"generateName": "by-cref-"},
                       "spec": {"workflowTemplateRef": {"name": "glib", "clusterScope": True}}})
    assert got["status"]["phase"] == "Succeeded", got["status"].get("message")
    assert client.request("DELETE", base + "/glib")[0] == 200
    assert client.request("GET", base + "/glib")[0] == 404


def test_configmap_endpoints(client):
    base = "/api/v1/namespaces/cms/configmaps"
    cm = {"metadata": {"name": "params", "labels": {"workflows.argoproj.io/configmap-type": "Parameter"}},
          "data": {"msg": "hi"}}
    assert client.request("POST", base, cm)[0] == 200
    status, listed = client.request("GET", base)
    assert status == 200 and listed["kind"] == "ConfigMapList"
    assert [c["metadata"]["name"] for c in listed["items"]] == ["params"]
    assert client.request("GET", base + "/params")[1]["data"] == {"msg": "hi"}
    assert client.request("GET", "/api/v1/namespaces/elsewhere/configmaps/params")[0] == 404
    assert client.request("DELETE", base + "/params")[0] == 200
    assert client.request("GET", base + "/params")[0] == 404
