"""Host stand-ins of container images (dflow_lab.local.images) and the argosay stand-in, run for real."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from dflow_lab.local.images import host_argv, stand_in

ARGOSAY = [sys.executable, "-m", "dflow_lab.local.argosay"]


def test_docker_rules_for_argosay_v2():
    # no command, no args: the entrypoint alone; args replace the default command
    assert host_argv("argoproj/argosay:v2", [], [])[0] == ARGOSAY
    assert host_argv("docker.io/argoproj/argosay:v2", [], ["echo", "x"])[0] == [*ARGOSAY, "echo", "x"]
    # a command naming the image's /argosay runs the stand-in; another command replaces the entrypoint
    assert host_argv("argoproj/argosay:v2", ["/argosay"], ["echo", "hi"])[0] == [*ARGOSAY, "echo", "hi"]
    assert host_argv("argoproj/argosay:v2", ["sh", "-c"], ["true"])[0] == ["sh", "-c", "true"]


def test_unknown_images_have_no_stand_in():
    assert stand_in("alpine:3.23") is None
    assert stand_in("argoproj/argosay:v3") is None
    assert stand_in(None) is None
    assert host_argv("busybox", [], []) == ([], None)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="Debian's nginx is not installed (scripts/install.sh --dev)")
def test_nginx_entrypoint_and_cmd():
    assert host_argv("nginx:1.13", [], [])[0] == ["nginx", "-g", "daemon off;"]
    assert host_argv("library/nginx", ["nginx"], ["-g", "daemon off;"])[0] == ["nginx", "-g", "daemon off;"]


def _argosay(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*ARGOSAY, *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def test_argosay_subcommands(tmp_path):
    assert _argosay().stdout == "hello argo\n"
    assert _argosay("echo").stdout == "hello argo\n"
    assert _argosay("echo", "hi there").stdout == "hi there\n"
    target = tmp_path / "deep" / "out"
    assert _argosay("echo", "saved", str(target)).returncode == 0
    assert target.read_text() == "saved\n"
    assert _argosay("cat", str(target)).stdout == "saved\n"
    assert _argosay("assert_contains", str(target), "save").returncode == 0
    assert _argosay("assert_contains", str(target), "nope").returncode == 1
    assert _argosay("exit", "3").returncode == 3
    assert _argosay("exit").returncode == 0
    assert _argosay("no-such").returncode == 1
