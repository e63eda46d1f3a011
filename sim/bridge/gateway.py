"""Typed access to a chain's Gateway: its Sent records, hop state, deliveries and outcomes."""

from __future__ import annotations

from collections.abc import Sequence

from registry.evm import Account, Tx
from registry.evm.artifacts import load_artifact
from registry.evm.events import topic_of, typed

from . import contracts
from .delivery_calldata import deliver_arguments
from .events import Sent
from .messages import Message, Outcome, SentRecord
from .verifiers import checkpoint_proof, committee_proof

DELIVER_SELECTOR = load_artifact("Gateway").abi.function("deliver").selector


class GatewayClient(contracts.Gateway):
    """The Gateway of one chain, with the protocol's own types (messages, outcomes, proofs)."""

    @property
    def chain_id(self) -> int:
        return self.chain.chain_id

    def sent_records(self, from_block: int, to_block: int) -> list[SentRecord]:
        """Every message this gateway emitted toward a next hop in the block range, in order."""
        records = []
        sent_topic = topic_of(Sent)
        stamps: dict[int, int] = {}
        for log in self.chain.logs(self.address, from_block, to_block):
            if log.topics[0] != sent_topic:
                continue
            sent = typed(self.abi.decode_event(log.address, log.topics, log.data))
            assert isinstance(sent, Sent)
            block = log.block_number
            if block not in stamps:
                stamps[block] = self.chain.block(block).timestamp
            records.append(SentRecord(self.chain_id, sent.hop, sent.hop_sequence, sent.message, sent.id, block,
                                      stamps[block]))
        return records

    def hop_positions(self, hops: Sequence[int], block: int | None = None) -> dict[int, tuple[int, int]]:
        """hop → (Sent events emitted toward it, next hop sequence expected from it)."""
        if not hops:
            return {}
        state = self.hop_state(list(hops), block=block)
        return {h: (s, n) for h, s, n in zip(hops, state.sent, state.next, strict=True)}

    def outcome_in(self, src_chain: int, sequence: int) -> Outcome:
        """The outcome here of the message `src_chain` sent with `sequence`."""
        return Outcome(self.inbound_outcome(src_chain, sequence))

    def outcome_out(self, dst_chain: int, sequence: int) -> Outcome:
        """The outcome known here of the message sent from here to `dst_chain` with `sequence`."""
        return Outcome(self.outbound_outcome(dst_chain, sequence))

    def taken(self, hop: int, sequences: Sequence[int]) -> set[int]:
        """Which of `sequences` (above the watermark of `hop`) this gateway has taken already."""
        words: dict[int, int] = {}
        for first in sorted({s >> 8 << 8 for s in sequences}):
            words[first] = self.taken_above(hop, first)
        return {s for s in sequences if (words[s >> 8 << 8] >> (s & 255)) & 1}

    def deliver(self, hop: int, proof: bytes, items: Sequence[tuple[Message, int]], by: Account, gas: int) -> Tx:
        """Messages `hop` emitted toward this chain, each (message, hop sequence), with the batch's `proof`
        for the lane's verifier (sim.bridge.verifiers)."""
        return Tx(by, self.address, DELIVER_SELECTOR + deliver_arguments(hop, proof, items), gas)

    def deliver_signed(self, hop: int, items: Sequence[tuple[Message, int, bytes]], by: Account, gas: int) -> Tx:
        """A delivery for a committee lane: each item (message, hop sequence, its signatures)."""
        return self.deliver(hop, committee_proof([s for _, _, s in items]), [(m, h) for m, h, _ in items], by=by,
                            gas=gas)

    def deliver_checkpoint(self, hop: int, root: bytes, signatures: bytes,
                           items: Sequence[tuple[Message, int, list[bytes]]], by: Account, gas: int) -> Tx:
        """A delivery for a checkpoint lane: the signed root, each item (message, hop sequence, its path)."""
        return self.deliver(hop, checkpoint_proof(root, signatures, [p for _, _, p in items]),
                            [(m, h) for m, h, _ in items], by=by, gas=gas)

