#!/usr/bin/env bash
# The built wheel works installed on its own: in a clean virtualenv outside the checkout, `pilotsim scenarios`
# lists the built-ins, a short baseline runs and writes its report, and the README's Python example runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "wheel check: building the wheel" >&2
.venv/bin/python -m pip wheel --no-deps --quiet --wheel-dir "$work/dist" .
echo "wheel check: installing it in a clean virtualenv in $work" >&2
"$PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$work"/dist/*.whl
# the README's Python example, as a user would paste it
"$work/venv/bin/python" - "$PWD/README.md" "$work/example.py" <<'PY'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
start = text.index("```python\n", text.index("## Cross-chain exchange from Python")) + len("```python\n")
open(sys.argv[2], "w", encoding="utf-8").write(text[start:text.index("```", start)])
PY
cd "$work"
echo "wheel check: pilotsim scenarios" >&2
venv/bin/pilotsim scenarios | grep -qw baseline
echo "wheel check: a short baseline" >&2
venv/bin/pilotsim run baseline --set duration_s=20 --backend revm --quiet --out run
test -s run/report.json && test -s run/report.html
echo "wheel check: the README's Python example" >&2
venv/bin/python example.py > example.out
grep -q "delivered" example.out || grep -q "gas" example.out
echo "wheel check: the installed wheel works" >&2
