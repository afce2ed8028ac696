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


def _mutations(g: dict) -> list:
    import copy

    out = []
    for path, value in [
        (("version",), "1"), (("templates", "main", "nodes", 0, "stage"), -1),
        (("templates", "main", "nodes", 0, "artifacts"), {"a": {"kind": "s3"}}),
        (("templates", "main", "nodes", 0, "artifacts"), {"a": {"kind": "ftp", "url": "x"}}),
        (("templates", "main", "edges", 0, "kind"), "data"),
        (("templates", "main", "edges", 0, "target"), {"node": "x", "option": "when"}),
        (("templates", "main", "edges", 0, "source"), {"port": "p"}),
        (("templates", "prepare", "script"), "echo"), (("templates", "score", "op"), "a:b"),
        (("templates", "score", "kind"), "lambda"), (("templates", "main", "parallelism"), 0),
        (("templates", "main", "nodes", 1, "continue_on_success_ratio"), 2),
        (("templates", "score", "inputs", "parameters", "cutoff", "big"), "yes"),
        (("layout",), []), (("labels",), {"a": 1}), (("name",), None),
    ]:
        doc = copy.deepcopy(g)
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        out.append(doc)
    return out


def test_fast_check_agrees_with_jsonschema(example_graph):
    from dflow_lab.graph.schema import conforms

    assert conforms(example_graph)
    for doc in _mutations(example_graph):
        assert conforms(doc) is False
        assert list(schema_validator().iter_errors(doc))


def test_readme_section_runs(example_graph, tmp_path, monkeypatch, capsys):
    """The README section of docs/graph-format.md, run on the example (with shell templates)."""
    for t in ("prepare", "score"):
        spec = example_graph["templates"][t]
        example_graph["templates"][t] = {"kind": "shell", "image": "alpine:3", "script": "true",
                                         "inputs": spec["inputs"], "outputs": spec["outputs"]}
    monkeypatch.chdir(tmp_path)
    (tmp_path / "screen.graph.json").write_text(json.dumps(example_graph))
    docs = (HERE.parent.parent / "docs" / "graph-format.md").read_text()
    section = docs.split("## README section", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 3 and all(len(b.strip().splitlines()) <= 5 for b in blocks)
    for block in blocks:
        exec(compile(block, "README", "exec"), {})
    out = capsys.readouterr().out
    assert "('prepare', 'score', 'data')" in out
    assert (tmp_path / "screen.graph.yaml").exists()
    namespace: dict = {}
    exec((tmp_path / "screen.py").read_text(), namespace)
    assert namespace["wf"].to_graph() == example_graph
