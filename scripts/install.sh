#!/usr/bin/env bash
# Install dflow-lab from this checkout, with its canvas built, into the current Python.
#   scripts/install.sh          the package and JupyterLab
#   scripts/install.sh --dev    plus what the tests need (moto's S3 server, Playwright, Debian's chromium,
#                               sshd, Slurm + munge, podman for the executor tests)
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

if [ "$dev" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's chromium for the browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "chromium is needed for the browser tests; install it with your package manager" >&2
    exit 1
  fi
fi

missing_executor_parts() {
  [ -x /usr/sbin/sshd ] && [ -x /usr/sbin/slurmctld ] && [ -x /usr/sbin/munged ] && command -v podman >/dev/null 2>&1 \
    && [ -x /usr/sbin/runc ] && [ -x /bin/busybox ] && return 1
  return 0
}

if [ "$dev" = 1 ] && missing_executor_parts; then
  # the executor tests start these themselves (tests/executors/services.py): sshd, Slurm + munge, podman
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's openssh-server, slurm-wlm, munge, podman, runc, busybox-static for the executor tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends openssh-server openssh-client slurm-wlm munge podman runc \
      busybox-static python3-yaml >/dev/null
  else
    echo "the executor tests need openssh-server, slurm-wlm, munge, podman, runc and busybox-static" >&2
  fi
fi

if [ "$dev" = 1 ] && [ ! -x /opt/pydflow-venv/bin/python ]; then
  # the reference dflow, in its own venv: comparison tests and benchmarks run it beside dflow-lab
  echo "== installing the reference pydflow into /opt/pydflow-venv"
  python -m venv /opt/pydflow-venv
  /opt/pydflow-venv/bin/pip install -q --disable-pip-version-check pydflow
fi

if [ "$dev" = 1 ]; then
  # node_modules for the JS unit tests; pip's build hook below reuses it to build the canvas
  echo "== npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

# pip's build hook (hatch-jupyter-builder) runs `npm run build`: the canvas bundle and the lab extension
echo "== installing dflow-lab (pip; builds the canvas with npm)"
if [ "$dev" = 1 ]; then
  python -m pip install -q --disable-pip-version-check -e '.[dev]'
else
  python -m pip install -q --disable-pip-version-check -e .
fi
