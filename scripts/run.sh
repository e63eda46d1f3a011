#!/usr/bin/env bash
# Set up (first time) and run the main job. Arguments go to `pilotsim` (default: `run`, the baseline scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "$#" -eq 0 ]; then set -- run; fi
exec .venv/bin/pilotsim "$@"
