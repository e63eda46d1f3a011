"""AtomicCoordinator and AtomicParticipant against whoever would break their rules, on a real network (hub,
Beijing, Chengdu, Guiyang on revm): a stranger's commit, a commit after a rollback, a second prepare, a
conflicting write on a locked record, a decision after the lock's expiry, votes from strangers and non-parties,
malformed begins, governance by others. Where a rule sits behind the coordinator's own logic, governance
registers a TestRecipient as a coordinator (or participant) so that the test can send what an honest one never
would, and the other contract's check alone decides. Each test fails with its check removed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from eth_abi import encode

from registry import Account, Contract, ContractRevert, Tx
from registry.evm.events import all_of
from sim.bridge import contracts
from sim.bridge.atomic import CONSENT_TYPE, PROTOCOLS, AtomicClient, ConsentTerms
from sim.bridge.atomic_events import DecisionIgnored, PartyCommitted, PartyPrepared, PartyRefused, TxDecided, TxVoted
from sim.bridge.committee import signature
from sim.bridge.provision import sync_mirrors
from sim.bridge.relayer import Relayer
from sim.bridge.topology import ChainNode, Network

PREPARE, COMMIT, ROLLBACK, VOTE = 1, 2, 3, 4
PREPARED, COMMITTED, ROLLED_BACK, EXPIRED, REFUSED = 1, 2, 3, 4, 5
PREPARE_TYPES = f"({CONSENT_TYPE},address,uint64,bytes)"
REPLAYED = 5
GAS = 2_000_000


def _entity(net: Network, zone: str) -> int:
    node = net.node(zone)
    return next(i for i, e in enumerate(net.data.entities, start=1) if net.home(i) is node)


def _account(net: Network, entity: int) -> Account:
    return net.registry.roles.entity(entity)


def _participant(node: ChainNode) -> contracts.AtomicParticipant:
    assert node.participant is not None
    return node.participant


def _coordinator(node: ChainNode) -> contracts.AtomicCoordinator:
    assert node.coordinator is not None
    return node.coordinator


def _send(node: ChainNode, tx: Tx) -> list[object]:
    [receipt] = node.chain.send([tx])
    receipt.raise_for_status()
    return [*_participant(node).events(receipt), *_coordinator(node).events(receipt)] if node.participant else \
        list(_coordinator(node).events(receipt))


def _refused(node: ChainNode, tx: Tx) -> str:
    with pytest.raises(ContractRevert) as caught:
        _send(node, tx)
    return caught.value.name


def _relay(net: Network) -> None:
    Relayer(net).run_until_idle()


def _entry_state(node: ChainNode, tx_id: bytes) -> int:
    return int(_participant(node).entries(tx_id).state)


def _begin_local(net: Network, zones: Sequence[str], protocol: str = "2pc", lock_timeout: int = 120,
                 agreement: bytes = b"\x42" * 32) -> bytes:
    """A transaction decided on the first zone's chain; its local party prepares at once, nothing is relayed."""
    ids = [_entity(net, z) for z in zones]
    client = AtomicClient(net)
    tx_id, _ = client.begin(ids, protocol=protocol, coordinator="initiator", lock_timeout=lock_timeout,  # type: ignore[arg-type]
                            agreement=agreement)
    return tx_id


# -- a fake coordinator or participant: a TestRecipient governance registered ----------------------------------


def _as_coordinator(net: Network, apps: dict[str, Contract], of: str, on: str) -> Contract:
    """`of`'s TestRecipient registered by governance as the coordinator of chain `of` on `on`'s participant."""
    app, node = apps[of], net.node(on)
    _send(node, _participant(node).set_coordinators_tx([net.chain_id(of)], [app.address], by=net.admin(node.chain_id),
                                                       gas=200_000))
    src = net.node(of)
    src.gateway.transact("setHandlerGasLimit", 1_000_000, by=net.admin(src.chain_id), gas=100_000)
    return app


