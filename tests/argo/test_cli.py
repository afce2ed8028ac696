"""The ``dflow-lab`` CLI end to end, as subprocesses: against the local engine and against ``dflow-lab server``."""

from __future__ import annotations

import datetime
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dflow_lab.local.state import StateStore
from dflow_lab.main import format_print_table, format_time_delta, main_parser, parse_args

from .conftest import needs_local_server
from .test_backend import flaky_manifest, wait_for

REPO = Path(__file__).resolve().parents[2]
PYDFLOW = Path("/opt/pydflow-venv/bin/python")

HELLO = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
  labels: {team: a}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: s1
        template: echo
        arguments: {parameters: [{name: dflow_key, value: k1}]}
    - - name: s2
        template: echo
        arguments: {parameters: [{name: dflow_key, value: k2}]}
  - name: echo
    inputs: {parameters: [{name: dflow_key}]}
    outputs: {parameters: [{name: o, valueFrom: {path: /tmp/o}}]}
    container: {image: busybox, command: [sh, -c], args: ["echo hello {{inputs.parameters.dflow_key}}; echo val > /tmp/o"]}
"""


def one_step(name: str, script: str) -> str:
    return f"""\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {{generateName: {name}-}}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {{name: first, template: run, arguments: {{parameters: [{{name: dflow_key, value: first}}]}}}}
    - - {{name: second, template: run, arguments: {{parameters: [{{name: dflow_key, value: second}}]}}}}
  - name: run
    inputs: {{parameters: [{{name: dflow_key}}]}}
    container: {{image: busybox, command: [sh, -c], args: [{json.dumps(script)}]}}
