"""Sliced output artifacts and sub-path slices, written the way dflow users write them.

``Slices(output_artifact=[...])`` on a fan-out: dflow inserts ``<step>-init-artifact`` and every item
saves its part under the key that step made, so the next step sees one artifact holding the merged
items (their files and one catalog each). ``Slices(sub_path=True)``: the items come from the catalog
of a directory artifact, each taking its own sub-path. Both with ``group_size``/``pool_size``, in
Steps, DAGs and Steps templates, over ``with_param`` and ``with_sequence``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dflow_lab import (
    DAG,
    OutputArtifact,
    ShellOPTemplate,
    Step,
    Steps,
    Task,
    Workflow,
    argo_range,
    argo_sequence,
    download_artifact,
    upload_artifact,
)
from dflow_lab.config import config
from dflow_lab.errors import WorkflowValueError
from dflow_lab.python import OP, OPIO, Artifact, OPIOSign, PythonOPTemplate, Slices, upload_packages


class Hello(OP):
    """Writes ``<filename>`` holding ``hello <filename>``; reports its length."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"filename": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"foo": Artifact(str), "size": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        text = "hello " + op_in["filename"]
        Path(op_in["filename"]).write_text(text)
        return OPIO({"foo": op_in["filename"], "size": len(text)})


class Check(OP):
    """Reads a list of files, in the order the artifact's catalog gives."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"foo": Artifact(List[Path])})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"texts": List[str], "names": List[str]})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"texts": [p.read_text() for p in op_in["foo"]], "names": [p.name for p in op_in["foo"]]})


FILES = ["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"]
TEXTS = ["hello " + f for f in FILES]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setitem(config, "local_workdir", str(tmp_path / "ws"))
    monkeypatch.setitem(config, "mode", "local")
    monkeypatch.chdir(tmp_path)
    upload_packages.append(__file__)  # as a dflow user's script does (here undone after the test)
    yield tmp_path
    upload_packages.remove(__file__)


def _hello(step_cls, name, slices, **kw):
    return step_cls(name, PythonOPTemplate(Hello, slices=slices), parameters={"filename": FILES}, **kw)


def _finish(wf):
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Succeeded", [(s.name, s.phase, s.get("message")) for s in wf.query_step()
                                              if s.phase != "Succeeded"]


def _value(wf, key, name):
    return wf.query_step(key=key)[0].outputs.parameters[name].value


def _layout(wf, step_name, art, dest):
    """The files and catalog entries of the init step's artifact (what the next step reads)."""
    init = wf.query_step(name=f"{step_name}-init-artifact")[0]
    download_artifact(init.outputs.artifacts[art], path=str(dest), remove_catalog=False)
    path = next(p.parent for p in Path(dest).rglob(".dflow"))
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and ".dflow" not in p.parts)
    items = []
    for cat in (path / ".dflow").iterdir():
        items += json.loads(cat.read_text())["path_list"]
    return files, sorted(items, key=lambda i: i["order"])


@pytest.mark.parametrize("slices", [
    Slices("{{item}}", input_parameter=["filename"], output_artifact=["foo"], output_parameter=["size"]),
    Slices("{{item}}", input_parameter=["filename"], output_artifact=["foo"], output_parameter=["size"],
           group_size=2, pool_size=1),
    Slices("{{item}}", input_parameter=["filename"], output_artifact=["foo"], output_parameter=["size"],
           group_size=2, pool_size=2),
], ids=["one-per-item", "groups", "groups-in-a-pool"])
def test_sliced_output_artifact_of_a_steps_fan_out(workdir, slices):
    wf = Workflow("sliced-out")
    hello = _hello(Step, "hello", slices, with_param=argo_range(len(FILES)), key="hello-{{item}}")
    wf.add(hello)
    wf.add(Step("check", PythonOPTemplate(Check), artifacts={"foo": hello.outputs.artifacts["foo"]}, key="check"))
    wf.add(Step("sizes", PythonOPTemplate(SumSizes),
                parameters={"sizes": hello.outputs.parameters["size"]}, key="sizes"))
    _finish(wf)
    assert _value(wf, "check", "texts") == TEXTS
    assert _value(wf, "sizes", "total") == sum(len(t) for t in TEXTS)
    files, items = _layout(wf, "hello", "foo", workdir / "dl")
    assert files == FILES  # every item's file, merged into the init step's artifact
    assert items == [{"dflow_list_item": f, "order": i} for i, f in enumerate(FILES)]
    if slices.group_size:
        assert len(wf.query_step(name="hello", type="Pod")) == 3  # groups of 2: [0, 1], [2, 3], [4]


