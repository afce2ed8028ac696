"""The compiled form of PythonOPTemplate is what docs/internals.md says it is."""

from __future__ import annotations

import json

import pyop_samples as s
import pytest

from dflow_lab.errors import WorkflowValueError
from dflow_lab.python import PythonOPTemplate, Slices
from dflow_lab.python.runtime import MARKER, parse_source


def _env(d):
    return {e["name"]: e.get("value") for e in d["script"].get("env", [])}


def test_script_template_shape():
    t = PythonOPTemplate(s.Add, image="python:3.11")
    d = t.convert_to_argo()
    assert d["name"].startswith("add-")
    assert d["script"]["command"] == ["python3"]
    assert d["script"]["image"] == "python:3.11"
    src = d["script"]["source"]
    assert src.splitlines()[0] == MARKER
    assert "from dflow_lab.python.runtime import main" in src
    assert t.script == src
    params = {p["name"]: p for p in d["inputs"]["parameters"]}
    assert params["a"] == {"name": "a", "description": json.dumps({"type": "int"})}
    assert params["b"]["value"] == "2"
    assert json.loads(params["b"]["description"]) == {"type": "int", "description": "the second term"}
    outs = {p["name"]: p for p in d["outputs"]["parameters"]}
    assert outs["s"]["valueFrom"] == {"path": "/tmp/outputs/parameters/s"}
    assert d["outputs"]["artifacts"] == [{"name": "report", "path": "/tmp/outputs/artifacts/report"}]
    env = _env(d)
    assert env["DFLOW_LAB_PARAM_0"] == "{{inputs.parameters.a}}"
    assert env["DFLOW_LAB_PARAM_1"] == "{{inputs.parameters.b}}"
    assert env["DFLOW_LAB_WORKFLOW_NAME"] == "{{workflow.name}}"
    assert parse_source(src)["parameters"] == {"a": "DFLOW_LAB_PARAM_0", "b": "DFLOW_LAB_PARAM_1"}


def test_parameter_values_never_enter_the_source():
    t = PythonOPTemplate(s.Typed)
    src = t.convert_to_argo()["script"]["source"]
    assert "{{" not in src and "}}" not in src
    assert "inputs.parameters" not in src


def test_embedded_braces_and_quotes_stay_inert():
    spec_src = PythonOPTemplate(s.Flaky).script
    assert "'''" not in spec_src.split("sys.exit(main(r'''", 1)[1].rsplit("'''))", 1)[0]


def test_input_and_output_artifacts_and_big_parameters():
    d = PythonOPTemplate(s.Files).convert_to_argo()
    arts = {a["name"]: a for a in d["inputs"]["artifacts"]}
    assert arts["inputs"] == {"name": "inputs", "path": "/tmp/inputs/artifacts/inputs"}
    assert arts["named"]["optional"] is True
    assert "config" not in _env(d).values()  # a BigParameter travels as a file, not an env var
    spec = parse_source(d["script"]["source"])
    assert "config" not in spec["parameters"]
    assert spec["sign"]["inputs"]["config"] == "big_parameter:dict"
    # the core model carries big parameters as artifacts at the parameter paths the runtime uses
    assert arts["dflow_bigpar_config"]["path"] == "/tmp/inputs/parameters/config"
    outs = {a["name"]: a for a in d["outputs"]["artifacts"]}
    assert outs["dflow_bigpar_config"]["path"] == "/tmp/outputs/parameters/config"


@pytest.mark.parametrize("kwargs, strategy", [
    ({"retry_on_transient_error": 3}, {"limit": "3", "expression": "asInt(lastRetry.exitCode) == 1"}),
    ({"retry_on_transient_error": 2, "timeout_as_transient_error": True},
     {"limit": "2", "expression": "asInt(lastRetry.exitCode) != 2"}),
    ({"retry_on_failure": 1}, {"limit": "1", "retryPolicy": "OnFailure"}),
    ({"retry_on_error": 1}, {"limit": "1", "retryPolicy": "OnError"}),
    ({"retry_on_failure_and_error": 4}, {"limit": "4", "retryPolicy": "Always"}),
])
def test_retry_policies(kwargs, strategy):
    d = PythonOPTemplate(s.Flaky, **kwargs).convert_to_argo()
    got = dict(d["retryStrategy"])
    got["limit"] = str(got["limit"])
    assert got == strategy


