"""A secret reaches a step run in its image (podman) by name: its value is in the runtime process's
environment, never on the runtime's command line (which every user of the machine can read in ``ps``)."""

from __future__ import annotations

import hashlib

from dflow_lab import Secret, ShellOPTemplate, Step, Workflow
from dflow_lab.executors.container import container_argv, env_by_name
from dflow_lab.local import pod

VALUE = "container-secret-6e5d4c3b"


def test_a_secret_reaches_the_container_but_not_the_runtimes_command_line(podman_config, workdir, monkeypatch):
    seen: list[tuple[list[str], dict[str, str]]] = []
    real = pod._subprocess

    async def recording(argv, env, cwd, log):  # the real runner, its arguments kept for the assertions
        seen.append((list(argv), dict(env)))
        return await real(argv, env, cwd, log)

    monkeypatch.setattr(pod, "_subprocess", recording)
    digest = hashlib.sha256(VALUE.encode()).hexdigest()
    t = ShellOPTemplate(name="use", image=podman_config["busybox"], envs={"TOKEN": Secret(value=VALUE), "PLAIN": "p"},
                        script='test "$(printf %%s "$TOKEN" | sha256sum | cut -c1-64)" = "%s" && test "$PLAIN" = p'
                               % digest)
    wf = Workflow("ctr-secret")
    wf.add(Step("use", t))
    wf.submit()
    assert wf.query_status() == "Succeeded", wf.query_step(name="use")[0]["message"]
    assert seen and all(VALUE not in " ".join(argv) for argv, _ in seen)
    argv, env = seen[0]
    assert "TOKEN" in argv and "PLAIN=p" in argv and env["TOKEN"] == VALUE


def test_values_passed_by_name():
    argv = container_argv("podman", None, "img:1", ["sh"], [], {}, None, {"S": None, "A": "1"})
    assert argv[argv.index("-e") + 1] == "S" and "A=1" in argv
    argv = container_argv("apptainer", None, "img:1", ["sh"], [], {}, None, {"S": None, "A": "1"})
    assert "A=1" in argv and not any(a.startswith("S") for a in argv)
    assert env_by_name("apptainer", {"S": "v"}) == {"SINGULARITYENV_S": "v", "APPTAINERENV_S": "v"}
    assert env_by_name("/usr/bin/podman", {"S": "v"}) == {"S": "v"}


def test_a_secret_reaches_a_container_executor_step(images, workdir, monkeypatch):
    from dflow_lab import ContainerExecutor
    from dflow_lab.config import config

    from . import services

    monkeypatch.setitem(config, "container_global_options", services.PODMAN_GLOBAL)
    monkeypatch.setitem(config, "container_run_options", services.PODMAN_RUN)
    digest = hashlib.sha256(VALUE.encode()).hexdigest()
    t = ShellOPTemplate(name="use", image=images["busybox"], envs={"TOKEN": Secret(value=VALUE)},
                        script='test "$(printf %%s "$TOKEN" | sha256sum | cut -c1-64)" = "%s"' % digest)
    wf = Workflow("ctr-exec-secret")
    wf.add(Step("use", t, executor=ContainerExecutor(podman="podman", image_pull_policy="IfNotPresent")))
    wf.submit()
    assert wf.query_status() == "Succeeded", wf.query_step(name="use")[0]["message"]
