"""Names that become paths: refused at every entry (CLI, Python API, the engine's own entry), and every
path derived from a name stays inside the workspace (symlinks included). See docs/security.md,
"Names and paths"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dflow_lab.errors import WorkflowValueError
from dflow_lab.local.backend import LocalBackend
from dflow_lab.local.engine import EngineHost
from dflow_lab.names import (
    FIELD_NAME_MAX,
    SUBDOMAIN_RE,
    WORKFLOW_NAME_MAX,
    PathEscapeError,
    check_field_name,
    check_generate_name,
    check_workflow_name,
    generated_name,
    remove_in_workspace,
    workspace_child,
    workspace_path,
)
from dflow_lab.workflow import Workflow

from .local_helpers import manifest, sh

REPO = Path(__file__).resolve().parents[2]
EVIL = "../../victimdir"


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A workspace ``a/b/ws`` and, where ``runs/../../victimdir`` points, a victim directory with a file."""
    ws = tmp_path / "a" / "b" / "ws"
    ws.mkdir(parents=True)
    victim = tmp_path / "a" / "b" / "victimdir"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    return ws, victim


def _cli(ws: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "dflow_lab.main", "--workdir", str(ws), *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ws.parent)


def _untouched(ws: Path, victim: Path) -> None:
    assert (victim / "precious.txt").read_text() == "keep me"
    assert sorted(p.name for p in victim.iterdir()) == ["precious.txt"]
    outside = sorted(p.name for p in ws.parent.iterdir())
    assert outside == ["victimdir", "ws"], outside  # no victimdir.lock, no other file beside the workspace


def _evil_manifest(tmp_path: Path, **meta) -> Path:
    m = manifest([sh("main", "echo hi")])
    m["metadata"] = meta
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(m))
    return path


# -- the attack, through the CLI --------------------------------------------------------------------

@pytest.mark.parametrize("meta", [{"name": EVIL}, {"generateName": EVIL + "-"}, {"name": "victim/../../x"},
                                  {"generateName": "/tmp/abs-"}])
def test_run_refuses_a_manifest_whose_name_is_a_path(layout, tmp_path, meta):
    ws, victim = layout
    result = _cli(ws, "run", str(_evil_manifest(tmp_path, **meta)))
    assert result.returncode == 1, result
    assert "invalid workflow name" in result.stderr or "invalid generateName" in result.stderr
    assert "metadata." in result.stderr
    _untouched(ws, victim)
    assert LocalBackend(ws).list() == []


def test_lint_refuses_it_too(layout, tmp_path):
    ws, victim = layout
    result = _cli(ws, "lint", str(_evil_manifest(tmp_path, name=EVIL)), "--output", "json")
    assert result.returncode == 1
    problems = json.loads(result.stdout)["problems"]
    assert len(problems) == 1 and "invalid workflow name" in problems[0] and "metadata.name" in problems[0]
    _untouched(ws, victim)


def _plant(ws: Path, name: str) -> None:
    """A workflow record under a hostile name, as an earlier version of the engine stored it."""
    from dflow_lab.local.state import StateStore

    StateStore(ws).create_workflow(name, manifest([sh("main", "echo")]), {"phase": "Failed"}, {}, {})


@pytest.mark.parametrize("command", ["delete", "resume", "retry", "resubmit", "stop", "get", "wait"])
def test_commands_by_id_refuse_a_name_that_is_a_path(layout, command):
    ws, victim = layout
    _plant(ws, EVIL)
    result = _cli(ws, command, EVIL)
    assert result.returncode == 1, result
    assert "invalid workflow name" in result.stderr and "'ID'" in result.stderr
    _untouched(ws, victim)


def test_the_backend_refuses_a_planted_name_at_delete(layout):
    ws, victim = layout
    _plant(ws, EVIL)
    backend = LocalBackend(ws)
    for call in (backend.delete, backend.resume, backend.retry, backend.resubmit, backend.get):
        with pytest.raises(WorkflowValueError, match="invalid workflow name"):
            call(EVIL)
    _untouched(ws, victim)


# -- the Python API and the engine's own entry ------------------------------------------------------

def test_python_entries_refuse(layout):
    ws, victim = layout
    with pytest.raises(WorkflowValueError):
        Workflow(name="../x")
    with pytest.raises(WorkflowValueError):
        Workflow(id=EVIL)
    m = manifest([sh("main", "echo hi")])
    m["metadata"] = {"name": EVIL}
    with pytest.raises(WorkflowValueError, match="metadata.name"):
        LocalBackend(ws).submit(m)
    with pytest.raises(WorkflowValueError, match="invalid workflow name"):
        EngineHost.get().run(ws, EVIL)  # the engine does not trust its caller
    _untouched(ws, victim)


def test_the_detached_engine_entry_refuses(layout):
    ws, victim = layout
    _plant(ws, EVIL)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "dflow_lab.local.engine", str(ws), EVIL],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2 and "invalid workflow name" in result.stderr
    _untouched(ws, victim)


def test_template_step_and_claim_names_are_checked(backend):
    bad_template = manifest([{"name": "main", "steps": [[{"name": "s", "template": "a/b"}]]}, sh("a/b", "echo")])
    with pytest.raises(WorkflowValueError, match=r"spec.templates\[1\].name'?: invalid template name 'a/b'"):
        backend.submit(bad_template)
    bad_step = manifest([{"name": "main", "steps": [[{"name": "../s", "template": "t"}]]}, sh("t", "echo")])
    with pytest.raises(WorkflowValueError, match="invalid step name"):
        backend.submit(bad_step)
    bad_claim = manifest([sh("main", "echo")], volumes=[{"name": "v", "persistentVolumeClaim": {"claimName": ".."}}])
    with pytest.raises(WorkflowValueError, match="invalid volume claim name"):
        backend.submit(bad_claim)
    assert backend.list() == []


