"""What a step can see: its environment holds no engine credential and no other step's secret.

Each run here has the engine configured with an Argo token and S3 keys (in ``config``/``s3_config``
and as ``DFLOW_*`` variables of the submitting process), an unlisted host variable, and a step that
declares a secret beside a step that declares none.  The values are then looked for everywhere a step
could have written them: its log, its outputs, the raw bytes of ``state.db`` and of every stored
artifact (archives opened).
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import List

import pytest

from dflow_lab import OutputArtifact, OutputParameter, Secret, ShellOPTemplate, Step, Workflow
from dflow_lab.config import config, s3_config
from dflow_lab.python import OP, OPIO, OPIOSign, PythonOPTemplate

ARGO_TOKEN = "argo-token-f1e2d3c4b5a69788"
S3_ACCESS = "s3-access-key-0a1b2c3d4e5f"
S3_SECRET = "s3-secret-key-9z8y7x6w5v4u"
HOST_ONLY = "host-only-value-5e6f7a8b"      # a host variable that is not on the documented list
OTHER_SECRET = "other-step-secret-3c2b1a0f"  # the secret one step declares

#: what must never reach a step that does not declare it, by label (a step reports labels, never values)
WATCHED = {"argo-token": ARGO_TOKEN, "s3-access": S3_ACCESS, "s3-secret": S3_SECRET, "host-only": HOST_ONLY,
           "other-secret": OTHER_SECRET}
#: variables a shell adds by itself
SHELL_OWN = {"PWD", "OLDPWD", "SHLVL", "_"}


@pytest.fixture
def engine_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An engine with credentials in its configuration and its environment; returns the workspace."""
    ws = tmp_path / "ws"
    monkeypatch.setitem(config, "local_workdir", str(ws))
    monkeypatch.setitem(config, "token", ARGO_TOKEN)
    monkeypatch.setitem(s3_config, "access_key", S3_ACCESS)
    monkeypatch.setitem(s3_config, "secret_key", S3_SECRET)
    monkeypatch.setenv("DFLOW_TOKEN", ARGO_TOKEN)
    monkeypatch.setenv("DFLOW_S3_ACCESS_KEY", S3_ACCESS)
    monkeypatch.setenv("DFLOW_S3_SECRET_KEY", S3_SECRET)
    monkeypatch.setenv("MY_SERVICE_API_KEY", HOST_ONLY)
    return ws


