"""The reference dflow (pydflow 1.8, in its own venv) as the client of ``dflow-lab server``: the endpoints dflow uses."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import SESSION, SESSION_LABEL

PYDFLOW = Path("/opt/pydflow-venv/bin/python")
pytestmark = pytest.mark.skipif(not PYDFLOW.exists(), reason="the reference pydflow venv is not installed")

SCRIPT = """
import json, sys
from dflow import (InputParameter, OutputParameter, ShellOPTemplate, Step, Workflow, config, query_workflows)
config["host"], config["token"], config["namespace"] = sys.argv[1], sys.argv[2] or None, sys.argv[3]
labels = {"client": "pydflow", sys.argv[4]: sys.argv[5]}  # this test session's own label
t = ShellOPTemplate(name="echo", image="alpine:3", script="echo {{inputs.parameters.msg}} > /tmp/o")
t.inputs.parameters = {"msg": InputParameter()}
t.outputs.parameters = {"o": OutputParameter(value_from_path="/tmp/o")}
wf = Workflow("pyd", labels=labels)
wf.add(Step("a", t, parameters={"msg": "hello"}, key="a"))
wf.submit()
wf.wait(interval=0.2)
out = {"id": wf.id, "status": wf.query_status(), "keys": wf.query_keys_of_steps(),
       "o": wf.query_step(key="a")[0].outputs.parameters["o"].value,
       "listed": [w.id for w in query_workflows(labels=labels)]}
wf.resubmit()
wf.delete()
out["deleted"] = wf.id not in [w.id for w in query_workflows()]
print(json.dumps(out))
"""


def test_pydflow_drives_our_server(argo_endpoint):
    proc = subprocess.run([str(PYDFLOW), "-c", SCRIPT, argo_endpoint.url, argo_endpoint.token or "",
                           argo_endpoint.namespace, SESSION_LABEL, SESSION], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "Succeeded"
    assert out["keys"] == ["a"]
    assert out["o"].strip() == "hello"
    assert out["listed"] == [out["id"]]
    assert out["deleted"] is True
