"""End-to-end runs of hand-written manifests on the local engine."""

from __future__ import annotations

import json

import pytest

from dflow_lab.errors import WorkflowValueError

from .local_helpers import manifest, nodes_by_display, out_param, sh, wait_for

PRINT = {"name": "print", "inputs": {"parameters": [{"name": "msg"}]},
         "container": {"image": "busybox", "command": ["echo"], "args": ["{{inputs.parameters.msg}}"]}}



def test_steps_parameters_and_results(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "gen", "template": "gen"}],
            [{"name": "show", "template": "print",
              "arguments": {"parameters": [{"name": "msg", "value": "{{steps.gen.outputs.parameters.n}}-"
                                                                     "{{steps.gen.outputs.result}}-{{workflow.name}}"}]}}],
        ]},
        sh("gen", "echo 41 > /tmp/n.txt; echo out", outputs={"parameters": [{"name": "n", "valueFrom": {"path": "/tmp/n.txt"}}]}),
        PRINT,
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    nodes = nodes_by_display(wf)
    assert out_param(nodes["gen"], "n") == "41"
    assert nodes["show"]["outputs"]["result"] == f"41-out-{wf['metadata']['name']}"
    assert nodes["show"]["inputs"]["parameters"] == [{"name": "msg", "value": nodes["show"]["outputs"]["result"]}]
    root = wf["status"]["nodes"][wf["metadata"]["name"]]
    assert root["type"] == "Steps" and root["children"]
    assert wf["status"]["progress"] == "2/2"


def test_loops_aggregate_json_decoded_outputs(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "sq", "template": "sq", "withItems": [1, 2, 3],
              "arguments": {"parameters": [{"name": "x", "value": "{{item}}"}]}}],
            [{"name": "sum", "template": "print",
              "arguments": {"parameters": [{"name": "msg", "value": "{{steps.sq.outputs.parameters.y}}"}]}}],
            [{"name": "each", "template": "print", "withParam": "{{steps.sq.outputs.parameters.y}}",
              "arguments": {"parameters": [{"name": "msg", "value": "got {{item}}"}]}}],
        ]},
        {"name": "sq", "inputs": {"parameters": [{"name": "x"}]},
         "script": {"image": "python", "command": ["python"],
                    "source": "x = {{inputs.parameters.x}}\nopen('/tmp/y', 'w').write(str(x * x))"},
         "outputs": {"parameters": [{"name": "y", "valueFrom": {"path": "/tmp/y"}}]}},
        PRINT,
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    nodes = nodes_by_display(wf)
    assert json.loads(nodes["sum"]["outputs"]["result"]) == [1, 4, 9]
    assert sorted(n["outputs"]["result"] for d, n in nodes.items() if d.startswith("each(")) == \
        ["got 1", "got 4", "got 9"]
    assert {"sq(0:1)", "sq(1:2)", "sq(2:3)", "each(2:9)"} <= set(nodes)


def test_map_items_sequence_and_when(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "maps", "template": "print", "withItems": [{"os": "debian", "v": "9"}, {"os": "alpine", "v": "3"}],
              "arguments": {"parameters": [{"name": "msg", "value": "{{item.os}}:{{item.v}}"}]}},
             {"name": "seq", "template": "print", "withSequence": {"count": "2", "start": "5"},
              "arguments": {"parameters": [{"name": "msg", "value": "{{item}}"}]}}],
            [{"name": "yes", "template": "print", "when": "{{workflow.parameters.flag}} == on",
              "arguments": {"parameters": [{"name": "msg", "value": "yes"}]}},
             {"name": "no", "template": "print", "when": "'{{workflow.parameters.flag}}' != 'on'",
              "arguments": {"parameters": [{"name": "msg", "value": "no"}]}}],
        ]},
        PRINT,
    ], arguments={"parameters": [{"name": "flag", "value": "on"}]}), wait=True)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    nodes = nodes_by_display(wf)
    assert nodes["maps(0:os:debian,v:9)"]["outputs"]["result"] == "debian:9"
    assert nodes["seq(1:6)"]["outputs"]["result"] == "6"
    assert nodes["yes"]["phase"] == "Succeeded"
    assert nodes["no"]["phase"] == "Skipped" and nodes["no"]["type"] == "Skipped"
    assert "evaluated false" in nodes["no"]["message"]


