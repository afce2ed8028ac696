"""Untrusted documents through the Jupyter server extension (issue 12): a graph whose options would become
code is refused by ``POST /dflow-lab/api/code`` with its issue code, and nothing is generated."""

from __future__ import annotations

import copy

import requests

from tests.graph.test_codegen_security import ISSUE_GRAPH


def _post(server, path, body):
    return requests.post(server.api(path), headers=server.auth, json=body, timeout=60)


def test_code_endpoint_refuses_the_issue_graph(server):
    r = _post(server, "code", {"graph": copy.deepcopy(ISSUE_GRAPH)})
    assert r.status_code == 400, r.text
    body = r.json()
    assert "code" not in body
    assert [(i["code"], i["template"], i["port"]) for i in body["issues"]] == [("invalid-identifier", "echo", "msg")]
    r = _post(server, "validate", {"graph": copy.deepcopy(ISSUE_GRAPH)})
    assert r.status_code == 200 and [i["code"] for i in r.json()["issues"]] == ["invalid-identifier"]
