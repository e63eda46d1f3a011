"""Atomic cross-zone transactions, from Python: begin one (2PC or TCC) over entities of two to five zones,
read where it stands on every chain, or run one to its end and see its path.

A transaction writes an agreement (a 32-byte hash: a joint pilot, a data-sharing agreement) into the
record of each party's entity on its zone's chain, on all of them or on none. The coordinator lives on
the hub or on the initiator's zone chain; the first party's entity begins it, from its own account.

    client = AtomicClient(network)
    tx_id, chain = client.begin(["Beijing healthcare pilot 05", "Chengdu healthcare pilot 03"], protocol="tcc")
    Relayer(network).run_until_idle()
    client.state(tx_id, chain).outcome          # "committed"
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from eth_abi import encode
from eth_utils import keccak

from registry import PilotsimError, Tx
from registry.evm.artifacts import contract_constant, contract_constants
from registry.evm.events import EventRecord, first_of, typed

from .atomic_events import (
    LockReleased,
    PartyCommitted,
    PartyPrepared,
    PartyRefused,
    PartyRolledBack,
    TxBegun,
    TxDecided,
    TxVoted,
)
from .committee import signature
from .relayer import Relayer
from .topology import ChainNode, Network

Protocol = Literal["2pc", "tcc"]
CoordinatorPlace = Literal["hub", "initiator"]
PROTOCOLS: dict[str, int] = {"2pc": contract_constant("Atomic", "TWO_PHASE"), "tcc": contract_constant("Atomic", "TCC")}
PROTOCOL_NAMES = {number: name for name, number in PROTOCOLS.items()}
REASONS = {contract_constant("Atomic", name): name.lower() for name in ("NONE", "VOTE_NO", "CONFLICT", "TIMEOUT",
                                                                          "EXPIRED", "REPLAYED")}
COORDINATOR_STATES = {number: name.lower() for name, number in contract_constants("AtomicCoordinator").items()
                      if name in ("VOTING", "COMMITTED", "ABORTED")}
PARTY_STATES = {0: "none"} | {number: name.lower() for name, number in contract_constants("AtomicParticipant").items()}
BEGIN_GAS = 1_500_000  # five prepares, the local one run in place
RELEASE_GAS = 150_000
ABORT_GAS = 1_200_000  # a rollback sent to five parties
CONSENT_VALID_S = 300  # by default, a consent must be used (its transaction begun) within this long of signing


CONSENT_TAG = keccak(text="pilotsim.atomic.consent.v2")
CONSENT_TYPE = "(uint8,uint64[],uint32[],bytes32,uint64,uint64,address,bytes32,uint64)"


@dataclass(frozen=True)
class ConsentTerms:
    """What every party's entity signs to take part in one transaction (struct Consent): the transaction's terms,
    the coordinator that may run it, a nonce, and the time by which it must begin. Each party's participant
    spends a consent once, so a signed transaction runs at most once."""

    protocol: int
    chains: tuple[int, ...]
    entities: tuple[int, ...]
    agreement: bytes
    lock_timeout: int
    coordinator_chain: int
    coordinator: str
    nonce: bytes
    valid_until: int

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.protocol, list(self.chains), list(self.entities), self.agreement, self.lock_timeout,
                self.coordinator_chain, self.coordinator, self.nonce, self.valid_until)

    def begin_request(self, consents: Sequence[bytes]) -> tuple[Any, ...]:
        """The coordinator's BeginRequest for these terms (its coordinator and chain are the one it goes to)."""
        return (self.protocol, list(self.chains), list(self.entities), self.agreement, self.lock_timeout, self.nonce,
                self.valid_until, list(consents))

    def digest(self) -> bytes:
        """Atomic.consentDigest: the EIP-191 signed message's hash each party's entity signs."""
        consent = keccak(encode(["bytes32", CONSENT_TYPE], [CONSENT_TAG, self.as_tuple()]))
        return keccak(b"\x19Ethereum Signed Message:\n32" + consent)


class AtomicError(PilotsimError):
    """A transaction that cannot begin: unknown or repeated zones, too few or too many parties."""


@dataclass(frozen=True)
class PartyState:
    chain: str
    chain_id: int
    entity: int
    state: str  # none, prepared, committed, rolled_back, expired, refused
    record: str  # the entity's agreement record now (0x…)


