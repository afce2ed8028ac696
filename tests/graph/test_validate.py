"""validate(graph): one case per issue code, and every problem reported at once."""

from __future__ import annotations

import copy

import pytest

from dflow_lab.graph import CODES, GraphValidationError, Issue, from_pydflow, validate

from .helpers import json_paths, load_fixture

COVERED: set[str] = set()


def issues_of(graph: dict, code: str) -> list[Issue]:
    COVERED.add(code)
    found = validate(graph)
    hits = [i for i in found if i.code == code]
    assert hits, f"expected a {code!r} issue, got {[str(i) for i in found]}"
    return hits


def main(g: dict) -> dict:
    return g["templates"]["main"]


def edge(kind: str, s: str, sp: str | None, t: str, tp: str | None) -> dict:
    src = {"node": s} if sp is None else {"node": s, "port": sp}
    dst = {"node": t} if tp is None else {"node": t, "port": tp}
    return {"kind": kind, "source": src, "target": dst}


def steps_graph() -> dict:
    """A valid steps workflow: 'first' (stage 0) feeds 'second' (stage 1)."""
    return {
        "version": 1, "name": "steps-wf", "entrypoint": "main",
        "templates": {
            "echo": {"kind": "shell", "script": "echo {{inputs.parameters.x}}",
                     "inputs": {"parameters": {"x": {"type": "str"}}},
                     "outputs": {"parameters": {"y": {"type": "str", "value_from_path": "/tmp/y"}}}},
            "main": {"kind": "steps", "nodes": [
                {"name": "first", "template": "echo", "stage": 0, "parameters": {"x": "a"}},
                {"name": "second", "template": "echo", "stage": 1},
            ], "edges": [edge("parameter", "first", "y", "second", "x")]},
        },
    }


def test_valid_graphs_have_no_issues(example_graph):
    assert validate(example_graph) == []
    assert validate(steps_graph()) == []


def test_schema(example_graph):
    main(example_graph)["nodes"][0]["parallelism"] = "three"
    (issue,) = issues_of(example_graph, "schema")
    assert issue.template == "main" and issue.node == "prepare"
    assert issue.path == ("templates", "main", "nodes", 0, "parallelism")


def test_schema_of_a_non_object():
    assert [i.code for i in validate(["not", "a", "graph"])] == ["schema"]
    COVERED.add("schema")


def test_unsupported_version(example_graph):
    example_graph["version"] = 2
    (issue,) = issues_of(example_graph, "unsupported-version")
    assert "2" in issue.message and issue.path == ("version",)


@pytest.mark.parametrize("where", ["workflow", "template", "node", "port"])
def test_invalid_name(example_graph, where):
    if where == "workflow":
        example_graph["name"] = "Not_A_Subdomain"
    elif where == "template":
        example_graph["templates"]["bad name!"] = example_graph["templates"].pop("score")
    elif where == "node":
        main(example_graph)["nodes"][1]["name"] = "sc ore"
    else:
        example_graph["templates"]["score"]["inputs"]["parameters"]["cut off"] = {"type": "float"}
    issues = issues_of(example_graph, "invalid-name")
    assert all("name" in i.message for i in issues)


def test_a_pydflow_graph_is_recognised():
    (issue,) = validate(load_fixture("pydflow_dag.json"))
    assert issue.code == "unsupported-version" and "from_pydflow" in issue.message


def test_duplicate_node(example_graph):
    main(example_graph)["nodes"][1]["name"] = "prepare"
    (issue,) = issues_of(example_graph, "duplicate-node")
    assert issue.node == "prepare" and issue.path == ("templates", "main", "nodes", 1, "name")


def test_unknown_template(example_graph):
    main(example_graph)["nodes"][1]["template"] = "scorer"
    (issue,) = issues_of(example_graph, "unknown-template")
    assert issue.node == "score" and "'scorer'" in issue.message
    example_graph["entrypoint"] = "nowhere"
    assert any(i.path == ("entrypoint",) for i in issues_of(example_graph, "unknown-template"))


def test_bad_entrypoint(example_graph):
    example_graph["entrypoint"] = "score"
    (issue,) = issues_of(example_graph, "bad-entrypoint")
    assert issue.template == "score" and "shell" in issue.message


def test_dangling_reference(example_graph):
    main(example_graph)["edges"].append(edge("control", "ghost", None, "score", None))
    main(example_graph)["nodes"][1]["when"] = "{{tasks.phantom.outputs.parameters.count}} > 1"
    issues = issues_of(example_graph, "dangling-reference")
    assert {i.node for i in issues} == {"ghost", "score"}
    assert any("phantom" in i.message for i in issues)


