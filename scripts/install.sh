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

missing_image_stand_ins() {
  [ -x /usr/games/cowsay ] && [ -x /usr/sbin/nginx ] && [ -x /usr/bin/influxd ] && return 1
  return 0
}

if [ "$dev" = 1 ] && missing_image_stand_ins; then
  # the local engine's host stand-ins for the cowsay, nginx and influxdb images (dflow_lab/local/images.py),
  # which the conformance suite's daemon, sidecar and argosay examples run; their services are not started
  # here (the engine starts them per step), so a policy-rc.d keeps the packages from starting them
  if command -v apt-get >/dev/null 2>&1; then
    echo "== installing Debian's cowsay, nginx-light, influxdb for the local engine's image stand-ins"
    export DEBIAN_FRONTEND=noninteractive
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends cowsay nginx-light influxdb >/dev/null
    if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
  else
    echo "the local engine's conformance tests need cowsay, nginx and influxdb (1.x)" >&2
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
  # the lab tests' OP package (dflow_lab.ops entry point), installed as a user installs one
  python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation ./tests/lab/testops
else
  python -m pip install -q --disable-pip-version-check -e .
fi
