"""A block's receipts as Ethereum commits to them: each receipt RLP-encoded (typed: its type byte first), in a
Merkle-Patricia trie keyed by the RLP of its index; the trie's root is the header's `receiptsRoot`, and a proof
of some receipts is the trie nodes on their paths (EIP-1186's form, which Solidity verifiers take).

py-evm and Anvil compute the root themselves (tests compare); a revm chain has it computed here, only for the
blocks someone asks a proof of. The trie is py-trie's `HexaryTrie`, the one py-evm builds its tries with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

import rlp

from .base import Log, TxReceipt
from .hashing import keccak

if TYPE_CHECKING:
    from trie import HexaryTrie

BLOOM_BYTES = 256


def encode_receipt(receipt: TxReceipt) -> bytes:
    """EIP-2718: the type byte, then RLP([status, cumulative gas, bloom, logs]) (a legacy receipt: no type)."""
    logs = [[bytes.fromhex(log.address[2:]), list(log.topics), log.data] for log in receipt.logs]
    body = rlp.encode([1 if receipt.status else 0, receipt.cumulative_gas, bloom(receipt.logs), logs])
    return body if receipt.tx_type == 0 else bytes([receipt.tx_type]) + body


def bloom(logs: Iterable[Log]) -> bytes:
    """The 2048-bit log bloom (yellow paper, 4.3.1): three bits per address and per topic."""
    bits = 0
    for log in logs:
        for item in (bytes.fromhex(log.address[2:]), *log.topics):
            digest = keccak(item)
            for pair in (0, 2, 4):
                bits |= 1 << (int.from_bytes(digest[pair:pair + 2], "big") & 2047)
    return bits.to_bytes(BLOOM_BYTES, "big")


def trie_key(index: int) -> bytes:
    return rlp.encode(index)


class ReceiptsTrie:
    """The receipts trie of one block."""

    def __init__(self, receipts: Sequence[TxReceipt]) -> None:
        self.receipts = tuple(receipts)

    @cached_property
    def _trie(self) -> HexaryTrie:
        from trie import HexaryTrie  # only a chain asked for proofs loads it

        built = HexaryTrie({})
        with built.squash_changes() as batch:
            for index, receipt in enumerate(self.receipts):
                batch[trie_key(index)] = encode_receipt(receipt)
        return built

    @property
    def root(self) -> bytes:
        return bytes(self._trie.root_hash)

    def path(self, index: int) -> list[bytes]:
        """The RLP-encoded nodes from the root to the receipt at `index` (EIP-1186's proof of one key)."""
        return [rlp.encode(node) for node in self._trie.get_proof(trie_key(index))]

    def proof(self, indices: Iterable[int]) -> list[bytes]:
        """The nodes that prove the receipts at `indices`, each once, root first (a multiproof)."""
        nodes: dict[bytes, None] = {}
        for index in indices:
            nodes.update(dict.fromkeys(self.path(index)))
        return list(nodes)
