"""Hand-written fast paths are byte-identical to the libraries they stand in for, on every input they serve
(fuzzed): the committee's digest against eth-abi's encoding, its signatures against eth_keys', the event words
against eth-abi's decoding, a delivery's calldata against eth-abi's encoding."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import decode, encode
from eth_abi.exceptions import EncodingError
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak, to_canonical_address, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.evm.abi import ENUMS, to_python
from registry.evm.artifacts import artifact_names, load_artifact
from registry.evm.hashing import keccak as c_keccak
from registry.evm.words import word_reader
from sim.bridge.committee import DOMAIN_TAG, VERSION, LaneDomain, signature
from sim.bridge.delivery_calldata import DELIVER_TYPES, deliver_arguments
from sim.bridge.messages import Message

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
domains = st.builds(LaneDomain, st.integers(0, 255), st.integers(0, 2**64 - 1), addresses, st.integers(0, 2**64 - 1),
                    addresses)


@settings(max_examples=300, deadline=None)
@given(domains, st.integers(0, 2**32 - 1), st.binary(min_size=32, max_size=32))
def test_the_lane_digest_is_eth_abis_encoding_hashed(domain: LaneDomain, epoch: int, subject: bytes) -> None:
    expected = keccak(encode(
        ["bytes32", "uint8", "uint8", "uint64", "address", "uint256", "address", "uint32", "bytes32"],
        [DOMAIN_TAG, VERSION, domain.mode, domain.src_chain, to_canonical_address(domain.src_gateway),
         domain.dst_chain, to_canonical_address(domain.dst_gateway), epoch, subject]))
    assert domain.digest(epoch, subject) == expected


@settings(max_examples=300, deadline=None)
@given(st.integers(1, SECP256K1_ORDER - 1), st.binary(min_size=32, max_size=32))
def test_a_committee_signature_is_eth_keys_signature(secret: int, message_hash: bytes) -> None:
    key = PrivateKey(secret.to_bytes(32, "big"))
    reference = key.sign_msg_hash(message_hash)
    assert signature(key, message_hash) == (reference.r.to_bytes(32, "big") + reference.s.to_bytes(32, "big")
                                            + bytes([reference.v + 27]))


STATIC_TYPES = ["uint8", "uint32", "uint64", "uint256", "int8", "int64", "int256", "address", "bool", "bytes4",
                "bytes32"]


def values_of(abi_type: str) -> st.SearchStrategy[Any]:
    if abi_type == "address":
        return st.binary(min_size=20, max_size=20).map(to_checksum_address)
    if abi_type == "bool":
        return st.booleans()
    if abi_type.startswith("bytes"):
        return st.binary(min_size=int(abi_type[5:]), max_size=int(abi_type[5:]))
    bits = int(abi_type.removeprefix("u").removeprefix("int"))
    return st.integers(0, 2**bits - 1) if abi_type.startswith("uint") else \
        st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def _edges(abi_type: str) -> list[int]:
    """The bits on either side of where the value ends and the padding starts (counted from the lowest)."""
    if abi_type in ("address", "bool"):
        edge = 160 if abi_type == "address" else 1
    elif abi_type.startswith("bytes"):
        edge = 256 - 8 * int(abi_type[5:])  # left-aligned: the padding is the low bytes
    else:
        edge = int(abi_type.removeprefix("u").removeprefix("int")) - (0 if abi_type.startswith("uint") else 1)
    return [b for b in (edge - 2, edge - 1, edge, edge + 1) if 0 <= b < 256]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(STATIC_TYPES), st.data())
def test_a_word_reads_as_eth_abi_reads_it(abi_type: str, data: st.DataObject) -> None:
    """Words eth_abi encoded, and such words with a bit flipped: the same value of the same type, or the same
    refusal."""
    word = encode([abi_type], [data.draw(values_of(abi_type))])
    if data.draw(st.booleans()):  # one bit flipped: in the value (another value) or in the padding (refused)
        bit = data.draw(st.integers(0, 255) | st.sampled_from(_edges(abi_type)))
        word = (int.from_bytes(word, "big") ^ (1 << bit)).to_bytes(32, "big")
    reader = word_reader(abi_type)
    assert reader is not None
    try:
        expected = decode([abi_type], word)[0]
    except Exception as refusal:  # whichever eth_abi raises, the reader raises it too
        with pytest.raises(type(refusal)):
            reader(word)
        return
    got = reader(word)
    assert got == expected and type(got) is type(expected)


def _enum_values(param: Any) -> st.SearchStrategy[int] | None:
    """A registered Solidity enum's numbers (others would not decode at all, on either path)."""
    enum = ENUMS.get(str(param.get("internalType", "")).removeprefix("enum "))
    return st.sampled_from([int(member) for member in enum]) if enum is not None else None  # type: ignore[attr-defined]


def _boundary_words() -> list[tuple[str, bytes]]:
    """For each type, the words just inside and just outside what it holds."""
    words = []
    for abi_type in STATIC_TYPES:
        for bit in _edges(abi_type):
            for value in (1 << bit, (1 << bit) - 1, (1 << 256) - (1 << bit), (1 << 256) - (1 << bit) - 1):
                words.append((abi_type, value.to_bytes(32, "big")))
    return words


@pytest.mark.parametrize(("abi_type", "word"), _boundary_words())
def test_a_word_at_the_edge_of_its_type_reads_as_eth_abi_reads_it(abi_type: str, word: bytes) -> None:
    reader = word_reader(abi_type)
    assert reader is not None
    try:
        expected = decode([abi_type], word)[0]
    except Exception as refusal:
        with pytest.raises(type(refusal)):
            reader(word)
        return
    assert reader(word) == expected


