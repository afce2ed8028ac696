"""The notebook widget's iterate actions without a browser (the browser drives them in
tests/widgets/test_browser_iterate.py): Run from here on the edited canvas, the run picker's runs, the
comparison sent to the page, a fan-out's item page, showing another run, and a run name the picker does not
list refused."""

from __future__ import annotations

from tests.iterate.ops import executions, pipeline


def test_widget_run_from_here_runs_compare_items_and_show_run(log, workdir):
    from dflow_lab.widgets import WorkflowCanvas

    canvas = WorkflowCanvas(pipeline(log, factor=2))
    sent: list[dict] = []
    send = canvas.send
    canvas.send = lambda msg, *a, **k: (sent.append(msg), send(msg, *a, **k))[1]
    assert canvas.run_locally().wait(120)
    first = canvas.run.name
    assert [r["name"] for r in canvas.runs["runs"]] == [first] and canvas.runs["current"] == first

    canvas._on_action("edit")
    canvas.workflow = pipeline(log, factor=5)  # the canvas's graph changed
    assert canvas.actions[-1]["action"] == "monitor"
    canvas._on_action("monitor")  # back to the first run's monitor
    assert canvas.run.name == first
    canvas._on_action("run-from:scale")
    assert canvas.run.wait(120) and canvas.run.name != first
    second = canvas.run.name
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 2}
    assert [r["name"] for r in canvas.runs["runs"]] == [second, first]
    assert all(r["progress"] == "6/6 succeeded" and r["startedAt"] for r in canvas.runs["runs"])

    canvas._on_action(f"compare={first}")
    comparison = [m for m in sent if m["type"] == "comparison"][-1]["comparison"]
    assert sorted(p for p, e in comparison["paths"].items() if e["state"] != "unchanged") == ["report", "scale"]
    assert canvas.runs["comparing"] == first and canvas.actions[1]["action"] == "compare-off"

    canvas._on_action("items@0@Succeeded:item")
    page = [m for m in sent if m["type"] == "items"][-1]["page"]
    assert page["path"] == "item" and page["matching"] == 3 and [i["index"] for i in page["items"]] == [0, 1, 2]

    canvas._on_action(f"show-run=local/{first}")
    assert canvas.run.name == first and canvas.comparing is None
    assert [m for m in sent if m["type"] == "comparison"][-1]["comparison"] is None
    for bad in ("compare=no-such-run", "show-run=local/../other"):
        try:
            canvas._on_action(bad)
        except ValueError as e:
            assert "is not one of the runs listed" in str(e)
        else:
            raise AssertionError(f"{bad} was not refused")
    canvas.close()
