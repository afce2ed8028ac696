"""Fixtures of the lab tests: a real Jupyter server with the dflow-lab extension enabled."""

from __future__ import annotations

import pytest

from .jupyter import OPS_BROKEN, JupyterServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyter-home")
    srv = JupyterServer(home, home / "root", app="server", extra=["--DflowLab.op_modules=dflow_lab_testops"],
                        python_path=[OPS_BROKEN])
    try:
        yield srv
    finally:
        srv.stop()
