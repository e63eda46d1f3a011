"""Typed access to the contracts: the generated call classes are the ABIs' of today, and every typed event
has its event's arguments, in order; a drift fails here."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import registry.events  # noqa: F401 - registers the registry's typed events
import sim.bridge.atomic_events  # noqa: F401 - registers the atomic transactions'
import sim.bridge.events  # noqa: F401 - registers the protocol's and the application's
from registry import EthTesterChain
from registry.evm.artifacts import load_artifact
from registry.evm.events import EVENT_TYPES, EventRecord, abi_mismatch, first_of, topic_of, typed
from sim.bridge import contracts
from sim.bridge.events import RequestSent, Sent
from sim.tools import typed_contracts


def test_the_generated_contract_classes_are_the_abis_of_today() -> None:
    assert typed_contracts.TARGET.read_text() == typed_contracts.render(), \
        "ABIs changed: python -m sim.tools.typed_contracts"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_each_typed_event_has_its_events_arguments_in_order(name: str) -> None:
    assert abi_mismatch(EVENT_TYPES[name]) is None


def test_a_typed_event_that_drifted_from_the_abi_is_named() -> None:
    @dataclass(frozen=True, slots=True)
    class Synced(EventRecord):  # RegistryMirror's, with an argument gone and one renamed
        version: int
        applied_count: int

    Synced.contract = "RegistryMirror"
    assert abi_mismatch(Synced) == ("Synced: fields ['version', 'applied_count'], the ABI's arguments "
                                    "['version', 'applied', 'stale']")


def test_a_gateway_send_reads_back_as_a_typed_sent_with_its_message() -> None:
    chain = EthTesterChain(chain_id=1001)
    owner = chain.accounts[0]
    artifact = load_artifact("Gateway")
    address = chain.deploy(owner, artifact.bytecode + artifact.abi.encode_constructor(
        [owner.address, False, 200_000, 4096]))
    gateway = contracts.Gateway(chain, address)
    gateway.send([gateway.set_lane_tx(1002, 1002, owner.address, owner.address, by=owner)])
    sent = gateway.send([gateway.send_tx(1002, chain.accounts[3].address, b"hello", 600, 0, by=owner,
                                         gas=300_000)])
    record = first_of(Sent, sent.events)
    assert (record.message.src_chain, record.message.dst_chain, record.message.payload) == (1001, 1002, b"hello")
    assert record.message.sender == owner.address and record.hop == 1002
    [log] = [log for log in sent.receipt.logs if log.topics[0] == topic_of(Sent)]
    assert typed(gateway.abi.decode_event(log.address, log.topics, log.data)) == record
    with pytest.raises(LookupError, match="no RequestSent event"):
        first_of(RequestSent, sent.events)