def test_a_symlinked_run_directory_is_refused(layout):
    ws, victim = layout
    (ws / "runs").mkdir()
    (ws / "runs" / "legit").symlink_to(victim)  # the run's directory points outside the workspace
    m = manifest([sh("main", "echo hi > /tmp/x")])
    m["metadata"] = {"name": "legit"}
    wf = LocalBackend(ws).submit(m)
    assert wf["status"]["phase"] == "Error" and "outside" in wf["status"]["message"]
    LocalBackend(ws).delete("legit")  # removes the link, never what it points to
    assert not (ws / "runs" / "legit").exists()
    assert (victim / "precious.txt").read_text() == "keep me"


def test_generated_names_follow_kubernetes(backend):
    name = generated_name("a" * 100 + "-", "x1y2z")
    assert name == "a" * 58 + "x1y2z" and len(name) == WORKFLOW_NAME_MAX
    wf = backend.submit(manifest([sh("main", "echo hi")]) | {"metadata": {"generateName": "b" * 200 + "-"}})
    assert wf["metadata"]["name"].startswith("b" * 58) and len(wf["metadata"]["name"]) == 63
    with pytest.raises(WorkflowValueError, match="at most 63"):
        check_workflow_name("a" * 64)


# -- property: whatever the name, a path built from it stays inside --------------------------------

_HOSTILE = st.one_of(
    st.lists(st.sampled_from(list("ab09-._/\\\0~ AZé") + ["..", "../", "/..", "%2e"]), max_size=40).map("".join),
    st.text(max_size=300),
    st.sampled_from([".", "..", "...", "a/..", "-", "a-", ".a", "a.", "x" * 64, "x" * 254, "a..b", "\n"]),
)


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_HOSTILE)
def test_any_accepted_name_is_one_component_inside_the_workspace(tmp_path, name):
    root = tmp_path / "ws"
    (root / "runs").mkdir(parents=True, exist_ok=True)
    if not (root / "runs" / "out").is_symlink():
        (root / "runs" / "out").symlink_to(tmp_path)  # a symlink that leads out
    for check in (check_workflow_name, check_generate_name):
        try:
            accepted = check(name)
        except WorkflowValueError:
            continue
        assert accepted == name
        assert "/" not in name and "\0" not in name and ".." not in name and name.isascii()
        if check is check_workflow_name:
            assert SUBDOMAIN_RE.match(name) and len(name) <= WORKFLOW_NAME_MAX
            path = workspace_path(root, "runs", name)
            assert root.resolve() in path.parents
        else:
            full = generated_name(name, "abcde")
            assert root.resolve() in workspace_path(root, "runs", full).parents
    try:
        check_field_name(name, "template")
    except WorkflowValueError:
        pass
    else:
        assert len(name) <= FIELD_NAME_MAX and name.replace("-", "").isalnum() and name.isascii()
    for parts in ((name,), ("runs", name), ("runs", "out", name)):
        try:
            path = workspace_path(root, *parts)
        except PathEscapeError:
            continue
        assert root.resolve() in path.parents  # strictly inside, after following every symlink
        assert parts[:2] != ("runs", "out")


def test_remove_in_workspace_never_follows_or_leaves(tmp_path):
    root, outside = tmp_path / "ws", tmp_path / "outside"
    (root / "runs").mkdir(parents=True)
    outside.mkdir()
    (outside / "f").write_text("x")
    (root / "runs" / "link").symlink_to(outside)
    (root / "linkdir").symlink_to(outside)
    assert remove_in_workspace(root, "runs", "link") and (outside / "f").exists()
    with pytest.raises(PathEscapeError):
        remove_in_workspace(root, "linkdir", "f")  # through a symlinked parent
    with pytest.raises(PathEscapeError):
        remove_in_workspace(root, "..", "outside")
    with pytest.raises(PathEscapeError):
        workspace_path(root)
    assert (outside / "f").exists()
    assert remove_in_workspace(root, "runs", "missing") is False


def test_workspace_child_checks_like_workspace_path(tmp_path):
    """The engine's per-step shortcut gives the same answers as the full check (one lstat, not a resolve)."""
    root, outside = tmp_path / "ws", tmp_path / "outside"
    (root / "runs" / "wf").mkdir(parents=True)
    outside.mkdir()
    runs = workspace_path(root, "runs", "wf")
    assert workspace_child(runs, "node-1") == workspace_path(root, "runs", "wf", "node-1")
    (runs / "inside").symlink_to(runs / "node-1")
    (runs / "node-1").mkdir()
    assert workspace_child(runs, "inside") == runs / "node-1"  # a symlink is resolved and checked in full
    (runs / "escape").symlink_to(outside)
    for bad in ("escape", "..", ".", "", "a/b", "a\0b"):
        with pytest.raises(PathEscapeError):
            workspace_child(runs, bad)


@pytest.mark.parametrize("name", ["abc\n", "step-1\n", "a.b\n"])
def test_a_trailing_newline_is_not_a_name(name):
    """``$`` in a regular expression matches before a final newline: every name rule is anchored with ``\\Z``."""
    from dflow_lab import names

    for check in (lambda n: names.check_workflow_name(n), lambda n: names.check_field_name(n, "step"),
                  lambda n: names.check_claim_name(n), lambda n: names.check_generate_name(n)):
        with pytest.raises(WorkflowValueError):
            check(name)