def test_pod_fields():
    t = PythonOPTemplate(s.Add, timeout=30, requests={"cpu": "1"}, limits={"memory": "1Gi"},
                         envs={"OMP_NUM_THREADS": "2"}, image_pull_policy="IfNotPresent",
                         node_selector={"gpu": "yes"}, labels={"team": "a"}, annotations={"note": "x"})
    d = t.convert_to_argo()
    assert d["timeout"] == "30s"
    assert d["script"]["resources"] == {"requests": {"cpu": "1"}, "limits": {"memory": "1Gi"}}
    assert d["script"]["imagePullPolicy"] == "IfNotPresent"
    assert _env(d)["OMP_NUM_THREADS"] == "2"
    assert d["nodeSelector"] == {"gpu": "yes"}
    assert d["metadata"] == {"annotations": {"note": "x"}, "labels": {"team": "a"}}
    with pytest.raises(WorkflowValueError, match="reserved by dflow-lab"):
        PythonOPTemplate(s.Add, envs={"DFLOW_LAB_PARAM_0": "x"}).convert_to_argo()


def test_output_overrides():
    t = PythonOPTemplate(s.Add, output_artifact_archive={"report": None}, output_artifact_global_name={"report": "rep"},
                         output_parameter_global_name={"s": "total"}, output_parameter_default={"s": 0})
    d = t.convert_to_argo()
    assert d["outputs"]["artifacts"][0]["archive"] == {"none": {}}
    assert d["outputs"]["artifacts"][0]["globalName"] == "rep"
    s_out = next(p for p in d["outputs"]["parameters"] if p["name"] == "s")
    assert s_out["globalName"] == "total" and s_out["valueFrom"]["default"] == "0"
    with pytest.raises(WorkflowValueError, match="'nope' is not an output artifact of OP 'Add'"):
        PythonOPTemplate(s.Add, output_artifact_archive={"nope": None})


def test_bad_op_class_is_rejected():
    with pytest.raises(TypeError, match="PythonOPTemplate needs an OP class"):
        PythonOPTemplate(print)


def test_slices_declare_item_variables():
    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_parameter=["s"]))
    d = t.convert_to_argo()
    params = {p["name"]: p for p in d["inputs"]["parameters"]}
    assert params["dflow_var_0"]["value"] == "{{item}}"
    spec = parse_source(d["script"]["source"])
    env = spec["parameters"]["dflow_var_0"]
    assert spec["slices"] == {"inputs": {"a": {"env": env}}, "outputs": {"s": {"env": env}}}
    t.set_slices(None)
    assert "dflow_var_0" not in t.inputs.parameters
    assert "slices" not in parse_source(t.script)
    with pytest.raises(WorkflowValueError, match="Slices\\(group_size=...\\) needs an item tag"):
        PythonOPTemplate(s.Add, slices=Slices("3", input_parameter=["a"], group_size=2))
    with pytest.raises(WorkflowValueError, match="OP has no input parameter 'zz'"):
        PythonOPTemplate(s.Add, slices=Slices(input_parameter=["zz"]))


def test_sliced_step_runs_its_slice(tmp_path):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_parameter=["s"]))
    run = run_template(t, tmp_path, params={"a": [10, 20, 30], "dflow_var_0": 2})
    assert run.rc == 0
    assert json.loads(run.out_param("s")) == [{"dflow_list_item": 32, "order": 2}]


def test_function_op_template_keeps_decorator_kwargs_out_of_the_spec():
    t = PythonOPTemplate(s.min_max)
    spec = parse_source(t.script)
    assert spec["op"]["module"] == "pyop_samples" and spec["op"]["qualname"] == "min_max"
    assert "image" not in json.dumps(spec)


def test_installed_modules_record_no_host_path():
    from dflow_lab.python.python_op_template import _import_root

    assert _import_root("json") is None  # the standard library
    assert _import_root("jsonpickle") is None  # site-packages
    assert _import_root("dflow_lab.python.op") is None


