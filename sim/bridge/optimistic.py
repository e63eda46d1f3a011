"""What a relayer does on an optimistic lane: post claims (each message and where its Sent event is on the hop),
bonded, as soon as it picks them up (with the header of the newest block claimed, if the store lacks one as high:
claims may name only blocks known to exist); deliver them with their Merkle paths once the challenge window has
passed.

An honest poster claims only what it finds in the hop's receipts. A root already posted is not posted again; a
relayer started afresh posts what it has queued (the chain keeps the first posting's time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_abi import encode

from registry import Receipt, Tx
from registry.evm.artifacts import contract_constant
from registry.evm.hashing import keccak

from .light_client import LightClientProver
from .merkle import MerkleTree
from .messages import SentRecord
from .topology import Network

MIN_BOND = contract_constant("OptimisticVerifier", "MIN_BOND")
POST_GAS = 80_000  # storing a root, besides its claims
CLAIM_GAS = 12_000  # hashing and logging one claim
PROOF_LAYOUT = ["bytes32", "(uint64,uint32,uint32)[]", "bytes32[][]"]  # OptimisticVerifier's delivery proof

Place = tuple[int, int, int]  # block, transaction index, log index
Claim = tuple[bytes, int, Place]  # message id, hop sequence, place


def leaf(message_id: bytes, hop_sequence: int, place: Place) -> bytes:
    """OptimisticVerifier.leaf."""
    return keccak(encode(["bytes32", "uint64", "uint64", "uint32", "uint32"], [message_id, hop_sequence, *place]))


@dataclass
class PostedBatch:
    """Claims this relayer posted on a lane: their tree, and when the root may be used."""

    records: list[SentRecord]
    claims: list[Claim]
    tree: MerkleTree
    final_at: int | None = None  # known once the post is mined


class Poster:
    """Posts and proves the batches of one relayer's optimistic lanes."""

    def __init__(self, network: Network, receipts: LightClientProver) -> None:
        self.network = network
        self.receipts = receipts  # where each Sent event is in its block
        self._posted: dict[tuple[int, int], list[PostedBatch]] = {}
        self._bonded: set[tuple[int, str]] = set()
        self._highest: dict[tuple[int, int], int] = {}  # lane → the highest header of its source its store has

    def covered(self, lane: tuple[int, int]) -> set[int]:
        """The hop sequences of `lane` already in a posted (or posting) batch."""
        return {r.hop_sequence for batch in self._posted.get(lane, []) for r in batch.records}

    def ready(self, lane: tuple[int, int], queued: dict[int, SentRecord], now: int) -> list[SentRecord]:
        """Of the oldest posted batch whose window has passed, what is still queued (batches delivered in full, by
        this relayer or another, are forgotten)."""
        batches = self._posted.setdefault(lane, [])
        batches[:] = [b for b in batches if b.final_at is None or any(r.hop_sequence in queued for r in b.records)]
        for batch in batches:
            if batch.final_at is not None and batch.final_at <= now:
                return [r for r in batch.records if r.hop_sequence in queued]
        return []

    def next_final(self, queues: dict[tuple[int, int], dict[int, SentRecord]]) -> int | None:
        """When the earliest posted batch with messages still queued may be delivered (None: none waits)."""
        times = [b.final_at for lane, batches in self._posted.items() for b in batches
                 if b.final_at is not None and any(r.hop_sequence in queues.get(lane, {}) for r in b.records)]
        return min(times, default=None)

    def post(self, lane: tuple[int, int], batch: Sequence[SentRecord], account_index: int) -> tuple[list[Tx], Tx]:
        """The bond (once per account and chain) and the post of claims for `batch`."""
        src, dst = lane
        net = self.network
        verifier = net.optimistic(dst)
        by = net.relayer_account(dst, account_index)
        claims = [self.claim(r) for r in batch]
        tree = MerkleTree([leaf(*c) for c in claims])
        self._posted.setdefault(lane, []).append(PostedBatch(list(batch), claims, tree))
        # claims name only blocks the store knows exist: the newest claimed block's header, if it lacks one as high
        newest = max(r.block_number for r in batch)
        if self._highest.get(lane, -1) < newest:
            self._highest[lane] = verifier.highest_header(src)
        pre = [] if self._highest[lane] >= newest else self.receipts.headers(verifier, src, [newest], by)
        self._highest[lane] = max(self._highest[lane], newest)
        if (dst, by.address) not in self._bonded:
            self._bonded.add((dst, by.address))
            if verifier.bonds(by.address) < MIN_BOND:
                pre.append(Tx(by, verifier.address, verifier.abi.function("bond").encode([]), 100_000, MIN_BOND))
        tx = verifier.post_tx(src, net.nodes[src].gateway.address, claims, by=by,
                              gas=POST_GAS + CLAIM_GAS * len(claims))
        return pre, tx

    def posted(self, lane: tuple[int, int], records: Sequence[SentRecord], receipt: Receipt) -> None:
        """The post of `records` mined: its root usable after the window (as the chain recorded it); refused:
        forgotten, so they are posted again."""
        batches = self._posted.get(lane, [])
        batch = next((b for b in batches if b.final_at is None and b.records == list(records)), None)
        if batch is None:
            return
        if not receipt.status:
            batches.remove(batch)
            return
        verifier = self.network.optimistic(lane[1])
        posting = verifier.posted(lane[0], self.network.nodes[lane[0]].gateway.address, batch.tree.root)
        batch.final_at = posting.posted_at + verifier.challenge_window()

    def claim(self, record: SentRecord) -> Claim:
        """Where `record`'s Sent event is on its chain, as the receipts say."""
        found = self.receipts.block(record.chain_id, record.block_number).sent_at[(record.message_id, record.hop)]
        return (record.message_id, record.hop_sequence, (record.block_number, found[0], found[1]))

    def proof(self, lane: tuple[int, int], batch: Sequence[SentRecord]) -> bytes:
        """The delivery proof of `batch`, all from one posted batch."""
        wanted = {r.hop_sequence for r in batch}
        posted = next(b for b in self._posted[lane] if wanted <= {r.hop_sequence for r in b.records})
        index = {r.hop_sequence: i for i, r in enumerate(posted.records)}
        places = [posted.claims[index[r.hop_sequence]][2] for r in batch]
        paths = [posted.tree.proof(index[r.hop_sequence]) for r in batch]
        return encode(PROOF_LAYOUT, [posted.tree.root, places, paths])
