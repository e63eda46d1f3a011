"""Simulated validator committees: deterministic keys per chain, signatures as Committee.sol checks them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import coincurve
from eth_abi import encode
from eth_keys.datatypes import PrivateKey
from eth_utils import to_checksum_address

from registry.errors import ConfigError
from registry.evm.abi import canonical
from registry.evm.hashing import keccak

VERSION = 1
DOMAIN_TAG = keccak(b"pilotsim.committee")


def validator_key(chain_id: int, index: int, epoch: int = 1) -> PrivateKey:
    """Validator `index` of `chain_id`'s committee at `epoch`: derived, so every run has the same keys."""
    seed = b"pilotsim validator" + chain_id.to_bytes(8, "big") + index.to_bytes(4, "big") + epoch.to_bytes(4, "big")
    return PrivateKey(keccak(seed))


@dataclass(frozen=True, slots=True)
class LaneDomain:
    """What a signature is bound to: verifier version and mode, both chains and both gateways of a
    hop, and (in `digest`) the committee epoch. A signature for one lane is worthless on any other."""

    mode: int
    src_chain: int
    src_gateway: str
    dst_chain: int
    dst_gateway: str

    def digest(self, epoch: int, subject: bytes) -> bytes:
        """The hash validators sign for `subject` (a message's subject, or a checkpoint root): keccak of
        abi.encode(DOMAIN_TAG, VERSION, mode, src chain, src gateway, dst chain, dst gateway, epoch, subject).
        Every field is one static word, so the lane's part is encoded once (a test fuzzes it against eth-abi)."""
        if len(subject) != 32 or not 0 <= epoch < 2**32:
            raise ValueError(f"a digest takes a 32-byte subject and a uint32 epoch, not {len(subject)} bytes, {epoch}")
        return keccak(_lane_words(self) + epoch.to_bytes(32, "big") + subject)


@lru_cache(maxsize=1024)
def _lane_words(domain: LaneDomain) -> bytes:
    return encode(["bytes32", "uint8", "uint8", "uint64", "address", "uint256", "address"],
                  [DOMAIN_TAG, VERSION, domain.mode, domain.src_chain, canonical(domain.src_gateway),
                   domain.dst_chain, canonical(domain.dst_gateway)])


def signature(key: PrivateKey, message_hash: bytes) -> bytes:
    """65 bytes r‖s‖v with v in {27, 28}, low s: libsecp256k1's deterministic (RFC 6979) signature, as eth_keys
    gives it, from a key object kept per validator (building one costs more than signing)."""
    raw = _secp256k1_key(key.to_bytes()).sign_recoverable(message_hash, hasher=None)
    return raw[:64] + bytes([raw[64] + 27])


@lru_cache(maxsize=4096)
def _secp256k1_key(secret: bytes) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(secret)


@lru_cache(maxsize=4096)
def _address_of(secret: bytes) -> bytes:
    return PrivateKey(secret).public_key.to_canonical_address()


def by_address(keys: list[PrivateKey]) -> list[PrivateKey]:
    return sorted(keys, key=lambda k: _address_of(k.to_bytes()))


@dataclass
class CommitteeKeys:
    """The validators of one chain: `size` keys, `threshold` of which must sign."""

    chain_id: int
    size: int
    threshold: int
    epoch: int = 1
    keys: list[PrivateKey] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not 1 <= self.threshold <= self.size:
            raise ConfigError(f"threshold {self.threshold} must be between 1 and the committee size {self.size}")
        if not self.keys:
            self.keys = by_address([validator_key(self.chain_id, i, self.epoch) for i in range(self.size)])

    @cached_property
    def members(self) -> list[str]:
        """Checksummed addresses, ascending, as Committee.rotate wants them (worked out once: the keys are set
        when the committee is made)."""
        return [to_checksum_address(_address_of(k.to_bytes())) for k in self.keys]

    def attest(self, domain: LaneDomain, subject: bytes, signers: list[PrivateKey] | None = None) -> bytes:
        """Signatures over `subject` on `domain` at this committee's epoch: of the first `threshold`
        validators, or of `signers` (stolen keys, outsiders), concatenated by ascending address."""
        message_hash = domain.digest(self.epoch, subject)
        chosen = by_address(signers) if signers is not None else self.keys[: self.threshold]  # keys: sorted
        return b"".join(signature(k, message_hash) for k in chosen)

    def rotated(self, size: int | None = None, threshold: int | None = None) -> CommitteeKeys:
        return CommitteeKeys(self.chain_id, size or self.size, threshold or self.threshold, self.epoch + 1)

