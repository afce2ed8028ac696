#!/usr/bin/env bash
# Install dflow-lab, run the example workflow on this machine, then open JupyterLab with the extension.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "== running examples/hello.py on the local engine"
python examples/hello.py
if [ "${DFLOW_LAB_NO_LAB:-0}" = 1 ]; then exit 0; fi
lab_args=(--ip 127.0.0.1 --port "${DFLOW_LAB_PORT:-8888}" --no-browser)
# JupyterLab refuses to start as root unless told: the usual case in a container
if [ "$(id -u)" = 0 ]; then lab_args+=(--allow-root); fi
echo "== starting JupyterLab on http://127.0.0.1:${DFLOW_LAB_PORT:-8888} (Ctrl-C to stop; another port: DFLOW_LAB_PORT=8890)"
exec jupyter lab "${lab_args[@]}" notebooks/
