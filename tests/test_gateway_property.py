"""Property: a gateway fed random batches mixing valid, forged, replayed, reordered, duplicated,
tampered, late, origin-spoofed and oversized messages delivers only the valid ones, each exactly
once and in any order, times out the late ones, and refuses every other item with the reason a plain
model predicts."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from bridge_kit import RELAYER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import Contract
from registry.evm.artifacts import decode_revert
from registry.seeds import load_seed_data
from sim.bridge.committee import CommitteeKeys, validator_key
from sim.bridge.messages import Message, SentRecord, subject
from sim.bridge.provision import build_network
from sim.bridge.relayer import Relayer
from sim.bridge.topology import Network, NetworkConfig

SIGNATURE_FAILURES = {"SignerNotMember", "DuplicateOrUnsortedSigner", "InvalidSignature"}


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Network, Contract, Contract]]:
    config = NetworkConfig(lane_verifiers={"beijing:chengdu": "committee"})
    with build_network(config, data=load_seed_data().only_zones(["Beijing", "Chengdu"]), backend="revm") as net:
        beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
        sender = Contract.create(beijing.chain, "TestRecipient", beijing.gateway.address, by=beijing.chain.accounts[0])
        target = Contract.create(chengdu.chain, "TestRecipient", chengdu.gateway.address, by=chengdu.chain.accounts[0])
        yield net, sender, target


def sign(net: Network, record_message: Message, hop_sequence: int, keys: CommitteeKeys) -> bytes:
    lane = net.domain(net.node("Beijing").chain_id, net.node("Chengdu").chain_id)
    return keys.attest(lane, subject(record_message.id, hop_sequence))


ITEM = st.tuples(st.sampled_from(["valid", "forged", "tampered", "spoofed", "oversized"]), st.integers(0, 7))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sends=st.lists(st.booleans(), min_size=1, max_size=6),  # True: a short deadline that will pass
       batch=st.lists(ITEM, min_size=1, max_size=10))
def test_random_batches(world: tuple[Network, Contract, Contract], sends: list[bool],
                        batch: list[tuple[str, int]]) -> None:
    net, sender, target = world
    beijing, chengdu = net.node("Beijing"), net.node("Chengdu")
    with net.anchor():
        txs = [sender.tx("send", chengdu.chain_id, target.address, f"m{i}".encode(), 30 if late else 3600,
                         by=beijing.chain.accounts[5], gas=400_000) for i, late in enumerate(sends)]
        receipts = beijing.chain.send(txs)
        records: list[SentRecord] = [r for r in beijing.gateway.sent_records(receipts[0].block_number,
                                                                             receipts[-1].block_number)]
        chengdu.chain.mine(timestamp=chengdu.chain.block().timestamp + 100)  # the short deadlines pass
        keys = net.committees[beijing.chain_id]
        outsiders = CommitteeKeys(beijing.chain_id, keys.size, keys.threshold,
                                  keys=[validator_key(beijing.chain_id, 50 + i) for i in range(keys.size)])
        taken: set[int] = set()  # lane sequences processed: replay protection is per (origin, sequence)
        items, expected = [], []
        for kind, index in batch:
            record = records[index % len(records)]
            message, sequence = record.message, record.hop_sequence
            if kind == "forged":
                message = dataclasses.replace(message, sequence=10**9 + index, payload=b"forged")
                signatures = sign(net, message, sequence, outsiders)
            elif kind == "tampered":
                signatures = sign(net, message, sequence, keys)
                message = dataclasses.replace(message, payload=message.payload + b"!")
            elif kind == "spoofed":  # Beijing's own keys, vouching for a message claiming the hub's origin
                message = dataclasses.replace(message, src_chain=net.hub.chain_id, sequence=2 * 10**9 + index)
                signatures = sign(net, message, sequence, keys)
            elif kind == "oversized":  # properly signed, above the cap no gateway sends
                message = dataclasses.replace(message, sequence=3 * 10**9 + index,
                                              payload=b"\xff" * (net.config.max_payload_bytes + 1))
                signatures = sign(net, message, sequence, keys)
            else:
                signatures = sign(net, message, sequence, keys)
            items.append((message, sequence, signatures))
            # the model: origin and form first, then replay, then signatures; hop order does not matter
            if kind == "spoofed":
                expected.append({"WrongOrigin"})
            elif kind == "oversized":
                expected.append({"PayloadTooLarge"})
            elif message.sequence in taken:
                expected.append({"AlreadyProcessed"})
            elif kind != "valid":
                expected.append(SIGNATURE_FAILURES)
            else:
                expected.append({"timed_out" if sends[records.index(record)] else "delivered"})
                taken.add(message.sequence)
        tx = chengdu.gateway.deliver_signed(beijing.chain_id, items, by=RELAYER, gas=8_000_000)
        events = chengdu.gateway.events(chengdu.chain.send([tx])[0].raise_for_status())
        seen = [decode_revert(bytes(e["reason"])).name if e.name == "Refused" else
                {2: "delivered", 4: "timed_out"}.get(e["outcome"], str(e["outcome"]))
                for e in events if e.name in ("Refused", "Processed")]
        assert len(seen) == len(expected)
        for got, allowed in zip(seen, expected, strict=True):
            assert got in allowed, (seen, expected)

        Relayer(net).run_until_idle()  # the honest relayer brings the rest
        for i, record in enumerate(records):
            handled = target.view("timesHandled", record.message_id)
            assert handled == (0 if sends[i] else 1), (i, handled)
            outcome = beijing.gateway.outcome_out(chengdu.chain_id, record.message.sequence)
            assert outcome.label == ("timed_out" if sends[i] else "delivered")
        assert target.view("handled") == sum(not late for late in sends)  # nothing forged got through
