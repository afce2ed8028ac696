"""Shared test set-up.

Every manifest a test compiles with ``Workflow.to_dict()`` is validated against Argo v4.1.2's
Workflow JSON schema (``../shared/argo/schema.json``, or ``$DFLOW_LAB_SHARED/argo/schema.json``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DFLOW_LAB_SHARED", REPO.parent / "shared"))
SCHEMA_PATH = SHARED / "argo" / "schema.json"
EXAMPLES_DIR = SHARED / "argo" / "examples"

_validator = None


def argo_validator():
    """A compiled jsonschema validator for Argo's Workflow (built once per session)."""
    global _validator
    if _validator is None:
        import jsonschema

        schema = json.loads(SCHEMA_PATH.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        # the schema is a oneOf over Argo's kinds; validate against Workflow to get precise errors
        workflow_schema = {
            "$schema": schema["$schema"],
            "$ref": "#/definitions/io.argoproj.workflow.v1alpha1.Workflow",
            "definitions": schema["definitions"],
        }
        _validator = jsonschema.Draft202012Validator(workflow_schema)
    return _validator


def assert_valid_manifest(manifest: dict) -> None:
    errors = sorted(argo_validator().iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors[:20]]
        raise AssertionError("manifest is not valid against Argo's schema:\n" + "\n".join(lines))


@pytest.fixture(autouse=True, scope="session")
def _validate_every_compiled_manifest():
    """Wrap ``Workflow.to_dict`` so that each manifest compiled in a test is schema-checked."""
    try:
        from dflow_lab.workflow import Workflow
    except ImportError:  # the model is not importable yet
        yield
        return
    original = Workflow.to_dict

    def checked(self, *args, **kwargs):
        manifest = original(self, *args, **kwargs)
        assert_valid_manifest(manifest)
        return manifest

    Workflow.to_dict = checked
    try:
        yield
    finally:
        Workflow.to_dict = original


@pytest.fixture(scope="session")
def playwright_driver():
    """The one Playwright driver of a test session, shared by the widget and lab browser tests: a second
    ``sync_playwright()`` while one is running fails ("Sync API inside the asyncio loop")."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A fresh local-engine workspace for the test (``config["local_workdir"]``), runs in-process and waited for."""
    from dflow_lab.config import config

    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    monkeypatch.setitem(config, "mode", "local")
    monkeypatch.setitem(config, "detach", False)
    return tmp_path / "ws"
