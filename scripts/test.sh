#!/usr/bin/env bash
# Install everything the tests need (Python packages, npm packages, Debian's chromium) and run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
echo "== lint"
ruff check dflow_lab tests benchmarks
echo "== import layers: import-linter contracts (.importlinter)"
lint-imports
echo "== types: mypy over the engines, storage, expressions and the API server ([tool.mypy] in pyproject.toml)"
python -m mypy
echo "== js: tsc, eslint, prettier"
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check
echo "== tests"
python -m pytest -q -p no:cacheprovider "$@"
