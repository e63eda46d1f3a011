"""The events of atomic cross-zone transactions, typed (see `registry.evm.events`): what a coordinator records
(begun, each vote, the decision) and what each party's participant does (prepared or refused, committed, rolled
back, its lock released at expiry)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from registry.evm.events import EventRecord, event_of

# -- AtomicCoordinator ----------------------------------------------------------------------------


@event_of("AtomicCoordinator")
@dataclass(frozen=True, slots=True)
class TxBegun(EventRecord):
    tx_id: bytes
    initiator: str
    protocol: int
    chains: Sequence[int]
    entities: Sequence[int]
    agreement: bytes
    decide_by: int
    expires_at: int


@event_of("AtomicCoordinator")
@dataclass(frozen=True, slots=True)
class TxVoted(EventRecord):
    tx_id: bytes
    chain: int
    yes: bool
    reason: int


@event_of("AtomicCoordinator")
@dataclass(frozen=True, slots=True)
class TxDecided(EventRecord):
    tx_id: bytes
    commit: bool
    reason: int


@event_of("AtomicCoordinator")
@dataclass(frozen=True, slots=True)
class DecisionUndelivered(EventRecord):
    message_id: bytes
    outcome: int


# -- AtomicParticipant ----------------------------------------------------------------------------


@event_of("AtomicParticipant")
@dataclass(frozen=True, slots=True)
class PartyPrepared(EventRecord):
    tx_id: bytes
    entity: int
    protocol: int
    coordinator_chain: int
    expires_at: int
    committed: bool  # committed on prepare (the flawed unsafe-commit variant)


@event_of("AtomicParticipant")
@dataclass(frozen=True, slots=True)
class PartyRefused(EventRecord):
    tx_id: bytes
    entity: int
    reason: int


@event_of("AtomicParticipant")
@dataclass(frozen=True, slots=True)
class PartyCommitted(EventRecord):
    tx_id: bytes
    entity: int


@event_of("AtomicParticipant")
@dataclass(frozen=True, slots=True)
class PartyRolledBack(EventRecord):
    tx_id: bytes
    entity: int


@event_of("AtomicParticipant")
@dataclass(frozen=True, slots=True)
class LockReleased(EventRecord):
    tx_id: bytes
    entity: int


@event_of("AtomicParticipant")
@dataclass(frozen=True, slots=True)
class DecisionIgnored(EventRecord):
    tx_id: bytes
    kind: int
    state: int
