"""Folding Argo status nodes into one status per canvas node (dflow_lab.runview.status)."""

from dflow_lab.runview.status import (
    NodeName,
    fold_status,
    parse_node_name,
    planned_items,
    precise_times,
    progress_text,
    workflow_progress,
)


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
    nodes = [node("wf[0].a", "Succeeded"), node("wf[0].b", "Running", "Retry", children=["wf[0].b(0)"]),
             node("wf[0].b(0)", "Failed"), node("wf[0].c", "Skipped", "Skipped")]
    # a retried step is its Retry node; skipped and omitted steps are part of the total, so counts add up
    assert workflow_progress(nodes, "wf") == {"counts": {"Succeeded": 1, "Running": 1, "Skipped": 1}, "total": 3}


def test_workflow_progress_against_the_plan():
    nodes = [node("wf.a", "Succeeded"), node("wf.b", "Failed"), node("wf.c", "Omitted", "Skipped")]
    plan = {"steps": 6, "fanOuts": {}}
    running = workflow_progress(nodes, "wf", plan)
    assert running == {"counts": {"Succeeded": 1, "Failed": 1, "Omitted": 1}, "total": 6}
    ended = workflow_progress(nodes, "wf", plan, finished=True)
    assert ended == {"counts": {"Succeeded": 1, "Failed": 1, "Omitted": 1, "NotRun": 3}, "total": 6}
    assert progress_text(ended) == "1/6 succeeded, 1 failed, 1 omitted, 3 not run"
    # more recorded than planned (a recursive template ran): the recorded count wins
    assert workflow_progress(nodes, "wf", {"steps": 2})["total"] == 3


def test_fanout_total_is_its_planned_size_and_times_are_precise():
    items = [node(f"wf[1].sq({i}:{i})", "Succeeded", startedAt="2026-01-01T00:00:00Z",
                  finishedAt="2026-01-01T00:00:01Z", dflowLabTimes={"startedAt": 1767225600.25,
                                                                    "finishedAt": 1767225600.75})
             for i in range(3)]
    planned = planned_items({"steps": 12, "fanOuts": {"wf[1].sq": 10}}, "wf")
    assert planned == {"sq": 10}
    status = fold_status(items, "wf", planned)["sq"]
    assert status["total"] == 10 and status["counts"] == {"Succeeded": 3}
    assert progress_text(status) == "3/10 succeeded"
    assert status["startedAt"] == "2026-01-01T00:00:00.250Z" and status["finishedAt"] == "2026-01-01T00:00:00.750Z"
    assert precise_times({"startedAt": "2026-01-01T00:00:00Z", "finishedAt": None}) == ("2026-01-01T00:00:00Z", None)


class _Backend:
    """A backend holding one manifest (LiveRun.progress reads the run's spec once)."""

    def __init__(self, spec):
        self.spec = spec

    def get(self, name):
        return {"spec": self.spec}


def _dag(name, tasks):
    return {"name": name, "dag": {"tasks": tasks}}


def test_planned_steps_counts_leaf_steps_through_nested_templates_and_gives_up_on_loops():
    from dflow_lab.runview.live import planned_steps

    leaf = {"name": "leaf", "container": {"image": "busybox"}}
    inner = {"name": "inner", "steps": [[{"name": "a", "template": "leaf"}], [{"name": "b", "template": "leaf"},
                                                                              {"name": "c", "template": "leaf"}]]}
    main = _dag("main", [{"name": f"t{i}", "template": "leaf"} for i in range(5)] + [{"name": "n", "template": "inner"}])
    assert planned_steps({"entrypoint": "main", "templates": [main, inner, leaf]}) == 8
    looped = _dag("main", [{"name": "t", "template": "leaf", "withParam": "[1, 2]"}])
    assert planned_steps({"entrypoint": "main", "templates": [looped, leaf]}) is None
    recursive = _dag("main", [{"name": "again", "template": "main"}])
    assert planned_steps({"entrypoint": "main", "templates": [recursive]}) is None
    assert planned_steps({"entrypoint": "missing", "templates": []}) is None


def test_live_progress_is_counted_incrementally_with_the_planned_total():
    from dflow_lab.runview.live import LiveRun

    leaf = {"name": "leaf", "container": {"image": "busybox"}}
    spec = {"entrypoint": "main", "templates": [_dag("main", [{"name": f"t{i}", "template": "leaf"}
                                                              for i in range(10)]), leaf]}
    sent, states = [], []
    run = LiveRun(_Backend(spec), "wf", sent.append, states.append)
    events = [{"seq": 1, "node": node("wf", "Running", "DAG")}]
    events += [{"seq": 2 + i, "node": node(f"wf.t{i}", "Running")} for i in range(3)]
    run.apply(events)
    assert states[-1]["progress"] == "0/10 succeeded, 3 running"  # not "0/3": ten steps will run
    run.apply([{"seq": 10, "node": node("wf.t0", "Succeeded")}, {"seq": 11, "node": node("wf.t1", "Failed")},
               {"seq": 12, "node": node("wf.t1(0)", "Failed")}])
    assert run.progress() == workflow_progress(run.nodes.values(), "wf") | {"total": 10}
    assert states[-1]["progress"] == "1/10 succeeded, 1 failed, 1 running"
    run.apply([{"seq": 13, "workflow": {"phase": "Failed"}}])
    assert states[-1]["progress"] == "1/3 succeeded, 1 failed, 1 running"  # ended: the steps that ran
    assert sent[0]["changes"].keys() == {"t0", "t1", "t2"}