def test_workflow_manifest_is_valid_argo():
    from dflow_lab import Step, Workflow

    wf = Workflow(name="py-ops")
    add = Step("add", PythonOPTemplate(s.Add, retry_on_transient_error=2, timeout=60), parameters={"a": 1})
    mul = Step("mul", PythonOPTemplate(s.multiply), parameters={"x": add.outputs.parameters["s"]})
    wf.add(add)
    wf.add(mul)
    manifest = wf.to_dict()  # validated against Argo's schema by tests/conftest.py
    templates = {t["name"]: t for t in manifest["spec"]["templates"]}
    scripts = [t for t in templates.values() if "script" in t]
    assert len(scripts) == 2
    assert all(t["script"]["source"].startswith(MARKER) for t in scripts)


def test_stacked_outputs_of_sliced_steps_are_merged_in_order(tmp_path):
    from pyop_harness import run_template

    # what an engine hands the next step: the per-step outputs, aggregated as a JSON list
    stacked = json.dumps([json.dumps([{"dflow_list_item": 9, "order": 1}]), [{"dflow_list_item": 4, "order": 0}]])
    run = run_template(PythonOPTemplate(s.square_each), tmp_path, params={"values": stacked})
    assert run.rc == 0
    assert run.out_param("dflow_output_0") == "[16, 81]"


def test_sliced_input_artifact_gives_each_step_its_file(tmp_path):
    from pyop_harness import run_template

    data = tmp_path / "data"
    data.mkdir()
    for i, text in enumerate(["zero", "one", "two"]):
        (data / f"f{i}.txt").write_text(text)
    (data / ".dflow").mkdir()
    (data / ".dflow/c").write_text(json.dumps({"path_list": [
        {"dflow_list_item": f"f{i}.txt", "order": i} for i in range(3)]}))
    t = PythonOPTemplate(s.listing, slices=Slices(input_artifact=["files"]))
    run = run_template(t, tmp_path, artifacts={"files": data}, params={"dflow_var_0": 1})
    assert run.rc == 0
    assert json.loads(run.out_param("paths")) == ["files/f1.txt"]


def test_op_state_with_a_secret_is_refused():
    from dflow_lab.op_template import Secret

    op = s.Scaled(factor=2)
    op.token = Secret("hunter2")
    with pytest.raises(WorkflowValueError, match="attribute 'token' is a Secret") as e:
        PythonOPTemplate(op)
    assert "hunter2" not in str(e.value)


def _items(d):
    return sorted((i["order"], i["dflow_list_item"]) for f in (d / ".dflow").iterdir()
                  for i in json.loads(f.read_text())["path_list"])


@pytest.mark.parametrize("pool_size", [1, 2])
def test_a_step_runs_a_group_of_slices(tmp_path, pool_size):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.reciprocal, slices=Slices(input_parameter=["x"], output_parameter=["r"],
                                                      output_artifact=["note"], pool_size=pool_size,
                                                      create_dir=True))
    run = run_template(t, tmp_path, params={"x": [1, 2, 4, 8], "dflow_var_0": [0, 2]})
    assert run.rc == 0
    assert json.loads(run.out_param("r")) == [{"dflow_list_item": 1.0, "order": 0},
                                              {"dflow_list_item": 0.25, "order": 2}]
    note = run.out_art("note")
    assert _items(note) == [(0, "0/note.txt"), (2, "2/note.txt")]
    assert (note / "2/note.txt").read_text() == "1/4"


def test_a_failing_slice_fails_the_step_after_the_others_ran(tmp_path, capfd):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.reciprocal, slices=Slices(input_parameter=["x"], output_parameter=["r"],
                                                      output_artifact=["note"], pool_size=1, create_dir=True))
    run = run_template(t, tmp_path, params={"x": [1, 0, 4], "dflow_var_0": [0, 1, 2]})
    assert run.rc == 2
    assert "ZeroDivisionError" in capfd.readouterr().err
    assert json.loads(run.out_param("r")) == [{"dflow_list_item": 1.0, "order": 0},
                                              {"dflow_list_item": None, "order": 1},
                                              {"dflow_list_item": 0.25, "order": 2}]
    assert _items(run.out_art("note")) == [(0, "0/note.txt"), (1, None), (2, "2/note.txt")]


