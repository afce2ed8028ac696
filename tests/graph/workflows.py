"""Workflows built with the model API, used by the round-trip and code-generation tests."""

from __future__ import annotations

from dflow_lab.common import S3Artifact
from dflow_lab.dag import DAG
from dflow_lab.io import InputArtifact, InputParameter, Inputs, OutputArtifact, OutputParameter, Outputs
from dflow_lab.op_template import ContainerOPTemplate, ScriptOPTemplate, ShellOPTemplate
from dflow_lab.python import PythonOPTemplate, Slices
from dflow_lab.step import Step, argo_range, argo_sequence
from dflow_lab.steps import Steps
from dflow_lab.task import Task
from dflow_lab.workflow import Workflow

from .fixture_ops import Duplicate, Split, Square, add


def hello_template() -> ShellOPTemplate:
    return ShellOPTemplate(
        name="hello", image="alpine:3", script="echo {{inputs.parameters.msg}} | tee /tmp/out.txt\n",
        inputs=Inputs(parameters={"msg": InputParameter(type=str, value="hi", description="what to say")}),
        outputs=Outputs(parameters={"out": OutputParameter(value_from_path="/tmp/out.txt", type=str)},
                        artifacts={"file": OutputArtifact(path="/tmp/out.txt")}),
        timeout=30, envs={"LANG": "C"},
    )


def dag_workflow() -> Workflow:
    """Python OPs and shell templates in a DAG: data edges, a fan-out, control edges, template outputs."""
    hello = hello_template()
    count = ScriptOPTemplate(
        name="count", image="python:3.11", command=["python3"],
        script="import sys\nprint(len(open('/tmp/in.txt').read()))\n",
        inputs=Inputs(artifacts={"src": InputArtifact(path="/tmp/in.txt")},
                      parameters={"n": InputParameter(type=int)}),
    )
    dup = PythonOPTemplate(Duplicate, image="python:3.11", retry_on_transient_error=2)
    dup.name = "duplicate"
    split = PythonOPTemplate(Split)
    split.name = "split"
    square = PythonOPTemplate(Square, timeout=60)
    square.name = "square"
    dag = DAG("main", inputs=Inputs(parameters={"greeting": InputParameter(value="yo", type=str)},
                                    artifacts={"data": InputArtifact(optional=True)}))
    a = Task("a", hello, parameters={"msg": dag.inputs.parameters["greeting"]}, key="a-key")
    b = Task("b", count, artifacts={"src": a.outputs.artifacts["file"]}, parameters={"n": 3},
             continue_on_failed=True)
    c = Task("c", dup, parameters={"msg": a.outputs.parameters["out"], "num": 3},
             artifacts={"foo": S3Artifact(key="upload/abc/data.tgz")})
    d = Task("d", split, parameters={"n": 4}, dependencies=[b])
    e = Task("e", square, parameters={"x": "{{item}}"}, with_param=d.outputs.parameters["items"],
             continue_on_num_success=2, parallelism=2)
    f = Task("f", hello, when="%s > 0" % d.outputs.parameters["total"], dependencies=[e, "b.Failed"])
    dag.add([a, b, c, d, e, f])
    dag.outputs.parameters["said"] = OutputParameter(value_from_parameter=c.outputs.parameters["msg"])
    dag.outputs.artifacts["text"] = OutputArtifact(_from=c.outputs.artifacts["bar"])
    return Workflow("dag-mix", dag=dag, labels={"team": "graph"}, annotations={"note": "round trip"},
                    parallelism=4, parameters={"greeting": "hello"})