@dataclass(frozen=True)
class TransactionState:
    tx_id: str
    coordinator: str
    protocol: str
    outcome: str  # the coordinator's decision: voting, committed, aborted
    reason: str  # why it aborted (none otherwise)
    parties: list[PartyState]

    @property
    def applied(self) -> str:
        """What the parties did, whatever was decided: committed (every one), none, partial (some: atomicity
        broken), or pending (one still locked, or not yet asked)."""
        states = [p.state for p in self.parties]
        if any(s in ("none", "prepared") for s in states):
            return "pending"
        committed = states.count("committed")
        return "committed" if committed == len(states) else "partial" if committed else "none"


@dataclass(frozen=True)
class TxStep:
    step: str  # begun, prepared, refused, voted, decided, committed, rolled back, released
    chain: str
    block: int
    at_s: int  # seconds since the transaction began
    detail: str = ""


@dataclass
class TransactionRun:
    state: TransactionState
    steps: list[TxStep] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        found = asdict(self)
        found["state"]["applied"] = self.state.applied
        return found


class AtomicClient:
    """Begin atomic transactions and read them back, on a built network."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def coordinator_node(self, initiator: int, place: CoordinatorPlace) -> ChainNode:
        return self.network.hub if place == "hub" else self.network.home(initiator)

    def terms(self, parties: Sequence[str | int], *, protocol: Protocol = "2pc",
              coordinator: CoordinatorPlace = "hub", agreement: bytes = b"", lock_timeout: int = 120,
              nonce: bytes | None = None, valid_until: int | None = None) -> ConsentTerms:
        """The terms every party's entity signs for such a transaction. `nonce`: fresh random bytes by default
        (pass one for a reproducible run); `valid_until`: the coordinator chain's time now plus CONSENT_VALID_S."""
        if protocol not in PROTOCOLS:
            raise AtomicError(f"unknown protocol {protocol!r}: 2pc or tcc")
        ids = [p if isinstance(p, int) else self.network.data.entity_id(p) for p in parties]
        homes = [self.network.home(i) for i in ids]
        seen: dict[int, int] = {}
        for entity_id, home in zip(ids, homes, strict=True):
            if home.chain_id in seen:
                names = [self.network.data.entity(e).name for e in (seen[home.chain_id], entity_id)]
                raise AtomicError(f"{names[0]} and {names[1]} are both in {home.name}: one party per zone")
            seen[home.chain_id] = entity_id
        node = self.coordinator_node(ids[0], coordinator)
        assert node.coordinator is not None
        return ConsentTerms(
            PROTOCOLS[protocol], tuple(h.chain_id for h in homes), tuple(ids),
            agreement or keccak(text="agreement between " + ", ".join(map(str, ids))), lock_timeout, node.chain_id,
            node.coordinator.address, os.urandom(32) if nonce is None else nonce,
            node.chain.block().timestamp + CONSENT_VALID_S if valid_until is None else valid_until)

    def begin_tx(self, parties: Sequence[str | int], *, consents: Sequence[bytes] | None = None,
                 **options: Any) -> tuple[Tx, ChainNode]:
        """The (unsent) transaction by which the first party's entity begins one on `terms(parties, **options)`,
        and the chain it goes to. `consents`: each party's signature of the terms' digest; by default the
        simulation signs for every party with its entity's key (it holds them all)."""
        terms = self.terms(parties, **options)
        node = self.network.nodes[terms.coordinator_chain]
        assert node.coordinator is not None
        roles = self.network.registry.roles
        if consents is None:
            consents = [signature(roles.entity(i).key, terms.digest()) for i in terms.entities]
        begin = node.coordinator.begin_tx(terms.begin_request(consents), by=roles.entity(terms.entities[0]),
                                          gas=BEGIN_GAS)
        return begin, node

    def begin(self, parties: Sequence[str | int], **options: Any) -> tuple[bytes, int]:
        """Begin one now: its id and its coordinator's chain id. A refusal raises with the contract's reason."""
        tx, node = self.begin_tx(parties, **options)
        [receipt] = node.chain.send([tx])
        receipt.raise_for_status()
        assert node.coordinator is not None
        return first_of(TxBegun, node.coordinator.events(receipt)).tx_id, node.chain_id

    def state(self, tx_id: bytes, coordinator_chain: int) -> TransactionState:
        """Where the transaction stands now, on its coordinator's chain and on each party's."""
        node = self.network.nodes[coordinator_chain]
        assert node.coordinator is not None
        record = node.coordinator.transactions(tx_id)
        if not record.state:
            raise AtomicError(f"no transaction 0x{tx_id.hex()} on {node.name}")
        parties = []
        for chain_id in node.coordinator.chains_of(tx_id):
            party = self.network.nodes[chain_id]
            assert party.participant is not None
            entry = party.participant.entries(tx_id)
            parties.append(PartyState(party.name, chain_id, entry.entity, PARTY_STATES.get(entry.state, "?"),
                                      "0x" + party.participant.agreements(entry.entity).hex()))
        return TransactionState("0x" + tx_id.hex(), node.name, PROTOCOL_NAMES.get(record.protocol, "?"),
                                COORDINATOR_STATES.get(record.state, "?"), REASONS.get(record.reason, "?"), parties)

    def steps(self, tx_id: bytes, coordinator_chain: int, from_blocks: dict[int, int]) -> list[TxStep]:
        """The transaction's path: every event of it on its coordinator's chain and its parties', in time order,
        read from `from_blocks` (chain id → first block) to each chain's head."""
        found: list[tuple[int, int, int, TxStep]] = []
        began = 0
        for chain_id, first in from_blocks.items():
            node = self.network.nodes[chain_id]
            for contract in (node.coordinator, node.participant):
                if contract is None:
                    continue
                for log, event in contract.logged(first, node.chain.block_number):
                    record = typed(event)
                    if getattr(record, "tx_id", None) != tx_id:
                        continue
                    stamp = node.chain.block(log.block_number).timestamp
                    if isinstance(record, TxBegun):
                        began = stamp
                    step, detail = _describe(record, self.network)
                    found.append((stamp, chain_id, log.log_index,
                                  TxStep(step, node.name, log.block_number, stamp, detail)))
        found.sort(key=lambda f: (f[0], f[1], f[2]))
        return [TxStep(s.step, s.chain, s.block, s.at_s - began, s.detail) for *_, s in found]


