"""Input artifacts as the OP receives them, and output artifacts as the runtime lays them out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Set

import pytest

from dflow_lab.python import Artifact, NestedDict
from dflow_lab.python.artifacts import ArtifactPosixPath, read_input_artifact, write_output_artifact


def _catalog(d: Path) -> dict:
    items = [i for f in (d / ".dflow").iterdir() for i in json.loads(f.read_text())["path_list"]]
    return {json.dumps(i["order"]): i["dflow_list_item"] for i in items}


def _art(tmp_path: Path, items: list, files: dict) -> Path:
    d = tmp_path / "art"
    for rel, text in files.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text)
    (d / ".dflow").mkdir(parents=True)
    (d / ".dflow/c").write_text(json.dumps({"path_list": items}))
    return d


def test_inputs_per_type(tmp_path):
    d = _art(tmp_path, [{"dflow_list_item": "a/x", "order": "a.x"}, {"dflow_list_item": "b", "order": "b.0"}],
             {"a/x": "1", "b": "2"})
    nested = read_input_artifact(str(d), Artifact(NestedDict[Path]), "w")
    assert nested == {"a": {"x": d / "a/x"}, "b": [d / "b"]}
    assert nested.art_root == str(d)
    flat = read_input_artifact(str(d), Artifact(List[str]), "w")
    assert sorted(flat) == [str(d / "a/x"), str(d / "b")]
    assert read_input_artifact(str(d), Artifact(Path), "w") == d  # several files: the directory
    assert read_input_artifact(str(tmp_path / "absent"), Artifact(Path), "w") is None


def test_single_file_and_sub_path(tmp_path):
    d = _art(tmp_path, [{"dflow_list_item": "only.txt", "order": 0}], {"only.txt": "x"})
    p = read_input_artifact(str(d), Artifact(Path), "w")
    assert p == d / "only.txt" and isinstance(p, ArtifactPosixPath)
    assert read_input_artifact(str(d), Artifact(Path, sub_path=False), "w") == d
    assert read_input_artifact(str(d), Artifact(Set[Path]), "w") == {d / "only.txt"}


def test_output_layout_rules(tmp_path, monkeypatch):
    cwd = tmp_path / "work"
    inputs = tmp_path / "root/tmp/inputs/artifacts"
    (inputs / "src/deep").mkdir(parents=True)
    (inputs / "src/deep/in.txt").write_text("from an input")
    (cwd / "sub").mkdir(parents=True)
    (cwd / "sub/local.txt").write_text("local")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("abs")
    monkeypatch.chdir(cwd)
    out = tmp_path / "out"
    items = write_output_artifact("o", [Path("sub/local.txt"), inputs / "src/deep/in.txt", outside, None],
                                  Artifact(List[Path]), str(out), str(inputs), str(cwd), "w")
    assert [i["dflow_list_item"] for i in items] == [
        "sub/local.txt", "deep/in.txt", str(outside).lstrip("/"), None]
    assert (out / "sub/local.txt").read_text() == "local"
    assert (out / "deep/in.txt").read_text() == "from an input"
    assert (out / str(outside).lstrip("/")).read_text() == "abs"
    assert _catalog(out) == {"0": "sub/local.txt", "1": "deep/in.txt", "2": str(outside).lstrip("/"), "3": None}


def test_output_dicts_and_sets(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    out = tmp_path / "out"
    write_output_artifact("o", {"x": "a.txt", "y": "b.txt"}, Artifact(Dict[str, str]), str(out), "/nowhere",
                          str(tmp_path), "w")
    assert _catalog(out) == {'"x"': "a.txt", '"y"': "b.txt"}
    out2 = tmp_path / "out2"
    write_output_artifact("o", {"b.txt", "a.txt"}, Artifact(Set[str]), str(out2), "/nowhere", str(tmp_path), "w")
    assert _catalog(out2) == {"0": "a.txt", "1": "b.txt"}  # a set is written in sorted order


def test_missing_output_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="OP 'X' output 'o': path 'nope.txt' does not exist"):
        write_output_artifact("o", Path("nope.txt"), Artifact(Path), str(tmp_path / "out"), "/nowhere",
                              str(tmp_path), "OP 'X' output 'o'")


def test_sliced_output_orders(tmp_path):
    (tmp_path / "r.txt").write_text("r")
    out = tmp_path / "out"
    write_output_artifact("o", Path("r.txt"), Artifact(Path), str(out), "/nowhere", str(tmp_path), "w", slices=4)
    assert _catalog(out) == {"4": "r.txt"}


def test_none_output_is_an_empty_artifact(tmp_path):
    out = tmp_path / "out"
    assert write_output_artifact("o", None, Artifact(Path, optional=True), str(out), "/nowhere",
                                 str(tmp_path), "w") == [{"dflow_list_item": None, "order": 0}]
    assert _catalog(out) == {"0": None}
    assert write_output_artifact("o", None, Artifact(List[Path]), str(tmp_path / "o2"), "/nowhere",
                                 str(tmp_path), "w") == []
    with pytest.raises(ValueError, match="w: expected one value per slice \\(2\\)"):
        write_output_artifact("o", [Path("x")], Artifact(Path), str(tmp_path / "o3"), "/nowhere", str(tmp_path),
                              "w", slices=[0, 1])


def test_hdf5_artifacts_round_trip(tmp_path):
    pytest.importorskip("h5py")
    import pyop_samples as s
    from pyop_harness import run_template

    from dflow_lab.python import PythonOPTemplate

    first = run_template(PythonOPTemplate(s.Pack), tmp_path / "pack", params={"n": 7})
    assert first.rc == 0
    packed = first.out_art("packed")
    (h5,) = [p for p in packed.iterdir() if p.suffix == ".h5"]
    assert _catalog(packed) == {"0": h5.name}
    second = run_template(PythonOPTemplate(s.Unpack), tmp_path / "unpack", artifacts={"packed": packed})
    assert second.rc == 0
    out = {k: second.out_param(k) for k in ("n", "label", "text", "poscar", "empty", "series")}
    assert out == {"n": "7", "label": "run", "text": "energy: -1.5\n", "poscar": "Si\n", "empty": "true",
                   "series": "[1.0, 2.0]"}
    assert (second.cwd / "result.txt").read_text() == "energy: -1.5\n"  # recovered where the OP runs


def test_hdf5_lists_are_concatenated_across_files(tmp_path):
    pytest.importorskip("h5py")
    from dflow_lab.python.hdf5 import read_hdf5, write_hdf5

    a = write_hdf5([1, 2], str(tmp_path), str(tmp_path), "w")
    b = write_hdf5([3], str(tmp_path), str(tmp_path), "w")
    values = read_hdf5([str(tmp_path / a["dflow_list_item"]), str(tmp_path / b["dflow_list_item"])])
    assert [int(v.get_data()) for v in values] == [1, 2, 3]
    with pytest.raises(FileNotFoundError, match="w: item '0': path 'missing.txt' does not exist"):
        write_hdf5([Path("missing.txt")], str(tmp_path), str(tmp_path), "w")


def test_an_empty_artifact_reads_as_none(tmp_path):
    out = tmp_path / "out"
    write_output_artifact("o", None, Artifact(Path), str(out), "/nowhere", str(tmp_path), "w")
    assert read_input_artifact(str(out), Artifact(Path, optional=True), "w") is None