def _say(net: Network, app: Contract, to: str, recipient: str, payload: bytes, ttl: int = 3_600) -> None:
    app.transact("send", net.chain_id(to), recipient, payload, ttl, by=app.chain.accounts[5], gas=600_000)
    _relay(net)


def _prepare_payload(net: Network, fake: Contract, tx_id: bytes, party: int, parties: Sequence[int],
                     chains: Sequence[int], expires_at: int, protocol: str | int = "2pc",
                     signer: Account | None = None, initiator: str | None = None, **changes: object) -> bytes:
    """`fake`'s prepare of `tx_id` for `party`, signed by the party's account (or `signer`) over terms naming
    `fake` as coordinator, `tx_id` as nonce and a 120 s lock; `changes`: other terms, signed as they are."""
    terms = ConsentTerms(PROTOCOLS[protocol] if isinstance(protocol, str) else protocol, tuple(chains),
                         tuple(parties), b"\x17" * 32, 120, fake.chain.chain_id, fake.address, tx_id, expires_at)
    terms = replace(terms, **changes)  # type: ignore[arg-type]
    consent = signature((signer or _account(net, party)).key, terms.digest())
    prepare = (terms.as_tuple(), initiator or _account(net, parties[0]).address, expires_at, consent)
    return encode(["uint8", "bytes32", PREPARE_TYPES], [PREPARE, tx_id, prepare])


def _decision(kind: int, tx_id: bytes) -> bytes:
    return encode(["uint8", "bytes32"], [kind, tx_id])


def _fake_prepared(net: Network, apps: dict[str, Contract], tx_id: bytes, protocol: str = "2pc",
                   expires_in: int = 600) -> tuple[Contract, ChainNode, int]:
    """Chengdu's TestRecipient, registered as Chengdu's coordinator on Beijing, has Beijing's party prepare
    `tx_id` (a two-party transaction with Chengdu)."""
    fake = _as_coordinator(net, apps, "Chengdu", "Beijing")
    beijing, party, other = net.node("Beijing"), _entity(net, "Beijing"), _entity(net, "Chengdu")
    payload = _prepare_payload(net, fake, tx_id, party, [other, party], [net.chain_id("Chengdu"), beijing.chain_id],
                               beijing.chain.block().timestamp + expires_in, protocol)
    _say(net, fake, "Beijing", _participant(beijing).address, payload)
    return fake, beijing, party


# -- the participant ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["2pc", "tcc"])
def test_prepare_locks_2pc_writes_only_on_commit_tcc_tentatively(net: Network, protocol: str) -> None:
    beijing, party = net.node("Beijing"), _entity(net, "Beijing")
    before = _participant(beijing).agreements(party)
    tx_id = _begin_local(net, ["Beijing", "Chengdu"], protocol)
    assert _entry_state(beijing, tx_id) == PREPARED and _participant(beijing).locked_by(party) == tx_id
    assert _participant(beijing).agreements(party) == (b"\x42" * 32 if protocol == "tcc" else before)
    _relay(net)
    assert _entry_state(beijing, tx_id) == COMMITTED and _participant(beijing).agreements(party) == b"\x42" * 32
    assert _participant(beijing).locked_by(party) == b"\x00" * 32


def test_a_strangers_commit_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    """Beijing's party prepared by Chengdu's (registered) coordinator; a COMMIT from Guiyang's TestRecipient, a
    stranger, then from Guiyang's registered coordinator, which did not prepare it, then calls from an account:
    all refused, the party stays prepared and its record unwritten."""
    tx_id = b"\x06" * 32
    _, beijing, party = _fake_prepared(net, apps, tx_id)
    participant = _participant(beijing)
    _say(net, apps["Guiyang"], "Beijing", participant.address, _decision(COMMIT, tx_id))
    assert _entry_state(beijing, tx_id) == PREPARED
    _as_coordinator(net, apps, "Guiyang", "Beijing")
    _say(net, apps["Guiyang"], "Beijing", participant.address, _decision(COMMIT, tx_id))
    assert _entry_state(beijing, tx_id) == PREPARED and participant.agreements(party) != b"\x17" * 32
    stranger = _account(net, party)
    assert _refused(beijing, participant.tx("handleLocal", _decision(COMMIT, tx_id), by=stranger,
                                            gas=GAS)) == "NotCoordinator"
    assert _refused(beijing, participant.tx("handleMessage", net.chain_id("Chengdu"), apps["Chengdu"].address,
                                            b"\x00" * 32, _decision(COMMIT, tx_id), by=stranger,
                                            gas=GAS)) == "NotGateway"