def steps_workflow() -> Workflow:
    """Nested and recursive Steps, parallel stages, with_sequence, a container template."""
    hello = hello_template()
    ls = ContainerOPTemplate(name="ls", image="busybox", command=["ls"], args=["-l", "/"])
    inner = Steps("inner", inputs=Inputs(parameters={"who": InputParameter(type=str)}),
                  outputs=Outputs(parameters={"said": OutputParameter(type=str)}))
    say = Step("say", hello, parameters={"msg": inner.inputs.parameters["who"]})
    inner.add(say)
    inner.outputs.parameters["said"].value_from_parameter = say.outputs.parameters["out"]
    loop = Steps("loop", inputs=Inputs(parameters={"n": InputParameter(type=int)}))
    loop.add(Step("tick", hello, parameters={"msg": "tick"}))
    loop.add(Step("again", loop, parameters={"n": loop.inputs.parameters["n"]},
                  when="{{inputs.parameters.n}} < 0"))
    main = Steps("main")
    first = Step("first", inner, parameters={"who": "world"})
    seq = Step("seq", hello, parameters={"msg": "{{item}}"}, with_sequence=argo_sequence(count=3, format="%02d"))
    main.add([first, seq])
    main.add([Step("listing", ls), Step("echo", hello, parameters={"msg": first.outputs.parameters["said"]})])
    adder = PythonOPTemplate(add)  # a function OP (``@OP.function``)
    adder.name = "add"
    main.add([Step("recurse", loop, parameters={"n": 2}, continue_on_error=True),
              Step("sum", adder, parameters={"a": 2})])
    return Workflow("steps-mix", steps=main)


def random_dag(seed: int, size: int = 30) -> Workflow:
    """A random DAG of Python OPs and shell templates: each task uses outputs of earlier tasks."""
    import random

    rng = random.Random(seed)
    hello = hello_template()
    square = PythonOPTemplate(Square)
    square.name = "square"
    dup = PythonOPTemplate(Duplicate)
    dup.name = "duplicate"
    dag = DAG(f"random-{seed}")
    tasks: list[Task] = []
    words = ["plain", "quote ' and \" both", "{{item}}-ish", "new\nline", "uni·code ✓", "\\back\\slash"]
    for i in range(size):
        kind = rng.choice(["hello", "square", "dup"])
        earlier = tasks[: i]
        deps = rng.sample(earlier, k=min(len(earlier), rng.randint(0, 2)))
        if kind == "square":
            src = rng.choice([t for t in earlier if t.template is square] or [None])
            params = {"x": src.outputs.parameters["y"] if src is not None else rng.randint(-5, 5)}
            t = Task(f"t{i}", square, parameters=params, dependencies=deps)
        elif kind == "dup":
            src = rng.choice([t for t in earlier if t.template is hello] or [None])
            arts = {"foo": src.outputs.artifacts["file"]} if src is not None and rng.random() < 0.7 else None
            t = Task(f"t{i}", dup, parameters={"msg": rng.choice(words), "num": rng.randint(1, 3)},
                     artifacts=arts, dependencies=deps)
        else:
            src = rng.choice([t for t in earlier if t.template is dup] or [None])
            msg = src.outputs.parameters["msg"] if src is not None else rng.choice(words)
            t = Task(f"t{i}", hello, parameters={"msg": msg}, dependencies=deps,
                     continue_on_failed=rng.random() < 0.2)
        tasks.append(t)
    dag.add(tasks)
    return Workflow(f"random-{seed}", dag=dag)


def sliced_workflow() -> Workflow:
    """Sliced artifacts: an artifact sliced by sub-path, and sliced output artifacts of a fan-out in groups
    (each of which dflow serves with an init-artifact step the graph does not draw)."""
    steps = Steps("main")
    first = Step("first", PythonOPTemplate(Duplicate), parameters={"msg": "hi"})
    steps.add(first)
    each = Step("each", PythonOPTemplate(Duplicate, slices=Slices(sub_path=True, input_artifact=["foo"],
                                                                 output_artifact=["bar"], output_parameter=["msg"])),
                parameters={"msg": "x"}, artifacts={"foo": first.outputs.artifacts["bar"]}, key="each-{{item.order}}")
    fan = Step("fan", PythonOPTemplate(Duplicate, slices=Slices(input_parameter=["msg"], output_artifact=["bar"],
                                                                group_size=2, pool_size=1)),
               parameters={"msg": ["a", "b", "c"]}, with_param=argo_range(3), key="fan-{{item}}")
    steps.add([each, fan])
    steps.add(Step("last", PythonOPTemplate(Duplicate), parameters={"msg": "z"},
                   artifacts={"foo": fan.outputs.artifacts["bar"]}))
    return Workflow("sliced", steps=steps)


def all_workflows() -> list[Workflow]:
    return [dag_workflow(), steps_workflow(), sliced_workflow(), *(random_dag(seed) for seed in range(3))]
