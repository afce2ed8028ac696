"""The compile benchmark's workload, runnable against dflow_lab or pydflow (``dflow``).

usage: python _compile_workload.py dflow_lab|dflow
Prints one JSON line: seconds to build and to_yaml each workflow.
"""

import importlib
import json
import sys
import time

root = sys.argv[1]
api = importlib.import_module(root)
if root == "dflow":
    api.config["mode"] = "debug"  # no cluster: build and compile only

ShellOPTemplate, InputParameter, OutputParameter = api.ShellOPTemplate, api.InputParameter, api.OutputParameter
Task, DAG, Step, Workflow, argo_range = api.Task, api.DAG, api.Step, api.Workflow, api.argo_range


def template():
    t = ShellOPTemplate(name="work", image="alpine:3", script="echo {{inputs.parameters.x}} > /tmp/y")
    t.inputs.parameters = {"x": InputParameter(value=0)}
    t.outputs.parameters = {"y": OutputParameter(value_from_path="/tmp/y")}
    return t


def dag_10k():
    t = template()
    dag = DAG(name="chain")
    tasks = []
    for i in range(10_000):
        x = tasks[-1].outputs.parameters["y"] if tasks else 0
        deps = tasks[i - 10:i - 1] if i % 10 == 0 and i >= 10 else None
        task = Task("t%d" % i, t, parameters={"x": x}, dependencies=deps)
        tasks.append(task)
    dag.add(tasks)
    return Workflow("dag-10k", dag=dag)


def with_param_1k():
    t = template()
    wf = Workflow("fanout-1k")
    for i in range(1_000):
        wf.add(Step("s%d" % i, t, parameters={"x": "{{item}}"}, with_param=argo_range(10)))
    return wf


out = {}
for name, build in (("dag_10k", dag_10k), ("with_param_1k", with_param_1k)):
    t0 = time.perf_counter()
    wf = build()
    t1 = time.perf_counter()
    text = wf.to_yaml()
    t2 = time.perf_counter()
    out[name] = {"build": t1 - t0, "to_yaml": t2 - t1, "bytes": len(text)}
print(json.dumps(out))