EVENTS = {(name, event.name): event for name in artifact_names() for event in load_artifact(name).abi.events.values()}


@pytest.mark.parametrize("key", sorted(EVENTS), ids=lambda key: f"{key[0]}.{key[1]}")
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_event_of_words_decodes_as_eth_abi_decodes_it(key: tuple[str, str], data: st.DataObject) -> None:
    """Every event of the contracts whose arguments are single words (the fast path reads those), against the
    decoding eth_abi does on the same log; the others keep eth_abi's decoding."""
    event = EVENTS[key]
    types = [str(p["type"]) for p in event.inputs]
    if not all(t in STATIC_TYPES or word_reader(t) for t in types):
        assert event.plain_readers is None or len(event.plain) < len(event.inputs)
        return
    values = [data.draw(values_of(t) if (members := _enum_values(p)) is None else members)
              for p, t in zip(event.inputs, types, strict=True)]
    topics = [event.topic] + [encode([t], [v]) for p, t, v in zip(event.inputs, types, values, strict=True)
                              if p.get("indexed")]
    plain = [(t, v) for p, t, v in zip(event.inputs, types, values, strict=True) if not p.get("indexed")]
    log_data = encode([t for t, _ in plain], [v for _, v in plain])
    expected = {p["name"]: to_python(p, decode([t], topic)[0] if p.get("indexed") else None)
                for p, t, topic in zip(event.inputs, types, [*topics[1:], *[b""] * len(types)], strict=False)
                if p.get("indexed")}
    expected |= {p["name"]: to_python(p, v) for p, v in
                 zip([p for p in event.inputs if not p.get("indexed")], decode(event.plain_types, log_data),
                     strict=True)}
    assert event.decode(topics, log_data) == {p["name"]: expected[p["name"]] for p in event.inputs}


def _uint(bits: int) -> st.SearchStrategy[int]:
    return st.integers(0, 2**bits - 1)


messages = st.builds(Message, _uint(8), _uint(8), _uint(64), _uint(64), _uint(64), _uint(64), _uint(32), addresses,
                     addresses, st.binary(max_size=130))


def test_the_delivery_layout_is_the_gateways() -> None:
    assert list(load_artifact("Gateway").abi.function("deliver").input_types) == DELIVER_TYPES


@settings(max_examples=300, deadline=None)
@given(_uint(64), st.binary(max_size=200), st.lists(st.tuples(messages, _uint(64)), max_size=5))
def test_a_deliverys_calldata_is_eth_abis(hop: int, proof: bytes, items: list[tuple[Message, int]]) -> None:
    expected = encode(DELIVER_TYPES, [hop, proof, [(m.as_tuple(), s) for m, s in items]])
    assert deliver_arguments(hop, proof, items) == expected


@pytest.mark.parametrize(("hop", "sequence", "kind"), [(2**64, 1, 0), (-1, 1, 0), (1, 2**64, 0), (1, 1, 256)])
def test_a_delivery_out_of_its_types_is_refused_as_eth_abi_refuses_it(hop: int, sequence: int, kind: int) -> None:
    message = Message(1, kind, 1001, 1002, 1, 10**9, 100_000, "0x" + "11" * 20, "0x" + "22" * 20, b"x")
    with pytest.raises(EncodingError):
        encode(DELIVER_TYPES, [hop, b"", [(message.as_tuple(), sequence)]])
    with pytest.raises(EncodingError):
        deliver_arguments(hop, b"", [(message, sequence)])


SENT = EVENTS[("Gateway", "Sent")]


def _eth_abi_decoding(event: Any, topics: list[bytes], data: bytes) -> dict[str, Any]:
    """What eth_abi makes of the log, turned into Python values as the decoder turns its own."""
    indexed = [p for p in event.inputs if p.get("indexed")]
    plain = [p for p in event.inputs if not p.get("indexed")]
    values = {p["name"]: to_python(p, decode([str(p["type"])], topic)[0]) for p, topic in zip(indexed, topics[1:],
                                                                                            strict=True)}
    values |= {p["name"]: to_python(p, v) for p, v in zip(plain, decode(event.plain_types, data), strict=True)}
    return {p["name"]: values[p["name"]] for p in event.inputs}


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=32, max_size=32), _uint(64), _uint(64), messages, st.data())
def test_a_sent_event_decodes_as_eth_abi_decodes_it(message_id: bytes, hop: int, hop_sequence: int, message: Message,
                                                    data: st.DataObject) -> None:
    """The gateway's Sent (a message with its payload) read directly, against eth_abi; and the same log with a
    byte of its data changed: the same value, or a refusal on both paths."""
    topics = [SENT.topic, message_id, hop.to_bytes(32, "big")]
    log_data = encode(SENT.plain_types, [hop_sequence, message.as_tuple()])
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(log_data) - 1))
        log_data = log_data[:at] + bytes([log_data[at] ^ data.draw(st.integers(1, 255))]) + log_data[at + 1:]
    try:
        expected = _eth_abi_decoding(SENT, topics, log_data)
    except Exception as refusal:
        with pytest.raises(type(refusal)):
            SENT.decode(topics, log_data)
        return
    assert SENT.decode(topics, log_data) == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_the_c_keccak_is_eth_utils_keccak(data: bytes) -> None:
    assert c_keccak(data) == keccak(data)
