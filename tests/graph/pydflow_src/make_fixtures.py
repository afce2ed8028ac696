"""Write pydflow's ``to_graph_json`` output for a few workflows into ``tests/graph/fixtures/pydflow_*.json``.

Run with the reference: ``/opt/pydflow-venv/bin/python tests/graph/pydflow_src/make_fixtures.py``.
pydflow uploads its own package when a step is created, so it needs an S3 server: start one
(``moto_server -H 127.0.0.1 -p 9317``), create the bucket ``my-bucket`` and set
``DFLOW_S3_ENDPOINT=127.0.0.1:9317``. The fixtures then hold pydflow's S3 credentials (moto's dummy
ones), which the import must drop.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/graph: fixture_ops, on pydflow here

from dflow import (  # noqa: E402
    DAG,
    InputArtifact,
    InputParameter,
    OutputArtifact,
    OutputParameter,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
    argo_range,
    argo_sequence,
    upload_artifact,
)
from dflow.python import PythonOPTemplate, Slices  # noqa: E402
from fixture_ops import Duplicate, Split, Square  # noqa: E402

OUT = HERE.parent / "fixtures"


def steps_workflow():
    dup = PythonOPTemplate(Duplicate, image="python:3.11")
    s0 = Step("step0", dup, parameters={"msg": "Hello", "num": 3}, key="step0")
    s1 = Step("step1", dup, parameters={"msg": s0.outputs.parameters["msg"]},
              artifacts={"foo": s0.outputs.artifacts["bar"]})
    note = HERE / "note.txt"
    note.write_text("a note\n")
    s2 = Step("step2", dup, parameters={"msg": "side", "num": 1}, continue_on_failed=True,
              artifacts={"foo": upload_artifact(note)})
    note.unlink()
    wf = Workflow("pydflow-steps", steps=Steps("main"))
    wf.add(s0)
    wf.add([s1, s2])
    return wf


def dag_workflow():
    shell = ShellOPTemplate(
        name="count-chars", image="alpine:3",
        script="wc -c < /tmp/in.txt > /tmp/count\n")
    shell.inputs.artifacts = {"src": InputArtifact(path="/tmp/in.txt")}
    shell.inputs.parameters = {"label": InputParameter(value="x")}
    shell.outputs.parameters = {"count": OutputParameter(value_from_path="/tmp/count", type=int)}
    dup = PythonOPTemplate(Duplicate, image="python:3.11")
    split = PythonOPTemplate(Split, image="python:3.11")
    square = PythonOPTemplate(Square, image="python:3.11")
    dag = DAG("diamond")
    dag.inputs.parameters = {"greeting": InputParameter(value="hi", type=str)}
    a = Task("a", dup, parameters={"msg": dag.inputs.parameters["greeting"]})
    b = Task("b", shell, artifacts={"src": a.outputs.artifacts["bar"]})
    c = Task("c", split, parameters={"n": 4}, dependencies=[a])
    d = Task("d", square, parameters={"x": "{{item}}"}, with_param=c.outputs.parameters["items"],
             continue_on_num_success=2)
    e = Task("e", square, parameters={"x": 5}, dependencies=[b, d], when="%s > 0" % b.outputs.parameters["count"])
    dag.add([a, b, c, d, e])
    dag.outputs.parameters = {"count": OutputParameter(value_from_parameter=b.outputs.parameters["count"])}
    dag.outputs.artifacts = {"text": OutputArtifact(_from=a.outputs.artifacts["bar"])}
    return Workflow("pydflow-dag", dag=dag, parallelism=3, labels={"team": "graph"})


def nested_workflow():
    square = PythonOPTemplate(Square, image="python:3.11")
    inner = Steps("inner")
    inner.inputs.parameters = {"x": InputParameter(type=int)}
    inner.outputs.parameters = {"y": OutputParameter()}
    sq = Step("sq", square, parameters={"x": inner.inputs.parameters["x"]})
    inner.add(sq)
    inner.outputs.parameters["y"].value_from_parameter = sq.outputs.parameters["y"]
    seq = Step("seq", square, parameters={"x": "{{item}}"}, with_sequence=argo_sequence(3, format="%d"))
    rng = Step("rng", square, parameters={"x": "{{item}}"}, with_param=argo_range(2))
    call = Step("call", inner, parameters={"x": 7})
    sliced_square = PythonOPTemplate(
        Square, image="python:3.11",
        slices=Slices("{{item}}", input_parameter=["x"], output_parameter=["y"]))
    sliced = Step("sliced", sliced_square, parameters={"x": [1, 2, 3]}, with_param=argo_range(3))
    wf = Workflow("pydflow-nested", steps=Steps("outer"))
    wf.add([seq, rng])
    wf.add([call, sliced])
    return wf


def main():
    for wf in (steps_workflow(), dag_workflow(), nested_workflow()):
        path = OUT / ("%s.json" % wf.name.replace("-", "_"))
        path.write_text(json.dumps(json.loads(wf.to_graph_json()), indent=1, sort_keys=True) + "\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
