"""The watcher: compares every hop's processing with the sends, from chain logs alone.

It trusts no relayer and no metrics: it reads each gateway's `Sent`, `Processed` and `Acknowledged`
events, block range by block range, and checks the invariants of a run. A `Sent` is an origin's own
emission when the chain is the message's origin and did not forward it (a forward comes with a
`Processed` FORWARDED of the same id); every processing is traced to a `Sent` toward that chain (the
hop) and to its origin's own send (the origin it names). A message it is done with (terminal and, if
data, acknowledged to its origin) is checked then and kept only as an 8-byte prefix of its id, to
catch a later second processing: a long run's memory holds what is in flight, not its history.

It also times every hop: from a message's `Sent` toward a chain to its processing there, by block
times. A lane may be held up for a reason the run knows of (one of its chains halted, the lane paused
by either end, no relayer up): that time is excused. A message that waits on a lane longer than
`max_wait_s` beyond what is excused, or times out although its deadline was at least that bound and it
would have been late even without the excused time, breaks `deadlines_met`: throttling (a flood,
costly caps ahead of it) shows there even when lanes keep moving.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

from registry.evm.base import HistoryHolds
from registry.evm.events import typed

from ..bridge.events import Acknowledged, LanePauseSet, Processed, Sent
from ..bridge.messages import KIND_DATA, TERMINAL, Outcome
from ..bridge.topology import Network
from .id_prefixes import IdPrefixes

# The invariants every run is checked against, in the order reports show them.
INVARIANTS = {
    "exactly_once": "no message processed twice",
    "all_terminal": "every sent message ended delivered, failed, timed out or rejected, and its source was told",
    "no_forged_accepted": "no delivery without a matching send while fewer than threshold keys are compromised",
    "no_unmatched_delivery": "no processing without a send toward that chain, at all",
    "authentic_origin": "every processed message was sent by the chain it names as its origin",
    "lanes_live": "no lane with messages waiting goes without progress longer than the bound, while its chains "
                  "produce blocks and a relayer is up",
    "deadlines_met": "no message times out, or waits longer than the bound, on a lane whose chains produce "
                     "blocks, which neither end paused, while a relayer is up",
    "suspension_honoured": "no request to or from an entity is served later than registry.max_stale_s after its "
                           "suspension on the hub",
    "atomic": "no atomic transaction committed on one party's chain while another rolled back, expired or never did",
    "locks_released": "no lock outlives its expiry by more than transactions.release_bound_s (halts excused)",
}
MAX_VIOLATIONS_KEPT = 1000


@dataclass(frozen=True)
class Violation:
    invariant: str
    message_id: str
    detail: str


class InvariantReport(BaseModel):
    """Which invariants held, and the violations found (the first MAX_VIOLATIONS_KEPT of them).
    In JSON the flags stand flat beside the violations: `{"exactly_once": true, …, "violations": […]}`."""

    model_config = ConfigDict(frozen=True)

    held: dict[str, bool]
    violations: list[Violation]
    violation_count: int

    @property
    def broken(self) -> list[str]:
        return [name for name, ok in self.held.items() if not ok]

    @model_serializer
    def _flat(self) -> dict[str, Any]:
        return {**self.held, "violations": [vars(v) for v in self.violations],
                "violation_count": self.violation_count}

    @model_validator(mode="before")
    @classmethod
    def _from_flat(cls, data: Any) -> Any:
        if isinstance(data, dict) and "held" not in data:
            return {"held": {k: data[k] for k in INVARIANTS if k in data},
                    "violations": data.get("violations", []), "violation_count": data.get("violation_count", 0)}
        return data


@dataclass
class Watcher:
    network: Network
    first_block: dict[int, int]  # where to start reading each chain (the simulation's first block)
    lane_stall_s: float | None = None  # lanes_live's bound (None: not checked)
    max_wait_s: float | None = None  # deadlines_met's bound on a hop's unexcused wait (None: not checked)
    epoch: int = 0  # the block timestamp of simulated second 0
    trust_breached: bool = False  # set by a fault: keys stolen at a threshold, or no fraud watcher up

    sent: dict[bytes, tuple[int, int, int]] = field(default_factory=dict)  # origin sends: id → (origin, dst, kind)
    hops: dict[bytes, dict[int, int]] = field(default_factory=dict)  # id → {hop it was sent toward: emitter}
    outcomes: dict[bytes, list[tuple[int, Outcome]]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: dict[bytes, Outcome] = field(default_factory=dict)
    unmatched: dict[bytes, tuple[int, bool]] = field(default_factory=dict)  # id → (chain, while trusted)
    unauthentic: dict[bytes, tuple[int, int]] = field(default_factory=dict)  # id → (chain, origin it names)
    keep: set[bytes] = field(default_factory=set)  # ids whose outcomes are asked for later (attacks)
    settled: IdPrefixes = field(default_factory=IdPrefixes)  # messages done with
    found: list[Violation] = field(default_factory=list)  # violations of messages and lanes done with
    dropped: int = 0  # violations found elsewhere (the registry watch) beyond those it kept
    # lane → message → (when the watcher first saw it, when it was sent toward the hop: simulated seconds)
    waiting: dict[tuple[int, int], dict[bytes, tuple[float, float]]] = field(default_factory=lambda: defaultdict(dict))
    halts: dict[int, list[list[float]]] = field(default_factory=lambda: defaultdict(list))  # chain → [start, end]
    pauses: dict[frozenset[int], list[list[float]]] = field(default_factory=lambda: defaultdict(list))
    relayers_down: list[list[float]] = field(default_factory=list)  # while no relayer was up
    excused_before: dict[bytes, float] = field(default_factory=dict)  # in-flight messages: excused on earlier hops
    life: dict[bytes, tuple[float, float]] = field(default_factory=dict)  # in-flight data: (sent, deadline)
    _progress: dict[tuple[int, int], float] = field(default_factory=dict)  # lane → last processing or excuse
    _stalled: set[tuple[int, int]] = field(default_factory=set)  # lanes flagged, until they move again
    _scanned: dict[int, int] = field(default_factory=dict)
    holds: HistoryHolds = field(default_factory=HistoryHolds)  # what it has not read stays on the chains

    def __post_init__(self) -> None:  # held from the start: its first read may come much later
        self.holds.keep_each((self.network.nodes[c].chain, first - 1) for c, first in self.first_block.items())

    def scan(self, now: float | None = None, halted: Collection[int] = (), relayers_up: bool = True) -> None:
        """Read every chain up to its head and match what was processed against what was sent. With
        the simulated time `now`, also check that lanes move (excused: a lane of a `halted` chain, or
        every lane while no relayer is up)."""
        clock = now or 0.0
        new_processed: list[tuple[bytes, int, int, Outcome, float]] = []
        touched: set[bytes] = set()
        for chain_id, node in self.network.nodes.items():
            head = node.chain.block_number
            first = self._scanned.get(chain_id, self.first_block[chain_id] - 1) + 1
            if first > head:
                continue
            logged = node.gateway.logged(first, head)
            times = {n: node.chain.block(n).timestamp - self.epoch for n in {log.block_number for log, _ in logged}}
            records = [(log, typed(event)) for log, event in logged]
            forwarded = {e.id for _, e in records if isinstance(e, Processed) and e.outcome is Outcome.FORWARDED}
            for log, record in records:
                at = float(times[log.block_number])
                match record:
                    case Sent(id=message_id, hop=hop, message=message):
                        self.hops.setdefault(message_id, {})[hop] = chain_id
                        self.waiting[(chain_id, hop)].setdefault(message_id, (clock, at))
                        if message.src_chain == chain_id and message_id not in forwarded:
                            self.sent[message_id] = (chain_id, message.dst_chain, message.kind)
                            if message.kind == KIND_DATA:
                                self.life[message_id] = (at, float(message.deadline - self.epoch))
                    case Processed(id=message_id, src_chain=origin, outcome=outcome):
                        self.outcomes[message_id].append((chain_id, outcome))
                        new_processed.append((message_id, chain_id, origin, outcome, at))
                    case Acknowledged(id=message_id, outcome=outcome):
                        self.acknowledged[message_id] = outcome
                        touched.add(message_id)
                    case LanePauseSet(chain=other, paused=paused):
                        self._interval(self.pauses[frozenset((chain_id, other))], at, paused)
            self._scanned[chain_id] = head
            self.holds.keep(node.chain, head)
        for message_id, chain_id, origin, outcome, at in new_processed:
            self._check_processing(message_id, chain_id, origin, clock, outcome, at)
            touched.add(message_id)
        for message_id in touched:
            self._settle(message_id)
        if now is not None and self.lane_stall_s is not None:
            self._check_lanes(now, set(halted), relayers_up)

    # -- what excuses a lane's wait -------------------------------------------------------------

    def chain_halted(self, chain_id: int, now: float, halted: bool) -> None:
        """A chain stopped (or started again) producing blocks at simulated second `now`."""
        self._interval(self.halts[chain_id], now, halted)

    def lane_blocked(self, lane: tuple[int, int], now: float, blocked: bool) -> None:
        """No relayer carries the lane (a lane outage), from simulated second `now` on: excused like a pause."""
        self._interval(self.pauses[frozenset(lane)], now, blocked)

    def relayers_changed(self, now: float, any_up: bool) -> None:
        """Whether some relayer is up, from simulated second `now` on."""
        self._interval(self.relayers_down, now, not any_up)

    @staticmethod
    def _interval(intervals: list[list[float]], at: float, opens: bool) -> None:
        if opens and (not intervals or intervals[-1][1] != float("inf")):
            intervals.append([at, float("inf")])
        elif not opens and intervals and intervals[-1][1] == float("inf"):
            intervals[-1][1] = at

    def _excused(self, lane: tuple[int, int], start: float, end: float) -> float:
        """How much of [start, end] the lane could not move for a reason of the run's."""
        spans = sorted((max(a, start), min(b, end)) for a, b in
                       [*self.halts.get(lane[0], []), *self.halts.get(lane[1], []),
                        *self.pauses.get(frozenset(lane), []), *self.relayers_down] if a < end and b > start)
        excused, reach = 0.0, start
        for a, b in spans:
            if b > reach:
                excused += b - max(a, reach)
                reach = b
        return excused

    def _check_wait(self, message_id: bytes, lane: tuple[int, int], sent_at: float, end: float,
                    outcome: Outcome | None) -> None:
        """deadlines_met for one hop of one message, from its send toward the hop to `end`."""
        if self.max_wait_s is None:
            return
        excused = self._excused(lane, sent_at, end)
        where = self._lane_name(lane)
        if outcome is Outcome.FORWARDED:  # a router passes it on: what held it up here may make it late there
            self.excused_before[message_id] = self.excused_before.get(message_id, 0.0) + excused
        earlier = self.excused_before.get(message_id, 0.0) if outcome is not None else 0.0
        born, deadline = self.life.get(message_id, (sent_at, float("inf")))
        # a deadline the sender gave less than the bound is judged by the waits alone (a stranger's 1 s ttl
        # misses it on any network); one at least that long, missed even without the excused time, is late
        if outcome is Outcome.TIMED_OUT and deadline - born >= self.max_wait_s and \
                end - born - excused - earlier > deadline - born:
            self.found.append(Violation("deadlines_met", "0x" + message_id.hex(),
                                        f"{where}: timed out {end - deadline:.0f} s past its {deadline - born:.0f} s "
                                        f"deadline, {excused + earlier:.0f} s of its wait excused"))
        elif end - sent_at - excused > self.max_wait_s:
            self.found.append(Violation("deadlines_met", "0x" + message_id.hex(),
                                        f"{where}: waited {end - sent_at - excused:.0f} s "
                                        f"{'' if outcome else 'and still waits '}(bound {self.max_wait_s:g} s)"
                                        + (f", {excused:.0f} s more excused" if excused else "")))

    def _check_processing(self, message_id: bytes, chain_id: int, origin: int, now: float, outcome: Outcome,
                          at: float) -> None:
        if _prefix(message_id) in self.settled:
            self.found.append(Violation("exactly_once", "0x" + message_id.hex(),
                                        f"processed again on chain {chain_id} after it was done"))
            return
        emitter = self.hops.get(message_id, {}).get(chain_id)
        if emitter is None:
            # no Sent toward this chain; while fewer than threshold keys are compromised, the verifier failed
            self.unmatched.setdefault(message_id, (chain_id, not self.trust_breached))
        else:
            lane = (emitter, chain_id)
            seen = self.waiting[lane].pop(message_id, None)
            if seen is not None:
                self._check_wait(message_id, lane, seen[1], at, outcome)
            self._progress[lane] = now
            self._stalled.discard(lane)
        sent = self.sent.get(message_id)
        if sent is None or sent[0] != origin:
            self.unauthentic.setdefault(message_id, (chain_id, origin))

    def _check_lanes(self, now: float, halted: set[int], relayers_up: bool) -> None:
        for lane, waiting in self.waiting.items():
            if not waiting or lane in self._stalled:
                continue
            paused = self.pauses.get(frozenset(lane), [])  # paused, or carried by no relayer now
            blocked = bool(paused) and paused[-1][1] == float("inf")
            if not relayers_up or lane[0] in halted or lane[1] in halted or blocked:
                self._progress[lane] = now  # excused: the clock starts again when it can move
                continue
            since = max(min(seen for seen, _ in waiting.values()), self._progress.get(lane, 0.0))
            if now - since > self.lane_stall_s:  # type: ignore[operator]
                oldest = min(waiting, key=waiting.__getitem__)
                self.found.append(Violation("lanes_live", "0x" + oldest.hex(),
                                            f"{self._lane_name(lane)}: {len(waiting)} waiting, no progress for "
                                            f"{now - since:.0f} s"))
                self._stalled.add(lane)

    def _lane_name(self, lane: tuple[int, int]) -> str:
        names = [self.network.nodes[c].name if c in self.network.nodes else str(c) for c in lane]
        return f"lane {names[0]}→{names[1]}"

    def rewind(self, chain_id: int, block: int) -> None:
        """Read `chain_id` again from `block` on at the next scan (a node serving its events twice)."""
        self._scanned[chain_id] = max(block, self.first_block[chain_id]) - 1

    def keep_outcomes(self, message_ids: Iterable[bytes]) -> None:
        """Remember where these messages end even once they are done (attacks are reported so)."""
        self.keep.update(message_ids)

    def outcomes_of(self, message_id: bytes) -> list[Outcome]:
        return [o for _, o in self.outcomes.get(message_id, [])]

    def _settle(self, message_id: bytes) -> None:
        """Check a message that is done and forget all but its id prefix; one in flight stays. Done:
        terminal where it ended (its destination, or the hub that timed it out or refused it) and,
        if data, acknowledged to its origin."""
        if message_id not in self.sent or message_id in self.keep:
            return
        kind = self.sent[message_id][2]
        seen = self.outcomes.get(message_id, [])
        if not any(o in TERMINAL for _, o in seen):
            return
        if kind == KIND_DATA and message_id not in self.acknowledged:
            return
        self.found.extend(_processed_twice(message_id, seen))
        del self.sent[message_id]
        self.hops.pop(message_id, None)
        self.outcomes.pop(message_id, None)
        self.acknowledged.pop(message_id, None)
        self.excused_before.pop(message_id, None)
        self.life.pop(message_id, None)
        self.settled.add(_prefix(message_id))

    def close(self, now: float) -> None:
        """The run is over at simulated second `now`: what still waits has waited until then."""
        for lane, waiting in self.waiting.items():
            for message_id, (_, sent_at) in waiting.items():
                self._check_wait(message_id, lane, sent_at, now, None)

    def take(self, violations: list[Violation], count: int) -> None:
        """Violations found by another watch (the registry's): `count` in all, of which it kept `violations`."""
        self.found.extend(violations)
        self.dropped += count - len(violations)

    def invariants(self) -> InvariantReport:
        violations: list[Violation] = list(self.found)
        for message_id, seen in self.outcomes.items():
            violations.extend(_processed_twice(message_id, seen))
        for message_id, (origin, destination, kind) in self.sent.items():
            if kind != KIND_DATA:
                continue
            ends = [(c, o) for c, o in self.outcomes.get(message_id, []) if o in TERMINAL]
            if not ends:
                violations.append(Violation("all_terminal", "0x" + message_id.hex(),
                                            f"no outcome on chain {destination} (sent from {origin})"))
            elif message_id not in self.acknowledged:
                violations.append(Violation("all_terminal", "0x" + message_id.hex(),
                                            f"{ends[0][1].label} on chain {ends[0][0]}, never acknowledged to "
                                            f"{origin}"))
        for message_id, (chain_id, trusted) in self.unmatched.items():
            violations.append(Violation("no_unmatched_delivery", "0x" + message_id.hex(),
                                        f"processed on chain {chain_id} without a send toward it"))
            if trusted:
                violations.append(Violation("no_forged_accepted", "0x" + message_id.hex(),
                                            f"accepted on chain {chain_id} while what its verifier trusts held"))
        for message_id, (chain_id, origin) in self.unauthentic.items():
            violations.append(Violation("authentic_origin", "0x" + message_id.hex(),
                                        f"processed on chain {chain_id} as from chain {origin}, which never sent it"))
        broken = {v.invariant for v in violations}
        return InvariantReport(held={name: name not in broken for name in INVARIANTS},
                               violations=violations[:MAX_VIOLATIONS_KEPT],
                               violation_count=len(violations) + self.dropped)


def _prefix(message_id: bytes) -> int:
    return int.from_bytes(message_id[:8], "big")


def _processed_twice(message_id: bytes, seen: list[tuple[int, Outcome]]) -> list[Violation]:
    delivered = [c for c, o in seen if o is Outcome.DELIVERED]
    terminal = [c for c, o in seen if o in TERMINAL]
    if len(delivered) > 1 or len(terminal) > 1:
        return [Violation("exactly_once", "0x" + message_id.hex(),
                          f"processed {len(terminal)} times, delivered {len(delivered)} times")]
    return []