def test_unknown_port(example_graph):
    main(example_graph)["nodes"][1]["parameters"]["threshold"] = 1
    main(example_graph)["edges"][1]["source"]["port"] = "structure"
    issues = issues_of(example_graph, "unknown-port")
    assert {(i.node, i.port) for i in issues} == {("score", "threshold"), ("prepare", "structure")}


def test_kind_mismatch(example_graph):
    main(example_graph)["edges"][1]["source"]["port"] = "count"  # an output parameter into an artifact edge
    main(example_graph)["nodes"][1].setdefault("artifacts", {})["cutoff"] = {"kind": "s3", "key": "k"}
    issues = issues_of(example_graph, "kind-mismatch")
    assert {(i.node, i.port) for i in issues} == {("prepare", "count"), ("score", "cutoff")}


def test_type_mismatch(example_graph):
    main(example_graph)["nodes"][1]["parameters"]["cutoff"] = "high"
    main(example_graph)["nodes"][0]["parameters"].pop("seed")
    main(example_graph)["edges"].append(edge("parameter", "score", "score", "prepare", "seed"))
    issues = issues_of(example_graph, "type-mismatch")
    assert {(i.node, i.port) for i in issues} == {("score", "cutoff"), ("prepare", "seed")}
    assert any("float" in i.message and "int" in i.message for i in issues)


def test_type_of_fan_out_and_sliced_ports():
    g = steps_graph()
    g["templates"]["echo"]["inputs"]["parameters"]["x"]["type"] = "int"
    g["templates"]["echo"]["outputs"]["parameters"]["y"]["type"] = "int"
    first = g["templates"]["main"]["nodes"][0]
    first.update(parameters={"x": [1, 2]}, with_param=[0, 1], slices={"input_parameter": ["x"]})
    (issue,) = issues_of(g, "type-mismatch")  # 'first' fans out: its 'y' is a list of int
    assert (issue.node, issue.port) == ("second", "x") and "List[int]" in issue.message


def test_slices_name_declared_ports_and_usable_sizes():
    g = steps_graph()
    first = g["templates"]["main"]["nodes"][0]
    first.update(parameters={"x": ["a", "b"]}, with_param=[0, 1],
                 slices={"input_parameter": ["x", "nope"], "output_artifact": ["y"]})
    unknown = issues_of(g, "unknown-port")
    assert [(i.node, i.port) for i in unknown] == [("first", "nope"), ("first", "y")]
    assert "its output artifacts: none" in unknown[1].message  # 'y' is a parameter
    assert unknown[0].path[-2:] == ("slices", "input_parameter")
    first["slices"] = {"input_parameter": ["x"], "group_size": 0, "pool_size": -2, "sub_path": True}
    bad = issues_of(g, "invalid-field")
    assert [i.path[-1] for i in bad] == ["group_size", "pool_size", "sub_path"]
    first["slices"] = {"input_parameter": ["x"], "group_size": 2, "pool_size": -1}
    assert [i.code for i in validate(g)] == ["type-mismatch"]  # only 'second' taking the list of 'y's
    first["slices"] = {"input_parameter": ["x"], "sub_path": True}  # sub-path slices need artifacts to slice
    assert [(i.path[-1], "input_artifact" in i.message) for i in issues_of(g, "invalid-field")] == [("sub_path", True)]


def test_missing_input(example_graph):
    main(example_graph)["edges"].pop(0)  # nothing feeds prepare.smiles
    main(example_graph)["edges"].pop()  # nothing feeds the template's output 'score'
    issues = issues_of(example_graph, "missing-input")
    assert {(i.node, i.port) for i in issues} == {("prepare", "smiles"), ("@outputs", "score")}


def test_missing_workflow_argument(example_graph):
    del main(example_graph)["inputs"]["parameters"]["smiles"]["default"]
    (issue,) = issues_of(example_graph, "missing-input")
    assert (issue.template, issue.port) == ("main", "smiles") and "workflow's parameters" in issue.message


def test_duplicate_input(example_graph):
    main(example_graph)["nodes"][0]["parameters"]["smiles"] = ["C"]
    (issue,) = issues_of(example_graph, "duplicate-input")
    assert (issue.node, issue.port) == ("prepare", "smiles") and "2 times" in issue.message


def test_cycle(example_graph):
    main(example_graph)["edges"].append(edge("control", "score", None, "prepare", None))
    (issue,) = issues_of(example_graph, "cycle")
    assert issue.node == "prepare" and "prepare, score" in issue.message