def test_dag_depends_and_omitted(backend):
    wf = backend.submit(manifest([
        {"name": "main", "dag": {"tasks": [
            {"name": "A", "template": "ok"},
            {"name": "B", "template": "fail", "depends": "A"},
            {"name": "C", "template": "ok", "depends": "B.Failed"},
            {"name": "D", "template": "ok", "depends": "B.Succeeded"},
            {"name": "E", "template": "print", "dependencies": ["A"],
             "arguments": {"parameters": [{"name": "msg", "value": "{{tasks.A.outputs.result}}"}]}},
        ]}},
        sh("ok", "echo ok"), sh("fail", "exit 3"), PRINT,
    ]), wait=True)
    nodes = nodes_by_display(wf)
    assert nodes["B"]["phase"] == "Failed" and nodes["B"]["message"] == "Error (exit code 3)"
    assert nodes["B"]["outputs"]["exitCode"] == "3"
    assert nodes["C"]["phase"] == "Succeeded"
    assert nodes["D"]["phase"] == "Omitted"
    assert nodes["E"]["outputs"]["result"] == "ok"
    # B's failure is handled by C's depends, so the DAG succeeds (Argo's rule)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    a_node = nodes["A"]
    assert nodes["B"]["id"] in a_node["children"] and nodes["E"]["id"] in a_node["children"]


def test_dag_unhandled_failure_fails_fast(backend):
    wf = backend.submit(manifest([
        {"name": "main", "dag": {"tasks": [
            {"name": "A", "template": "fail"},
            {"name": "B", "template": "ok", "depends": "A"},
            {"name": "C", "template": "ok"},
        ]}},
        sh("ok", "echo ok"), sh("fail", "exit 1"),
    ]), wait=True)
    nodes = nodes_by_display(wf)
    assert wf["status"]["phase"] == "Failed"
    assert "child 'A' failed" in wf["status"]["message"]
    assert nodes["C"]["phase"] == "Succeeded"
    assert "B" not in nodes or nodes["B"]["phase"] == "Omitted"


def test_a_step_killed_by_a_signal_exits_with_128_plus_the_signal(backend):
    """As a container runtime reports it: a process ended by signal N exits with 128 + N, and says so."""
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "killed", "template": "killed"}]]},
        {"name": "killed", "script": {"image": "busybox", "command": ["sh"], "source": "echo partial; kill -TERM $$"}},
    ]), wait=True)
    node = nodes_by_display(wf)["killed"]
    assert node["phase"] == "Failed" and node["message"] == "killed by signal 15"
    assert node["outputs"]["exitCode"] == "143" and node["outputs"]["result"] == "partial"


def test_continue_on_failed(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "bad", "template": "fail", "continueOn": {"failed": True}}],
            [{"name": "after", "template": "print",
              "arguments": {"parameters": [{"name": "msg", "value": "{{steps.bad.status}}"}]}}],
        ]},
        sh("fail", "exit 1"), PRINT,
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded"
    assert nodes_by_display(wf)["after"]["outputs"]["result"] == "Failed"


def test_retry_limit_and_policy(backend, tmp_path):
    counter = tmp_path / "count"
    script = f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; [ $n -ge 3 ]"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "flaky", "template": "flaky"}]]},
        sh("flaky", script, retryStrategy={"limit": "4", "retryPolicy": "Always"}),
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    nodes = nodes_by_display(wf)
    assert nodes["flaky"]["type"] == "Retry"
    assert [nodes[f"flaky({i})"]["phase"] for i in range(3)] == ["Failed", "Failed", "Succeeded"]
    assert counter.read_text().strip() == "3"


def test_retry_gives_up_after_limit_and_expression(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "a", "template": "a"}, {"name": "b", "template": "b"}]]},
        sh("a", "exit 2", retryStrategy={"limit": 2}),
        sh("b", "exit 2", retryStrategy={"limit": 5, "expression": "asInt(lastRetry.exitCode) == 1"}),
    ]), wait=True)
    nodes = nodes_by_display(wf)
    assert wf["status"]["phase"] == "Failed"
    assert sorted(d for d in nodes if d.startswith("a(")) == ["a(0)", "a(1)", "a(2)"]
    assert [d for d in nodes if d.startswith("b(")] == ["b(0)"]