class SumSizes(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"sizes": List[int]})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"total": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"total": sum(op_in["sizes"])})


def test_sliced_output_artifact_of_a_dag_fan_out_over_a_sequence(workdir):
    dag = DAG("sliced-dag")
    hello = _hello(Task, "hello", Slices("{{item}}", input_parameter=["filename"], output_artifact=["foo"],
                                         group_size=2, pool_size=1),
                   with_sequence=argo_sequence(len(FILES)), key="hello-{{item}}")
    dag.add(hello)
    check = Task("check", PythonOPTemplate(Check), artifacts={"foo": hello.outputs.artifacts["foo"]}, key="check")
    dag.add(check)
    wf = Workflow("sliced-dag", dag=dag)
    _finish(wf)
    assert _value(wf, "check", "texts") == TEXTS


def test_sliced_output_artifact_out_of_a_steps_template_and_an_empty_fan_out(workdir):
    """dflow's test_loop_slices: a Steps template's output artifact is a sliced fan-out's; a fan-out of
    no items leaves the init step's empty artifact, an empty list to the next step."""
    steps = Steps("slices-steps")
    hello0 = _hello(Step, "hello0", Slices("{{item}}", input_parameter=["filename"], output_artifact=["foo"]),
                    with_param=argo_range(2), key="hello-0-{{item}}")
    steps.add(hello0)
    hello1 = Step("hello1", PythonOPTemplate(Hello, slices=Slices("{{item}}", input_parameter=["filename"],
                                                                 output_artifact=["foo"])),
                  parameters={"filename": []}, with_param=argo_range(0), key="hello-1-{{item}}")
    steps.add(hello1)
    steps.add(Step("check1", PythonOPTemplate(Check), artifacts={"foo": hello1.outputs.artifacts["foo"]},
                   key="check1"))
    steps.outputs.artifacts["foo"] = OutputArtifact(_from=hello0.outputs.artifacts["foo"])
    wf = Workflow("loop-slices")
    inner = Step("inner", steps)
    wf.add(inner)
    wf.add(Step("check", PythonOPTemplate(Check), artifacts={"foo": inner.outputs.artifacts["foo"]}, key="check"))
    _finish(wf)
    assert _value(wf, "check", "texts") == TEXTS[:2]
    assert _value(wf, "check1", "texts") == []


# ---- Slices(sub_path=True) --------------------------------------------------------------------------


class Prepare(OP):
    """Writes one file per name, as dflow's test_subpath_slices: a list artifact with a catalog."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"names": List[str]})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"foo": Artifact(List[str], archive=None)})

    @OP.exec_sign_check
    def execute(self, op_in):
        for n in op_in["names"]:
            Path(n).parent.mkdir(parents=True, exist_ok=True)
            Path(n).write_text("text of " + n)
        return OPIO({"foo": list(op_in["names"])})


class Read(OP):
    """Reads its one file (its sub-path of the artifact) and copies it under a new name."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"foo": Artifact(Path), "suffix": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"text": str, "copy": Artifact(Path)})

    @OP.exec_sign_check
    def execute(self, op_in):
        text = op_in["foo"].read_text()
        out = Path(op_in["foo"].name + op_in["suffix"])
        out.write_text(text.upper())
        return OPIO({"text": f"{text}@{op_in['foo'].name}", "copy": out})