def test_stage_order():
    g = steps_graph()
    g["templates"]["main"]["nodes"][1]["stage"] = 0
    (issue,) = issues_of(g, "stage-order")
    assert issue.node == "second" and "stage 0" in issue.message


@pytest.mark.parametrize("bad", ["into-inputs", "control-with-port", "control-in-steps", "no-port", "port-and-option"])
def test_invalid_edge(bad):
    g = steps_graph()
    edges = g["templates"]["main"]["edges"]
    if bad == "into-inputs":
        edges.append(edge("parameter", "first", "y", "@inputs", "x"))
    elif bad == "control-in-steps":
        edges.append(edge("control", "first", None, "second", None))
    elif bad == "no-port":
        edges.append(edge("parameter", "first", None, "second", "x"))
    elif bad == "port-and-option":
        edges[0]["target"]["option"] = "with_param"
    else:
        g["templates"]["main"]["kind"] = "dag"
        for n in g["templates"]["main"]["nodes"]:
            del n["stage"]
        edges.append(edge("control", "first", "y", "second", None))
    (issue,) = issues_of(g, "invalid-edge")
    assert issue.template == "main"


def test_invalid_field(example_graph):
    main(example_graph)["nodes"][0]["stage"] = 0
    example_graph["templates"]["prepare"]["op"] = "mylab.ops.Prepare"
    issues = issues_of(example_graph, "invalid-field")
    assert {(i.template, i.node) for i in issues} == {("main", "prepare"), ("prepare", None)}


#: the graph of issue 12: an options key that was written verbatim as a keyword argument
INJECTION = {"version": 1, "name": "base", "entrypoint": "main", "templates": {
    "main": {"kind": "dag", "nodes": [{"name": "a", "template": "echo"}]},
    "echo": {"kind": "shell", "image": "alpine:3", "script": "echo hi", "inputs": {"parameters": {"msg": {
        "default": "hi", "options": {"x=__import__('os').system('touch pwned.txt'), y": 1}}}}}}}


def test_invalid_identifier():
    (issue,) = issues_of(copy.deepcopy(INJECTION), "invalid-identifier")
    assert (issue.template, issue.node, issue.port) == ("echo", None, "msg")
    assert issue.path == ("templates", "echo", "inputs", "parameters", "msg", "options",
                          "x=__import__('os').system('touch pwned.txt'), y")
    g = steps_graph()  # every level: workflow, template, node, slices, and keywords/dunders
    g["options"] = {"class": 1}
    main(g)["options"] = {"__class__": 1}
    main(g)["nodes"][0]["options"] = {"a b": 1}
    main(g)["nodes"][0]["slices"] = {"x)": 1}
    g["templates"]["echo"]["outputs"]["parameters"]["y"]["options"] = {"1x": 1}
    where = {(i.template, i.node, i.port) for i in issues_of(g, "invalid-identifier")}
    assert where == {(None, None, None), ("main", None, None), ("main", "first", None), ("echo", None, "y")}
    assert len(validate(g)) == 5


def test_unknown_option():
    g = steps_graph()
    g["options"] = {"host": "https://evil.example", "token": "t"}  # connection settings are not document content
    g["templates"]["echo"]["options"] = {"timeout": 5, "convert_to_argo": 1, "name": "x"}
    g["templates"]["echo"]["inputs"]["parameters"]["x"]["options"] = {"enum": ["a"], "value": "twice"}
    main(g)["nodes"][0]["options"] = {"executor": "x", "util_image": "alpine"}
    issues = issues_of(g, "unknown-option")
    assert [(i.template, i.node, i.port, i.path[-1]) for i in issues] == [
        (None, None, None, "host"), (None, None, None, "token"), ("echo", None, None, "convert_to_argo"),
        ("echo", None, None, "name"), ("echo", None, "x", "value"), ("main", "first", None, "executor")]
    assert "timeout" in issues[2].message  # the message lists the options that are allowed


def test_invalid_key():
    """The model refuses such a key (WorkflowValueError): validate says so first, so generated code never raises."""
    from dflow_lab import gen_code

    g = steps_graph()
    main(g)["nodes"][0]["key"] = "Bad Key"
    main(g)["nodes"][1]["key"] = "ok-{{item}}"
    (issue,) = issues_of(g, "invalid-key")
    assert (issue.template, issue.node, issue.path) == ("main", "first", ("templates", "main", "nodes", 0, "key"))
    with pytest.raises(GraphValidationError):
        gen_code(g)
    main(g)["nodes"][0]["key"] = "first-{{inputs.parameters.x}}"
    assert validate(g) == []


