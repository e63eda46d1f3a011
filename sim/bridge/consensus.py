"""Each chain's own consensus, simulated: its validators (keys of their own, not the bridge committee's), the
headers they sign (a block's number and receipts root: what a light client needs), and the handover by which
a set passes the chain to the next one. ConsensusHeaders.sol checks them: more than two thirds must sign."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from eth_abi import encode
from eth_keys.datatypes import PrivateKey

from registry.evm.abi import canonical
from registry.evm.hashing import keccak

from .committee import by_address, signature

HEADER_TAG = keccak(b"pilotsim.header")
HANDOVER_TAG = keccak(b"pilotsim.handover")

# ConsensusHeaders.Header: number, timestamp, receipts root, epoch, signatures
Header = tuple[int, int, bytes, int, bytes]


def consensus_key(chain_id: int, index: int, epoch: int = 1) -> PrivateKey:
    """Validator `index` of `chain_id`'s own consensus at `epoch`: derived from a seed of its own, so a bridge
    committee's keys say nothing about a chain's validators (and the reverse)."""
    seed = b"pilotsim consensus" + chain_id.to_bytes(8, "big") + index.to_bytes(4, "big") + epoch.to_bytes(4, "big")
    return PrivateKey(keccak(seed))


def header_digest(chain_id: int, number: int, timestamp: int, receipts_root: bytes, epoch: int) -> bytes:
    return keccak(encode(["bytes32", "uint64", "uint64", "uint64", "bytes32", "uint32"],
                         [HEADER_TAG, chain_id, number, timestamp, receipts_root, epoch]))


def handover_digest(chain_id: int, epoch: int, from_block: int, validators: list[str]) -> bytes:
    return keccak(encode(["bytes32", "uint64", "uint32", "uint64", "address[]"],
                         [HANDOVER_TAG, chain_id, epoch, from_block, [canonical(v) for v in validators]]))


def bft_threshold(size: int) -> int:
    """More than two thirds of `size`: what BFT consensus needs, and ConsensusHeaders requires."""
    return 2 * size // 3 + 1


@dataclass
class ValidatorSet:
    """The validators of one chain at one epoch, in charge from block `from_block` on."""

    chain_id: int
    size: int
    epoch: int = 1
    from_block: int = 0
    keys: list[PrivateKey] = field(default_factory=list)
    handed_over_by: bytes = b""  # the previous set's signatures handing the chain to this one (none at genesis)

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = by_address([consensus_key(self.chain_id, i, self.epoch) for i in range(self.size)])

    @property
    def threshold(self) -> int:
        return bft_threshold(self.size)

    @cached_property
    def members(self) -> list[str]:
        """Checksummed addresses, ascending (worked out once: the keys are set when the set is made)."""
        return [k.public_key.to_checksum_address() for k in self.keys]

    def _sign(self, digest: bytes, signers: list[PrivateKey] | None) -> bytes:
        chosen = by_address(signers) if signers is not None else self.keys[: self.threshold]
        return b"".join(signature(k, digest) for k in chosen)

    def header(self, number: int, timestamp: int, receipts_root: bytes,
               signers: list[PrivateKey] | None = None) -> Header:
        """Block `number`'s header signed by the set at threshold (or by `signers`: stolen keys, too few)."""
        digest = header_digest(self.chain_id, number, timestamp, receipts_root, self.epoch)
        return (number, timestamp, receipts_root, self.epoch, self._sign(digest, signers))

    def handover(self, from_block: int, size: int | None = None,
                 signers: list[PrivateKey] | None = None) -> tuple[ValidatorSet, bytes]:
        """The next set (fresh keys) from `from_block` on, and this set's signatures handing over to it."""
        successor = ValidatorSet(self.chain_id, size or self.size, self.epoch + 1, from_block)
        successor.handed_over_by = self._sign(handover_digest(self.chain_id, self.epoch, from_block,
                                                              successor.members), signers)
        return successor, successor.handed_over_by