def test_status_messages_carry_only_what_changed_and_fold_back_to_the_status():
    from dflow_lab.runview.live import LiveRun, merge_status

    leaf = {"name": "leaf", "container": {"image": "busybox"}}
    spec = {"entrypoint": "main", "templates": [_dag("main", [{"name": f"t{i}", "template": "leaf"}
                                                              for i in range(3)]), leaf]}
    sent = []
    run = LiveRun(_Backend(spec), "wf", sent.append, lambda state: None)
    t = "2026-12-05T10:00:0{}.000Z"
    run.apply([{"seq": 1, "node": node("wf", "Running", "DAG", startedAt=t.format(0))}]
              + [{"seq": 2 + i, "node": node(f"wf.t{i}", "Running", startedAt=t.format(1))} for i in range(3)])
    first = sent[-1]
    assert first["delta"] is True
    # a node's first entry: its fields with a value (no "message": None, no node ids)
    assert first["changes"]["t0"] == {"phase": "Running", "startedAt": t.format(1)}
    run.apply([{"seq": 10, "node": node("wf.t0", "Succeeded", startedAt=t.format(1), finishedAt=t.format(2))},
               {"seq": 11, "node": node("wf.t1", "Failed", startedAt=t.format(1), finishedAt=t.format(3),
                                        message="exit code 1")}])
    assert sent[-1]["changes"] == {
        "t0": {"phase": "Succeeded", "finishedAt": t.format(2)},
        "t1": {"phase": "Failed", "finishedAt": t.format(3), "message": "exit code 1"},
    }
    # a retry of t1 runs: its message is gone (None: the browser drops the field), its times change
    run.apply([{"seq": 12, "node": node("wf.t1", "Running", startedAt=t.format(4))}])
    assert sent[-1]["changes"] == {"t1": {"phase": "Running", "startedAt": t.format(4), "finishedAt": None,
                                          "message": None}}
    # folded as the browser does, the messages give the status itself; so does the snapshot (a reset)
    known: dict = {}
    for message in sent:
        merge_status(known, message)
    expected = {path: {k: v for k, v in e.items() if k != "ids" and v is not None}
                for path, e in fold_status(run.nodes.values(), "wf").items()}
    assert known == expected
    assert merge_status({"stale": {"phase": "Failed"}}, {"changes": run.snapshot(), "reset": True}) == expected
    # a change of node ids only (a new attempt node of the same phase) sends nothing for the path
    count = len(sent)
    run.apply([{"seq": 13, "node": node("wf.t2(0)", "Running", startedAt=t.format(1))}])
    assert len(sent) == count or "t2" not in sent[-1]["changes"]


def test_merge_status_replaces_full_entries_and_removes_paths():
    from dflow_lab.runview.live import merge_status

    known = {"a": {"phase": "Running", "startedAt": "s"}, "b": {"phase": "Pending"}}
    merge_status(known, {"changes": {"a": {"phase": "Succeeded"}, "b": None}})
    assert known == {"a": {"phase": "Succeeded"}}
    merge_status(known, {"changes": {"a": {"finishedAt": "f", "phase": None}}, "delta": True})
    assert known == {"a": {"finishedAt": "f"}}


def test_a_monitor_that_cannot_read_an_event_says_so_and_stops():
    from dflow_lab.runview.live import LiveRun

    class Events(_Backend):
        """The manifest, and one batch of events of which the second lacks the node's id."""

        def events(self, name, after=0, timeout=0):
            if after:
                return []
            return [{"seq": 1, "node": node("wf", "Running", "DAG")}, {"seq": 2, "node": {"name": "wf.t0"}}]

    spec = {"entrypoint": "main", "templates": [_dag("main", [{"name": "t0", "template": "leaf"}]),
                                                {"name": "leaf", "container": {"image": "busybox"}}]}
    states = []
    run = LiveRun(Events(spec), "wf", lambda msg: None, states.append).start()
    assert run.wait(30), "the follower did not stop"
    assert "the monitor stopped following wf: an event it could not read (KeyError" in states[-1]["message"]
    assert states[-1]["name"] == "wf"
