#!/usr/bin/env bash
# Install dflow-lab, run the example workflow on this machine, then open JupyterLab with the extension.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "== running examples/hello.py on the local engine"
python examples/hello.py
if [ "${DFLOW_LAB_NO_LAB:-0}" = 1 ]; then exit 0; fi
echo "== starting JupyterLab on http://127.0.0.1:8888 (Ctrl-C to stop)"
exec jupyter lab --ip 127.0.0.1 --port 8888 --no-browser notebooks/
