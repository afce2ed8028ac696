"""Python OPs through the dflow API on the local engine (warm workers, real step directories)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pyop_samples as s
import pytest

from dflow_lab import Step, Workflow
from dflow_lab.config import config
from dflow_lab.python import PythonOPTemplate


@pytest.fixture
def local(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    monkeypatch.setitem(config, "mode", "local")
    return tmp_path


def _param(wf, key, name):
    return wf.query_step(key=key)[0].outputs.parameters[name].value


def test_chain_of_class_and_function_ops(local):
    wf = Workflow("pyops-chain")
    add = Step("add", PythonOPTemplate(s.Add), parameters={"a": 3}, key="add")
    mul = Step("mul", PythonOPTemplate(s.multiply), parameters={"x": add.outputs.parameters["s"]}, key="mul")
    files = Step("files", PythonOPTemplate(s.Files), artifacts={"inputs": add.outputs.artifacts["report"]},
                 parameters={"config": {"k": 1}},
                 key="files")
    # the big parameter "config" has a default: a step may leave it out
    defaults = Step("defaults", PythonOPTemplate(s.Files), artifacts={"inputs": add.outputs.artifacts["report"]},
                    key="defaults")
    wf.add(add)
    wf.add([mul, files, defaults])
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert _param(wf, "add", "s") == 5
    assert _param(wf, "add", "label") == "sum 5"
    assert _param(wf, "mul", "product") == 10.0
    assert _param(wf, "files", "sizes") == [len("3+2=5\n")]
    assert _param(wf, "files", "config") == {"k": 1, "seen": True}  # a big parameter, read back typed
    assert _param(wf, "defaults", "config") == {"seen": True}


def test_transient_errors_are_retried(local):
    wf = Workflow("pyops-retry")
    wf.add(Step("try", PythonOPTemplate(s.Attempts, retry_on_transient_error=3),
                parameters={"counter": str(local / "count"), "succeed_on": 3}, key="try"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert (local / "count").read_text() == "3"
    assert len(wf.query_step(name="try", type="Pod")) == 3


def test_fatal_errors_are_not_retried(local):
    wf = Workflow("pyops-fatal")
    wf.add(Step("fail", PythonOPTemplate(s.Flaky, retry_on_transient_error=3), parameters={"mode": "fatal"}))
    wf.submit()
    assert wf.query_status() == "Failed"
    pods = wf.query_step(name="fail", type="Pod")
    assert len(pods) == 1
    assert str(pods[0].outputs["exitCode"]) == "2"


def test_python_packages_are_importable_in_local_steps(local):
    lib = local / "libs" / "h4_local_lib"
    lib.mkdir(parents=True)
    (lib / "__init__.py").write_text("def triple(x):\n    return 3 * x\n")
    (local / "ops").mkdir()
    (local / "ops/h4_local_ops.py").write_text(textwrap.dedent("""
        from dflow_lab.python import OP

        @OP.function
        def use_lib(x: int) -> {"y": int}:
            import h4_local_lib
            return {"y": h4_local_lib.triple(x)}
    """))
    sys.path.insert(0, str(local / "ops"))
    try:
        import h4_local_ops

        wf = Workflow("pyops-packages")
        wf.add(Step("lib", PythonOPTemplate(h4_local_ops.use_lib, python_packages=[lib]), parameters={"x": 4},
                    key="lib"))
        wf.submit()
        assert wf.query_status() == "Succeeded"
        assert _param(wf, "lib", "y") == 12
    finally:
        sys.path.remove(str(local / "ops"))
        sys.modules.pop("h4_local_ops", None)


def test_ops_defined_in_a_script_run_locally(local):
    script = local / "my_workflow.py"
    script.write_text(textwrap.dedent(f"""
        import json
        from dflow_lab import Step, Workflow
        from dflow_lab.config import config
        from dflow_lab.python import OP

        config["local_workdir"] = {str(local / "ws2")!r}
        BASE = 1000

        def offset(v):
            return v + BASE

        @OP.function
        def shifted(v: int) -> {{"w": int}}:
            return {{"w": offset(v)}}

        from dflow_lab.python import PythonOPTemplate
        wf = Workflow("pyops-script")
        wf.add(Step("shift", PythonOPTemplate(shifted), parameters={{"v": 7}}, key="shift"))
        wf.submit()
        print(json.dumps({{"phase": wf.query_status(),
                           "w": wf.query_step(key="shift")[0].outputs.parameters["w"].value}}))
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=local)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"phase": "Succeeded", "w": 1007}


