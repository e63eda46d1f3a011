#!/usr/bin/env bash
# Static checks: solhint over the contracts, ruff and mypy over the Python packages and the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "lint: solhint" >&2
npm --prefix contracts run --silent lint
echo "lint: ruff" >&2
.venv/bin/ruff check registry sim tests seeds
echo "lint: mypy" >&2
.venv/bin/mypy registry sim tests
