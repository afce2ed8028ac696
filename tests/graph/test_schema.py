"""The shipped JSON Schema and the documented example."""

from __future__ import annotations

import json
import re

import jsonschema

from dflow_lab.graph import GRAPH_VERSION, load_schema, schema_validator, validate

from .helpers import HERE


def test_schema_is_valid_draft_2020_12():
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["version"] == {"const": GRAPH_VERSION}


def test_example_validates(example_graph):
    assert list(schema_validator().iter_errors(example_graph)) == []
    assert validate(example_graph) == []


def test_docs_example_is_the_fixture(example_graph):
    docs = (HERE.parent.parent / "docs" / "graph-format.md").read_text()
    block = re.search(r"## A full example\s+```json\n(.*?)```", docs, re.S).group(1)
    assert json.loads(block) == example_graph


def test_schema_rejects_unknown_keys(example_graph):
    example_graph["templates"]["main"]["nodes"][0]["colour"] = "red"
    errors = list(schema_validator().iter_errors(example_graph))
    assert [list(e.absolute_path) for e in errors] == [["templates", "main", "nodes", 0]]
