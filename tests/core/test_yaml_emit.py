"""The fast YAML emitter writes exactly what yaml.safe_load reads back."""

from __future__ import annotations

import random

import pytest
import yaml

from dflow_lab.argo.yaml_emit import emit_yaml

from .builders import build_dag_workflow, build_steps_workflow

TRICKY = [
    "", " ", "a ", " a", "yes", "No", "null", "~", "1", "1.5", "0x1f", "1:20", "2001-12-14", ".inf", "-",
    "- a", "a: b", "a #b", "#c", "{{inputs.parameters.x}}", "'q'", '"dq"', "line1\nline2", "line1\nline2\n",
    "a\n\n", "\n", "tab\there", "x\r\ny", "\x85nel", "\u2028ls", "\ufeffbom", "\x7f", "\x00nul", "é", "😀",
    "a\\b", "trailing \nspace", "  lead\nx", "=", "<<", "@at", "`bt", "%p", "!tag", "&a", "*b", "|", ">",
    "?q", "[1]", "{a}", ",", "echo {{x}} > /tmp/y", "multi\n  indented\n\tTab", "y", "n", "TRUE", "off",
]


def shapes(s):
    return [{"k": s}, [s], {"k": [s, {"x": s}, [s]]}, {s or "e": 1}]


@pytest.mark.parametrize("s", TRICKY)
def test_tricky_strings_round_trip(s):
    for data in shapes(s):
        assert yaml.safe_load(emit_yaml(data)) == data


def test_random_strings_round_trip():
    rng = random.Random(20261127)
    alphabet = "ab :#-\n\t'\"{}[]|>!&*?%@`\\\x85é😀 0.1"
    for _ in range(2000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        for data in shapes(s):
            assert yaml.safe_load(emit_yaml(data)) == data, repr(s)


def test_scalars_and_empty_containers():
    data = {"i": 3, "f": 1.5, "t": True, "n": None, "e": {}, "l": [], "neg": -2, "inf": float("inf")}
    assert yaml.safe_load(emit_yaml(data)) == data


@pytest.mark.parametrize("build", [build_steps_workflow, build_dag_workflow])
def test_manifests_round_trip_and_scripts_stay_readable(build):
    m = build().to_dict()
    text = emit_yaml(m)
    assert yaml.safe_load(text) == m
    assert "source: echo {{inputs.parameters.msg}}" in text or "source: |" in text or "source: \"" in text
