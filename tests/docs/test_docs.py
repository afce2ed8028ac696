"""Every runnable code block of the README and ``docs/*.md`` runs as written (see ``mdblocks.py`` for the
markers that skip a block, run a shell block, or start the services a page needs).

Each page runs in a fresh folder holding a copy of ``examples/`` (the sample graph, its OP module and the
Argo YAML the pages name) and ``notebooks/tutorial_ops.py`` (the widgets page's OPs), in a fresh Python process per session, with no ``DFLOW_*`` variables of the
test run. A page marked ``needs: s3`` gets a moto S3 server and a fresh bucket through ``DFLOW_S3_*``; one
marked ``needs: server`` gets a ``dflow-lab server`` over its own workspace through ``DFLOW_HOST`` and
``DFLOW_TOKEN``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.mdblocks import Page, parse

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).with_name("runner.py")
PAGE_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PAGES = {str(p.relative_to(REPO)): p for p in PAGE_FILES}


def _page(rel: str) -> Page:
    return parse(PAGES[rel], rel)


def test_every_marker_is_known_and_every_page_parses():
    runnable = 0
    for rel in PAGES:
        runnable += len(_page(rel).runnable)
    assert runnable >= 20, "the docs have fewer runnable blocks than expected: is the collector finding them?"


def _sessions(page: Page, path: Path) -> list[list[dict]]:
    sessions: list[list[dict]] = [[]]
    for block in page.runnable:
        if block.new_session and sessions[-1]:
            sessions.append([])
        sessions[-1].append(
            {"page": page.path, "path": str(path), "line": block.line, "lang": block.lang, "code": block.code,
             "expect_error": block.expect_error}
        )
    return [s for s in sessions if s]


def _clean_env(cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DFLOW_", "JUPYTER_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(cwd), str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONUNBUFFERED"] = "1"
    env["DFLOW_LAB_NO_LAB"] = "1"
    return env


@pytest.fixture
def page_dir(tmp_path: Path) -> Path:
    """A folder as a reader has it: the samples of ``examples/`` and the notebooks' OP module beside them."""
    shutil.copytree(REPO / "examples", tmp_path / "work", ignore=shutil.ignore_patterns("__pycache__", ".dflow-lab"))
    shutil.copy(REPO / "notebooks" / "tutorial_ops.py", tmp_path / "work")
    return tmp_path / "work"


def _start_s3(env: dict[str, str]) -> Iterator[None]:
    sys.path.insert(0, str(REPO / "tests" / "storage"))
    from s3server import MotoServer  # tests/storage's real moto server

    server = MotoServer()
    server.start()
    bucket = f"docs-{uuid.uuid4().hex[:12]}"
    server.make_bucket(bucket)
    env.update(DFLOW_S3_ENDPOINT=server.endpoint, DFLOW_S3_ACCESS_KEY=server.access_key,
               DFLOW_S3_SECRET_KEY=server.secret_key, DFLOW_S3_SECURE="false", DFLOW_S3_BUCKET_NAME=bucket)
    try:
        yield
    finally:
        server.stop()


def _start_server(env: dict[str, str], workdir: Path) -> Iterator[None]:
    workdir.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dflow_lab.main", "server", "--workdir", str(workdir), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        assert proc.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"serving the Argo API on (http\S+)", line)
            url = m.group(1) if m else None
        assert url, f"dflow-lab server did not start (exit {proc.poll()})"
        token = next(workdir.rglob("argo-server.token")).read_text().strip()
        env.update(DFLOW_HOST=url, DFLOW_TOKEN=token, DFLOW_LAB_TEST_ARGO_URL=url)
        yield
    finally:
        proc.kill()
        proc.wait(timeout=30)


