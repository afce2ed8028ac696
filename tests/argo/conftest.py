"""Fixtures of the Argo backend, server and CLI tests.

By default every test talks to a ``dflow-lab server`` started on a free port of 127.0.0.1 over a
fresh workspace. Point the suite at a real Argo server with::

    DFLOW_LAB_TEST_ARGO_HOST=https://argo.example:2746 DFLOW_LAB_TEST_ARGO_TOKEN=... \
    DFLOW_LAB_TEST_ARGO_NAMESPACE=argo [DFLOW_LAB_TEST_ARGO_VERIFY_SSL=false] pytest tests/argo

Tests that check the server itself (its token file, limits, the workspace behind it) are skipped then.
Every workflow a test lists by label carries this session's label (``session_labels``), so runs of the suite
against one shared server do not see each other's workflows. The S3 tests use the repository configured in
``DFLOW_S3_*`` (the cluster's) when one is, and a moto server of their own otherwise.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pytest

from dflow_lab.apiserver import ArgoServer
from dflow_lab.config import config

REAL_ARGO = os.environ.get("DFLOW_LAB_TEST_ARGO_HOST")
needs_local_server = pytest.mark.skipif(bool(REAL_ARGO), reason="checks dflow-lab server itself")
SESSION = os.environ.get("DFLOW_LAB_TEST_SESSION") or uuid.uuid4().hex[:12]
SESSION_LABEL = "dflow-lab-test-session"


def session_labels(**labels: str) -> dict[str, str]:
    """``labels`` plus this test session's own label: listing by them finds this session's workflows only."""
    return {**labels, SESSION_LABEL: SESSION}


@dataclass
class Endpoint:
    """Where the tests' Argo API is: URL, token, namespace, and the in-process server (None for real Argo)."""

    url: str
    token: Optional[str]
    namespace: str
    server: Optional[ArgoServer]
    workdir: Optional[Path]


def _endpoint(workdir: Path) -> Any:
    if REAL_ARGO:
        yield Endpoint(REAL_ARGO, os.environ.get("DFLOW_LAB_TEST_ARGO_TOKEN"),
                       os.environ.get("DFLOW_LAB_TEST_ARGO_NAMESPACE", "argo"), None, None)
        return
    server = ArgoServer(workdir, port=0).start()
    try:
        yield Endpoint(server.url, server.token, "argo", server, workdir)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def argo_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One server per test module (workflow names are unique, so tests do not see each other's runs)."""
    yield from _endpoint(tmp_path_factory.mktemp("argo-ws"))


@pytest.fixture
def argo_mode(argo_endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch) -> Endpoint:
    """config set for Argo mode against the test endpoint."""
    monkeypatch.setitem(config, "mode", "argo")
    monkeypatch.setitem(config, "host", argo_endpoint.url)
    monkeypatch.setitem(config, "token", argo_endpoint.token)
    monkeypatch.setitem(config, "namespace", argo_endpoint.namespace)
    monkeypatch.setitem(config, "http_headers", {})
    if os.environ.get("DFLOW_LAB_TEST_ARGO_VERIFY_SSL", "").lower() in ("0", "false", "no"):
        monkeypatch.setitem(config, "verify_ssl", False)
    return argo_endpoint
