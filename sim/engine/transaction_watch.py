"""Atomic transactions, from chain events alone: what each coordinator began, every vote and decision, and what
each party's participant did; the invariants `atomic` and `locks_released` judged from them.

Read block range by block range, as the watcher reads gateways: each coordinator's `TxBegun`, `TxVoted`,
`TxDecided`; each participant's `PartyPrepared`, `PartyRefused`, `PartyCommitted`, `PartyRolledBack` and
`LockReleased`. A party is final once it committed, or once it can no longer commit: it refused, was rolled
back, released its lock, or its lock's expiry passed (a participant applies no decision after it). A
transaction is judged once every party is final: `atomic` breaks when one committed and another did not.
A lock must end by its expiry plus `release_bound_s`, the time its chain was halted excused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.evm.base import HistoryHolds
from registry.evm.events import EventRecord, typed

from ..bridge.atomic import PROTOCOL_NAMES, REASONS
from ..bridge.atomic_events import (
    LockReleased,
    PartyCommitted,
    PartyPrepared,
    PartyRefused,
    PartyRolledBack,
    TxBegun,
    TxDecided,
    TxVoted,
)
from ..bridge.topology import Network
from .watcher import MAX_VIOLATIONS_KEPT, Violation

CONFLICT = next(code for code, name in REASONS.items() if name == "conflict")
NOT_COMMITTED = ("refused", "rolled_back", "expired")


@dataclass
class Party:
    chain: int
    entity: int
    state: str = "none"  # none, prepared, committed, rolled_back, expired, refused
    prepared_s: float | None = None  # when its lock began (none for a commit on prepare)
    ended_s: float | None = None  # when its lock ended
    reason: str = ""  # why it refused
    judged: bool = False  # locks_released checked


@dataclass
class TxRecord:
    tx_id: bytes
    coordinator: int  # chain id
    protocol: str
    begun_s: float
    decide_by_s: float
    expires_at_s: float
    parties: dict[int, Party]  # by chain id
    decision: tuple[float, bool, str] | None = None  # (when, commit, reason)
    steps: list[tuple[float, int, str, str]] = field(default_factory=list)  # (when, chain, step, detail)
    judged: bool = False  # atomic checked

    @property
    def outcome(self) -> str:
        """What its parties came to, once every one is final: committed (on every party), aborted (on none), or
        partial (on some: `atomic` broken); unfinished before. Never the coordinator's word alone: a commit
        decision that reached no party in time committed nothing."""
        if not self.judged:
            return "unfinished"
        committed = len(self.committed_parties())
        return "committed" if committed == len(self.parties) else "partial" if committed else "aborted"

    @property
    def abort_reason(self) -> str:
        """Why it aborted: the coordinator's reason for a roll-back that came before the locks' expiry;
        decision_late for a commit that no party took before its lock expired; coordinator_gone when the parties
        ended without a decision."""
        if self.decision is not None and self.decision[1]:
            return "decision_late"
        if self.decision is not None and self.decision[0] <= self.expires_at_s:
            return self.decision[2]
        return "coordinator_gone"

    def committed_parties(self) -> list[Party]:
        return [p for p in self.parties.values() if p.state == "committed"]


@dataclass
class TransactionWatch:
    network: Network
    first_block: dict[int, int]
    epoch: int
    release_bound_s: float

    transactions: dict[bytes, TxRecord] = field(default_factory=dict)
    open: dict[bytes, TxRecord] = field(default_factory=dict)  # not yet judged, or with a lock still held
    violations: list[Violation] = field(default_factory=list)
    violation_count: int = 0
    conflicts: int = 0
    # chain → [start, end] while halted: the run's watcher's own record (Watcher.halts), shared, not kept twice
    halts: dict[int, list[list[float]]] = field(default_factory=dict)
    holds: HistoryHolds = field(default_factory=HistoryHolds)

    def __post_init__(self) -> None:
        self._scanned = {c: b - 1 for c, b in self.first_block.items()}
        self.holds.keep_each((self.network.nodes[c].chain, s) for c, s in self._scanned.items())
        self._times: dict[tuple[int, int], float] = {}

    # -- reading ------------------------------------------------------------------------------------

    def scan(self, now: float) -> None:
        """Read every chain up to its head (coordinators' events first: a party acts only on what one began),
        then judge what can be."""
        found: list[tuple[int, float, int, int, EventRecord]] = []  # (pass, time, chain, log order, event)
        for chain_id, node in self.network.nodes.items():
            head, first = node.chain.block_number, self._scanned[chain_id] + 1
            for rank, contract in enumerate((node.coordinator, node.participant)):
                if contract is None or first > head:
                    continue
                for log, event in contract.logged(first, head):
                    record = typed(event)
                    if record is not None:
                        found.append((rank, self._time(chain_id, log.block_number), chain_id,
                                      log.block_number * 10_000 + log.log_index, record))
            self._scanned[chain_id] = max(head, self._scanned[chain_id])
            self.holds.keep(node.chain, self._scanned[chain_id])
        for _, at, chain_id, _, record in sorted(found, key=lambda f: (f[0], f[2], f[3])):
            self._take(chain_id, at, record)
        self._times.clear()
        self.judge(now)

    def _time(self, chain_id: int, block: int) -> float:
        key = (chain_id, block)
        if key not in self._times:
            self._times[key] = float(self.network.nodes[chain_id].chain.block(block).timestamp - self.epoch)
        return self._times[key]

    def _take(self, chain_id: int, at: float, event: EventRecord) -> None:
        if isinstance(event, TxBegun):
            parties = {c: Party(c, e) for c, e in zip(event.chains, event.entities, strict=True)}
            self.transactions[event.tx_id] = TxRecord(
                event.tx_id, chain_id, PROTOCOL_NAMES.get(event.protocol, "?"), at,
                float(event.decide_by - self.epoch), float(event.expires_at - self.epoch), parties)
            self.open[event.tx_id] = self.transactions[event.tx_id]
            self._step(event.tx_id, at, chain_id, "begun", f"{len(parties)} parties")
            return
        tx = self.transactions.get(getattr(event, "tx_id", b""))
        if tx is None:  # of a transaction no coordinator here began: none, in a run of its own
            return
        party = tx.parties.get(chain_id)
        match event:
            case TxVoted(chain=voter, yes=yes, reason=reason):
                self._step(tx.tx_id, at, chain_id, "voted",
                           f"{self._name(voter)}: " + ("yes" if yes else f"no ({REASONS.get(reason, '?')})"))
            case TxDecided(commit=commit, reason=reason):
                tx.decision = (at, commit, REASONS.get(reason, "?"))
                self._step(tx.tx_id, at, chain_id, "decided",
                           "commit" if commit else f"roll back ({REASONS.get(reason, '?')})")
            case PartyPrepared(committed=committed) if party is not None:
                party.state = "committed" if committed else "prepared"
                party.prepared_s = None if committed else at  # committed on prepare: no lock, done at once
                party.ended_s = at if committed else None
                self._step(tx.tx_id, at, chain_id, "prepared", "committed on prepare (unsafe)" if committed else
                           ("locked" if tx.protocol == "2pc" else "written tentatively, locked"))
            case PartyRefused(reason=reason) if party is not None:
                party.state, party.reason = "refused", REASONS.get(reason, "?")
                self.conflicts += reason == CONFLICT
                self._step(tx.tx_id, at, chain_id, "refused", party.reason)
            case PartyCommitted() if party is not None:
                party.state, party.ended_s = "committed", at
                self._step(tx.tx_id, at, chain_id, "committed", "")
            case PartyRolledBack() if party is not None:
                party.state, party.ended_s = "rolled_back", at
                self._step(tx.tx_id, at, chain_id, "rolled back", "compensated" if tx.protocol == "tcc" else "")
            case LockReleased() if party is not None:
                party.state, party.ended_s = "expired", at
                self._step(tx.tx_id, at, chain_id, "released", "lock expired, no decision came")

    def _step(self, tx_id: bytes, at: float, chain_id: int, step: str, detail: str) -> None:
        self.transactions[tx_id].steps.append((at, chain_id, step, detail))

    def _name(self, chain_id: int) -> str:
        node = self.network.nodes.get(chain_id)
        return node.name if node is not None else str(chain_id)

    # -- judging ------------------------------------------------------------------------------------

    def _halted_within(self, chain_id: int, start: float, end: float) -> float:
        return sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.halts.get(chain_id, []))

    def judge(self, now: float) -> None:
        """`atomic` for each transaction whose parties are all final; `locks_released` for each lock that ended,
        or that should have by now."""
        for tx in list(self.open.values()):
            for party in tx.parties.values():
                if party.prepared_s is not None and not party.judged:
                    self._judge_lock(tx, party, now)
            if tx.judged:
                if all(p.state != "prepared" for p in tx.parties.values()):
                    del self.open[tx.tx_id]
                continue
            # past the expiry and the release bound, nothing undecided can still commit anywhere
            settled = now > tx.expires_at_s + self.release_bound_s
            if all(p.state == "committed" or p.state in NOT_COMMITTED or settled for p in tx.parties.values()):
                tx.judged = True
                committed = tx.committed_parties()
                if committed and len(committed) < len(tx.parties):
                    others = [f"{self._name(p.chain)} {p.state if p.state != 'none' else 'never prepared'}"
                              for p in tx.parties.values() if p.state != "committed"]
                    decided = "not yet made" if tx.decision is None else "commit" if tx.decision[1] else "roll back"
                    self._violation("atomic", tx.tx_id,
                                    f"committed on {', '.join(self._name(p.chain) for p in committed)}; "
                                    f"{', '.join(others)} (decision: {decided})")

    def _judge_lock(self, tx: TxRecord, party: Party, now: float) -> None:
        end = party.ended_s if party.ended_s is not None else now
        bound = tx.expires_at_s + self.release_bound_s
        excused = self._halted_within(party.chain, tx.expires_at_s, end)
        if end - excused > bound:
            party.judged = True
            self._violation("locks_released", tx.tx_id,
                            f"{self._name(party.chain)}: entity {party.entity}'s lock "
                            f"{'ended' if party.ended_s is not None else 'still held'} {end - tx.expires_at_s:.0f} s "
                            f"after its expiry (bound {self.release_bound_s:g} s, {excused:.0f} s halted)")
        elif party.ended_s is not None:
            party.judged = True

    def _violation(self, invariant: str, tx_id: bytes, detail: str) -> None:
        self.violation_count += 1
        if len(self.violations) < MAX_VIOLATIONS_KEPT:
            self.violations.append(Violation(invariant, "0x" + tx_id.hex(), detail))

    def settled(self) -> bool:
        """Every transaction judged and every lock ended: the run may end."""
        return all(tx.judged and all(p.state != "prepared" for p in tx.parties.values())
                   for tx in self.open.values())

    def busy_entities(self) -> set[int]:
        """Entities whose party in an unfinished transaction has not ended (locked, or not yet prepared)."""
        return {p.entity for tx in self.open.values() if not tx.judged for p in tx.parties.values()
                if p.state in ("none", "prepared")}