def test_template_timeout(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "slow", "template": "slow"}]]},
        sh("slow", "sleep 30", activeDeadlineSeconds=1),
    ]), wait=True)
    slow = nodes_by_display(wf)["slow"]
    assert wf["status"]["phase"] == "Failed"
    assert slow["phase"] == "Failed" and "deadline" in slow["message"]


def test_parallelism_limits_concurrent_steps(backend, tmp_path):
    log = tmp_path / "log"
    body = f"echo start >> {log}; sleep 0.2; echo end >> {log}"
    wf = backend.submit(manifest([
        {"name": "main", "parallelism": 1, "steps": [[{"name": "s", "template": "s", "withItems": [1, 2, 3]}]]},
        sh("s", body),
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded"
    assert log.read_text().split() == ["start", "end"] * 3


def test_artifacts_between_steps_and_global_outputs(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [
            [{"name": "make", "template": "make"}],
            [{"name": "use", "template": "use",
              "arguments": {"artifacts": [{"name": "in", "from": "{{steps.make.outputs.artifacts.out}}"}]}}],
        ], "outputs": {"parameters": [{"name": "final",
                                        "valueFrom": {"parameter": "{{steps.use.outputs.result}}"}}]}},
        sh("make", "mkdir -p /tmp/d && echo hi > /tmp/d/a.txt && echo x > /tmp/p",
           outputs={"artifacts": [{"name": "out", "path": "/tmp/d"}],
                    "parameters": [{"name": "p", "globalName": "gp", "valueFrom": {"path": "/tmp/p"}}]}),
        {"name": "use", "inputs": {"artifacts": [{"name": "in", "path": "/work/in"}]},
         "container": {"image": "busybox", "command": ["sh", "-c"], "args": ["cat /work/in/a.txt"]}},
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    nodes = nodes_by_display(wf)
    art = nodes["make"]["outputs"]["artifacts"][0]
    assert art["name"] == "out" and art["s3"]["key"].endswith("/out.tgz")
    assert nodes["use"]["outputs"]["result"] == "hi"
    root = wf["status"]["nodes"][wf["metadata"]["name"]]
    assert out_param(root, "final") == "hi"
    assert wf["status"]["outputs"]["parameters"] == [{"name": "gp", "value": "x"}]


def test_missing_output_file_errors_naming_step_and_field(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "forgetful", "template": "t"}]]},
        sh("t", "true", outputs={"parameters": [{"name": "res", "valueFrom": {"path": "/tmp/none"}}]}),
    ]), wait=True)
    node = nodes_by_display(wf)["forgetful"]
    assert wf["status"]["phase"] == "Failed"
    assert node["phase"] == "Error"
    assert "'forgetful'" in node["message"] and "'res'" in node["message"]
    assert wf["metadata"]["name"] in node["message"]


def test_parameter_values_are_never_executed(backend, tmp_path):
    marker = tmp_path / "pwned"
    evil = f"$(touch {marker})'; touch {marker}; echo '"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "w", "template": "w", "when": "{{=len(workflow.parameters.v) > 3}}"}]]},
        {"name": "w", "container": {"image": "x", "command": ["echo"], "args": ["{{workflow.parameters.v}}"]}},
    ], arguments={"parameters": [{"name": "v", "value": evil}]}), wait=True)
    assert not marker.exists()
    assert nodes_by_display(wf)["w"]["outputs"]["result"] == evil


def test_bad_expression_fails_its_step_with_a_message(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "odd", "template": "print", "when": "1 +* 2",
                                     "arguments": {"parameters": [{"name": "msg", "value": "x"}]}}]]},
        PRINT,
    ]), wait=True)
    node = nodes_by_display(wf)["odd"]
    assert wf["status"]["phase"] == "Failed"
    assert node["phase"] == "Error" and "'odd'" in node["message"] and "when" in node["message"]


