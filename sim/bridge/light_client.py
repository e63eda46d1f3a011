"""What a relayer carries to a light-client lane: the source blocks' headers signed by the source chain's own
validators (for the destination's header store, in transactions before the delivery), and for each message
the proof that its Sent event is in one of those blocks' receipts (LightClientVerifier.sol's layout).

A block's receipts trie is built once and kept for the next batches from it (a few hundred blocks)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import decode, encode

from registry import Account, Tx
from registry.evm.base import TxReceipt
from registry.evm.events import topic_of
from registry.evm.receipts import ReceiptsTrie, trie_key

from .events import Sent
from .messages import SentRecord
from .topology import HeaderStore, Network

KEPT_BLOCKS = 256  # source blocks whose receipts tries are kept
HEADER_GAS = 60_000  # storing one header (its root, and the highest height when it is), besides its signatures
SIGNATURE_GAS = 8_000  # recovering one validator's signature and reading its membership
# LightClientVerifier's abi.encode(BlockProof[] blocks, ReceiptProof[] receipts, uint256[] refs)
PROOF_LAYOUT = ["(uint64,bytes[])[]", "(uint256,bytes,uint256[])[]", "uint256[]"]
# what verifying a proof costs beyond a delivery's own bound, as measured on the library: the proof decoded into
# memory (per byte), each receipt's logs read, each trie node on a receipt's path decoded (a 17-item branch is
# decoded twice at about 1,200 gas an RLP item)
GAS_PER_PROOF_BYTE = 40
GAS_PER_RECEIPT = 20_000
GAS_PER_PATH_NODE = 90_000
SENT_TOPIC = topic_of(Sent)


@dataclass(frozen=True)
class BlockReceipts:
    """A source block's receipts trie, and where each message's Sent event is in it."""

    trie: ReceiptsTrie
    # (message id, hop) → (transaction index, log in its receipt, hop sequence)
    sent_at: dict[tuple[bytes, int], tuple[int, int, int]]


class LightClientProver:
    """Headers and receipt proofs for the light-client lanes of one network (one per relayer)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._blocks: OrderedDict[tuple[int, int], BlockReceipts] = OrderedDict()
        # (store, destination, source, block): headers known stored; (store, destination, source): the set it knows
        self._stored: set[tuple[str, int, int, int]] = set()
        self._epochs: dict[tuple[str, int, int], int] = {}

    def prove(self, lane: tuple[int, int], batch: Sequence[SentRecord], by_index: int = 0) -> tuple[list[Tx], bytes]:
        """The header transactions the destination still needs (first), and the delivery's proof."""
        numbers = list(dict.fromkeys(r.block_number for r in batch))
        blocks = {n: self.block(lane[0], n) for n in numbers}
        return self._headers(lane, numbers, blocks, by_index), receipt_proof(batch, blocks)

    def block(self, chain_id: int, number: int) -> BlockReceipts:
        key = (chain_id, number)
        found = self._blocks.get(key)
        if found is None:
            node = self.network.nodes[chain_id]
            receipts = node.chain.block_receipts(number)
            sent_at = sent_places(receipts, node.gateway.address)
            found = self._blocks[key] = BlockReceipts(ReceiptsTrie(receipts), sent_at)
            if len(self._blocks) > KEPT_BLOCKS:
                self._blocks.popitem(last=False)
        return found

    def _headers(self, lane: tuple[int, int], numbers: list[int], blocks: dict[int, BlockReceipts],
                 by_index: int) -> list[Tx]:
        src, dst = lane
        return self.headers(self.network.light_client(dst), src, numbers, self.network.relayer_account(dst, by_index))

    def headers(self, store: HeaderStore, src: int, numbers: list[int], by: Account) -> list[Tx]:
        """What stores the headers of `src`'s blocks `numbers` that `store` lacks: the handovers it has not seen,
        then one transaction of headers (none if it has them all)."""
        net = self.network
        dst = store.chain.chain_id
        missing = []
        for n in numbers:
            if (store.address, dst, src, n) in self._stored:
                continue
            if store.receipts_roots(src, n) != b"\x00" * 32:
                self._stored.add((store.address, dst, src, n))
                continue
            missing.append(n)
        if not missing:
            return []
        newest = max(net.validators_at(src, n).epoch for n in missing)
        known = self._epochs.get((store.address, dst, src)) or store.current_epoch(src)
        catch_up = net.header_store_catch_up(store, src, newest, known, by)
        self._epochs[(store.address, dst, src)] = max(known, newest)
        chain = net.nodes[src].chain
        headers = [net.validators_at(src, n).header(n, chain.block(n).timestamp, self.block(src, n).trie.root)
                   for n in missing]
        signatures = sum(len(h[4]) // 65 for h in headers)
        gas = 40_000 + len(headers) * HEADER_GAS + signatures * (SIGNATURE_GAS + 16 * 65)
        return [*catch_up, store.submit_headers_tx(src, headers, by=by, gas=gas)]


def proof_gas(proof: bytes) -> int:
    """The gas `LightClientVerifier.verify` may take on `proof`, beyond what a delivery's bound allows for."""
    _, receipts, _ = decode(PROOF_LAYOUT, proof)
    return (GAS_PER_PROOF_BYTE * len(proof) + GAS_PER_RECEIPT * len(receipts)
            + GAS_PER_PATH_NODE * sum(len(path) for _, _, path in receipts))


def receipt_proof(batch: Sequence[SentRecord], blocks: dict[int, BlockReceipts]) -> bytes:
    """LightClientVerifier's proof of `batch` from its blocks' receipts: each block's trie nodes once, each
    receipt's path into them, each message's receipt and log."""
    numbers = list(blocks)
    nodes: dict[int, dict[bytes, int]] = {n: {} for n in numbers}  # each block's node table
    receipts: dict[tuple[int, int], int] = {}  # (block, transaction) → its place in the proof's receipts
    receipt_proofs: list[tuple[int, bytes, list[int]]] = []
    refs = []
    for record in batch:
        number = record.block_number
        where = blocks[number].sent_at.get((record.message_id, record.hop))
        tx, log = where[:2] if where is not None else (0, 2**32 - 1)  # not there: the verifier refuses it
        if (number, tx) not in receipts:
            receipts[(number, tx)] = len(receipt_proofs)
            table = nodes[number]
            path = [table.setdefault(node, len(table)) for node in blocks[number].trie.path(tx)]
            receipt_proofs.append((numbers.index(number), trie_key(tx), path))
        refs.append(receipts[(number, tx)] << 32 | log)
    return encode(PROOF_LAYOUT, [[(n, list(nodes[n])) for n in numbers], receipt_proofs, refs])


def sent_places(receipts: Sequence[TxReceipt], gateway: str) -> dict[tuple[bytes, int], tuple[int, int, int]]:
    """Where each of `gateway`'s Sent events is among a block's receipts: (message id, hop) → (transaction, log in
    its receipt, hop sequence)."""
    places = {}
    for tx, receipt in enumerate(receipts):
        for position, log in enumerate(receipt.logs):
            if log.address == gateway and log.topics[0] == SENT_TOPIC:
                hop_sequence = int.from_bytes(log.data[:32], "big")
                places[(log.topics[1], int.from_bytes(log.topics[2], "big"))] = (tx, position, hop_sequence)
    return places
