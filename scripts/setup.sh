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

# The project's own modules as bytecode, as a wheel's installer leaves them: an editable install never writes
# them where PYTHONDONTWRITEBYTECODE is set, and each run would compile them again (~0.15 s). Quick when unchanged.
.venv/bin/python -m compileall -q -j 0 registry sim >/dev/null

# The test suite renders report.html in headless Chromium (Debian's package; needs root and apt).
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (Debian package) for the report test" >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: chromium is missing and cannot be installed here (needs root and apt-get)" >&2
  fi
fi

npm_stamp="$(stamp contracts/package.json contracts/package-lock.json)"
if [ "$(cat contracts/node_modules/.pilotsim-stamp 2>/dev/null)" != "$npm_stamp" ]; then
  echo "setup: installing the npm toolchain (solc, anvil)" >&2
  npm ci --prefix contracts --no-audit --no-fund --loglevel=error >&2  # stdout stays the command's (--json)
  echo "$npm_stamp" > contracts/node_modules/.pilotsim-stamp
fi