def test_too_deep():
    g = steps_graph()
    inner = g["layout"] = {"templates": {}}
    for _ in range(200):
        inner["x"] = {}
        inner = inner["x"]
    (issue,) = issues_of(g, "too-deep")
    assert "document_max_depth" in issue.message


def test_op_paths_are_identifiers():
    g = steps_graph()
    g["templates"]["py"] = {"kind": "python", "op": "os:__builtins__"}
    (issue,) = issues_of(g, "invalid-field")
    assert issue.template == "py" and issue.path == ("templates", "py", "op")
    g["templates"]["py"]["op"] = "__main__:MyOP"  # an OP defined in a notebook
    assert validate(g) == []


def test_unsafe_value():
    g = load_fixture("pydflow_steps.json")
    g["templates"]["main"]["steps"][0][0]["parameters"]["msg"] = {"py/object": "os.system", "x": "rm -rf /"}
    with pytest.raises(GraphValidationError) as err:
        from_pydflow(g)
    COVERED.add("unsafe-value")
    (issue,) = err.value.issues
    assert issue.code == "unsafe-value" and issue.node == "step0" and "os.system" in issue.message


def test_every_problem_at_once(example_graph):
    example_graph["version"] = 3
    main(example_graph)["nodes"][1]["template"] = "scorer"
    main(example_graph)["edges"].append(edge("control", "score", None, "prepare", None))
    main(example_graph)["nodes"][0]["parameters"]["seed"] = "x"
    codes = {i.code for i in validate(example_graph)}
    assert {"unsupported-version", "unknown-template", "cycle", "type-mismatch"} <= codes


def test_issue_shape_for_the_canvas(example_graph):
    main(example_graph)["nodes"][0]["parameters"]["seed"] = "x"
    (issue,) = validate(example_graph)
    assert issue.to_dict() == {
        "code": "type-mismatch", "severity": "warning", "message": issue.message, "template": "main", "node": "prepare",
        "port": "seed", "path": ["templates", "main", "nodes", 0, "parameters", "seed"],
    }


def test_every_code_has_a_case():
    """Runs after the cases above (module order): each code of CODES was produced by one of them."""
    if not COVERED:
        pytest.skip("needs the whole module")
    assert COVERED == set(CODES)


def test_validate_does_not_modify_the_graph(example_graph):
    before = copy.deepcopy(example_graph)
    validate(example_graph)
    assert example_graph == before


def test_warnings_do_not_stop_loading(example_graph):
    """A type mismatch is a warning: the model accepts the value (Argo passes text), so the graph loads."""
    from dflow_lab.workflow import Workflow

    for t in ("prepare", "score"):
        spec = example_graph["templates"][t]
        example_graph["templates"][t] = {"kind": "shell", "image": "alpine:3", "script": "true",
                                         "inputs": spec["inputs"], "outputs": spec["outputs"]}
    main(example_graph)["nodes"][1]["parameters"]["cutoff"] = "high"
    (issue,) = validate(example_graph)
    assert issue.severity == "warning"
    assert Workflow.from_graph(example_graph).to_graph() == example_graph
    main(example_graph)["nodes"][1]["template"] = "nope"
    with pytest.raises(GraphValidationError) as err:
        Workflow.from_graph(example_graph)
    assert [i.code for i in err.value.issues] == ["unknown-template"]


def test_validate_never_crashes_on_mangled_graphs(example_graph):
    """The canvas sends whatever the user drew: any mangled document gets issues, never an exception."""
    import random

    rng = random.Random(5)
    junk = [None, 0, -1, 1.5, "", "x", "@inputs", [], [1], {}, {"node": 1}, True, {"kind": "s3"}]

    all_paths = [p for p in json_paths(example_graph) if p]
    for _ in range(300):
        g = copy.deepcopy(example_graph)
        for path in rng.sample(all_paths, 3):
            target = g
            try:
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = rng.choice(junk)
            except (KeyError, IndexError, TypeError):
                continue
        issues = validate(g)
        assert all(isinstance(i, Issue) and i.code in CODES for i in issues)


def test_a_trailing_newline_is_not_a_name_or_identifier():
    """``$`` matches before a final newline: the graph's name, port, key and identifier rules refuse it."""
    from dflow_lab.code_gen import UnsafeCodeError, emit
    from dflow_lab.graph.validate import NAME_RE, OP_RE, PORT_RE
    from dflow_lab.step import KEY_RE

    for pattern, text in ((NAME_RE, "step\n"), (PORT_RE, "port\n"), (OP_RE, "mod:Op\n"), (KEY_RE, "key\n")):
        assert not pattern.match(text), (pattern.pattern, text)
    with pytest.raises(UnsafeCodeError):
        emit("x\n", "identifier")