def test_a_commit_from_an_unregistered_sender_leaves_the_party_prepared(net: Network,
                                                                       apps: dict[str, Contract]) -> None:
    """Chengdu's TestRecipient prepares Beijing's party as a registered coordinator, then governance takes the
    registration away: its COMMIT is refused, the party stays prepared."""
    tx_id = b"\x01" * 32
    fake, beijing, party = _fake_prepared(net, apps, tx_id)
    assert _entry_state(beijing, tx_id) == PREPARED
    _send(beijing, _participant(beijing).set_coordinators_tx([net.chain_id("Chengdu")], ["0x" + "00" * 20],
                                                             by=net.admin(beijing.chain_id), gas=200_000))
    _say(net, fake, "Beijing", _participant(beijing).address, _decision(COMMIT, tx_id))
    assert _entry_state(beijing, tx_id) == PREPARED and _participant(beijing).agreements(party) != b"\x17" * 32


def test_a_commit_after_a_rollback_is_ignored(net: Network, apps: dict[str, Contract]) -> None:
    tx_id = b"\x02" * 32
    fake, beijing, party = _fake_prepared(net, apps, tx_id)
    before = _participant(beijing).agreements(party)
    _say(net, fake, "Beijing", _participant(beijing).address, _decision(ROLLBACK, tx_id))
    assert _entry_state(beijing, tx_id) == ROLLED_BACK
    _say(net, fake, "Beijing", _participant(beijing).address, _decision(COMMIT, tx_id))
    assert _entry_state(beijing, tx_id) == ROLLED_BACK and _participant(beijing).agreements(party) == before
    ignored = all_of(DecisionIgnored, [e for _, e in _participant(beijing).logged(1, beijing.chain.block_number)])
    assert [(i.kind, i.state) for i in ignored] == [(COMMIT, ROLLED_BACK)]


def test_a_second_prepare_of_the_same_transaction_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    """The same PREPARE twice: one lock, one vote (the second message ends rejected, no second vote sent)."""
    tx_id = b"\x03" * 32
    fake, beijing, party = _fake_prepared(net, apps, tx_id)
    votes_before = int(fake.view("handled"))
    payload = _prepare_payload(net, fake, tx_id, party, [_entity(net, "Chengdu"), party],
                               [net.chain_id("Chengdu"), beijing.chain_id], beijing.chain.block().timestamp + 600)
    _say(net, fake, "Beijing", _participant(beijing).address, payload)
    logged = [e for _, e in _participant(beijing).logged(1, beijing.chain.block_number)]
    assert len(all_of(PartyPrepared, logged)) == 1 and int(fake.view("handled")) == votes_before
    assert _entry_state(beijing, tx_id) == PREPARED


def test_a_locked_record_refuses_other_transactions_and_its_entitys_own_writes(net: Network) -> None:
    beijing, party = net.node("Beijing"), _entity(net, "Beijing")
    participant, owner = _participant(beijing), _account(net, party)
    first = _begin_local(net, ["Beijing", "Chengdu"], lock_timeout=60)
    assert _refused(beijing, participant.amend_tx(party, b"\x09" * 32, by=owner, gas=GAS)) == "Locked"
    second = _begin_local(net, ["Beijing", "Guiyang"], agreement=b"\x43" * 32)
    assert _entry_state(beijing, second) == REFUSED
    [refusal] = [r for r in all_of(PartyRefused, [e for _, e in participant.logged(1, beijing.chain.block_number)])
                 if r.tx_id == second]
    assert refusal.reason == 2  # CONFLICT
    beijing.chain.mine(timestamp=beijing.chain.block().timestamp + 61)  # the first lock expired: the entity may write
    _send(beijing, participant.amend_tx(party, b"\x09" * 32, by=owner, gas=GAS))
    assert participant.agreements(party) == b"\x09" * 32 and _entry_state(beijing, first) == EXPIRED


