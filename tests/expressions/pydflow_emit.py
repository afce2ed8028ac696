"""Run with the reference pydflow (``/opt/pydflow-venv/bin/python pydflow_emit.py OUT.json``): builds steps and
DAG workflows using every expression-producing dflow feature and writes their manifests as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List

from dflow import (
    DAG,
    Step,
    Task,
    Workflow,
    argo_enumerate,
    argo_len,
    argo_range,
    argo_sequence,
    if_expression,
)
from dflow.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate, Slices


class Produce(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int, "msg": str, "xs": List[int]})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"out": int, "outs": List[int], "f": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"out": 1, "outs": [1], "f": Path("a")})


class Sliced(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"x": int, "a": Artifact(Path)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"y": int, "b": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"y": 1})


def template(**kw):
    return PythonOPTemplate(Produce, image="python:3.8", upload_dflow=False, **kw)


def sliced(**kw):
    return PythonOPTemplate(Sliced, image="python:3.8", upload_dflow=False, slices=Slices(**kw))


def steps_workflow() -> dict:
    wf = Workflow(name="steps")
    t = template(retry_on_transient_error=2)
    s1 = Step("s1", t, parameters={"n": 3, "msg": "hi", "xs": [1, 2, 3]})
    out, outs = s1.outputs.parameters["out"], s1.outputs.parameters["outs"]
    wf.add(s1)
    wf.add(Step("gt", t, parameters={"n": out + 1, "msg": outs[0], "xs": outs}, when=out > 1))
    wf.add(Step("eq", t, parameters={"n": 1, "msg": "x", "xs": [1]}, when=out == 2))
    wf.add(Step("ne", t, parameters={"n": 1, "msg": "x", "xs": [1]}, when=out != 2))
    wf.add(Step("le", t, parameters={"n": out * 2, "msg": "x", "xs": [1]}, when=out <= 2))
    wf.add(Step("plain", t, parameters={"n": 1, "msg": "x", "xs": [1]}, when="%s < 5" % out))
    wf.add(Step("rng", t, parameters={"n": "{{item}}", "msg": "x", "xs": [1]},
                with_param=argo_range(argo_len(outs)), key="rng-{{item}}"))
    wf.add(Step("rng3", t, parameters={"n": "{{item}}", "msg": "x", "xs": [1]}, with_param=argo_range(1, out, 2)))
    wf.add(Step("seq", t, parameters={"n": "{{item}}", "xs": [1],
                                      "msg": if_expression(out > 1, "'big'", "'small'")},
                with_sequence=argo_sequence(argo_len(outs), format="%03d")))
    wf.add(Step("enum", t, parameters={"n": 1, "msg": "{{item}}", "xs": [1]}, with_param=argo_enumerate(outs)))
    wf.add(Step("sl1", sliced(slices="{{item}}", input_parameter=["x"], output_parameter=["y"]),
                parameters={"x": [1, 2, 3]}, artifacts={"a": s1.outputs.artifacts["f"]}, with_param=argo_range(3)))
    wf.add(Step("sl2", sliced(input_parameter=["x"], output_parameter=["y"], group_size=2, pool_size=1),
                parameters={"x": outs}, artifacts={"a": s1.outputs.artifacts["f"]}))
    return wf.to_dict()


def dag_workflow() -> dict:
    dag = DAG(name="d")
    t = template()
    a = Task("a", t, parameters={"n": 3, "msg": "hi", "xs": [1, 2, 3]})
    out, outs = a.outputs.parameters["out"], a.outputs.parameters["outs"]
    dag.add(a)
    dag.add(Task("b", t, parameters={"n": out - 1, "msg": outs[1], "xs": outs}, when="%s >= 1" % out))
    dag.add(Task("c", t, parameters={"n": "{{item}}", "msg": "x", "xs": [1]}, with_param=argo_range(argo_len(outs))))
    wf = Workflow(name="dag", dag=dag)
    return wf.to_dict()


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps({"steps": steps_workflow(), "dag": dag_workflow()}, indent=1))
