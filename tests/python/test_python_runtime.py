"""The OP runtime on a real directory layout: inputs from env vars and files, outputs, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyop_samples as s
import pytest
from pyop_harness import run_template

from dflow_lab.python import PythonOPTemplate, upload_packages
from dflow_lab.python.runtime import MARKER, parse_source, render_source


def test_class_op_reads_params_and_writes_outputs(tmp_path, capfd):
    run = run_template(PythonOPTemplate(s.Add), tmp_path, params={"a": 40})
    assert run.rc == 0
    assert run.out_param("s") == "42"  # b took its default, 2
    assert run.out_param("label") == "sum 42"  # a str output is written raw
    report = run.out_art("report")
    assert (report / "report.txt").read_text() == "40+2=42\n"
    catalog = [json.loads(p.read_text()) for p in (report / ".dflow").iterdir()]
    assert catalog == [{"path_list": [{"dflow_list_item": "report.txt", "order": 0}]}]
    assert "adding 40 and 2" in capfd.readouterr().out


def test_artifacts_in_and_out_with_catalogs(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("aaa")
    (data / "sub/b.txt").write_text("bb")
    (data / ".dflow").mkdir()
    (data / ".dflow/cat").write_text(json.dumps({"path_list": [
        {"dflow_list_item": "sub/b.txt", "order": 1}, {"dflow_list_item": "a.txt", "order": 0}]}))
    run = run_template(PythonOPTemplate(s.Files), tmp_path, artifacts={"inputs": data})
    assert run.rc == 0
    assert json.loads(run.out_param("sizes")) == [3, 2]  # catalog order: a.txt, then sub/b.txt
    assert json.loads(run.out_param("named_keys")) == []  # optional artifact absent → None
    assert json.loads(run.out_param("config")) == {"seen": True}  # BigParameter default
    copies = run.out_art("copies")
    assert (copies / "copy0/a.txt").read_text() == "aaa"
    assert (copies / "copy1/b.txt").read_text() == "bb"
    items = [i for f in (copies / ".dflow").iterdir() for i in json.loads(f.read_text())["path_list"]]
    assert sorted(items, key=lambda i: i["order"]) == [
        {"dflow_list_item": "copy0/a.txt", "order": 0}, {"dflow_list_item": "copy1/b.txt", "order": 1}]
    tree = [i for f in (run.out_art("tree") / ".dflow").iterdir() for i in json.loads(f.read_text())["path_list"]]
    assert {i["order"]: i["dflow_list_item"] for i in tree} == {
        "x.leaf": "tree/x/leaf.txt", "list.0": "tree/x/leaf.txt", "list.1": None}
    by_name = [i for f in (run.out_art("by_name") / ".dflow").iterdir() for i in json.loads(f.read_text())["path_list"]]
    assert {i["order"] for i in by_name} == {"f0", "f1"}


def test_outputs_of_one_step_are_inputs_of_the_next(tmp_path):
    first = run_template(PythonOPTemplate(s.Files), tmp_path / "one", artifacts={"inputs": _two_files(tmp_path)})
    assert first.rc == 0
    second = run_template(PythonOPTemplate(s.Files), tmp_path / "two", artifacts={
        "inputs": first.out_art("copies"), "named": first.out_art("by_name"), "nested": first.out_art("tree")})
    assert second.rc == 0
    assert json.loads(second.out_param("named_keys")) == ["f0", "f1"]
    assert json.loads(second.out_param("sizes")) == [1, 2]


def _two_files(tmp_path: Path) -> Path:
    d = tmp_path / "two-files"
    d.mkdir(parents=True)
    (d / "x.txt").write_text("x")
    (d / "y.txt").write_text("yy")
    (d / ".dflow").mkdir()
    (d / ".dflow/c").write_text(json.dumps({"path_list": [
        {"dflow_list_item": "x.txt", "order": 0}, {"dflow_list_item": "y.txt", "order": 1}]}))
    return d


def test_artifact_without_catalog_is_the_directory(tmp_path):
    d = tmp_path / "plain"
    d.mkdir()
    (d / "only.txt").write_text("12345")
    run = run_template(PythonOPTemplate(s.listing), tmp_path, artifacts={"files": d, "one": d})
    assert run.rc == 0
    assert json.loads(run.out_param("paths")) == ["files"]  # List[Path] of a plain directory: [it]
    assert run.out_param("one") == "one"


def test_single_file_artifact_with_catalog_is_the_file(tmp_path):
    run = run_template(PythonOPTemplate(s.listing), tmp_path, artifacts={"files": _two_files(tmp_path),
                                                                        "one": _two_files(tmp_path / "b")})
    assert run.rc == 0
    assert json.loads(run.out_param("paths")) == ["files/x.txt", "files/y.txt"]
    assert run.out_param("one") == "one"  # two files in the catalog: Path is the directory


def test_big_parameter_from_file(tmp_path):
    root = tmp_path / "root"
    (root / "tmp/inputs/parameters").mkdir(parents=True)
    (root / "tmp/inputs/parameters/config").write_text(json.dumps({"k": [1, 2]}))
    run = run_template(PythonOPTemplate(s.Files), tmp_path, artifacts={"inputs": _two_files(tmp_path)})
    assert run.rc == 0
    assert json.loads(run.out_param("config")) == {"k": [1, 2], "seen": True}


@pytest.mark.parametrize("mode, rc, message", [
    ("ok", 0, None),
    ("transient", 1, "TransientError: the license server is busy"),
    ("fatal", 2, "FatalError: the input is inconsistent"),
    ("other", 2, "ZeroDivisionError: division by zero in the model"),
    ("bad-output", 2, "OP 'Flaky' output 'out': expected int, got str 'not an int'"),
    ("missing-output", 2, "OP 'Flaky': output 'out' is declared in the output sign but execute() did not return it"),
])
def test_exit_codes(tmp_path, capfd, mode, rc, message):
    run = run_template(PythonOPTemplate(s.Flaky), tmp_path, params={"mode": mode})
    assert run.rc == rc
    err = capfd.readouterr().err
    if message:
        assert message in err
    else:
        assert run.out_param("out") == "1"


def test_partial_output_is_kept_when_execute_fails(tmp_path):
    run = run_template(PythonOPTemplate(s.Flaky), tmp_path, params={"mode": "partial"})
    assert run.rc == 2
    assert run.out_param("out") == "7"


def test_wrong_input_type_fails_before_execute(tmp_path, capfd):
    run = run_template(PythonOPTemplate(s.Add), tmp_path, params={"a": "forty"})
    assert run.rc == 2
    assert "OP 'Add' input 'a': expected int, got text 'forty' that is not JSON" in capfd.readouterr().err
    assert not (run.cwd / "report.txt").exists()
    run = run_template(PythonOPTemplate(s.Add), tmp_path / "b", params={"a": "[1]"})
    assert run.rc == 2
    assert "OP 'Add' input 'a': expected int, got list [1]" in capfd.readouterr().err


def test_missing_required_artifact_is_a_clear_error(tmp_path, capfd):
    run = run_template(PythonOPTemplate(s.Files), tmp_path)
    assert run.rc == 2
    assert "OP 'Files' input 'inputs': the input artifact is missing" in capfd.readouterr().err


def test_types_round_trip(tmp_path):
    params = {"n": 3, "f": 1.5, "flag": True, "names": ["a", "b"], "table": {"x": 1}, "pair": (1, "one"),
              "maybe": None, "text": "plain {{not a tag}}", "path": "/data/x"}
    run = run_template(PythonOPTemplate(s.Typed), tmp_path, params=params)
    assert run.rc == 0
    out = {k: run.out_param(k) for k in params}
    assert out == {"n": "3", "f": "1.5", "flag": "true", "names": '["a", "b"]', "table": '{"x": 1}',
                   "pair": '[1, "one"]', "maybe": "null", "text": "plain {{not a tag}}", "path": '"/data/x"'}


def test_op_instance_state_is_recorded(tmp_path):
    run = run_template(PythonOPTemplate(s.Scaled(factor=3)), tmp_path, params={"x": 5})
    assert run.rc == 0
    assert run.out_param("y") == "15"


def test_function_ops(tmp_path):
    run = run_template(PythonOPTemplate(s.multiply), tmp_path / "m", params={"x": 4})
    assert run.rc == 0 and run.out_param("product") == "8.0"
    run = run_template(PythonOPTemplate(s.min_max), tmp_path / "n", params={"values": [3, 9, 1]})
    assert run.rc == 0 and (run.out_param("lo"), run.out_param("hi")) == ("1", "9")
    run = run_template(PythonOPTemplate(s.square_each), tmp_path / "q", params={"values": [1, 2]})
    assert run.rc == 0
    assert (run.out_param("dflow_output_0"), run.out_param("dflow_output_1")) == ("[1, 4]", "2")


def test_container_mode_runs_the_script_with_python(tmp_path):
    run = run_template(PythonOPTemplate(s.Add), tmp_path, params={"a": 1, "b": 1}, container=True)
    assert run.rc == 0, run.log
    assert run.out_param("s") == "2"
    assert "adding 1 and 1" in run.log
    run = run_template(PythonOPTemplate(s.Flaky), tmp_path / "t", params={"mode": "transient"}, container=True)
    assert run.rc == 1, run.log
    assert "TransientError" in run.log


def test_sigterm_in_a_container_fails_the_step(tmp_path):
    import signal
    import subprocess
    import sys

    from pyop_harness import HERE, step_env

    templ = PythonOPTemplate(s.multiply)
    manifest = templ.convert_to_argo()
    # a spec whose OP waits for a signal: reuse the runtime on an embedded-source OP
    source = manifest["script"]["source"]
    spec = parse_source(source)
    spec["op"] = {"name": "wait", "source": (
        "import os, signal, sys\nfrom dflow_lab.python import OP\n\n\n@OP.function\n"
        "def wait(x: int, y: float = 2.0) -> {'product': float}:\n"
        "    print('ready', flush=True)\n    signal.pause()\n    return {'product': 0.0}\n")}
    script = tmp_path / "s.py"
    script.write_text(render_source(spec))
    env = {**os.environ, **step_env(manifest, {"x": 1}, tmp_path / "root"),
           "PYTHONPATH": str(HERE)}
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "the step was terminated (SIGTERM)" in err


def test_source_starts_with_the_marker_and_parses_back():
    templ = PythonOPTemplate(s.Add)
    assert templ.script.splitlines()[0] == MARKER
    spec = parse_source(templ.script)
    from pyop_harness import HERE

    assert spec["op"] == {"name": "Add", "module": "pyop_samples", "qualname": "Add", "path": str(HERE)}
    assert spec["parameters"] == {"a": "DFLOW_LAB_PARAM_0", "b": "DFLOW_LAB_PARAM_1"}
    with pytest.raises(ValueError, match="not a dflow-lab Python OP script"):
        parse_source("print(1)\n")


def test_python_packages_go_on_sys_path(tmp_path):
    pkg = tmp_path / "src" / "mylib_h4"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("FACTOR = 6\n")
    op_src = tmp_path / "opmod"
    op_src.mkdir()
    (op_src / "uses_mylib_h4.py").write_text(
        "from dflow_lab.python import OP\n\n\n@OP.function\ndef scale(x: int) -> {'y': int}:\n"
        "    import mylib_h4\n    return {'y': x * mylib_h4.FACTOR}\n")
    import sys

    sys.path.insert(0, str(op_src))
    try:
        import uses_mylib_h4

        templ = PythonOPTemplate(uses_mylib_h4.scale, python_packages=[pkg], upload_dflow=False)
        assert parse_source(templ.script)["python_packages"] == [str(pkg)]
        assert "dflow_python_packages" in templ.inputs.artifacts
        run = run_template(templ, tmp_path / "run", params={"x": 7})
        assert run.rc == 0
        assert run.out_param("y") == "42"
    finally:
        sys.path.remove(str(op_src))
        sys.modules.pop("mylib_h4", None)
        sys.modules.pop("uses_mylib_h4", None)


def test_uploaded_packages_artifact_wins_in_a_container(tmp_path):
    # the packages artifact as upload_artifact lays it out: the package under its path, with a catalog
    art = tmp_path / "pkgs"
    pkg = art / "some/where/pkg_h4_upload"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("VALUE = 'from the artifact'\n")
    (art / ".dflow").mkdir()
    (art / ".dflow/c").write_text(json.dumps({"path_list": [
        {"dflow_list_item": "some/where/pkg_h4_upload", "order": 0}]}))
    upload_packages.append(str(tmp_path / "not-there" / "pkg_h4_upload"))
    try:
        templ = PythonOPTemplate(s.Flaky, upload_dflow=False)
    finally:
        upload_packages.clear()
    spec = parse_source(templ.script)
    spec["op"] = {"name": "probe", "source": (
        "from dflow_lab.python import OP\n\n\n@OP.function\ndef probe(mode: str) -> {'out': int}:\n"
        "    import pkg_h4_upload\n    print(pkg_h4_upload.VALUE)\n    return {'out': 1}\n")}
    templ.render_script = lambda: setattr(templ, "script", render_source(spec))  # same template, probe OP
    run = run_template(templ, tmp_path / "run", params={"mode": "ok"}, artifacts={"dflow_python_packages": art},
                       container=True)
    assert run.rc == 0, run.log
    assert "from the artifact" in run.log


def test_bare_interpreter_runs_the_step_from_uploaded_packages(tmp_path):
    """A container image without dflow-lab: the packages artifact (dflow-lab, jsonpickle, the OP's
    module) is all the step has, as with dflow's upload_dflow."""
    import shutil
    import subprocess
    import sys

    import jsonpickle
    from pyop_harness import HERE, step_env

    import dflow_lab

    templ = PythonOPTemplate(s.Add, python_packages=[HERE / "pyop_samples.py"])
    assert set(templ.python_packages) >= {dflow_lab.__path__[0], jsonpickle.__path__[0]}
    manifest = templ.convert_to_argo()
    root = tmp_path / "root"
    art = root / "tmp/inputs/artifacts/dflow_python_packages"
    items = []
    for i, p in enumerate(sorted(templ.python_packages)):
        rel = p.lstrip("/")
        (art / rel).parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if os.path.isdir(p) else shutil.copy)(p, art / rel)
        items.append({"dflow_list_item": rel, "order": i})
    (art / ".dflow").mkdir()
    (art / ".dflow/catalog").write_text(json.dumps({"path_list": items}))
    work = tmp_path / "work"
    work.mkdir()
    (work / "step.py").write_text(manifest["script"]["source"])
    env = {"PATH": os.environ.get("PATH", ""), **step_env(manifest, {"a": 5}, root)}
    # -S -I: no site-packages, no PYTHONPATH, no user site: dflow-lab is not installed here
    proc = subprocess.run([sys.executable, "-S", "-I", "step.py"], cwd=work, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (root / "tmp/outputs/parameters/s").read_text() == "7"