def test_another_entity_cannot_amend_a_record(net: Network) -> None:
    beijing, party = net.node("Beijing"), _entity(net, "Beijing")
    other = _account(net, _entity(net, "Chengdu"))
    assert _refused(beijing, _participant(beijing).amend_tx(party, b"\x09" * 32, by=other, gas=GAS)) == \
        "NotEntityAccount"


@pytest.mark.parametrize("protocol", ["2pc", "tcc"])
def test_release_only_after_expiry_and_tcc_puts_the_old_record_back(net: Network, protocol: str) -> None:
    beijing, party = net.node("Beijing"), _entity(net, "Beijing")
    participant, anyone = _participant(beijing), net.admin(beijing.chain_id)
    before = participant.agreements(party)
    tx_id = _begin_local(net, ["Beijing", "Chengdu"], protocol, lock_timeout=60)
    assert _refused(beijing, participant.release_tx(tx_id, by=anyone, gas=GAS)) == "NotExpired"
    beijing.chain.mine(timestamp=beijing.chain.block().timestamp + 61)
    _send(beijing, participant.release_tx(tx_id, by=anyone, gas=GAS))
    assert _entry_state(beijing, tx_id) == EXPIRED and participant.agreements(party) == before
    assert _refused(beijing, participant.release_tx(tx_id, by=anyone, gas=GAS)) == "NotPrepared"


def test_a_decision_after_the_locks_expiry_is_not_applied(net: Network, apps: dict[str, Contract]) -> None:
    """A COMMIT sent with a long deadline reaches Beijing after the lock's expiry: ignored, nothing written."""
    tx_id = b"\x04" * 32
    fake, beijing, party = _fake_prepared(net, apps, tx_id, expires_in=30)
    before = _participant(beijing).agreements(party)
    for node in net.nodes.values():
        node.chain.mine(timestamp=node.chain.block().timestamp + 40)
    _say(net, fake, "Beijing", _participant(beijing).address, _decision(COMMIT, tx_id))
    assert _entry_state(beijing, tx_id) == PREPARED and _participant(beijing).agreements(party) == before
    logged = [e for _, e in _participant(beijing).logged(1, beijing.chain.block_number)]
    assert not all_of(PartyCommitted, logged) and all_of(DecisionIgnored, logged)


def test_a_prepare_that_names_a_stranger_as_initiator_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    """A registered coordinator's prepare whose initiator is not the first party's account, or whose consent
    another key signed: the party votes no and locks nothing."""
    fake = _as_coordinator(net, apps, "Chengdu", "Beijing")
    beijing, party, other = net.node("Beijing"), _entity(net, "Beijing"), _entity(net, "Chengdu")
    chains = [net.chain_id("Chengdu"), beijing.chain_id]
    expires = beijing.chain.block().timestamp + 600
    forged = _prepare_payload(net, fake, b"\x05" * 32, party, [other, party], chains, expires,
                              signer=_account(net, other))
    _say(net, fake, "Beijing", _participant(beijing).address, forged)
    assert _entry_state(beijing, b"\x05" * 32) == REFUSED and _participant(beijing).locked_by(party) == b"\x00" * 32
    # genuine consents, but the prepare says a stranger began it (a coordinator refuses that; this one does not)
    stranger = _prepare_payload(net, fake, b"\x06" * 32, party, [other, party], chains, expires,
                                initiator=_account(net, party).address)
    _say(net, fake, "Beijing", _participant(beijing).address, stranger)
    assert _entry_state(beijing, b"\x06" * 32) == REFUSED and _participant(beijing).locked_by(party) == b"\x00" * 32


