"""OP, OPIO/OPIOSign, the sign entries, the type checks and function OPs (no engine involved)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple, TypedDict

import pyop_samples as s
import pytest

import dflow_lab.python as dp
from dflow_lab.python import (
    OP,
    OPIO,
    Artifact,
    BigParameter,
    HDF5Datasets,
    NestedDict,
    OPIOSign,
    Parameter,
)
from dflow_lab.python.typecheck import check_value, describe_type, type_from_str
from dflow_lab.python.values import decode_value, encode_value


def test_public_names_match_pydflow():
    assert set(dp.__all__) == {"OP", "OPIO", "Artifact", "BigParameter", "OPIOSign", "Parameter", "FatalError",
                               "PythonOPTemplate", "Slices", "TransientError", "upload_packages", "NestedDict",
                               "HDF5Datasets"}
    for name in dp.__all__:
        assert getattr(dp, name) is not None


def test_opio_and_sign_are_mappings():
    sign = OPIOSign({"a": int}, b=Parameter(str, default="x"))
    assert list(sign) == ["a", "b"] and len(sign) == 2
    sign["c"] = Artifact(Path)
    del sign["a"]
    assert list(sign) == ["b", "c"]
    io = OPIO(a=1)
    io["b"] = 2
    assert dict(io) == {"a": 1, "b": 2} and repr(io) == "{'a': 1, 'b': 2}"


def test_sign_entries():
    p = Parameter(int, default=3, description="count")
    assert (p.type, p.default, p.description, p.global_name) == (int, 3, "count", None)
    assert repr(p) == "Parameter(type=int, default=3)"
    assert Parameter.from_dict(p.to_dict()).default == 3
    assert not hasattr(Parameter(int), "default")
    b = BigParameter(Dict[str, int], default={"a": 1})
    assert repr(b) == 'BigParameter(type=Dict[str, int], default={"a": 1})'
    assert BigParameter.from_dict(b.to_dict()).type == Dict[str, int]
    a = Artifact(List[Path], optional=True, archive=None)
    assert repr(a) == "Artifact(type=List[pathlib.Path], optional=True, sub_path=True)"
    assert Artifact.from_dict(a.to_dict()).type == List[Path]
    assert Artifact(Path).archive == "tar"  # "default" means config["archive_mode"]
    for t in (str, Path, Set[str], List[Path], Dict[str, Path], NestedDict[str], NestedDict[Path],
              HDF5Datasets, Optional[List[Path]] if False else List[str]):
        Artifact(t)
    with pytest.raises(TypeError, match=r"Artifact\(type=int\): not an artifact type; use one of str"):
        Artifact(int)


@pytest.mark.parametrize("t", [int, str, Any, List[int], Dict[str, Path], Optional[int], Tuple[int, ...],
                               Tuple[int, str], NestedDict[Path], Set[str], Optional[Dict[str, List[float]]]])
def test_type_names_round_trip(t):
    assert type_from_str(describe_type(t)) == t


def test_type_from_str_evaluates_nothing():
    with pytest.raises(ValueError, match="unsupported syntax"):
        type_from_str("__import__('os').system('true')")
    assert type_from_str("typing.List[int]") == List[int]


@pytest.mark.parametrize("value, t, message", [
    ("x", int, "expected int, got str 'x'"),
    ([1, "2"], List[int], "expected List[int], got item 1: str '2'"),
    ({"a": "b"}, Dict[str, int], "expected Dict[str, int], got value of key 'a': str 'b'"),
    ({1: 2}, Dict[str, int], "expected Dict[str, int], got key 1: int 1"),
    ((1, 2), Tuple[int, str], "expected Tuple[int, str], got item 1: int 2"),
    (3.5, Optional[int], "expected Optional[int], got float 3.5"),
    ({"a": {"b": 3}}, NestedDict[Path], "expected NestedDict[pathlib.Path], got at 'a': at 'b': int 3"),
])
def test_type_errors_say_where_what_and_got(value, t, message):
    with pytest.raises(TypeError) as e:
        check_value(value, t, "OP 'X' input 'v'")
    assert str(e.value) == f"OP 'X' input 'v': {message}"


@pytest.mark.parametrize("value, t", [
    (1, float), (True, int), (None, Optional[str]), ([1, None], List[Optional[int]]), ({"a": [1]}, Dict[str, list]),
    ("x", Any), ([Path("a")], List[Path]), ({"a": {"b": "c"}}, NestedDict[str]), ((1, 2, 3), Tuple[int, ...]),
])
def test_type_check_accepts(value, t):
    check_value(value, t, "here")


def test_typed_dict_check():
    class Point(TypedDict):
        x: int
        y: int

    check_value({"x": 1, "y": 2}, Point, "p")
    with pytest.raises(TypeError, match="a dict without key 'y'"):
        check_value({"x": 1}, Point, "p")


def test_values_encode_json_and_decode_per_type():
    assert encode_value("raw {{text}}") == "raw {{text}}"
    assert encode_value({"a": (1, 2)}) == '{"a": [1, 2]}'
    assert encode_value({3, 1, 2}) == "[1, 2, 3]"
    assert decode_value("[1, 2]", Set[int], "v") == {1, 2}
    assert decode_value('{"1": "a"}', Dict[int, str], "v") == {1: "a"}
    assert decode_value("not json", Any, "v") == "not json"
    assert decode_value("7", str, "v") == "7"
    assert decode_value("/a/b", Path, "v") == Path("/a/b")
    with pytest.raises(ValueError, match="OP 'X' input 'n': expected int, got text 'seven' that is not JSON"):
        decode_value("seven", int, "OP 'X' input 'n'")


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


def test_values_use_jsonpickle_only_for_classes_json_cannot_carry():
    text = encode_value(Point(3))
    assert '"py/object"' in text
    assert decode_value(text, Point, "v").x == 3
    # a dict-typed parameter never instantiates objects, whatever the text says
    assert decode_value(text, dict, "v") == {"py/object": f"{__name__}.Point", "x": 3}


def test_exec_sign_check_fills_defaults_and_checks():
    op = s.Add()
    with pytest.raises(RuntimeError, match="OP 'Add': input 'a' is declared in the input sign but was not passed"):
        op.execute(OPIO())
    with pytest.raises(RuntimeError, match=r"OP 'Add': input 'z' is not declared in the input sign \(declared: 'a', 'b'\)"):
        op.execute(OPIO(a=1, z=2))
    with pytest.raises(TypeError, match="OP 'Add' input 'a': expected int, got str '1'"):
        op.execute(OPIO(a="1"))


def test_exec_sign_check_checks_outputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match="OP 'Flaky' output 'out': expected int, got str 'not an int'"):
        OP.exec_sign_check(s.Flaky.execute)(s.Flaky(), OPIO(mode="bad-output"))
    out = s.Add().execute(OPIO(a=1))
    assert out["s"] == 3 and out["report"] == Path("report.txt")


def test_check_signature_artifact_rules():
    sign = OPIOSign({"f": Artifact(Path), "l": Artifact(List[Path]), "o": Artifact(Path, optional=True)})
    io = OPIO(f="any/str/is/fine", l=[Path("a"), None])
    OP._check_signature(io, sign, True)
    assert io["o"] is None
    with pytest.raises(TypeError, match="input 'l': expected List"):
        OP._check_signature(OPIO(f="x", l=["a"]), sign, True)


def test_function_op_signs():
    assert isinstance(s.multiply, OP)
    assert s.multiply.__class__.__name__ == "multiply"
    ins = s.multiply.get_input_sign()
    assert ins["x"] is int and ins["y"].type is float and ins["y"].default == 2.0
    assert dict(s.multiply.get_output_sign()) == {"product": float}
    assert dict(s.min_max.get_output_sign()) == {"lo": int, "hi": int}
    assert dict(s.square_each.get_output_sign()) == {"dflow_output_0": List[int], "dflow_output_1": int}
    listing_in = s.listing.get_input_sign()
    assert listing_in["one"].optional is True


def test_function_op_called_directly_returns_its_opio():
    assert dict(s.multiply(3)) == {"product": 6.0}
    assert dict(s.multiply(x=3, y=0.5)) == {"product": 1.5}
    assert dict(s.min_max([4, 2, 8])) == {"lo": 2, "hi": 8}
    with pytest.raises(TypeError, match="got multiple values for argument 'x'"):
        s.multiply(3, x=4)
    with pytest.raises(TypeError, match="OP 'multiply' input 'x': expected int, got str 'a'"):
        s.multiply("a")


def test_function_op_with_future_annotations(tmp_path, monkeypatch):
    (tmp_path / "future_op_h4.py").write_text(
        "from __future__ import annotations\nfrom typing import List\nfrom dflow_lab.python import OP, Parameter\n\n"
        "@OP.function\ndef total(xs: List[int], k: Parameter(int, default=1)) -> int:\n    return sum(xs) * k\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import future_op_h4

    ins = future_op_h4.total.get_input_sign()
    assert ins["xs"] == List[int] and ins["k"].default == 1
    assert dict(future_op_h4.total.get_output_sign()) == {"dflow_output": int}
    assert dict(future_op_h4.total([1, 2])) == {"dflow_output": 3}


def test_function_op_without_return_annotation():
    @OP.function
    def nothing(a: int):
        return None

    assert dict(nothing.get_output_sign()) == {}
    assert dict(nothing(1)) == {}


def test_get_info_and_graph_description():
    info = s.Add.get_info()
    assert info["name"] == "pyop_samples.Add"
    assert info["inputs"]["b"] == "Parameter(type=int, default=2)"
    assert "def execute" in info["execute"]
    g = s.Add.convert_to_graph()
    assert g["module"] == "pyop_samples" and g["name"] == "Add"
    assert OP.from_graph(g) is s.Add


def test_progress_is_reported_through_the_progress_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ARGO_PROGRESS_FILE", str(tmp_path / "progress"))
    op = s.Add()
    op.progress_total = 10
    op.progress_current = 4
    assert (tmp_path / "progress").read_text() == "4/10"


def test_storage_keys_and_links_from_the_argo_template(monkeypatch):
    import json as _json

    templ = {"inputs": {"artifacts": [{"name": "inp", "s3": {"key": "wf/a/inp.tgz"}}]},
             "outputs": {"artifacts": [{"name": "out"}, {"name": "raw", "archive": {"none": {}}}]},
             "archiveLocation": {"s3": {"key": "wf/pod-1"}}}
    monkeypatch.setenv("ARGO_TEMPLATE", _json.dumps(templ))
    op = s.Add()
    assert op.get_input_artifact_storage_key("inp") == "wf/a/inp.tgz"
    assert op.get_output_artifact_storage_key("out") == "wf/pod-1/out.tgz"
    assert op.get_output_artifact_storage_key("raw") == "wf/pod-1/raw"
    assert op.get_input_artifact_link("inp").endswith("/browse/d2YvYS9pbnAudGd6")
    with pytest.raises(KeyError, match="no inputs artifact 'nope'"):
        op.get_input_artifact_storage_key("nope")
    monkeypatch.delenv("ARGO_TEMPLATE")
    with pytest.raises(RuntimeError, match=r"\$ARGO_TEMPLATE is not set"):
        op.get_input_artifact_storage_key("inp")


def test_text_that_looks_like_json_stays_text_for_optional_str():
    assert decode_value("123", Optional[str], "v") == "123"
    assert decode_value("null", Optional[str], "v") is None
    assert decode_value('"quoted"', Optional[str], "v") == "quoted"
    assert decode_value("123", Any, "v") == 123  # untyped: JSON first, as dflow


def test_calls_of_one_function_op_share_its_template():
    t1, t2 = (t.template for t in s.inc_twice.tasks)
    assert t1 is t2