def test_invalid_manifests_are_rejected_before_anything_is_written(backend):
    with pytest.raises(WorkflowValueError, match="entrypoint 'nope'"):
        backend.submit(manifest([sh("main", "true")], entrypoint="nope"), wait=True)
    with pytest.raises(WorkflowValueError, match="template 'ghost' is not defined"):
        backend.submit(manifest([{"name": "main", "steps": [[{"name": "s", "template": "ghost"}]]}]), wait=True)
    with pytest.raises(WorkflowValueError, match="depends on unknown task 'Z'"):
        backend.submit(manifest([{"name": "main", "dag": {"tasks": [{"name": "A", "template": "main",
                                                                       "depends": "Z"}]}}]), wait=True)
    assert backend.list() == []


def test_memoization_reuses_outputs(backend, tmp_path):
    counter = tmp_path / "n"
    t = sh("t", f"echo run >> {counter}; echo value",
           memoize={"key": "{{inputs.parameters.k}}", "cache": {"configMap": {"name": "c"}}},
           inputs={"parameters": [{"name": "k"}]})
    m = manifest([{"name": "main", "steps": [[{"name": "m", "template": "t",
                                              "arguments": {"parameters": [{"name": "k", "value": "a"}]}}]]}, t])
    first = backend.submit(m, wait=True)
    second = backend.submit(m, wait=True)
    assert counter.read_text().split() == ["run"]
    node = nodes_by_display(second)["m"]
    assert node["memoizationStatus"]["hit"] is True
    assert node["outputs"]["result"] == "value"
    assert nodes_by_display(first)["m"]["memoizationStatus"]["hit"] is False


def test_exit_handler_sees_status_and_failures(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "boom", "template": "fail"}]]},
        sh("fail", "exit 5"),
        {"name": "bye", "container": {"image": "x", "command": ["echo"],
                                       "args": ["{{workflow.status}} {{workflow.failures}}"]}},
    ], onExit="bye"), wait=True)
    assert wf["status"]["phase"] == "Failed"
    node = nodes_by_display(wf)[f"{wf['metadata']['name']}.onExit"]
    status, failures = node["outputs"]["result"].split(" ", 1)
    assert status == "Failed"
    assert json.loads(failures)[0]["displayName"] == "boom"


def test_nested_and_recursive_templates(backend, tmp_path):
    counter = tmp_path / "c"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "loop", "template": "loop"}]]},
        {"name": "loop", "steps": [
            [{"name": "tick", "template": "tick"}],
            [{"name": "again", "template": "loop", "when": "{{steps.tick.outputs.result}} < 3"}],
        ]},
        sh("tick", f"n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; echo $n"),
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    assert counter.read_text().strip() == "3"
    assert sum(1 for n in wf["status"]["nodes"].values() if n["displayName"] == "again") == 3


def test_detached_run_suspend_resume_and_events(backend, tmp_path):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "wait", "template": "gate"}], [{"name": "after", "template": "ok"}]]},
        {"name": "gate", "suspend": {}},
        sh("ok", "echo done"),
    ]), wait=False)
    name = wf["metadata"]["name"]
    wait_for(lambda: any(n["displayName"] == "wait" and n["phase"] == "Running"
                          for n in backend.get(name)["status"]["nodes"].values()), what="suspend node")
    assert backend.get(name)["status"]["phase"] == "Running"
    backend.resume(name)
    done = backend.wait(name, timeout=60)
    assert done["status"]["phase"] == "Succeeded"
    events = backend.events(name)
    assert events[0]["workflow"]["phase"] == "Pending"
    assert events[-1]["workflow"]["phase"] == "Succeeded"
    assert any(e.get("node", {}).get("displayName") == "after" and e["node"]["phase"] == "Succeeded" for e in events)
    last = events[-1]["seq"]
    assert backend.events(name, after=last, timeout=0.1) == []


def test_terminate_a_running_workflow(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "long", "template": "long"}]]},
        sh("long", "sleep 60"),
        sh("bye", "echo bye"),
    ], onExit="bye"), wait=False)
    name = wf["metadata"]["name"]
    wait_for(lambda: any(n["displayName"] == "long" for n in backend.get(name)["status"]["nodes"].values()),
              what="long step")
    backend.terminate(name)
    done = backend.wait(name, timeout=60)
    assert done["status"]["phase"] == "Failed"
    assert "Terminate" in done["status"]["message"]
    nodes = nodes_by_display(done)
    assert nodes["long"]["phase"] == "Failed"
    assert f"{name}.onExit" not in nodes