def test_a_consent_serves_one_prepare(net: Network, apps: dict[str, Contract]) -> None:
    """A prepare rolled back, then the same signed terms prepared again under a new transaction id: the party
    refuses it as replayed and locks nothing."""
    fake, beijing, party = _fake_prepared(net, apps, b"\x0a" * 32)
    _say(net, fake, "Beijing", _participant(beijing).address, _decision(ROLLBACK, b"\x0a" * 32))
    assert _entry_state(beijing, b"\x0a" * 32) == ROLLED_BACK
    chains, first = [net.chain_id("Chengdu"), beijing.chain_id], _participant(beijing).entries(b"\x0a" * 32)
    again = _prepare_payload(net, fake, b"\x0b" * 32, party, [_entity(net, "Chengdu"), party], chains,
                             first.expires_at, nonce=b"\x0a" * 32)  # the very terms signed for the first
    _say(net, fake, "Beijing", _participant(beijing).address, again)
    refused = all_of(PartyRefused, [e for _, e in _participant(beijing).logged(1, beijing.chain.block_number)])
    assert [(r.tx_id, r.reason) for r in refused] == [(b"\x0b" * 32, REPLAYED)]
    assert _entry_state(beijing, b"\x0b" * 32) == REFUSED and _participant(beijing).locked_by(party) == b"\x00" * 32


def test_a_consent_serves_only_its_coordinator_and_only_until_its_time(net: Network, apps: dict[str, Contract]) -> None:
    """Genuinely signed terms that name another coordinator (its chain, or its address), and terms begun after
    their valid_until (the lock's expiry later than valid_until plus the lock timeout): refused as replayed."""
    fake = _as_coordinator(net, apps, "Chengdu", "Beijing")
    beijing, party, other = net.node("Beijing"), _entity(net, "Beijing"), _entity(net, "Chengdu")
    chains, expires = [net.chain_id("Chengdu"), beijing.chain_id], beijing.chain.block().timestamp + 600
    cases: dict[bytes, dict[str, Any]] = {b"\x0c" * 32: {"coordinator_chain": net.hub.chain_id},
                                          b"\x0d" * 32: {"coordinator": "0x" + "0d" * 20},
                                          b"\x0e" * 32: {"valid_until": expires - 121}}
    for tx_id, change in cases.items():
        payload = _prepare_payload(net, fake, tx_id, party, [other, party], chains, expires, **change)
        _say(net, fake, "Beijing", _participant(beijing).address, payload)
    refused = all_of(PartyRefused, [e for _, e in _participant(beijing).logged(1, beijing.chain.block_number)])
    assert {r.tx_id: r.reason for r in refused} == dict.fromkeys(cases, REPLAYED)
    # the same, in time and naming this coordinator, prepares
    payload = _prepare_payload(net, fake, b"\x0f" * 32, party, [other, party], chains, expires,
                               valid_until=expires - 120)
    _say(net, fake, "Beijing", _participant(beijing).address, payload)
    assert _entry_state(beijing, b"\x0f" * 32) == PREPARED


# -- the coordinator ----------------------------------------------------------------------------------------


def _request(net: Network, zones: Sequence[str], *, protocol: int = 1, lock_timeout: int = 120,
             chains: Sequence[int] | None = None, consents: int | None = None,
             valid_until: int = 2**40, coordinator: ChainNode | None = None) -> tuple[object, ...]:
    ids = [_entity(net, z) for z in zones]
    chains = list(chains) if chains is not None else [net.chain_id(z) for z in zones]
    at = coordinator or net.hub
    terms = ConsentTerms(protocol, tuple(chains), tuple(ids), b"\x42" * 32, lock_timeout, at.chain_id,
                         _coordinator(at).address, b"\x01" * 32, valid_until)
    signed = [signature(_account(net, i).key, terms.digest()) for i in ids]
    return terms.begin_request(signed[:consents] if consents is not None else signed)


