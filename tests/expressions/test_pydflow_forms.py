"""Every expression form the reference dflow (pydflow 1.8) emits evaluates as Argo would evaluate it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dflow_lab.expr.evaluate import eval_expr, eval_when, render_template, tags_in

from .walk import strings_in

PYDFLOW = Path("/opt/pydflow-venv/bin/python")
HERE = Path(__file__).parent

# step s1 / task a produced out=2 and outs=[4,5,6]
VARIABLES = {
    "steps.s1.outputs.parameters.out": "2",
    "steps.s1.outputs.parameters.outs": "[4, 5, 6]",
    "tasks.a.outputs.parameters.out": "2",
    "tasks.a.outputs.parameters.outs": "[4, 5, 6]",
    "inputs.parameters.dflow_key": "rng-1",
}
OUTS = "steps['s1'].outputs.parameters['outs']"
OUT = "steps['s1'].outputs.parameters['out']"


def render(expr: str) -> str:
    return render_template("{{=" + expr + "}}", VARIABLES)


@pytest.mark.parametrize(
    "expr, expected",
    [
        # ArgoVar arithmetic (io.ArgoVar.__add__ etc.): asFloat(...) op value, printed without .0
        (f"asFloat({OUT}) + 1", "3"),
        (f"asFloat({OUT}) - 1", "1"),
        (f"asFloat({OUT}) * 2", "4"),
        (f"asFloat({OUT}) / 4", "0.5"),
        (f"asFloat({OUT}) + asFloat({OUT})", "4"),
        # comparisons used as conditions
        (f"asFloat({OUT}) > 1", "true"),
        (f"asFloat({OUT}) <= 1", "false"),
        (f"asFloat({OUT}) >= asFloat({OUT})", "true"),
        (f"{OUT} == '2'", "true"),
        (f"{OUT} != '2'", "false"),
        # if_expression
        (f"(asFloat({OUT}) > 1 ? 'big' : 'small')", "big"),
        (f"({OUT} == 'true' ? 'yes' : 'no')", "no"),
        # argo_len, argo_range, argo_sequence counts
        (f"len(sprig.fromJson({OUTS}))", "3"),
        ("toJson(sprig.untilStep(0, 3, 1))", "[0,1,2]"),
        (f"toJson(sprig.untilStep(0, len(sprig.fromJson({OUTS})), 1))", "[0,1,2]"),
        (f"toJson(sprig.untilStep(1, sprig.atoi({OUT}), 2))", "[1]"),
        (f"toJson(sprig.untilStep(sprig.atoi({OUT}), 7, sprig.atoi({OUT})))", "[2,4,6]"),
        (f"len(sprig.fromJson(toJson(sprig.untilStep(0, len(sprig.fromJson({OUTS})), 1))))", "3"),
        # argo_enumerate
        (f"toJson(map(sprig.untilStep(0, len(sprig.fromJson({OUTS})), 1), "
         f"{{ {{'order': #, 'value': jsonpath({OUTS}, '$')[#]}} }}))",
         '[{"order":0,"value":4},{"order":1,"value":5},{"order":2,"value":6}]'),
        ("toJson(map(sprig.untilStep(0, 2, 1), { {'order': #, 'value': jsonpath('[\"a\", \"b\"]', '$')[#]} }))",
         '[{"order":0,"value":"a"},{"order":1,"value":"b"}]'),
        # ArgoVar indexing with the str/JSON guard (io.InputParameter with a non-str ArgoVar value)
        (f"string(jsonpath({OUTS}, '$')[0]) == jsonpath({OUTS}, '$')[0] ? jsonpath({OUTS}, '$')[0] : "
         f"toJson(jsonpath({OUTS}, '$')[0])", "4"),
        ("string(jsonpath('{\"k\": \"v\"}', '$')['k']) == jsonpath('{\"k\": \"v\"}', '$')['k'] ? "
         "jsonpath('{\"k\": \"v\"}', '$')['k'] : toJson(jsonpath('{\"k\": \"v\"}', '$')['k'])", "v"),
        ("string(jsonpath('{\"k\": [1, 2]}', '$')['k']) == jsonpath('{\"k\": [1, 2]}', '$')['k'] ? "
         "jsonpath('{\"k\": [1, 2]}', '$')['k'] : toJson(jsonpath('{\"k\": [1, 2]}', '$')['k'])", "[1,2]"),
        (f"string(jsonpath({OUTS}, '$[0]')) == jsonpath({OUTS}, '$[0]') ? jsonpath({OUTS}, '$[0]') : "
         f"toJson(jsonpath({OUTS}, '$[0]'))", "4"),
        # sliced steps with group_size: the number of groups
        (f"toJson(sprig.untilStep(0, (len(sprig.fromJson({OUTS})) % 2 > 0 ? sprig.int(len(sprig.fromJson({OUTS}))/2) "
         f"+ 1 : sprig.int(len(sprig.fromJson({OUTS}))/2)), 1))", "[0,1]"),
        ("(4 % 2 > 0 ? sprig.int(4/2) + 1 : sprig.int(4/2))", "2"),
        # passing a whole output on, and the step key
        (OUTS, "[4, 5, 6]"),
        ("inputs.parameters.dflow_key", "rng-1"),
    ],
)
def test_pydflow_expression(expr: str, expected: str) -> None:
    assert render(expr) == expected


@pytest.mark.parametrize(
    "when, expected",
    [
        (f"{{{{=asFloat({OUT}) > 1}}}}", True),
        (f"{{{{={OUT} == '2'}}}}", True),
        (f"{{{{={OUT} != '2'}}}}", False),
        ("{{steps.s1.outputs.parameters.out}} < 5", True),
        ("{{tasks.a.outputs.parameters.out}} >= 1", True),
        ("{{steps.s1.outputs.parameters.out}} == 3", False),
    ],
)
def test_pydflow_when(when: str, expected: bool) -> None:
    assert eval_when(render_template(when, VARIABLES)) is expected


@pytest.mark.parametrize(
    "exit_code, transient, failure",
    [("0", False, True), ("1", True, True), ("2", False, False), ("3", False, True)],
)
def test_pydflow_retry_expressions(exit_code: str, transient: bool, failure: bool) -> None:
    env = {"lastRetry": {"exitCode": exit_code, "status": "Failed", "duration": "1", "message": ""}}
    assert eval_expr("asInt(lastRetry.exitCode) == 1", env) is transient
    assert eval_expr("asInt(lastRetry.exitCode) != 2", env) is failure


@pytest.mark.skipif(not PYDFLOW.exists(), reason="the reference pydflow venv is not installed")
def test_every_tag_in_manifests_compiled_by_pydflow(tmp_path: Path) -> None:
    """Compile workflows with pydflow itself and evaluate every tag of their manifests."""
    out = tmp_path / "manifests.json"
    subprocess.run([str(PYDFLOW), str(HERE / "pydflow_emit.py"), str(out)], check=True, timeout=120,
                   capture_output=True)
    manifests = json.loads(out.read_text())
    checked: dict[str, list[str]] = {"when": [], "withParam": [], "count": [], "value": []}
    for _name, manifest in manifests.items():
        for path, text in strings_in(manifest):
            field = path[-1]
            if "{{" not in text or "source" in path or field not in checked:
                continue
            variables = dict(VARIABLES)
            for tag in tags_in(text):
                variables.setdefault(tag, "0")
            rendered = render_template(text, variables)
            if field == "when":
                assert isinstance(eval_when(rendered), bool)
            elif field == "withParam":
                assert isinstance(json.loads(rendered), list), (text, rendered)
            elif field == "count":
                assert int(rendered) == 3
            checked[field].append(rendered)
    assert sorted(checked["when"]) == sorted(["true", "true", "false", "true", "2 < 5", "2 >= 1"])
    assert "[0,1,2]" in checked["withParam"] and "[1]" in checked["withParam"] and "[0,1]" in checked["withParam"]
    assert '[{"order":0,"value":4},{"order":1,"value":5},{"order":2,"value":6}]' in checked["withParam"]
    # n = out + 1, n = out * 2, msg = outs[0] / outs[1], n = out - 1, the if_expression, the key, len(outs)
    assert {"3", "4", "5", "1", "big", "rng-0", "[4, 5, 6]"} <= set(checked["value"])