def test_sliced_inputs_must_agree_in_a_group(tmp_path, capfd):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], pool_size=1))
    t.input_parameter_slices["b"] = 0  # a constant slice for the other input: they disagree
    t.inputs.parameters["b"].type = list
    run = run_template(t, tmp_path, params={"a": [1, 2], "b": [5], "dflow_var_0": [0, 1]})
    assert run.rc == 2
    assert "sliced inputs disagree on the slices of this step" in capfd.readouterr().err


def test_defaults_that_do_not_match_their_type_are_rejected():
    from dflow_lab.errors import WorkflowTypeError
    from dflow_lab.python import OP, OPIOSign, Parameter

    class BadDefault(OP):
        @classmethod
        def get_input_sign(cls):
            return OPIOSign({"n": Parameter(int, default="three")})

        @classmethod
        def get_output_sign(cls):
            return OPIOSign({})

        def execute(self, op_in):
            return {}

    with pytest.raises(WorkflowTypeError, match=r"field 'inputs.parameters.n': the default of inputs.parameters.n "
                                                r"does not match its type: default: expected int, got str 'three'"):
        PythonOPTemplate(BadDefault)
    with pytest.raises(WorkflowTypeError, match="the default of outputs.parameters.s does not match"):
        PythonOPTemplate(s.Add, output_parameter_default={"s": "zero"})


def test_compiling_leaves_the_template_unchanged():
    t = PythonOPTemplate(s.Flaky, retry_on_transient_error=2)
    before = dict(vars(t))
    t.convert_to_argo()
    t.convert_to_argo()
    assert t.retry_strategy is None  # derived from retry_on_transient_error when compiled, not stored
    assert {k: v for k, v in vars(t).items() if k != "script"} == {k: v for k, v in before.items() if k != "script"}


def test_a_slice_out_of_range_is_a_clear_error(tmp_path, capfd):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_parameter=["s"]))
    run = run_template(t, tmp_path, params={"a": [10, 20], "dflow_var_0": 5})
    assert run.rc == 2
    assert "OP 'Add' input 'a': no slice 5 in a list of 2 items" in capfd.readouterr().err


def test_create_dir_puts_a_slice_files_below_its_directory(tmp_path):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_artifact=["report"], create_dir=True))
    run = run_template(t, tmp_path, params={"a": [10, 20], "dflow_var_0": 1})
    assert run.rc == 0
    assert _items(run.out_art("report")) == [(1, "1/report.txt")]
    assert (run.out_art("report") / "1/report.txt").read_text() == "20+2=22\n"


def test_slices_repr_and_code():
    sl = Slices(input_parameter=["a"], output_artifact=["o"], pool_size=2)
    assert repr(sl) == "Slices(input_parameter=['a'], output_artifact=['o'], pool_size=2)"
    imports: set = set()
    code = sl.evalable_repr(imports)
    assert imports == {("dflow_lab.python", "Slices")}
    rebuilt = eval(code, {"Slices": Slices})  # the generated code, as code_gen would write it
    assert vars(rebuilt) == vars(sl)
    assert repr(Slices("{{item.x}}", input_parameter=["a"])) == "Slices(slices='{{item.x}}', input_parameter=['a'])"


def _python_templates(manifest):
    return [t for t in manifest["spec"]["templates"] if "script" in t]


def test_manifests_parse_back_to_python_op_templates():
    from dflow_lab import Step, Workflow

    wf = Workflow("round-trip")
    a = Step("a", PythonOPTemplate(s.Add, retry_on_transient_error=2, timeout=30, envs={"X": "1"},
                                   output_parameter_global_name={"s": "total"}), parameters={"a": 1}, key="k")
    wf.add(a)
    wf.add(Step("b", PythonOPTemplate(s.reciprocal, retry_on_failure=1, slices=Slices(
        input_parameter=["x"], output_parameter=["r"], pool_size=2, create_dir=True)),
        parameters={"x": [1, 2]}, with_param=[[0, 1]]))
    wf.add(Step("c", PythonOPTemplate(s.Files, upload_dflow=False), parameters={"config": {}},
                artifacts={"inputs": a.outputs.artifacts["report"]}))
    manifest = wf.to_dict()
    assert json.dumps(Workflow.from_dict(manifest).to_dict(), sort_keys=True) == json.dumps(manifest, sort_keys=True)
    parsed = [PythonOPTemplate.from_dict(t) for t in _python_templates(manifest)]
    assert all(isinstance(t, PythonOPTemplate) for t in parsed)
    add = next(t for t in parsed if t.op_class is s.Add)
    assert (add.retry_on_transient_error, add.envs, add.timeout) == (2, {"X": "1"}, "30s")
    rec = next(t for t in parsed if t.op_class is s.reciprocal)
    assert rec.retry_on_failure == 1 and rec.slices.pool_size == 2 and rec.create_slice_dir
    assert rec.input_parameter_slices == {"x": "{{item}}"}


