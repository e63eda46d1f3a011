"""Simulated validator committees: deterministic keys per chain, signatures as Committee.sol checks them."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode
from eth_keys.datatypes import PrivateKey
from eth_utils import keccak, to_canonical_address

from registry.errors import ConfigError

VERSION = 1
DOMAIN_TAG = keccak(text="pilotsim.committee")


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
        """The hash validators sign for `subject` (a message's subject, or a checkpoint root)."""
        return keccak(encode(
            ["bytes32", "uint8", "uint8", "uint64", "address", "uint256", "address", "uint32", "bytes32"],
            [DOMAIN_TAG, VERSION, self.mode, self.src_chain, to_canonical_address(self.src_gateway), self.dst_chain,
             to_canonical_address(self.dst_gateway), epoch, subject],
        ))


def signature(key: PrivateKey, message_hash: bytes) -> bytes:
    """65 bytes r‖s‖v with v in {27, 28}; eth_keys always gives low s."""
    sig = key.sign_msg_hash(message_hash)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


def _by_address(keys: list[PrivateKey]) -> list[PrivateKey]:
    return sorted(keys, key=lambda k: k.public_key.to_canonical_address())


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
            self.keys = _by_address([validator_key(self.chain_id, i, self.epoch) for i in range(self.size)])

    @property
    def members(self) -> list[str]:
        """Checksummed addresses, ascending, as Committee.rotate wants them."""
        return [k.public_key.to_checksum_address() for k in self.keys]

    def attest(self, domain: LaneDomain, subject: bytes, signers: list[PrivateKey] | None = None) -> bytes:
        """Signatures over `subject` on `domain` at this committee's epoch: of the first `threshold`
        validators, or of `signers` (stolen keys, outsiders), concatenated by ascending address."""
        message_hash = domain.digest(self.epoch, subject)
        chosen = signers if signers is not None else self.keys[: self.threshold]
        return b"".join(signature(k, message_hash) for k in _by_address(chosen))

    def rotated(self, size: int | None = None, threshold: int | None = None) -> CommitteeKeys:
        return CommitteeKeys(self.chain_id, size or self.size, threshold or self.threshold, self.epoch + 1)

