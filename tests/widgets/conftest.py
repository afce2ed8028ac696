"""Fixtures of the widget tests: a real JupyterLab and Debian's headless Chromium (browser tests only)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .jupyterlab_harness import CHROMIUM, LabServer, chromium_context

ARTIFACTS = Path(os.environ.get("DFLOW_LAB_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    """Where browser tests save their screenshots (kept as CI artifacts)."""
    path = ARTIFACTS / "widgets"
    path.mkdir(parents=True, exist_ok=True)
    return path


def served(server: LabServer):
    """Start ``server`` for a fixture, and stop it when the fixture ends."""
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    yield from served(LabServer(tmp_path_factory.mktemp("lab")))


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory):
    """A Notebook 7 server (a JupyterLab 4 application: our lab extension loads there too)."""
    pytest.importorskip("notebook", minversion="7", reason="Notebook 7 is in the dev extras")
    yield from served(LabServer(tmp_path_factory.mktemp("nb7"), app="notebook"))


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory, lab, playwright_driver):
    yield from chromium_context(playwright_driver, tmp_path_factory.mktemp("chromium-profile"), 1440, 960)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


@pytest.fixture
def page(request, browser_context, screenshots_dir):
    """A browser page; on failure its screenshot and the page's errors are kept beside the others."""
    page = browser_context.new_page()
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            page.screenshot(path=str(screenshots_dir / f"{request.node.name}-failure.png"))
            (screenshots_dir / f"{request.node.name}-failure.txt").write_text("\n".join(errors))
        page.close()
