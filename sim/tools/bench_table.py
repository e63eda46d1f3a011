"""The README's bench table, rendered from `.bench.json`: the figures of the last `pilotsim bench --json`
on a 2-core machine (`pilotsim bench --json > .bench.json`, then `python -m sim.tools.readme_figures`)."""

from __future__ import annotations

import json
import re
from typing import Any

from registry.paths import ROOT

BENCH_JSON = ROOT / ".bench.json"
# each figure with what it measures, in the order the table shows them
ROWS = {
    "seed_speedup": "seeding the registry against a naive web3 loop",
    "msgs_per_s": "baseline on eth-tester, delivered messages per wall second",
    "raw_tx_per_s": "bare py-evm applying the baseline's own sends",
    "msg_to_raw_ratio": "msgs_per_s / raw_tx_per_s",
    "txs_per_message": "transactions each delivered message cost (baseline)",
    "revm_msgs_per_s": "baseline on revm, delivered messages per wall second",
    "revm_speedup": "baseline wall time with setup, eth-tester / revm",
    "baseline_process_s": "the revm baseline as a whole process, network built, every output written",
    "report_write_s": "writing its report.md, report.html (plots included) and messages.csv",
    "cli_help_s": "`pilotsim --help` as a whole process",
    "scaling_10x": "wall time, ten times the messages / the messages (revm)",
    "peak_rss_mb": "peak memory of the larger run",
    "scaling_memory_ratio": "peak memory, larger run / smaller run",
    "loaded_msgs_per_s": "the larger run (5x the baseline's load), messages per wall second",
    "day_wall_s": "`pilotsim run day --backend revm`, end to end",
    "day_peak_rss_mb": "its peak memory",
    "anvil_msgs_per_s": "baseline on one Anvil node per chain",
    "anvil_ratio": "anvil_msgs_per_s / msgs_per_s",
    "week_wall_s": "`pilotsim run week --backend revm` (`--long`), end to end",
    "week_rss_growth": "memory over its last six days: (highest - lowest) / lowest",
}
_TARGET = re.compile(r"^(?P<figure>[a-z0-9_]+?)(?P<op><=|>=)(?P<bound>[\d.]+)$")


def bench_table(figures: dict[str, Any] | None = None) -> str:
    """The table of `figures` (default: .bench.json): each figure, its value and its target, met or not."""
    figures = figures if figures is not None else json.loads(BENCH_JSON.read_text())
    targets: dict[str, str] = {}
    for key, met in figures["targets"].items():
        found = _TARGET.match(key)
        name = found["figure"] if found else key
        bound = f"{'≤' if found['op'] == '<=' else '≥'} {float(found['bound']):,g}" if found else "true"
        targets[name] = f"{bound}, {'met' if met else '**not met**'}"
    lines = ["| figure | what it measures | value | target |", "|---|---|---:|---|"]
    lines += [f"| {key} | {meaning} | {_value(figures[key])} | {targets.get(key, '')} |"
              for key, meaning in ROWS.items() if key in figures]
    for row in figures["gas_per_delivered_message"]:
        # a gas target is named by verifier and batch: checkpoint_64, light_client_64
        target = targets.get(f"{row['verifier'].replace('-', '_')}_{row['batch']}", "")
        lines.append(f"| gas per delivered message | {row['verifier']} verifier, batch {row['batch']} | "
                     f"{row['deliver']:,} | {target} |")
    for flag in ("day_invariants", "week_invariants"):
        if flag in figures:
            lines.append(f"| {flag} | every invariant true in that run | {figures[flag]} | {targets.get(flag, '')} |")
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if value < 10 else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
