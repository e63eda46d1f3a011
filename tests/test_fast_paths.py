"""Hand-written fast paths are byte-identical to the libraries they stand in for, on every input they serve
(fuzzed): the committee's digest against eth-abi's encoding, its signatures against eth_keys'."""

from __future__ import annotations

from eth_abi import encode
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak, to_canonical_address, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.bridge.committee import DOMAIN_TAG, VERSION, LaneDomain, signature

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