def test_retry_failed_workflow_reruns_only_failed_steps(backend, tmp_path):
    flag = tmp_path / "ok"
    runs = tmp_path / "runs"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "first", "template": "first"}], [{"name": "second", "template": "second"}]]},
        sh("first", f"echo first >> {runs}"),
        sh("second", f"echo second >> {runs}; test -e {flag}"),
    ]), wait=True)
    name = wf["metadata"]["name"]
    assert wf["status"]["phase"] == "Failed"
    flag.write_text("")
    backend.retry(name)
    done = backend.wait(name, timeout=60)
    assert done["status"]["phase"] == "Succeeded"
    assert runs.read_text().split() == ["first", "second", "second"]


def test_logs_and_list(backend):
    wf = backend.submit(manifest([sh("main", "echo line1; echo line2 >&2")]), wait=True)
    name = wf["metadata"]["name"]
    assert sorted(backend.logs(name)) == ["line1", "line2"]
    assert [w["metadata"]["name"] for w in backend.list()] == [name]
    assert backend.list(labels={"x": "y"}) == []
    backend.delete(name)
    assert backend.list() == []


def test_resubmit_memoized_reuses_succeeded_steps(backend, tmp_path):
    runs = tmp_path / "runs"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "a", "template": "a"}], [{"name": "b", "template": "b"}]]},
        sh("a", f"echo a >> {runs}; echo A"),
        sh("b", f"echo b >> {runs}; test -e {tmp_path / 'flag'}"),
    ]), wait=True)
    assert wf["status"]["phase"] == "Failed"
    (tmp_path / "flag").write_text("")
    new = backend.resubmit(wf["metadata"]["name"], memoized=True)
    done = backend.wait(new["metadata"]["name"], timeout=60)
    assert done["status"]["phase"] == "Succeeded"
    assert runs.read_text().split() == ["a", "b", "b"]
    assert nodes_by_display(done)["a"]["outputs"]["result"] == "A"
    assert new["metadata"]["name"] != wf["metadata"]["name"]


def test_stop_runs_the_exit_handler(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "long", "template": "long"}]]},
        sh("long", "sleep 60"),
        {"name": "bye", "container": {"image": "x", "command": ["echo"], "args": ["{{workflow.status}}"]}},
    ], onExit="bye"), wait=False)
    name = wf["metadata"]["name"]
    wait_for(lambda: any(n["displayName"] == "long" for n in backend.get(name)["status"]["nodes"].values()),
             what="long step")
    backend.stop(name)
    done = backend.wait(name, timeout=60)
    assert done["status"]["phase"] == "Failed"
    assert nodes_by_display(done)[f"{name}.onExit"]["outputs"]["result"] == "Failed"


def test_events_long_poll_returns_when_something_changes(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "gate", "template": "gate"}], [{"name": "after", "template": "ok"}]]},
        {"name": "gate", "suspend": {}},
        sh("ok", "echo done"),
    ]), wait=False)
    name = wf["metadata"]["name"]
    wait_for(lambda: any(n["displayName"] == "gate" for n in backend.get(name)["status"]["nodes"].values()),
             what="gate node")
    seen = backend.events(name)[-1]["seq"]
    backend.resume(name)
    new = backend.events(name, after=seen, timeout=30)  # blocks until the resume changes something
    assert new and all(e["seq"] > seen for e in new)
    assert backend.wait(name, timeout=60)["status"]["phase"] == "Succeeded"


def test_workflow_level_parallelism_limits_running_pods(backend, tmp_path):
    log = tmp_path / "log"
    body = f"echo start >> {log}; sleep 0.2; echo end >> {log}"
    wf = backend.submit(manifest([
        {"name": "main", "dag": {"tasks": [{"name": f"t{i}", "template": "s"} for i in range(3)]}},
        sh("s", body),
    ], parallelism=1), wait=True)
    assert wf["status"]["phase"] == "Succeeded"
    assert log.read_text().split() == ["start", "end"] * 3