@pytest.mark.parametrize(("change", "error"), [
    ({"zones": ["Beijing"]}, "BadParties"),
    ({"zones": ["Beijing", "Chengdu", "Guiyang", "Beijing", "Chengdu", "Guiyang"]}, "BadParties"),
    ({"chains": [1001, 1001]}, "DuplicateChain"),
    ({"chains": [1001, 999]}, "UnknownParticipant"),
    ({"chains": [1001, 1000]}, "UnknownParticipant"),  # the hub has no participant
    ({"protocol": 3}, "BadProtocol"),
    ({"lock_timeout": 9}, "BadLockTimeout"),
    ({"lock_timeout": 86_401}, "BadLockTimeout"),
    ({"consents": 1}, "LengthMismatch"),
    ({"valid_until": 0}, "ConsentOutOfDate"),
])
def test_the_coordinator_refuses_a_malformed_begin(net: Network, change: dict[str, object], error: str) -> None:
    zones = change.pop("zones", ["Beijing", "Chengdu"])
    hub = net.hub
    request = _request(net, zones, **change)  # type: ignore[arg-type]
    by = _account(net, _entity(net, "Beijing"))
    assert _refused(hub, _coordinator(hub).begin_tx(request, by=by, gas=GAS)) == error


@pytest.mark.parametrize("place", ["hub", "Beijing"])
def test_the_coordinator_refuses_a_begin_not_from_the_first_partys_account(net: Network, place: str) -> None:
    """On the hub (the registry says who each entity's account is) and on a zone chain (its mirror does): a begin
    by another entity's account, however well its consents are signed, is refused before any prepare goes out."""
    node = net.hub if place == "hub" else net.node(place)
    request = _request(net, ["Beijing", "Chengdu"], coordinator=node)
    chengdu = _account(net, _entity(net, "Chengdu"))
    assert _refused(node, _coordinator(node).begin_tx(request, by=chengdu, gas=GAS)) == "NotInitiator"


def test_a_suspended_entity_cannot_begin_one(net: Network) -> None:
    """The regulator suspends Beijing's entity, and the mirrors learn it: its own account's begin is refused on the
    hub (the registry) and on Beijing's chain (the mirror)."""
    beijing = _entity(net, "Beijing")
    net.registry.suspend_entity(beijing, by=net.registry.roles.regulator)
    sync_mirrors(net, [beijing])
    for node in (net.hub, net.node("Beijing")):
        request = _request(net, ["Beijing", "Chengdu"], coordinator=node)
        assert _refused(node, _coordinator(node).begin_tx(request, by=_account(net, beijing), gas=GAS)) == \
            "NotInitiator"


def test_abort_expired_only_after_the_decision_deadline(net: Network) -> None:
    """Chengdu's vote never comes (nothing relayed): before the deadline no one may roll back; after it anyone
    may, once, and Beijing's party rolls back at once (it is local)."""
    beijing = net.node("Beijing")
    tx_id = _begin_local(net, ["Beijing", "Chengdu"], lock_timeout=60)
    coordinator, anyone = _coordinator(beijing), net.admin(beijing.chain_id)
    assert _refused(beijing, coordinator.abort_expired_tx(tx_id, by=anyone, gas=GAS)) == "NotPastDeadline"
    beijing.chain.mine(timestamp=beijing.chain.block().timestamp + 31)
    _send(beijing, coordinator.abort_expired_tx(tx_id, by=anyone, gas=GAS))
    assert coordinator.transactions(tx_id).state == 3 and _entry_state(beijing, tx_id) == ROLLED_BACK
    assert _refused(beijing, coordinator.abort_expired_tx(tx_id, by=anyone, gas=GAS)) == "NotVoting"


def _as_participant(net: Network, apps: dict[str, Contract], of: str) -> Contract:
    """`of`'s TestRecipient registered by governance as chain `of`'s participant on the hub's coordinator."""
    hub = net.hub
    _send(hub, _coordinator(hub).set_participants_tx([net.chain_id(of)], [apps[of].address],
                                                     by=net.admin(hub.chain_id), gas=200_000))
    return apps[of]


