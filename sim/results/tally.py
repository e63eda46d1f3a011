"""One pass over a run's messages and gas, keeping numbers only: what the metrics need, in memory that
does not hold a single message record (a simulated day has about 170,000 of them).
"""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable

from ..engine.driver import GasRecord
from ..engine.recorder import MessageRecord

PHASES = ("source_inclusion", "relay_pickup", "delivery", "execution", "acknowledgement")
KINDS = ("request", "response")


def phases(m: MessageRecord) -> dict[str, float | None]:
    def span(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else b - a

    return {
        "source_inclusion": span(m.submitted_s, m.included_s),
        "relay_pickup": span(m.included_s, m.picked_s),
        "delivery": span(m.picked_s, m.delivered_s),
        "execution": span(m.delivered_s, m.executed_s),
        "acknowledgement": span(m.delivered_s, m.acked_s),
    }


def _floats() -> array[float]:
    return array("d")


class MessageTally:
    """Counts and the latencies (as arrays of floats) of every message, read once in creation order."""

    def __init__(self, messages: Iterable[MessageRecord]) -> None:
        self.sent = self.pending = self.acknowledged = 0
        self.outcomes: Counter[str] = Counter()
        self.by_kind: dict[str, Counter[str]] = {k: Counter() for k in KINDS}
        self.latencies = _floats()  # delivered messages' latency
        self.delivered_submitted = _floats()  # and when each of them was sent (same order)
        self.by_phase: dict[str, array[float]] = {name: _floats() for name in PHASES}
        self.by_pair: dict[str, array[float]] = defaultdict(_floats)
        self.by_sector: dict[str, array[float]] = defaultdict(_floats)
        self.by_kind_latency: dict[str, array[float]] = {k: _floats() for k in KINDS}
        self.round_trips = _floats()
        self.submitted = _floats()
        self.processed = _floats()  # when each message reached its destination
        self.pairs: dict[tuple[str, str], int] = {}  # (source zone, destination zone) → its number below
        self.delivered_pair = array("H")  # each delivered message's pair (order of delivered_submitted)
        self.timeouts: list[tuple[float, int]] = []  # each timed-out message: (submitted, pair)
        unanswered: dict[bytes, float] = {}  # request id -> submitted, until its answer comes by
        for m in messages:
            self._add(m, unanswered)

    def _add(self, m: MessageRecord, unanswered: dict[bytes, float]) -> None:
        self.sent += 1
        self.outcomes[m.outcome] += 1
        self.by_kind[m.kind][m.outcome] += 1
        self.pending += m.delivered_s is None
        self.acknowledged += m.acked_s is not None
        self.submitted.append(m.submitted_s)
        pair = self.pairs.setdefault((m.src_zone, m.dst_zone), len(self.pairs))
        if m.outcome == "timed_out":
            self.timeouts.append((m.submitted_s, pair))
        if m.kind == "request":
            unanswered[m.message_id] = m.submitted_s
        if m.delivered_s is None:
            return
        self.processed.append(m.delivered_s)
        latency = m.delivered_s - m.submitted_s
        self.by_kind_latency[m.kind].append(latency)
        if m.outcome != "delivered":
            return
        self.latencies.append(latency)
        self.delivered_submitted.append(m.submitted_s)
        self.delivered_pair.append(pair)
        self.by_pair[f"{m.src_zone}->{m.dst_zone}"].append(latency)
        self.by_sector[m.sector].append(latency)
        for name, span in phases(m).items():
            if span is not None:
                self.by_phase[name].append(span)
        if m.kind == "response" and m.request_id in unanswered:
            self.round_trips.append(m.delivered_s - unanswered.pop(m.request_id))


def gas_by_function(records: Iterable[GasRecord]) -> tuple[int, dict[tuple[str, str], array[int]]]:
    """The total gas of a run and every call's gas by (contract, function), read once."""
    table: dict[tuple[str, str], array[int]] = defaultdict(lambda: array("q"))
    total = 0
    for record in records:
        table[(record.contract, record.function)].append(record.gas_used)
        total += record.gas_used
    return total, table