def _describe(record: EventRecord | None, network: Network) -> tuple[str, str]:
    if isinstance(record, TxBegun):
        return "begun", f"{PROTOCOL_NAMES.get(record.protocol, '?')} over {len(record.chains)} parties"
    if isinstance(record, TxVoted):
        voter = network.nodes[record.chain].name if record.chain in network.nodes else f"chain {record.chain}"
        return "voted", f"{voter}: {'yes' if record.yes else 'no (' + REASONS.get(record.reason, '?') + ')'}"
    if isinstance(record, TxDecided):
        return "decided", "commit" if record.commit else f"roll back ({REASONS.get(record.reason, '?')})"
    if isinstance(record, PartyPrepared):
        return "prepared", f"entity {record.entity}" + (" (committed on prepare)" if record.committed else "")
    if isinstance(record, PartyRefused):
        return "refused", f"entity {record.entity}: {REASONS.get(record.reason, '?')}"
    if isinstance(record, PartyCommitted):
        return "committed", f"entity {record.entity}"
    if isinstance(record, PartyRolledBack):
        return "rolled back", f"entity {record.entity}"
    if isinstance(record, LockReleased):
        return "released", f"entity {record.entity}: the lock expired"
    return "event", type(record).__name__


def run_transaction(network: Network, parties: Sequence[str | int], *, relayer: Relayer | None = None,
                    **options: Any) -> TransactionRun:
    """Begin one, relay until nothing is left to carry, and report where it ended and its path. The chains' clocks
    are brought level first (each mines a block at the latest one's time), so that the path's times compare."""
    client = AtomicClient(network)
    now = max(node.chain.block().timestamp for node in network.nodes.values())
    for node in network.nodes.values():
        if node.chain.block().timestamp < now:
            node.chain.mine(timestamp=now)
    start = {c: n.chain.block_number + 1 for c, n in network.nodes.items()}
    tx_id, chain_id = client.begin(parties, **options)
    (relayer or Relayer(network)).run_until_idle()
    state = client.state(tx_id, chain_id)
    involved = {chain_id} | {p.chain_id for p in state.parties}
    return TransactionRun(state, client.steps(tx_id, chain_id, {c: start[c] for c in sorted(involved)}))


__all__ = ["AtomicClient", "AtomicError", "ConsentTerms", "PartyState", "TransactionRun", "TransactionState",
           "TxStep", "run_transaction"]