def test_parameter_values_are_data_not_paths(backend):
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "p", "template": "p",
                                     "arguments": {"parameters": [{"name": "v", "value": "/tmp/out and /tmp/out/x"}]}}]]},
        sh("p", "mkdir -p /tmp/out; echo '{{inputs.parameters.v}}' > /tmp/out/x; cat /tmp/out/x; echo {{outputs.parameters.o.path}}",
           inputs={"parameters": [{"name": "v"}]},
           outputs={"parameters": [{"name": "o", "valueFrom": {"path": "/tmp/out/x"}}]}),
    ]), wait=True)
    assert wf["status"]["phase"] == "Succeeded", wf["status"]
    node = nodes_by_display(wf)["p"]
    assert out_param(node, "o") == "/tmp/out and /tmp/out/x"  # the value, unmapped, written to the mapped path
    first, mapped = node["outputs"]["result"].split("\n")
    assert first == "/tmp/out and /tmp/out/x"
    assert mapped.startswith(str(backend.workdir)) and mapped.endswith("/root/tmp/out/x")


def test_suspend_holds_new_steps_until_resume(backend, tmp_path):
    flag = tmp_path / "flag"
    wait_flag = f"i=0; while [ ! -e {flag} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done"
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "first", "template": "first"}], [{"name": "second", "template": "ok"}]]},
        sh("first", wait_flag),
        sh("ok", "echo done"),
    ]), wait=False)
    name = wf["metadata"]["name"]
    wait_for(lambda: "first" in nodes_by_display(backend.get(name)), what="first step")
    backend.suspend(name)
    wait_for(lambda: backend.get(name)["status"].get("suspended"), what="suspended flag")
    flag.write_text("")
    wait_for(lambda: nodes_by_display(backend.get(name))["first"]["phase"] == "Succeeded", what="first done")
    held = backend.get(name)
    assert held["status"]["phase"] == "Running" and "second" not in nodes_by_display(held)
    wait_for(lambda: backend.get(name)["status"].get("progress") == "1/1", what="progress while running")
    backend.resume(name)
    done = backend.wait(name, timeout=60)
    assert done["status"]["phase"] == "Succeeded"
    assert nodes_by_display(done)["second"]["outputs"]["result"] == "done"


def test_retry_only_the_given_failed_steps(backend, tmp_path):
    runs = tmp_path / "runs"
    script = "echo {n} >> " + str(runs) + "; test -e " + str(tmp_path / "flag")
    wf = backend.submit(manifest([
        {"name": "main", "steps": [[{"name": "a", "template": "a"}, {"name": "b", "template": "b"}]]},
        sh("a", script.format(n="a")),
        sh("b", script.format(n="b")),
    ]), wait=True)
    name = wf["metadata"]["name"]
    a_id = nodes_by_display(wf)["a"]["id"]
    (tmp_path / "flag").write_text("")
    backend.retry(name, node_ids=[a_id])
    done = backend.wait(name, timeout=60)
    nodes = nodes_by_display(done)
    assert nodes["a"]["phase"] == "Succeeded" and nodes["b"]["phase"] == "Failed"
    assert done["status"]["phase"] == "Failed"
    assert sorted(runs.read_text().split()) == ["a", "a", "b"]


def test_terminated_before_its_engine_starts_runs_nothing(backend):
    """A workflow terminated while its detached engine is still starting stays Failed, and that engine exits
    without running it (it used to run the suspended workflow forever)."""
    from pathlib import Path

    wf = backend.submit(manifest([{"name": "main", "suspend": {}}]), wait=False)
    name = wf["metadata"]["name"]
    backend.terminate(name)
    assert backend.wait(name, timeout=60)["status"]["phase"] == "Failed"

    def engines() -> list[str]:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                cmd = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"dflow_lab.local.engine" in cmd and name.encode() in cmd:
                found.append(proc.name)
        return found

    wait_for(lambda: engines() == [], timeout=60, what="the detached engine to exit")
    assert backend.get(name)["status"]["phase"] == "Failed"
