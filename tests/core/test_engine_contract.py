"""The engine contract (``dflow_lab.engine``): both engines implement it, and it is chosen in one place."""

from __future__ import annotations

import pytest

from dflow_lab import workflow as workflow_module
from dflow_lab.argo.client import ArgoBackend
from dflow_lab.config import config
from dflow_lab.engine import Engine, control, select_engine
from dflow_lab.errors import CapabilityNotAvailable
from dflow_lab.local.backend import LocalBackend


def test_both_engines_implement_the_contract(tmp_path):
    local = LocalBackend(tmp_path / "w")
    argo = ArgoBackend(host="http://127.0.0.1:9", token="t", namespace="argo")
    assert isinstance(local, Engine) and isinstance(argo, Engine)
    assert local.log_offsets is True and argo.log_offsets is False
    with pytest.raises(CapabilityNotAvailable, match="offset"):
        argo.read_log("wf", "node", 0)


def test_the_engine_is_chosen_in_one_place_without_a_workflow(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "w"))
    monkeypatch.setitem(config, "mode", "local")
    monkeypatch.setitem(config, "host", None)

    def no_workflow(*args, **kwargs):
        raise AssertionError("choosing an engine built a Workflow")

    monkeypatch.setattr(workflow_module.Workflow, "__init__", no_workflow)
    engine = workflow_module.current_backend()
    assert isinstance(engine, LocalBackend) and engine.workdir == (tmp_path / "w").resolve()
    monkeypatch.setitem(config, "host", "http://127.0.0.1:9")
    argo = select_engine(namespace="ns")
    assert isinstance(argo, ArgoBackend) and argo.namespace == "ns" and argo.host == "http://127.0.0.1:9"


def test_controls_are_named_explicitly(tmp_path):
    with pytest.raises(ValueError, match="no control 'explode'"):
        control(LocalBackend(tmp_path / "w"), "explode", "wf")