def _vote(yes: bool, tx_id: bytes) -> bytes:
    return encode(["uint8", "bytes32", "bool", "uint8"], [VOTE, tx_id, yes, 0])


def _hub_votes(net: Network, tx_id: bytes) -> list[TxVoted]:
    hub = net.hub
    return [v for v in all_of(TxVoted, [e for _, e in _coordinator(hub).logged(1, hub.chain.block_number)])
            if v.tx_id == tx_id]


def test_votes_count_once_and_only_from_a_partys_registered_participant(net: Network,
                                                                        apps: dict[str, Contract]) -> None:
    hub = net.hub
    client = AtomicClient(net)
    tx_id, _ = client.begin([_entity(net, "Beijing"), _entity(net, "Chengdu")])  # decided on the hub, not relayed
    coordinator = _coordinator(hub).address
    _say(net, apps["Guiyang"], "hub", coordinator, _vote(True, tx_id))  # a stranger: not Guiyang's participant
    assert {v.chain for v in _hub_votes(net, tx_id)} == {net.chain_id("Beijing"), net.chain_id("Chengdu")}
    # Guiyang's registered participant, but Guiyang is no party of it
    tx_id, _ = client.begin([_entity(net, "Beijing"), _entity(net, "Chengdu")])
    fake = _as_participant(net, apps, "Guiyang")
    fake.transact("send", hub.chain_id, coordinator, _vote(True, tx_id), 3_600, by=fake.chain.accounts[5],
                  gas=600_000)
    _relay(net)
    assert net.chain_id("Guiyang") not in {v.chain for v in _hub_votes(net, tx_id)}
    # a party's participant voting twice: the second is refused (Chengdu's, replaced by its TestRecipient after
    # it voted yes once)
    tx_id, _ = client.begin([_entity(net, "Beijing"), _entity(net, "Chengdu"), _entity(net, "Guiyang")])
    fake = _as_participant(net, apps, "Guiyang")
    for _ in range(2):
        fake.transact("send", hub.chain_id, coordinator, _vote(False, tx_id), 3_600, by=fake.chain.accounts[5],
                      gas=600_000)
    _relay(net)
    assert [v.chain for v in _hub_votes(net, tx_id)].count(net.chain_id("Guiyang")) == 1


# -- governance ---------------------------------------------------------------------------------------------


def test_only_the_owner_governs_them(net: Network) -> None:
    beijing, stranger = net.node("Beijing"), _account(net, _entity(net, "Beijing"))
    participant, coordinator = _participant(beijing), _coordinator(beijing)
    for tx in (participant.set_unsafe_commit_tx(True, by=stranger, gas=GAS),
               participant.set_coordinators_tx([1002], [stranger.address], by=stranger, gas=GAS),
               coordinator.set_participants_tx([1002], [stranger.address], by=stranger, gas=GAS)):
        assert _refused(beijing, tx) == "OwnableUnauthorizedAccount"


def test_a_prepare_a_coordinator_could_not_have_sent_is_refused(net: Network, apps: dict[str, Contract]) -> None:
    """A registered coordinator's prepare of an unknown protocol, and one delivered after its own expiry (sent
    with a longer gateway deadline than the lock's): the party votes no and locks nothing."""
    fake = _as_coordinator(net, apps, "Chengdu", "Beijing")
    beijing, party, other = net.node("Beijing"), _entity(net, "Beijing"), _entity(net, "Chengdu")
    chains, now = [net.chain_id("Chengdu"), beijing.chain_id], beijing.chain.block().timestamp
    unknown = _prepare_payload(net, fake, b"\x07" * 32, party, [other, party], chains, now + 600, protocol=3)
    _say(net, fake, "Beijing", _participant(beijing).address, unknown)
    late = _prepare_payload(net, fake, b"\x08" * 32, party, [other, party], chains, now + 20)
    fake.transact("send", beijing.chain_id, _participant(beijing).address, late, 3_600, by=fake.chain.accounts[5],
                  gas=600_000)
    for node in net.nodes.values():
        node.chain.mine(timestamp=node.chain.block().timestamp + 30)
    _relay(net)
    refusals = {r.tx_id: r.reason for r in all_of(PartyRefused, [e for _, e in _participant(beijing).logged(
        1, beijing.chain.block_number)])}
    assert refusals == {b"\x07" * 32: 1, b"\x08" * 32: 4}  # VOTE_NO, EXPIRED
    assert _participant(beijing).locked_by(party) == b"\x00" * 32


