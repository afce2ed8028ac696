"""What a step run by ``dflow-lab server`` can see: not the server's credentials, not its environment.

The server runs as its own process (``dflow-lab server``) with an Argo token, S3 keys and an unlisted
variable in its environment; a client submits a workflow whose step prints ``env``.  Neither the
step's log (read back through the API) nor any file of the server's workspace (``state.db`` raw bytes,
stored artifacts opened) may hold them, nor the server's own bearer token.
"""

from __future__ import annotations

from tests.argo.conftest import needs_local_server
from tests.argo.test_cli import Cli, ServerProcess, submitted_id
from tests.local.test_step_env import leaks

SERVER_ENV = {
    "DFLOW_TOKEN": "server-argo-token-5a4b3c2d1e",
    "DFLOW_S3_ACCESS_KEY": "server-s3-access-0f9e8d",
    "DFLOW_S3_SECRET_KEY": "server-s3-secret-7c6b5a",
    "MY_SERVICE_API_KEY": "server-host-only-4d3c2b",
}

ENV_STEP = """\
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: show-env-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: show, template: show}
  - name: show
    outputs:
      artifacts: [{name: env, path: /tmp/env.txt}]
    script:
      image: alpine:3
      command: [sh]
      env: [{name: DECLARED, value: plain-value}]
      source: |
        env
        env > /tmp/env.txt
"""


@needs_local_server
def test_a_step_run_by_the_server_sees_none_of_the_servers_credentials(tmp_path):
    sw = tmp_path / "server-ws"
    server = ServerProcess(Cli(tmp_path, SERVER_ENV), sw)
    try:
        token = (sw / "argo-server.token").read_text().strip()
        remote = Cli(tmp_path, {"DFLOW_HOST": server.url, "DFLOW_TOKEN": token, "DFLOW_NAMESPACE": "argo"})
        wf_id = submitted_id(remote("submit", remote.write("env.yaml", ENV_STEP)).stdout)
        assert remote("wait", wf_id, "--timeout", "120").returncode == 0
        log = "\n".join(remote.json("logs", wf_id))
        assert "DECLARED=plain-value" in log and "PATH=" in log  # the step printed its environment
        needles = {**SERVER_ENV, "server-token": token, "engine-config": "DFLOW_LAB_ENGINE_CONFIG"}
        assert [k for k, v in needles.items() if v in log] == []
        assert leaks(sw, {k: v for k, v in needles.items() if k != "server-token"}) == []
    finally:
        assert server.stop() == 0