def stored_bytes(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` as raw bytes, and every member of every tar archive (gzipped or not)."""
    out: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        out[str(path)] = data
        try:
            with tarfile.open(fileobj=io.BytesIO(data)) as tar:
                for member in tar.getmembers():
                    f = tar.extractfile(member)
                    if f is not None:
                        out[f"{path}!{member.name}"] = f.read()
        except tarfile.TarError:
            pass
    return out


def leaks(root: Path, needles: dict[str, str]) -> list[tuple[str, str]]:
    return [(label, where) for where, data in stored_bytes(root).items()
            for label, value in needles.items() if value.encode() in data]


def allowed_names() -> set[str]:
    from dflow_lab.local.stepenv import INHERITED

    # the container runtime's options, given to host steps when configured (a ContainerExecutor step needs them)
    runtime = {"DFLOW_CONTAINER_GLOBAL_OPTIONS", "DFLOW_CONTAINER_RUN_OPTIONS"}
    return set(INHERITED) | {"PYTHONPATH", "PYTHONUNBUFFERED", "DFLOW_LAB_ROOT"} | SHELL_OWN | runtime


def env_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        name, eq, _ = line.partition("=")
        if eq and name.replace("_", "a").isalnum():
            names.add(name)
    return names


def run(wf: Workflow, wait: bool, ws: Path) -> None:
    """Submit (in this process, or to a detached engine) and wait, with a bound, for the end."""
    from dflow_lab.local.backend import LocalBackend

    wf.submit(wait=wait)
    LocalBackend(ws).wait(wf.id, timeout=120)


def shell_workflow(name: str) -> Workflow:
    digest = hashlib.sha256(OTHER_SECRET.encode()).hexdigest()  # the script checks the value without holding it
    keeper = ShellOPTemplate(name="keeper", image="alpine", envs={"OTHER": Secret(value=OTHER_SECRET)},
                             script='test "$(printf %%s "$OTHER" | sha256sum | cut -c1-64)" = "%s" && echo ok' % digest)
    show = ShellOPTemplate(name="show", image="alpine",
                           script="env\nmkdir -p /tmp/out\nenv > /tmp/out/env.txt\n"
                                  "cat /proc/$PPID/environ > /tmp/out/engine-env.txt || true\n")
    show.envs["DECLARED"] = "plain-value"
    show.outputs.artifacts = {"env": OutputArtifact(path="/tmp/out/env.txt"),
                              "engine": OutputArtifact(path="/tmp/out/engine-env.txt")}
    show.outputs.parameters = {"n": OutputParameter(value_from_path="/tmp/out/env.txt")}
    wf = Workflow(name)
    wf.add(Step("keep", keeper))
    wf.add(Step("show", show, key="show"))
    return wf


@pytest.mark.parametrize("wait", [False, True], ids=["detached", "in-process"])
def test_a_step_that_prints_env_sees_no_credential_and_no_other_steps_secret(engine_credentials, wait):
    wf = shell_workflow("env-shell-" + ("wait" if wait else "detached"))
    run(wf, wait, engine_credentials)
    assert wf.query_status() == "Succeeded"
    show = wf.query_step(key="show")[0]
    log = Path(show.hostDir, "main.log").read_text() if getattr(show, "hostDir", None) else ""
    printed = show.outputs.parameters["n"].value
    assert "DFLOW_LAB_ROOT=" in printed and "DECLARED=plain-value" in printed  # the step did print its env
    found = leaks(engine_credentials, {**WATCHED, "engine-config": "DFLOW_LAB_ENGINE_CONFIG",
                                       "dflow-variable": "DFLOW_TOKEN", "dflow-s3-variable": "DFLOW_S3_"})
    # the user's own unlisted variable may be read from the engine's /proc environ (same OS user): not a leak here
    found = [(label, where) for label, where in found
             if not (label == "host-only" and where.endswith("engine-env.txt"))]
    assert found == []
    assert ARGO_TOKEN not in log
    assert env_names(printed) <= allowed_names() | {"DECLARED"}
    assert "PATH" in env_names(printed) and "PYTHONPATH" in env_names(printed)


class EnvProbe(OP):
    """Reports which watched values its environment holds (by label), its variables' names and its pid."""

    @classmethod
    def get_input_sign(cls):
        return OPIOSign({"tag": str})

    @classmethod
    def get_output_sign(cls):
        return OPIOSign({"found": List[str], "names": List[str], "pid": int})

    @OP.exec_sign_check
    def execute(self, op_in):
        found = sorted({label for label, value in WATCHED.items()
                        if any(value in v for v in os.environ.values())})
        config_var = "DFLOW_LAB_ENGINE_CONFIG" in os.environ
        return OPIO({"found": found + (["engine-config"] if config_var else []),
                     "names": sorted(os.environ), "pid": os.getpid()})


@pytest.mark.parametrize("wait", [False, True], ids=["detached", "in-process"])
def test_python_ops_in_one_warm_worker_see_only_their_own_secret(engine_credentials, monkeypatch, wait):
    monkeypatch.setitem(config, "local_workers", 1)
    with_secret = PythonOPTemplate(EnvProbe, image="python:3.11", envs={"MINE": Secret(value=OTHER_SECRET)})
    without = PythonOPTemplate(EnvProbe, image="python:3.11")
    wf = Workflow("env-py-" + ("wait" if wait else "detached"))
    wf.add(Step("first", with_secret, parameters={"tag": "a"}, key="first"))
    wf.add(Step("second", without, parameters={"tag": "b"}, key="second"))
    wf.add(Step("third", with_secret, parameters={"tag": "c"}, key="third"))
    run(wf, wait, engine_credentials)
    assert wf.query_status() == "Succeeded"
    out = {k: wf.query_step(key=k)[0].outputs.parameters for k in ("first", "second", "third")}
    pids = {out[k]["pid"].value for k in out}
    assert len(pids) == 1  # the three steps ran in the same warm worker, one after the other
    assert out["first"]["found"].value == ["other-secret"]  # its own secret, nothing else
    assert out["second"]["found"].value == []  # the step before it had a secret: gone
    assert out["third"]["found"].value == ["other-secret"]
    names = set(out["second"]["names"].value)
    assert "MINE" not in names and names <= allowed_names() | {"DFLOW_LAB_WORKFLOW_NAME"} | {
        n for n in names if n.startswith("DFLOW_LAB_PARAM_")}
    assert leaks(engine_credentials, WATCHED) == []


def test_the_detached_engine_gets_its_configuration_on_stdin_not_in_its_environment(engine_credentials):
    from dflow_lab.local.engine import engine_config, engine_env

    env = engine_env()
    assert not any(k.startswith("DFLOW_") for k in env)
    assert not any(ARGO_TOKEN in v or S3_SECRET in v or S3_ACCESS in v for v in env.values())
    keeper = Secret(value=OTHER_SECRET)
    unrelated = Secret(value="unrelated-secret-value")
    manifest = {"spec": {"templates": [{"name": "t", "script": {"env": [
        {"name": "OTHER", "valueFrom": {"secretKeyRef": {"name": keeper.name, "key": keeper.key}}}]}}]}}
    text = engine_config(manifest).decode()
    assert ARGO_TOKEN in text and OTHER_SECRET in text  # what the engine needs, through the pipe
    assert "unrelated-secret-value" not in text  # only the secrets the workflow references
    assert unrelated.value == "unrelated-secret-value"


def test_step_environment_is_the_documented_one(engine_credentials, monkeypatch):
    from dflow_lab.local.stepenv import base_env, step_env

    monkeypatch.setenv("LC_MEASUREMENT", "metric")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("WANTED_BY_USER", "yes")
    env = base_env()
    assert env["LC_MEASUREMENT"] == "metric" and env["OMP_NUM_THREADS"] == "3" and env["PATH"] == os.environ["PATH"]
    assert "WANTED_BY_USER" not in env and "MY_SERVICE_API_KEY" not in env and "DFLOW_TOKEN" not in env
    monkeypatch.setitem(config, "local_step_env", ["WANTED_BY_USER", "DFLOW_TOKEN"])
    env = step_env({"A": "1", "PYTHONUNBUFFERED": "0"})
    assert env["WANTED_BY_USER"] == "yes" and "DFLOW_TOKEN" not in env  # DFLOW_* never, even when listed
    assert env["A"] == "1" and env["PYTHONUNBUFFERED"] == "0"  # the step's own values win
