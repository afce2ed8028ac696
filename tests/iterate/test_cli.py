"""``dflow-lab run FILE --only/--from/--failed-of`` on a graph document, local engine."""

from __future__ import annotations

import json

import pytest

from dflow_lab.main import main
from dflow_lab.rerun import DOCUMENT_LABEL, document_label, runs_of
from dflow_lab.workflow import current_backend

from .ops import executions, pipeline


def _write(path, log, **kw):
    path.write_text(json.dumps(pipeline(log, **kw).to_graph()))


def test_cli_from_only_and_failed_of(workdir, log, tmp_path, capsys):
    doc = tmp_path / "pipe.dflow.json"
    _write(doc, log, factor=2)
    assert main(["run", str(doc)]) == 0
    assert executions(log) == {"prep": 1, "item": 3, "scale": 1, "report": 1}
    label = document_label(str(doc))
    first = runs_of(label)[0]["metadata"]["name"]
    assert runs_of(label)[0]["metadata"]["labels"][DOCUMENT_LABEL] == label

    _write(doc, log, factor=5)
    assert main(["run", str(doc), "--from", "scale"]) == 0
    out = capsys.readouterr().out
    assert f"Reusing 4 step(s) of run {first}" in out
    assert executions(log) == {"prep": 1, "item": 3, "scale": 2, "report": 2}
    second = runs_of(label)[0]["metadata"]["name"]
    assert second != first and len(runs_of(label)) == 2

    assert main(["run", str(doc), "--only", "report", "--run", first]) == 0
    assert executions(log)["report"] == 3
    assert "Reusing 5 step(s)" in capsys.readouterr().out

    _write(doc, log, factor=5, fail=True)
    assert main(["run", str(doc), "--from", "scale"]) == 1
    failed = runs_of(label)[0]["metadata"]["name"]
    _write(doc, log, factor=5)
    assert main(["run", str(doc), "--failed-of", failed]) == 0
    assert executions(log) == {"prep": 1, "item": 3, "scale": 4, "report": 4}
    newest = current_backend().get(runs_of(label)[0]["metadata"]["name"])
    reused = sorted(n["displayName"] for n in newest["status"]["nodes"].values()
                    if (n.get("memoizationStatus") or {}).get("hit"))
    assert reused == ["item(0:0)", "item(1:1)", "item(2:2)", "prep"]


def test_cli_refusals(workdir, log, tmp_path, capsys):
    doc = tmp_path / "other.dflow.json"
    _write(doc, log)
    assert main(["run", str(doc), "--from", "scale"]) != 0
    assert "no earlier run of this document" in capsys.readouterr().err
    _write(doc, log, fail=True)
    main(["run", str(doc)])
    assert main(["run", str(doc), "--only", "report"]) != 0
    err = capsys.readouterr().err
    assert "upstream step(s) scale" in err
    with pytest.raises(SystemExit):
        main(["run", str(doc), "--only", "a", "--from", "b"])
