"""``dflow-lab lint`` runs the local engine's pre-run checks (issue 12): a DAG cycle or a task that depends
on itself, which ``run`` refuses, is reported by ``lint`` with the same message (one function,
``check_manifest``, which uses the engine's own ``find_cycle``)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dflow_lab.local.depends import find_cycle, from_dependencies, parse_depends

MANIFEST = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: {name}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
{tasks}
  - name: echo
    script:
      image: alpine:3
      command: [sh]
      source: echo hi
"""

CASES = {
    "cycle": ("      - {name: a, template: echo, depends: b}\n      - {name: b, template: echo, depends: 'a && c'}\n"
              "      - {name: c, template: echo}\n", "dependency cycle a -> b -> a"),
    "self": ("      - {name: a, template: echo}\n      - {name: c, template: echo, dependencies: [a, c]}\n",
             "dependency cycle c -> c"),
}


def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dflow_lab.main", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("case", sorted(CASES))
def test_lint_reports_what_run_refuses(case, tmp_path):
    tasks, message = CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(MANIFEST.format(name=f"dag-{case}", tasks=tasks))
    lint = _cli("lint", str(path), cwd=tmp_path)
    assert lint.returncode == 1 and message in lint.stdout, lint.stdout + lint.stderr
    assert f"workflow 'dag-{case}', template 'main'" in lint.stdout
    run = _cli("run", str(path), cwd=tmp_path)
    assert run.returncode == 1 and message in run.stderr, run.stdout + run.stderr
    lint_problem = lint.stdout.strip().split(": ", 1)[1]
    assert lint_problem in run.stderr  # the same check, the same words
    assert not list((tmp_path / ".dflow-lab").glob(f"**/dag-{case}*"))  # refused before anything is stored


def test_find_cycle():
    deps = {"a": None, "b": parse_depends("a && (c.Failed || d)"), "c": from_dependencies(["b"]), "d": None}
    assert find_cycle(deps) == ["b", "c", "b"]
    assert find_cycle({"a": from_dependencies(["a"])}) == ["a", "a"]
    assert find_cycle({"a": None, "b": from_dependencies(["a"])}) is None
    chain = {f"t{i}": from_dependencies([f"t{i - 1}"]) if i else None for i in range(10_000)}
    assert find_cycle(chain) is None  # iterative
