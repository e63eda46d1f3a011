"""A committee's own view of the chains it signs for: validators attest only to what they saw sent."""

from __future__ import annotations

from collections.abc import Sequence

from .deliveries import ForgeryRefused
from .messages import SentRecord
from .topology import Network

OBSERVED_BLOCKS = 4_096  # blocks whose Sent events a committee keeps in view (older ones are read again)


class CommitteeView:
    """What honest validators do before signing: find each message in their own view of its source
    chain (the Sent event in that block). The view keeps the last OBSERVED_BLOCKS blocks read."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.blocks: dict[tuple[int, int], set[tuple[bytes, int, int]]] = {}

    def attest(self, batch: Sequence[SentRecord]) -> None:
        """Raise `ForgeryRefused` unless every message of `batch` is where it claims to have been sent."""
        for record in batch:
            key = (record.chain_id, record.block_number)
            if key not in self.blocks:
                gateway = self.network.nodes[record.chain_id].gateway
                self.blocks[key] = {(r.message_id, r.hop, r.hop_sequence)
                                    for r in gateway.sent_records(record.block_number, record.block_number)}
                if len(self.blocks) > OBSERVED_BLOCKS:
                    del self.blocks[next(iter(self.blocks))]  # the oldest block in view
            if (record.message_id, record.hop, record.hop_sequence) not in self.blocks[key]:
                raise ForgeryRefused(f"message 0x{record.message_id.hex()} is not on chain {record.chain_id}")
