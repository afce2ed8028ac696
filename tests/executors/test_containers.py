"""The local engine running templates in their image through podman (``config["container_runtime"]``),
and ``ContainerExecutor``: images are built by the tests with ``podman import`` (busybox; Debian's
python3 + PyYAML), podman's machine-specific options come from configuration."""

from __future__ import annotations

import json

import pytest

from dflow_lab import ContainerExecutor, ShellOPTemplate, Step, Workflow
from dflow_lab.config import config

from . import services
from .flows import build, check


def test_workflow_in_imported_images(podman_config, workdir, tmp_path, execops):
    images = podman_config
    wf = build(tmp_path, execops, "podman-flow", image=images["busybox"], py_image=images["python"])
    wf.submit()
    check(wf, tmp_path / "out")
    log = "".join(wf.backend.logs(wf.id, wf.query_step(key="make")[0].id))
    assert "made by root in /" in log  # busybox's id, in the container


def test_template_env_resources_and_workdir_reach_the_container(podman_config, workdir):
    t = ShellOPTemplate(name="probe", image=podman_config["busybox"], envs={"GREETING": "hi there"},
                        requests={"cpu": "500m", "memory": "64Mi"},
                        script="mkdir -p /tmp/outputs/parameters; echo \"$GREETING\" > /tmp/outputs/parameters/g; cat /proc/self/cgroup >/dev/null; "
                               "ls /bin/busybox; test ! -e /root/.pyenv")
    from dflow_lab import OutputParameter

    t.outputs.parameters["g"] = OutputParameter(value_from_path="/tmp/outputs/parameters/g")
    wf = Workflow("podman-env")
    wf.add(Step("probe", t))
    wf.submit()
    assert wf.query_status() == "Succeeded", wf.query_step(name="probe")[0]["message"]
    assert wf.query_step(name="probe")[0].outputs.parameters["g"].value == "hi there"


def test_missing_image_fails_the_step_with_the_reason(podman_config, workdir):
    t = ShellOPTemplate(name="nope", image="localhost/dflow-lab-test/absent:1", image_pull_policy="Never",
                        script="echo never")
    wf = Workflow("podman-missing")
    wf.add(Step("nope", t))
    wf.submit()
    assert wf.query_status() == "Failed"
    message = wf.query_step(name="nope")[0]["message"]
    assert "container runtime 'podman' failed" in message and "absent" in message, message


def test_missing_runtime_fails_the_step(workdir, monkeypatch):
    monkeypatch.setitem(config, "container_runtime", "/nonexistent/podman")
    wf = Workflow("no-runtime")
    wf.add(Step("x", ShellOPTemplate(name="x", image="busybox:1", script="true")))
    wf.submit()
    assert wf.query_status() in ("Failed", "Error")
    message = wf.query_step(name="x")[0]["message"]
    assert "container runtime '/nonexistent/podman' is not installed" in message, message


def test_unknown_runtime_name_is_refused(workdir, monkeypatch):
    monkeypatch.setitem(config, "container_runtime", "dockr")
    wf = Workflow("bad-runtime")
    wf.add(Step("x", ShellOPTemplate(name="x", image="busybox:1", script="true")))
    wf.submit()
    assert "is not a container runtime" in wf.query_step(name="x")[0]["message"]


def test_container_executor(images, workdir, tmp_path, execops, monkeypatch):
    monkeypatch.setitem(config, "container_global_options", services.PODMAN_GLOBAL)
    monkeypatch.setitem(config, "container_run_options", services.PODMAN_RUN)
    ex = ContainerExecutor(podman="podman", image_pull_policy="IfNotPresent")
    wf = build(tmp_path, execops, "ctr-exec", executor=ex, image=images["busybox"], py_image=images["python"])
    manifest = wf.to_dict()
    names = [t["name"] for t in manifest["spec"]["templates"]]
    assert any("-container-" in n for n in names)
    wf.submit()
    check(wf, tmp_path / "out")


@pytest.mark.parametrize("policy,expected", [("Always", "--pull=always"), ("Never", "--pull=never"),
                                             ("IfNotPresent", "--pull=missing"), (None, "--pull=missing")])
def test_pull_policy_and_resources_map_to_flags(policy, expected):
    from dflow_lab.executors.container import container_argv

    argv = container_argv("podman", None, "img:1", ["sh"], ["/s"], {"/tmp": "/x/tmp"}, "/tmp", {"A": "b c"},
                          "250m", "1Gi", policy, ["--runtime", "runc"], ["--ulimit", "nofile=64:64"])
    assert expected in argv
    assert argv[:3] == ["podman", "--runtime", "runc"]
    assert "--cpus=0.25" in argv and f"--memory={1 << 30}b" in argv
    assert argv[argv.index("-e") + 1] == "A=b c"
    assert json.dumps(argv).count("--ulimit") == 1
