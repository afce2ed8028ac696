"""Big parameters (``BigParameter``) wherever a parameter can go, written the way dflow users write them.

Template outputs of Steps and DAGs (``value_from_parameter``, ``value_from_expression``), global outputs,
a Steps input fed by a big parameter, and ``query_step`` on each level after the run.
"""

from __future__ import annotations

from typing import List

import pytest

from dflow_lab import DAG, InputParameter, OutputParameter, Step, Steps, Task, Workflow, argo_range
from dflow_lab.config import config
from dflow_lab.errors import WorkflowValueError
from dflow_lab.io import if_expression
from dflow_lab.python import OP, OPIO, BigParameter, OPIOSign, PythonOPTemplate


class Hello:
    def __init__(self, msg):
        self.msg = msg


class Duplicate(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"msg": str, "num": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"foo": BigParameter(Hello)})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"foo": Hello(op_in["msg"] * op_in["num"])})


class Shout(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"foo": BigParameter(Hello)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"foo": BigParameter(Hello)})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"foo": Hello(op_in["foo"].msg.upper())})


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    return tmp_path


def test_big_parameter_out_of_a_steps_template(workdir):
    steps = Steps(name="inner")
    steps.inputs.parameters["msg"] = InputParameter()
    step2 = Step("step2", PythonOPTemplate(Duplicate),
                 parameters={"msg": steps.inputs.parameters["msg"], "num": 2}, key="step2")
    steps.add(step2)
    steps.outputs.parameters["foo"] = OutputParameter(value_from_parameter=step2.outputs.parameters["foo"])
    wf = Workflow("bigpar-steps")
    step1 = Step("step1", steps, parameters={"msg": "ab"}, key="step1")
    wf.add(step1)
    step3 = Step("step3", PythonOPTemplate(Shout), parameters={"foo": step1.outputs.parameters["foo"]},
                 key="step3")
    wf.add(step3)
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    inner = wf.query_step(key="step2")[0].outputs.parameters["foo"].value
    outer = wf.query_step(key="step1")[0].outputs.parameters["foo"].value
    assert isinstance(outer, Hello) and outer.msg == "abab" and inner.msg == "abab"
    assert wf.query_step(key="step3")[0].outputs.parameters["foo"].value.msg == "ABAB"


def test_big_parameter_into_and_out_of_a_dag_by_expression(workdir):
    dag = DAG(name="inner-dag")
    dag.inputs.parameters["foo"] = InputParameter()
    dag.inputs.parameters["loud"] = InputParameter(value="yes")
    t1 = Task("t1", PythonOPTemplate(Shout), parameters={"foo": dag.inputs.parameters["foo"]}, key="t1")
    t2 = Task("t2", PythonOPTemplate(Duplicate), parameters={"msg": "q", "num": 3}, key="t2")
    dag.add([t1, t2])
    dag.outputs.parameters["foo"] = OutputParameter(value_from_expression=if_expression(
        _if=dag.inputs.parameters["loud"] == "yes",
        _then=t1.outputs.parameters["foo"], _else=t2.outputs.parameters["foo"]))
    wf = Workflow("bigpar-dag")
    first = Step("first", PythonOPTemplate(Duplicate), parameters={"msg": "x", "num": 2}, key="first")
    wf.add(first)
    outer = Step("outer", dag, parameters={"foo": first.outputs.parameters["foo"]}, key="outer")
    wf.add(outer)
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(key="t1")[0].outputs.parameters["foo"].value.msg == "XX"
    got = wf.query_step(key="outer")[0].outputs.parameters["foo"].value
    assert isinstance(got, Hello) and got.msg == "XX"


def test_big_parameter_as_a_global_output(workdir):
    wf = Workflow("bigpar-global")
    step = Step("make", PythonOPTemplate(Duplicate), parameters={"msg": "g", "num": 4}, key="make")
    wf.add(step)
    step.template.outputs.parameters["foo"].global_name = "gfoo"
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(key="make")[0].outputs.parameters["foo"].value.msg == "gggg"
    value = wf.query_global_outputs().parameters["gfoo"].value
    assert isinstance(value, Hello) and value.msg == "gggg"



def test_big_parameter_out_of_each_item_of_a_fan_out(workdir):
    from dflow_lab.python import Slices

    wf = Workflow("bigpar-fan")
    fan = Step("fan", PythonOPTemplate(Duplicate, slices=Slices("{{item}}", input_parameter=["msg"])),
               parameters={"msg": ["a", "b", "c"], "num": 2}, with_param=argo_range(3), key="fan-{{item}}")
    wf.add(fan)
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    assert [wf.query_step(key=f"fan-{i}")[0].outputs.parameters["foo"].value.msg for i in range(3)] == [
        "aa", "bb", "cc"]


class Join(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"foos": BigParameter(List[Hello])})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"joined": str})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"joined": ",".join(h.msg for h in op_in["foos"])})


@pytest.mark.parametrize("kind,slices", [
    ("steps", {}), ("dag", {"group_size": 2, "pool_size": 2}), ("steps", {"group_size": 2, "pool_size": 1})])
def test_big_parameters_of_a_sliced_fan_out_are_stacked_into_the_next_step(workdir, kind, slices):
    """dflow's stacking of sliced outputs, for big parameters: each item's value travels as an artifact
    under its init step's key, and the next step gets the list in slice order."""
    from dflow_lab.python import Slices

    step_cls = Step if kind == "steps" else Task
    fan = step_cls("fan", PythonOPTemplate(Duplicate, slices=Slices(input_parameter=["msg"], output_parameter=["foo"],
                                                                   **slices)),
                   parameters={"msg": ["a", "b", "c", "d", "e"], "num": 2}, with_param=argo_range(5), key="fan-{{item}}")
    join = step_cls("join", PythonOPTemplate(Join), parameters={"foos": fan.outputs.parameters["foo"]}, key="join")
    if kind == "steps":
        wf = Workflow("bigpar-stack")
        wf.add(fan)
        wf.add(join)
    else:
        dag = DAG("stack")
        dag.add(fan)
        dag.add(join)
        wf = Workflow("bigpar-stack", dag=dag)
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded"
    assert wf.query_step(key="join")[0].outputs.parameters["joined"].value == "aa,bb,cc,dd,ee"


def test_an_unsliced_fan_outs_big_output_is_refused_with_the_fix(workdir):
    fan = Step("fan", PythonOPTemplate(Duplicate), parameters={"msg": "{{item}}", "num": 2}, with_param=["a", "b"])
    with pytest.raises(WorkflowValueError, match=r"step 'join', field 'foos'.*Slices\(output_parameter=\['foo'\]\)"):
        Step("join", PythonOPTemplate(Join), parameters={"foos": fan.outputs.parameters["foo"]})
