"""Folding Argo status nodes into one status per canvas node (dflow_lab.runview.status)."""

from dflow_lab.runview.status import NodeName, fold_status, parse_node_name, progress_text, workflow_progress


def test_parse_names_of_steps_dags_loops_and_retries():
    assert parse_node_name("wf", "wf").path == ""
    assert parse_node_name("wf[0]", "wf").path == ""
    assert parse_node_name("wf[0].prepare", "wf") == NodeName("prepare", None, False)
    assert parse_node_name("wf.prepare", "wf") == NodeName("prepare", None, False)
    assert parse_node_name("wf[1].score(3:{\"x\": 1.5})", "wf") == NodeName("score", 3, False)
    assert parse_node_name("wf[0].outer(1:a)[0].inner", "wf") == NodeName("outer/inner", None, False)
    assert parse_node_name("wf[0].flaky(2)", "wf") == NodeName("flaky", None, True)
    assert parse_node_name("wf[0].flaky(0:x)(1)", "wf") == NodeName("flaky", 0, True)


def node(name, phase, type_="Pod", **kw):
    return {"id": name, "name": name, "phase": phase, "type": type_, **kw}


def test_fold_single_steps_retries_and_fanouts():
    nodes = [
        node("wf", "Running", "Steps"),
        node("wf[0]", "Succeeded", "StepGroup"),
        node("wf[0].prepare", "Succeeded", startedAt="2026-01-01T00:00:00Z", finishedAt="2026-01-01T00:00:05Z"),
        node("wf[1].flaky", "Running", "Retry"),
        node("wf[1].flaky(0)", "Failed", message="boom"),
        node("wf[1].flaky(1)", "Running"),
        node("wf[2].score(0:a)", "Succeeded"),
        node("wf[2].score(1:b)", "Failed", message="bad input"),
        node("wf[2].score(2:c)", "Running"),
    ]
    status = fold_status(nodes, "wf")
    assert set(status) == {"prepare", "flaky", "score"}
    assert status["prepare"]["phase"] == "Succeeded"
    assert status["prepare"]["startedAt"] == "2026-01-01T00:00:00Z"
    assert "counts" not in status["prepare"]
    assert status["flaky"]["phase"] == "Running"  # the Retry node's phase, attempts are not items
    assert status["score"]["phase"] == "Running"
    assert status["score"]["counts"] == {"Succeeded": 1, "Failed": 1, "Running": 1}
    assert status["score"]["total"] == 3
    assert status["score"]["message"] == "bad input"
    assert progress_text(status["score"]) == "1/3 succeeded, 1 failed, 1 running"


def test_dag_fanout_takes_the_task_group_phase():
    nodes = [node("wf.t", "Failed", "TaskGroup")] + [node(f"wf.t({i}:{i})", "Succeeded") for i in range(3)]
    nodes.append(node("wf.t(3:3)", "Failed"))
    status = fold_status(nodes, "wf")["t"]
    assert status["phase"] == "Failed"
    assert status["total"] == 4 and status["counts"] == {"Succeeded": 3, "Failed": 1}


def test_workflow_progress_counts_pods_not_attempts():
    nodes = [node("wf[0].a", "Succeeded"), node("wf[0].b", "Running", "Retry"), node("wf[0].b(0)", "Failed"),
             node("wf[0].c", "Skipped", "Skipped")]
    assert workflow_progress(nodes, "wf") == {"counts": {"Succeeded": 1, "Skipped": 1}, "total": 1}  # a skipped step is counted beside the total, as Argo counts progress