def _decisions(net: Network, tx_id: bytes) -> list[tuple[bool, int]]:
    hub = net.hub
    return [(d.commit, d.reason) for d in all_of(TxDecided, [e for _, e in _coordinator(hub).logged(
        1, hub.chain.block_number)]) if d.tx_id == tx_id]


def test_a_strangers_no_on_a_partys_chain_does_not_count(net: Network, apps: dict[str, Contract]) -> None:
    """Chengdu's TestRecipient (not its participant) votes no before Chengdu's real participant votes yes."""
    client = AtomicClient(net)
    tx_id, _ = client.begin([_entity(net, "Beijing"), _entity(net, "Chengdu")])
    apps["Chengdu"].transact("send", net.hub.chain_id, _coordinator(net.hub).address, _vote(False, tx_id), 3_600,
                             by=apps["Chengdu"].chain.accounts[5], gas=600_000)
    _relay(net)
    assert _decisions(net, tx_id) == [(True, 0)]


def test_a_non_partys_no_and_a_message_of_another_kind_do_not_count(net: Network,
                                                                    apps: dict[str, Contract]) -> None:
    """Guiyang's registered participant (a TestRecipient) says no to a Beijing–Chengdu transaction: it commits.
    In a Beijing–Guiyang one, it sends a message of another kind (a COMMIT-shaped no): no vote is recorded."""
    client = AtomicClient(net)
    fake = _as_participant(net, apps, "Guiyang")
    tx_id, _ = client.begin([_entity(net, "Beijing"), _entity(net, "Chengdu")])
    _say(net, fake, "hub", _coordinator(net.hub).address, _vote(False, tx_id))
    assert _decisions(net, tx_id) == [(True, 0)]
    tx_id, _ = client.begin([_entity(net, "Beijing"), _entity(net, "Guiyang")])
    wrong_kind = encode(["uint8", "bytes32", "bool", "uint8"], [COMMIT, tx_id, False, 0])
    _say(net, fake, "hub", _coordinator(net.hub).address, wrong_kind)
    assert net.chain_id("Guiyang") not in {v.chain for v in _hub_votes(net, tx_id)} and _decisions(net, tx_id) == []


def test_a_vote_after_the_decision_deadline_rolls_back_and_a_decided_one_stays_decided(
        net: Network, apps: dict[str, Contract]) -> None:
    """Beijing votes yes in time; Guiyang's (a TestRecipient) yes comes after the deadline: rolled back for timeout,
    not committed. In a second one, rolled back by anyone after the deadline and after the locks' expiry (no
    decision is sent then): Guiyang's late yes changes nothing, and no second decision is made."""
    client, hub = AtomicClient(net), net.hub
    fake = _as_participant(net, apps, "Guiyang")
    for rolled_back_first in (False, True):
        tx_id, _ = client.begin([_entity(net, "Beijing"), _entity(net, "Guiyang")], lock_timeout=60)
        _relay(net)  # Beijing's yes
        for node in net.nodes.values():
            node.chain.mine(timestamp=node.chain.block().timestamp + (61 if rolled_back_first else 31))
        if rolled_back_first:
            _send(hub, _coordinator(hub).abort_expired_tx(tx_id, by=net.admin(hub.chain_id), gas=GAS))
        _say(net, fake, "hub", _coordinator(hub).address, _vote(True, tx_id))
        assert _decisions(net, tx_id) == [(False, 3)]  # TIMEOUT, once
