"""`pilotsim bench`: the bare py-evm measure of the baseline's sends, and the whole bench in its quick form."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sim.tools.bench import raw_send_rate


def test_raw_send_rate_applies_the_baselines_requests_on_bare_py_evm() -> None:
    # every DataExchange.request must succeed on the bare chain, or the measure raises
    rate = raw_send_rate(transactions=40, per_block=10)
    assert 0 < rate < 10_000


@pytest.mark.anvil
def test_bench_quick_prints_every_figure_as_json() -> None:
    """`pilotsim bench --quick --json`, end to end (the full bench takes a quarter of an hour)."""
    done = subprocess.run([sys.executable, "-m", "sim.cli", "bench", "--quick", "--json"], capture_output=True,
                          text=True, check=False, timeout=1800)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    for key in ("seed_speedup", "msgs_per_s", "revm_msgs_per_s", "revm_speedup", "raw_tx_per_s", "msg_to_raw_ratio",
                "txs_per_message", "scaling_10x", "scaling_memory_ratio", "peak_rss_mb", "loaded_msgs_per_s",
                "day_messages", "day_wall_s", "day_peak_rss_mb", "anvil_msgs_per_s", "anvil_ratio", "cli_help_s",
                "baseline_process_s", "report_write_s", "week_messages", "week_wall_s", "week_peak_rss_mb"):
        assert figures[key] > 0, key
    assert figures["day_invariants"] is True
    assert figures["msg_to_raw_ratio"] == round(figures["msgs_per_s"] / figures["raw_tx_per_s"], 3)
    small, large = figures["scaling_messages"]
    assert 8 <= large / small <= 12  # ten times the messages
    assert {(r["verifier"], r["batch"]) for r in figures["gas_per_delivered_message"]} == \
        {(v, n) for v in ("committee", "checkpoint", "light-client") for n in (1, 16, 64)}
    assert set(figures["targets"]) == {
        "seed_speedup>=10", "cli_help_s<=0.3", "baseline_process_s<=2.5", "report_write_s<=0.3",
        "msg_to_raw_ratio>=0.5", "revm_speedup>=10", "revm_msgs_per_s>=550", "scaling_10x<=11",
        "scaling_memory_ratio<=1.1", "peak_rss_mb<=1024", "day_wall_s<=360", "day_peak_rss_mb<=1024",
        "day_invariants", "checkpoint_64<=60000", "light_client_64<=120000", "week_rss_growth<=0.1",
        "week_invariants"}
    assert figures["week_rss_growth"] >= 0 and figures["week_invariants"] is True
    assert figures["quick"] is True


def test_the_readme_bench_table_says_which_targets_are_met() -> None:
    from sim.tools.bench_table import bench_table

    figures = {"seed_speedup": 20.2, "report_write_s": 0.036, "revm_msgs_per_s": 498.25, "day_invariants": True,
               "gas_per_delivered_message": [{"verifier": "checkpoint", "batch": 64, "deliver": 59925},
                                             {"verifier": "light-client", "batch": 64, "deliver": 296535},
                                             {"verifier": "light-client", "batch": 16, "deliver": 301665}],
               "targets": {"seed_speedup>=10": True, "report_write_s<=0.3": True, "revm_msgs_per_s>=550": False,
                           "checkpoint_64<=60000": True, "light_client_64<=120000": False,
                           "day_invariants": True}}
    table = bench_table(figures)
    assert "| seed_speedup | seeding the registry against a naive web3 loop | 20.2 | ≥ 10, met |" in table
    assert "| report_write_s |" in table and "| 0.036 | ≤ 0.3, met |" in table
    assert "| 498.2 | ≥ 550, **not met** |" in table or "| 498.3 | ≥ 550, **not met** |" in table
    assert "| gas per delivered message | checkpoint verifier, batch 64 | 59,925 | ≤ 60,000, met |" in table
    # an unmet gas target is shown beside its row, not only in the prose
    assert "| light-client verifier, batch 64 | 296,535 | ≤ 120,000, **not met** |" in table
    assert "| light-client verifier, batch 16 | 301,665 |  |" in table
    assert "| day_invariants | every invariant true in that run | True | true, met |" in table
