#!/usr/bin/env bash
# Set up (first time) and run the whole test suite: Python packages, the npm solc and Anvil included.
# Arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-browser
exec .venv/bin/python -m pytest -n auto --dist worksteal "$@"
