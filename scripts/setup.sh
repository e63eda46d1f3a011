#!/usr/bin/env bash
# Set up everything pilotsim needs on a machine with Python 3.11+, Node 20 and npm:
# a virtualenv with the Python packages (.venv) and the pinned npm toolchain (solc, Anvil).
# Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)" >&2
  "$PYTHON" -m venv .venv
fi

stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }

py_stamp="$(stamp pyproject.toml)"
if [ "$(cat .venv/.pilotsim-stamp 2>/dev/null)" != "$py_stamp" ]; then
  echo "setup: installing Python packages" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  echo "$py_stamp" > .venv/.pilotsim-stamp
fi

npm_stamp="$(stamp contracts/package.json contracts/package-lock.json)"
if [ "$(cat contracts/node_modules/.pilotsim-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  echo "setup: installing the npm toolchain (solc, anvil)" >&2
  npm ci --prefix contracts --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > contracts/node_modules/.pilotsim-stamp
fi