"""


class Cli:
    """Runs ``dflow-lab`` in a subprocess with its own workspace and environment."""

    def __init__(self, tmp: Path, extra_env: dict | None = None):
        self.cwd = tmp
        env = {k: v for k, v in os.environ.items() if not k.startswith("DFLOW_")}
        env.update(DFLOW_LOCAL_WORKDIR=str(tmp / "ws"), PYTHONPATH=os.pathsep.join(
            [str(REPO)] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])))
        env.update(extra_env or {})
        self.env = env

    def __call__(self, *args: str, ok: bool | None = True, timeout: float = 120) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "dflow_lab.main", *args], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if ok is True:
            assert proc.returncode == 0, f"dflow-lab {' '.join(args)} -> {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        elif ok is False:
            assert proc.returncode != 0, f"dflow-lab {' '.join(args)} succeeded\n{proc.stdout}"
        return proc

    def json(self, *args: str) -> object:
        return json.loads(self(*args, "--output", "json").stdout)

    def write(self, name: str, text: str) -> str:
        (self.cwd / name).write_text(text)
        return name

    def wait_until(self, wf_id: str, predicate, what: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.json("get", wf_id)
            if predicate(info):
                return info
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")


def submitted_id(out: str) -> str:
    m = re.search(r"Workflow (\S+) (submitted|Succeeded|Failed|Error)", out)
    assert m, out
    return m.group(1)


@pytest.fixture
def cli(tmp_path) -> Cli:
    return Cli(tmp_path)


# -- the dflow-compatible surface ----------------------------------------------------------------------------

def test_dflow_main_names():
    import dflow_lab.main as m

    for name in ("format_print_table", "format_time_delta", "main", "main_parser", "parse_args"):
        assert callable(getattr(m, name))


@pytest.mark.skipif(not PYDFLOW.exists(), reason="the reference pydflow venv is not installed")
def test_every_dflow_command_and_flag_exists():
    code = ("import argparse, json\nfrom dflow.main import main_parser\nout = {}\n"
            "for a in main_parser()._actions:\n"
            "    if isinstance(a, argparse._SubParsersAction):\n"
            "        for n, sp in a.choices.items():\n"
            "            out[n] = sorted(o for act in sp._actions for o in act.option_strings)\n"
            "print(json.dumps(out))")
    reference = json.loads(subprocess.run([str(PYDFLOW), "-c", code], capture_output=True, text=True,
                                          check=True).stdout)
    ours = {}
    import argparse

    for a in main_parser()._actions:
        if isinstance(a, argparse._SubParsersAction):
            for n, sp in a.choices.items():
                ours[n] = {o for act in sp._actions for o in act.option_strings}
    for command, flags in reference.items():
        assert command in ours, command
        assert set(flags) <= ours[command], (command, set(flags) - ours[command])
    assert {"run", "watch", "lint", "server"} <= set(ours)


def test_parse_args_and_formatting(capsys):
    args = parse_args(["getsteps", "wf-1", "-k", "a,b", "-p", "Failed"])
    assert (args.command, args.ID, args.key, args.phase) == ("getsteps", "wf-1", "a,b", "Failed")
    assert parse_args(["wait", "x"]).interval == 1
    assert format_time_delta(datetime.timedelta(days=2, hours=3)) == "2d"
    assert format_time_delta(datetime.timedelta(hours=5, minutes=2)) == "5h"
    assert format_time_delta(datetime.timedelta(seconds=42)) == "42s"
    format_print_table([["NAME", "STATUS"], ["a-long-name", "Running"]])
    assert capsys.readouterr().out.splitlines() == ["NAME          STATUS", "a-long-name   Running"]


def test_usage_errors(cli):
    proc = cli(ok=None)
    assert proc.returncode == 2 and "Valid subcommands" in proc.stdout
    proc = cli("list", "--output", "xml", ok=False)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = cli("get", "no-such-workflow", ok=False)
    assert proc.returncode == 1 and "no-such-workflow" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("create", "secret", "s3cr3t", ok=False)
    assert "Kubernetes" in proc.stderr and "s3cr3t" not in proc.stderr
    proc = cli("list", "-l", "novalue", ok=False)
    assert "KEY=VALUE" in proc.stderr


# -- against the local engine --------------------------------------------------------------------------------

def test_run_query_and_watch_locally(cli):
    proc = cli("run", cli.write("hello.yaml", HELLO))
    wf_id = submitted_id(proc.stdout)
    assert "Succeeded" in proc.stdout and "s1" in proc.stdout and "s2" in proc.stdout
    listing = cli.json("list")
    assert [(w["name"], w["phase"], w["progress"]) for w in listing] == [(wf_id, "Succeeded", "2/2")]
    table = cli("list").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "AGE", "DURATION", "PROGRESS"] and wf_id in table[1]
    assert [w["name"] for w in cli.json("list", "-l", "team=a")] == [wf_id]
    assert cli.json("list", "-l", "team=b") == []
    out = cli("get", wf_id).stdout
    assert re.search(r"Status:\s+Succeeded", out) and re.search(r"s1\s+\S+\s+k1\s+Pod\s+Succeeded", out)
    info = cli.json("get", wf_id)
    assert {s["key"] for s in info["steps"] if s["type"] == "Pod"} == {"k1", "k2"}
    out = cli("getsteps", wf_id, "-k", "k1").stdout
    assert re.search(r"Key:\s+k1", out) and "o: val" in out and "k2" not in out
    steps = cli.json("getsteps", wf_id, "-p", "Succeeded", "-t", "Pod")
    assert sorted(s["key"] for s in steps) == ["k1", "k2"] and steps[0]["outputs"]["parameters"] == {"o": "val"}
    assert sorted(cli("getkeys", wf_id).stdout.split()) == ["k1", "k2"]
    assert cli("wait", wf_id).stdout.strip() == f"Workflow {wf_id} Succeeded"
    assert sorted(cli("logs", wf_id).stdout.split("\n")[:2]) == ["hello k1", "hello k2"]
    s1 = next(s["id"] for s in info["steps"] if s["key"] == "k1")
    assert cli.json("logs", wf_id, "-s", s1) == ["hello k1"]
    out = cli("watch", wf_id).stdout
    assert f"Workflow {wf_id}   Succeeded   [{'#' * 30}] 2/2" in out
    proc = cli("resubmit", wf_id)
    new_id = re.search(r"resubmitted as (\S+)", proc.stdout).group(1)
    assert cli("wait", new_id).returncode == 0
    cli("delete", wf_id)
    assert wf_id not in [w["name"] for w in cli.json("list")]


def test_failed_run_and_retry_locally(cli):
    proc = cli("run", cli.write("flaky.yaml", yaml.safe_dump(flaky_manifest("flaky"))), ok=False)
    assert proc.returncode == 1 and "Failed" in proc.stdout
    assert re.search(r"flaky\s+\S+\s+flaky\s+Pod\s+Failed\s+\d+s\s+.*exit code 1", proc.stdout), proc.stdout
    wf_id = submitted_id(proc.stdout)
    assert cli("wait", wf_id, ok=False).returncode == 1
    cli("retry", wf_id)
    assert cli("wait", wf_id, "--timeout", "60").returncode == 0


def test_detached_run_terminate_and_suspend_resume(cli):
    proc = cli("run", "-d", cli.write("slow.yaml", one_step("slow", "sleep 60")))
    assert "submitted" in proc.stdout
    wf_id = submitted_id(proc.stdout)
    cli.wait_until(wf_id, lambda i: any(s["phase"] == "Running" and s["type"] == "Pod" for s in i["steps"]), "a step")
    cli("terminate", wf_id)
    assert cli("wait", wf_id, "--timeout", "60", ok=False).stdout.startswith(f"Workflow {wf_id} Failed")
    # suspend while ``first`` runs: its steps hold until the test creates ``release`` (bounded: 5 minutes),
    # so ``first`` cannot end before the engine has taken the suspension, however loaded the machine
    release = cli.cwd / "release"
    held = f"for i in $(seq 6000); do [ -e {release} ] && exit 0; sleep 0.05; done; exit 1"
    proc = cli("submit", "-d", cli.write("held.yaml", one_step("held", held)))  # dflow's name for run
    wf_id = submitted_id(proc.stdout)
    try:
        cli.wait_until(wf_id, lambda i: any(s["key"] == "first" and s["phase"] == "Running" for s in i["steps"]),
                       "first")
        cli("suspend", wf_id)
        store = StateStore(cli.cwd / "ws")
        wait_for(lambda: store.workflow(wf_id)["status"].get("suspended"), "the engine to take the suspension")
        release.touch()
        info = cli.wait_until(wf_id, lambda i: any(s["key"] == "first" and s["phase"] == "Succeeded"
                                                   for s in i["steps"]), "first done")
        assert not any(s["key"] == "second" for s in info["steps"])
        assert store.workflow(wf_id)["status"].get("suspended")
        cli("resume", wf_id)
        assert cli("wait", wf_id, "--timeout", "120").returncode == 0
    finally:
        release.touch()  # a failed test leaves no step waiting
    proc = cli("run", "-d", cli.write("slow2.yaml", one_step("slow2", "sleep 60")))
    wf_id = submitted_id(proc.stdout)
    cli.wait_until(wf_id, lambda i: any(s["phase"] == "Running" and s["type"] == "Pod" for s in i["steps"]), "a step")
    cli("stop", wf_id)
    assert cli("wait", wf_id, "--timeout", "60", ok=False).returncode == 1


GRAPH_SCRIPT = '''
from dflow_lab import InputParameter, OutputParameter, ShellOPTemplate, Step, Workflow

t = ShellOPTemplate(name="echo", image="alpine:3", script="echo {{inputs.parameters.msg}} > /tmp/o")
t.inputs.parameters = {"msg": InputParameter(value="hi")}
t.outputs.parameters = {"o": OutputParameter(value_from_path="/tmp/o")}
wf = Workflow("graphy", labels={"from": "script"})
a = Step("a", t, parameters={"msg": "one"}, key="a")
wf.add(a)
wf.add(Step("b", t, parameters={"msg": a.outputs.parameters["o"]}, key="b"))
'''


def test_run_py_graph_lint_and_codegen_locally(cli):
    cli.write("script.py", GRAPH_SCRIPT + "wf.submit()\n")
    cli("run", "script.py")
    assert [w["labels"] for w in cli.json("list")] == [{"from": "script"}]
    graph = subprocess.run([sys.executable, "-c", GRAPH_SCRIPT + "import json; print(json.dumps(wf.to_graph()))"],
                           capture_output=True, text=True, check=True, env=cli.env).stdout
    cli.write("graph.json", graph)
    proc = cli("run", "graph.json")
    assert "Succeeded" in proc.stdout
    assert cli("lint", "graph.json").stdout.strip() == "graph.json: OK"
    assert cli.json("lint", "graph.json") == {"file": "graph.json", "ok": True, "problems": []}
    assert cli("lint", cli.write("hello.yaml", HELLO)).stdout.strip() == "hello.yaml: OK"
    bad = HELLO.replace("entrypoint: main", "entrypoint: nowhere")
    proc = cli("lint", cli.write("bad.yaml", bad), ok=False)
    assert "spec.entrypoint" in proc.stdout and "nowhere" in proc.stdout
    broken = json.loads(graph)
    broken["templates"][broken["entrypoint"]]["edges"][0]["source"]["node"] = "ghost"
    proc = cli("lint", cli.write("broken.json", json.dumps(broken)), ok=False)
    assert "ghost" in proc.stdout
    code = cli("codegen", "graph.json").stdout
    compile(code, "generated.py", "exec")
    assert "ShellOPTemplate(" in code and "Workflow(" in code
    cli("codegen", "graph.json", "-o", "gen.py")
    assert (cli.cwd / "gen.py").read_text().strip() == code.strip()
    proc = cli("run", cli.write("nothing.yaml", "a: 1\n"), ok=False)
    assert "neither an Argo Workflow manifest" in proc.stderr


def test_upload_and_download_locally(cli):
    (cli.cwd / "data").mkdir()
    (cli.cwd / "data" / "x.txt").write_text("payload")
    proc = cli("upload", "-p", "data")
    key = re.search(r"Storage key: (\S+)", proc.stdout).group(1)
    assert cli.json("upload", "-p", "data")["key"]
    cli("download", "-k", key, "-p", "out")
    assert [p.read_text() for p in (cli.cwd / "out").rglob("x.txt")] == ["payload"]
    assert "one of -k/--key" in cli("download", ok=False).stderr


# -- against dflow-lab server --------------------------------------------------------------------------------

class ServerProcess:
    def __init__(self, cli: Cli, workdir: Path, *extra: str):
        self.proc = subprocess.Popen([sys.executable, "-m", "dflow_lab.main", "server", "--workdir", str(workdir),
                                      "--port", "0", *extra], cwd=cli.cwd, env=cli.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"server exited: {self.proc.stderr.read()}")
            self.lines.append(line.rstrip("\n"))
            if line.startswith("client:"):
                break
        self.url = re.search(r"on (http\S+)", self.lines[0]).group(1)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()


@needs_local_server
def test_cli_against_the_server(cli, tmp_path):
    sw = tmp_path / "server-ws"
    server = ServerProcess(cli, sw)
    try:
        token_line = next(line for line in server.lines if line.startswith("token"))
        token = (sw / "argo-server.token").read_text().strip()
        assert token_line.endswith(token) and "shown once" in token_line
        assert server.url.startswith("http://127.0.0.1:")
        remote = Cli(tmp_path, {"DFLOW_HOST": server.url, "DFLOW_TOKEN": token, "DFLOW_NAMESPACE": "argo"})
        proc = remote("run", remote.write("hello.yaml", HELLO))
        assert "submitted" in proc.stdout  # Argo mode returns once submitted
        wf_id = submitted_id(proc.stdout)
        assert remote("wait", wf_id, "--timeout", "60").returncode == 0
        assert sorted(remote("getkeys", wf_id).stdout.split()) == ["k1", "k2"]
        assert "o: val" in remote("getsteps", wf_id, "-k", "k2").stdout
        assert sorted(remote.json("logs", wf_id)) == ["hello k1", "hello k2"]
        assert re.search(r"Status:\s+Succeeded", remote("get", wf_id).stdout)
        assert [w["name"] for w in remote.json("list", "-l", "team=a")] == [wf_id]
        assert "[" + "#" * 30 + "] 2/2" in remote("watch", wf_id).stdout
        new_id = re.search(r"resubmitted as (\S+)", remote("resubmit", wf_id).stdout).group(1)
        assert remote("wait", new_id, "--timeout", "60").returncode == 0
        remote("delete", new_id)
        assert new_id not in [w["name"] for w in remote.json("list")]
        # the same through the global options, and with a token file
        (tmp_path / "tok").write_text(token)
        via_flags = Cli(tmp_path)
        keys = via_flags("--host", server.url, "--token-file", str(tmp_path / "tok"), "getkeys", wf_id).stdout
        assert sorted(keys.split()) == ["k1", "k2"]
        # the local workspace of the client is not the server's
        assert Cli(tmp_path).json("list") == []
        denied = Cli(tmp_path, {"DFLOW_HOST": server.url, "DFLOW_TOKEN": "wrong"})("list", ok=False)
        assert "401" in denied.stderr and token not in denied.stderr and "wrong" not in denied.stderr
    finally:
        assert server.stop() == 0
    again = ServerProcess(cli, sw)
    try:
        assert any(line.startswith("token: in ") for line in again.lines)
        assert not any(token in line for line in again.lines)
    finally:
        again.stop()


@needs_local_server
def test_server_refuses_remote_bind_without_permission(cli, tmp_path):
    proc = cli("--workdir", str(tmp_path / "w"), "server", "--port", "0", "--bind", "0.0.0.0", ok=False)
    assert "allow_remote" in proc.stderr or "allow-remote" in proc.stderr


def test_watch_is_live(cli):
    import pty

    proc = cli("run", "-d", cli.write("two.yaml", one_step("two", "sleep 1")))
    wf_id = submitted_id(proc.stdout)
    out = cli("watch", wf_id, "--interval", "0.5").stdout
    frames = [line for line in out.splitlines() if line.startswith(f"Workflow {wf_id}")]
    assert len(frames) >= 3 and "Succeeded" not in frames[0] and "Succeeded" in frames[-1]
    assert "] 2/2" in frames[-1]
    progress = [re.search(r"\] (\d)/2", f).group(1) for f in frames if re.search(r"\] (\d)/2", f)]
    assert progress == sorted(progress) and progress[-1] == "2"
    # on a terminal each frame redraws the screen
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cli.cwd)
        os.execvpe(sys.executable, [sys.executable, "-m", "dflow_lab.main", "watch", wf_id], cli.env)
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    screen = b"".join(chunks).decode(errors="replace")
    assert "\x1b[H\x1b[2J" in screen and "Succeeded" in screen