def test_parsing_never_runs_embedded_code(tmp_path):
    from dflow_lab.op_template import PythonScriptOPTemplate

    spec = parse_source(PythonOPTemplate(s.Add).script)
    spec["op"] = {"name": "Evil", "source": f"open({str(tmp_path / 'ran')!r}, 'w').close()\nEvil = None\n"}
    from dflow_lab.python.runtime import render_source

    d = PythonOPTemplate(s.Add).convert_to_argo()
    d["script"]["source"] = render_source(spec)
    t = PythonOPTemplate.from_dict(d)
    assert type(t) is PythonScriptOPTemplate and t.script == d["script"]["source"]
    assert not (tmp_path / "ran").exists()
    assert json.dumps(t.convert_to_argo(), sort_keys=True) == json.dumps(d, sort_keys=True)


def test_groups_of_slices(tmp_path):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_parameter=["s"], group_size=2,
                                              pool_size=1))
    wp, extra = t.group_with_param([0, 1, 2])
    assert wp == [0, 1] and extra == {"dflow_group_items": [0, 1, 2]}
    run = run_template(t, tmp_path, params={"a": [10, 20, 30], "dflow_var_0": 1, **extra})
    assert run.rc == 0
    assert json.loads(run.out_param("s")) == [{"dflow_list_item": 32, "order": 2}]
    spec = parse_source(t.script)
    assert spec["slices"]["group"]["size"] == 2 and spec["slices"]["inputs"] == {"a": {"group": True}}


def test_groups_take_the_field_the_slices_tag_names(tmp_path):
    from pyop_harness import run_template

    t = PythonOPTemplate(s.Add, slices=Slices("{{item.order}}", input_parameter=["a"], output_parameter=["s"],
                                              group_size=2, pool_size=1))
    items = [{"order": 2}, {"order": 0}, {"order": 1}]
    run = run_template(t, tmp_path, params={"a": [10, 20, 30], "dflow_var_0": 0, "dflow_group_items": items})
    assert run.rc == 0
    assert json.loads(run.out_param("s")) == [{"dflow_list_item": 32, "order": 2}, {"dflow_list_item": 12, "order": 0}]


def test_group_with_param_of_an_argo_value():
    from dflow_lab import argo_range

    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], group_size=3, pool_size=1))
    wp, extra = t.group_with_param(argo_range(7))
    assert "sprig.untilStep(0, int((len(sprig.fromJson(toJson(sprig.untilStep(0, 7, 1)))) + 3 - 1) / 3), 1)" in str(wp)
    assert str(extra["dflow_group_items"]) == "{{=toJson(sprig.untilStep(0, 7, 1))}}"
    with pytest.raises(WorkflowValueError, match="group_with_param needs Slices"):
        PythonOPTemplate(s.Add).group_with_param([1])


def test_pool_processes_end_whatever_sigterm_handler_the_host_has(tmp_path):
    """A group of slices in a pool, in a process whose SIGTERM handler does not end it (a host program's,
    the step's own): the pool's processes start with the default action, and none is left once the
    step has its results (one used to be left now and then, waiting for work with the parent's pipes)."""
    import os
    import signal

    from dflow_lab.python.slicepool import run_slices

    def probe(x):
        return {"x": x, "pid": os.getpid(), "default": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL}

    before = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        results = run_slices(probe, [1, 2, 3, 4, 5, 6], 2, str(tmp_path))
    finally:
        signal.signal(signal.SIGTERM, before)
    assert [out["x"] for out, err in results] == [1, 2, 3, 4, 5, 6] and all(err is None for _, err in results)
    assert all(out["default"] for out, _ in results)
    pids = {out["pid"] for out, _ in results}
    assert os.getpid() not in pids
    for pid in pids:  # joined, so reaped: no such process any more
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
