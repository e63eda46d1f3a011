"""`pilotsim bench` pieces that run in seconds: the bare py-evm measure of the baseline's sends."""

from __future__ import annotations

from sim.bench import raw_send_rate


def test_raw_send_rate_applies_the_baselines_requests_on_bare_py_evm() -> None:
    # every DataExchange.request must succeed on the bare chain, or the measure raises
    rate = raw_send_rate(transactions=40, per_block=10)
    assert 0 < rate < 10_000