class ReadGroup(OP):
    """Reads a group of files at once (Slices(sub_path=True, group_size=g) without a pool)."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"foo": Artifact(List[Path])})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"text": List[str]})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"text": [p.read_text() for p in op_in["foo"]]})


class Collect(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"texts": List[str], "copies": Artifact(List[Path], optional=True)})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"texts": List[str], "copies": List[str]})

    @OP.exec_sign_check
    def execute(self, op_in):
        copies = [p.read_text() for p in op_in["copies"]] if op_in["copies"] is not None else []
        return OPIO({"texts": op_in["texts"], "copies": copies})


NAMES = ["a.txt", "sub/b.txt", "c.txt", "d.txt", "e.txt"]


def test_sub_path_slices_in_steps(workdir):
    """dflow's test_subpath_slices, with the items' text and copies collected by the next step."""
    wf = Workflow("subpath-slices")
    prepare = Step("prepare", PythonOPTemplate(Prepare), parameters={"names": NAMES})
    wf.add(prepare)
    read = Step("read", PythonOPTemplate(Read, slices=Slices(sub_path=True, input_artifact=["foo"],
                                                             output_parameter=["text"], output_artifact=["copy"])),
                parameters={"suffix": ".up"}, artifacts={"foo": prepare.outputs.artifacts["foo"]},
                key="read-{{item.order}}")
    wf.add(read)
    wf.add(Step("collect", PythonOPTemplate(Collect), parameters={"texts": read.outputs.parameters["text"]},
                artifacts={"copies": read.outputs.artifacts["copy"]}, key="collect"))
    _finish(wf)
    expected = [f"text of {n}@{Path(n).name}" for n in NAMES]
    assert _value(wf, "collect", "texts") == expected
    assert _value(wf, "collect", "copies") == [f"TEXT OF {n.upper()}" for n in NAMES]
    # each item got only its own sub-path of the artifact
    assert json.loads(_value(wf, "read-1", "text")) == [{"dflow_list_item": "text of sub/b.txt@b.txt", "order": 1}]
    assert [s.key for s in wf.query_step(name="read", type="Pod")] == [f"read-{i}" for i in range(len(NAMES))]


@pytest.mark.parametrize("pool_size", [1, 2])
def test_sub_path_slices_in_groups_in_a_dag(workdir, pool_size):
    dag = DAG("subpath-dag")
    prepare = Task("prepare", PythonOPTemplate(Prepare), parameters={"names": NAMES})
    dag.add(prepare)
    read = Task("read", PythonOPTemplate(Read, slices=Slices(sub_path=True, input_artifact=["foo"],
                                                             output_parameter=["text"], output_artifact=["copy"],
                                                             group_size=2, pool_size=pool_size)),
                parameters={"suffix": ".up"}, artifacts={"foo": prepare.outputs.artifacts["foo"]}, key="read-{{item}}")
    dag.add(read)
    dag.add(Task("collect", PythonOPTemplate(Collect), parameters={"texts": read.outputs.parameters["text"]},
                 artifacts={"copies": read.outputs.artifacts["copy"]}, key="collect"))
    wf = Workflow("subpath-dag", dag=dag)
    _finish(wf)
    assert _value(wf, "collect", "texts") == [f"text of {n}@{Path(n).name}" for n in NAMES]
    assert _value(wf, "collect", "copies") == [f"TEXT OF {n.upper()}" for n in NAMES]
    assert len(wf.query_step(name="read", type="Pod")) == 3  # groups [a, b], [c, d], [e]
    assert wf.query_step(key="read-group-init-artifact")[0].outputs.parameters["dflow_ngroups"].value == 3


def test_sub_path_groups_without_a_pool_take_lists_in_a_steps_template(workdir):
    steps = Steps("subpath-steps")
    prepare = Step("prepare", PythonOPTemplate(Prepare), parameters={"names": NAMES})
    steps.add(prepare)
    read = Step("read", PythonOPTemplate(ReadGroup, slices=Slices(sub_path=True, input_artifact=["foo"],
                                                                  output_parameter=["text"], group_size=3)),
                artifacts={"foo": prepare.outputs.artifacts["foo"]})
    steps.add(read)
    steps.add(Step("collect", PythonOPTemplate(Collect), parameters={"texts": read.outputs.parameters["text"]},
                   key="collect"))
    wf = Workflow("subpath-steps", steps=steps)
    _finish(wf)
    assert _value(wf, "collect", "texts") == [f"text of {n}" for n in NAMES]
    assert len(wf.query_step(name="read", type="Pod")) == 2


def test_sub_path_slices_refuse_a_catalog_entry_outside_the_artifact(workdir):
    """A catalog is data: an entry that climbs out of the artifact fails the init step, and no item runs."""
    sneaky_t = ShellOPTemplate(name="sneaky", image="alpine:3", script=(
        "mkdir -p /tmp/d/.dflow && echo '{\"path_list\": [{\"dflow_list_item\": \"../../x\", \"order\": 0}]}' "
        "> /tmp/d/.dflow/bad\n"))
    sneaky_t.outputs.artifacts["foo"] = OutputArtifact(path="/tmp/d", archive=None)
    wf = Workflow("subpath-bad")
    sneaky = Step("sneaky", sneaky_t)
    wf.add(sneaky)
    wf.add(Step("read", PythonOPTemplate(Read, slices=Slices(sub_path=True, input_artifact=["foo"])),
                parameters={"suffix": ".x"}, artifacts={"foo": sneaky.outputs.artifacts["foo"]}))
    wf.submit()
    wf.wait()
    assert wf.query_status() == "Failed"
    init = wf.query_step(name="read-init-artifact")[0]
    assert init.phase == "Failed"
    assert not wf.query_step(name="read", type="Pod")


def test_sub_path_slices_replace_a_sequence_by_the_artifacts_entries(workdir):
    """As dflow: a with_sequence given to a sub-path sliced step gives way to the catalog's entries, and its
    {{item}} tags become {{item.order}}."""
    wf = Workflow("subpath-seq")
    prepare = Step("prepare", PythonOPTemplate(Prepare), parameters={"names": NAMES[:3]})
    wf.add(prepare)
    read = Step("read", PythonOPTemplate(Read, slices=Slices(sub_path=True, input_artifact=["foo"],
                                                             output_artifact=["copy"])),
                parameters={"suffix": ".{{item}}"}, artifacts={"foo": prepare.outputs.artifacts["foo"]},
                with_sequence=argo_sequence(7))
    wf.add(read)
    wf.add(Step("check", PythonOPTemplate(Check), artifacts={"foo": read.outputs.artifacts["copy"]}, key="check"))
    _finish(wf)
    assert _value(wf, "check", "names") == ["a.txt.0", "b.txt.1", "c.txt.2"]
    assert _value(wf, "check", "texts") == [f"TEXT OF {n.upper()}" for n in NAMES[:3]]


class Names(OP):
    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"n": int})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"names": List[str]})

    @OP.exec_sign_check
    def execute(self, op_in):
        return OPIO({"names": [f"g{i}.txt" for i in range(op_in["n"])]})


@pytest.mark.parametrize("step_cls", [Step, Task], ids=["steps", "dag"])
def test_a_sliced_step_without_a_loop_infers_it_from_its_sliced_input(workdir, step_cls):
    """dflow's inferred loop: one item per element of the first sliced input parameter, a literal list or
    another step's output; the sliced outputs stack as with a with_param."""
    names = step_cls("names", PythonOPTemplate(Names), parameters={"n": 3})
    literal = step_cls("literal", PythonOPTemplate(Hello, slices=Slices(input_parameter=["filename"],
                                                                        output_artifact=["foo"])),
                       parameters={"filename": FILES[:2]})
    wired = step_cls("wired", PythonOPTemplate(Hello, slices=Slices(input_parameter=["filename"],
                                                                      output_artifact=["foo"])),
                     parameters={"filename": names.outputs.parameters["names"]})
    checks = [step_cls("check-literal", PythonOPTemplate(Check), artifacts={"foo": literal.outputs.artifacts["foo"]},
                       key="check-literal"),
              step_cls("check-wired", PythonOPTemplate(Check), artifacts={"foo": wired.outputs.artifacts["foo"]},
                       key="check-wired")]
    if step_cls is Step:
        wf = Workflow("inferred")
        for s in (names, literal, wired, *checks):
            wf.add(s)
    else:
        dag = DAG("inferred")
        dag.add([names, literal, wired, *checks])
        wf = Workflow("inferred", dag=dag)
    _finish(wf)
    assert _value(wf, "check-literal", "texts") == TEXTS[:2]
    assert _value(wf, "check-wired", "names") == ["g0.txt", "g1.txt", "g2.txt"]


def test_a_step_sliced_over_artifacts_only_asks_for_its_loop(workdir):
    with pytest.raises(WorkflowValueError, match=r"step 'read', field 'with_param'.*argo_range.*sub_path=True"):
        Step("read", PythonOPTemplate(Read, slices=Slices(input_artifact=["foo"])), parameters={"suffix": ""},
             artifacts={"foo": upload_artifact([])})


@settings(max_examples=200, derandomize=True, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("ab./\\\\~_-"), min_size=0, max_size=12))
def test_a_steps_sub_path_never_leaves_its_artifact(sub):
    """The sub-path a step is given (a parameter, rendered by the engine) is refused unless it stays inside
    the artifact's directory."""
    from dflow_lab.python.runtime import _sub_paths

    root = "/x/inputs/artifacts/foo"
    try:
        got = _sub_paths({"foo": "ENV"}, {"ENV": sub}, "Op")["foo"]
    except ValueError as e:
        assert "outside the artifact" in str(e)
        return
    joined = os.path.normpath(os.path.join(root, got))
    assert joined == root or joined.startswith(root + "/")