def _start_executors(env: dict[str, str], workdir: Path) -> Iterator[None]:
    """sshd (whose sessions see the test Slurm), Slurm and podman images, for docs/executors.md."""
    from tests.executors import services as svc

    tag = f"{os.getpid()}-{uuid.uuid4().hex[:6]}"  # concurrent sessions must not remove each other's image
    started = []
    try:
        try:
            slurm = svc.Slurm()
            started.append(slurm)
            sshd = svc.SSHD(workdir / "sshd", env=slurm.env)
            started.append(sshd)
            images = workdir / "images"
            images.mkdir(parents=True)
            busybox = svc.build_busybox_image(images, f"localhost/dflow-lab-docs/busybox:{tag}")
        except svc.Unavailable as e:
            pytest.skip(f"docs/executors.md needs sshd, Slurm and podman: {e}")
        env.update(DOCS_SSH_HOST="127.0.0.1", DOCS_SSH_PORT=str(sshd.port), DOCS_SSH_USER=svc.TEST_USER,
                   DOCS_SSH_KEY=str(sshd.client_key), DOCS_SLURM_HOST="127.0.0.1", DOCS_SLURM_PORT=str(sshd.port),
                   DOCS_REMOTE_PYTHON="/usr/bin/python3", DOCS_IMAGE_BUSYBOX=busybox,
                   DFLOW_CONTAINER_GLOBAL_OPTIONS=svc.PODMAN_GLOBAL, DFLOW_CONTAINER_RUN_OPTIONS=svc.PODMAN_RUN,
                   **slurm.env)
        yield
    finally:
        for part in reversed(started):
            part.stop()
        svc.remove_image(f"localhost/dflow-lab-docs/busybox:{tag}")


@pytest.mark.parametrize("rel", [rel for rel in PAGES if _page(rel).runnable])
def test_page_blocks_run(rel: str, page_dir: Path, tmp_path: Path):
    page = _page(rel)
    env = _clean_env(page_dir)
    services = []
    if "s3" in page.needs:
        services.append(_start_s3(env))
    if "server" in page.needs:
        services.append(_start_server(env, tmp_path / "server-ws"))
    if "executors" in page.needs:
        services.append(_start_executors(env, tmp_path / "executors"))
    try:
        for service in services:
            next(service)
        for n, session in enumerate(_sessions(page, PAGES[rel])):
            spec = tmp_path / f"session-{n}.json"
            spec.write_text(json.dumps(session))
            proc = subprocess.run([sys.executable, str(RUNNER), str(spec)], cwd=page_dir, env=env,
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                pytest.fail(f"{rel}: a code block failed\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}", pytrace=False)
    finally:
        for service in services:
            for _ in service:
                pass


def test_a_broken_block_fails(tmp_path: Path):
    """The collector is not a rubber stamp: a page with a failing block fails, naming the block's line."""
    md = tmp_path / "broken.md"
    md.write_text("# A page\n\n```python\nx = 1\n```\n\nText.\n\n```python\nassert x == 2, 'x is not 2'\n```\n")
    page = parse(md, "broken.md")
    spec = tmp_path / "s.json"
    spec.write_text(json.dumps(_sessions(page, md)[0]))
    proc = subprocess.run([sys.executable, str(RUNNER), str(spec)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "DOCS BLOCK FAILED at broken.md:10: AssertionError: x is not 2" in proc.stdout
    assert 'broken.md.py", line 10' in proc.stderr


def test_markers_are_checked(tmp_path: Path):
    from tests.docs.mdblocks import MarkerError

    for text in ("<!-- docs: skpi: typo -->\n```python\n1\n```\n", "<!-- docs: skip -->\n```python\n1\n```\n",
                 "<!-- docs: run -->\nprose\n```bash\ntrue\n```\n", "<!-- docs-page: needs: gpu -->\n"):
        md = tmp_path / "m.md"
        md.write_text(text)
        with pytest.raises(MarkerError):
            parse(md)
    md.write_text("<!-- docs: skip: needs a cluster -->\n\n```python\nraise SystemExit\n```\n<!-- docs: run -->\n```bash\necho hi\n```\n")
    page = parse(md)
    assert [b.skip for b in page.blocks] == ["needs a cluster", None] and [b.runnable for b in page.blocks] == [False, True]


def _cli_commands() -> list[str]:
    from dflow_lab.main import main_parser

    parser = main_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return sorted(sub.choices)


def test_every_cli_command_is_documented():
    """README's list of commands and docs/argo.md's table name every subcommand the CLI has."""
    readme = (REPO / "README.md").read_text()
    table = [line for line in (REPO / "docs" / "argo.md").read_text().splitlines() if line.startswith("| `")]
    for command in _cli_commands():
        assert f"`{command}`" in readme, f"README.md does not list the CLI command {command!r}"
        assert any(re.search(rf"`{command}\b", row) for row in table), f"docs/argo.md's table lacks {command!r}"


def test_graph_format_example_is_the_shipped_sample():
    """The full example of docs/graph-format.md is examples/screen.graph.json, byte for byte as JSON."""
    text = (REPO / "docs" / "graph-format.md").read_text()
    block = re.search(r"## A full example\n\n```json\n(.*?)```", text, re.S)
    assert block, "docs/graph-format.md lost its full example"
    assert json.loads(block.group(1)) == json.loads((REPO / "examples" / "screen.graph.json").read_text())
