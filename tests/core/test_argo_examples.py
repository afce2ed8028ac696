"""Argo's own example workflows parse into the model and compile back to valid, stable manifests."""

from __future__ import annotations

import pytest
import yaml

from dflow_lab import Workflow
from dflow_lab.errors import WorkflowValueError

from ..conftest import EXAMPLES_DIR, assert_valid_manifest


def uses_inline_templates(doc) -> bool:
    """Steps/tasks with an ``inline`` template or a ``templateRef``: the model needs the workflow's own
    named templates (the parse error says so)."""
    for t in doc["spec"].get("templates") or []:
        for stage in t.get("steps") or []:
            if any("inline" in s or "templateRef" in s for s in stage):
                return True
        if any("inline" in task or "templateRef" in task for task in (t.get("dag") or {}).get("tasks") or []):
            return True
    return False



def workflows():
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        for i, doc in enumerate(d for d in yaml.safe_load_all(path.read_text()) if d):
            if doc.get("kind") == "Workflow":
                yield pytest.param(path.name, doc, id=f"{path.name}[{i}]")


@pytest.mark.parametrize("name,doc", list(workflows()))
def test_example_parses_compiles_and_round_trips(name, doc):
    if uses_inline_templates(doc):
        with pytest.raises(WorkflowValueError, match="templateRef or inline templates"):
            Workflow.from_dict(doc)
        return
    wf = Workflow.from_dict(doc)
    text = wf.to_yaml()
    assert_valid_manifest(yaml.safe_load(text))  # even where the example gives an int for an IntOrString
    assert Workflow.from_yaml(text).to_yaml() == text
    assert len(yaml.safe_load(text)["spec"]["templates"]) == len(doc["spec"].get("templates") or [])


def test_there_are_many_examples():
    assert len(list(workflows())) > 150