def test_sliced_steps_and_their_stacked_outputs(local):
    from dflow_lab import argo_range
    from dflow_lab.python import Slices

    wf = Workflow("pyops-slices")
    add = Step("add", PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_parameter=["s"])),
               parameters={"a": [10, 20, 30]}, with_param=argo_range(3), key="add-{{item}}")
    wf.add(add)
    wf.add(Step("sq", PythonOPTemplate(s.square_each), parameters={"values": add.outputs.parameters["s"]},
                key="sq"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert _param(wf, "sq", "dflow_output_0") == [12 ** 2, 22 ** 2, 32 ** 2]  # slice order kept


def test_op_knows_its_step_key_and_workflow(local):
    wf = Workflow("pyops-who")
    wf.add(Step("who", PythonOPTemplate(s.WhoAmI), key="the-key"))
    wf.add(Step("anon", PythonOPTemplate(s.WhoAmI)))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert _param(wf, "the-key", "key") == "the-key"
    assert _param(wf, "the-key", "workflow") == wf.id
    anon = wf.query_step(name="anon")[0]
    assert anon.outputs.parameters["key"].value == "None"


def test_groups_of_slices_in_a_pool(local):
    from dflow_lab.python import Slices

    wf = Workflow("pyops-pool")
    add = Step("add", PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_parameter=["s"],
                                                            pool_size=2)),
               parameters={"a": [10, 20, 30]}, with_param=[[0, 1], [2]])
    wf.add(add)
    wf.add(Step("sq", PythonOPTemplate(s.square_each), parameters={"values": add.outputs.parameters["s"]},
                key="sq"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert len(wf.query_step(name="add", type="Pod")) == 2
    assert _param(wf, "sq", "dflow_output_0") == [12 ** 2, 22 ** 2, 32 ** 2]


def test_superfunctions_build_dags_of_function_ops(local):
    from dflow_lab import DAG

    assert isinstance(s.inc_twice, DAG)
    assert [t.template.name.startswith("inc-") for t in s.inc_twice.tasks] == [True, True]
    assert [t.template for t in s.inc_four_times.tasks] == [s.inc_twice, s.inc_twice]  # nested superfunctions
    wf = Workflow("pyops-super")
    wf.add(Step("twice", s.inc_twice, parameters={"x": 1}, key="twice"))
    wf.add(Step("four", s.inc_four_times, parameters={"x": 10}, key="four"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert _param(wf, "twice", "y") == 3
    assert _param(wf, "four", "y") == 14
    assert len(wf.query_step(type="Pod")) == 2 + 4


def test_parameter_values_reach_the_op_unchanged(local):
    """A value is data: one that looks like a container path (/tmp/...) is not mapped to the step."""
    wf = Workflow("pyops-data")
    wf.add(Step("text", PythonOPTemplate(s.Typed), key="text", parameters={
        "n": 1, "f": 1.0, "flag": False, "names": ["/tmp/a"], "table": {}, "pair": (1, "/tmp"), "maybe": None,
        "text": "/tmp/inputs/artifacts/x and /tmp/data", "path": "/tmp/data/file"}))
    wf.submit()
    assert _param(wf, "text", "text") == "/tmp/inputs/artifacts/x and /tmp/data"
    assert _param(wf, "text", "names") == ["/tmp/a"]
    assert str(_param(wf, "text", "path")) == "/tmp/data/file"


@pytest.mark.parametrize("items", ["range", "list"])
def test_grouped_slices_run_one_step_per_group(local, items):
    from dflow_lab import argo_range
    from dflow_lab.python import Slices

    t = PythonOPTemplate(s.Add, slices=Slices(input_parameter=["a"], output_parameter=["s"], group_size=2,
                                              pool_size=1))
    wf = Workflow("pyops-groups")
    # the Step groups the items itself (template.group_with_param), as dflow's Step does
    add = Step("add", t, parameters={"a": [10, 20, 30]}, with_param=argo_range(3) if items == "range" else [0, 1, 2])
    wf.add(add)
    wf.add(Step("sq", PythonOPTemplate(s.square_each), parameters={"values": add.outputs.parameters["s"]},
                key="sq"))
    wf.submit()
    assert wf.query_status() == "Succeeded"
    assert len(wf.query_step(name="add", type="Pod")) == 2  # groups [0, 1] and [2]
    assert _param(wf, "sq", "dflow_output_0") == [12 ** 2, 22 ** 2, 32 ** 2]
