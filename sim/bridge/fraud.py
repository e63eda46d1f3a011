"""Fraud proofs against optimistic lanes, as a watcher builds them: read what was posted, check each claim against
the hop chain's own receipts, and prove a false one on the destination (OptimisticVerifier checks the proof itself:
the claim's block header signed by the hop's validators, and a receipt proof that no such Sent event is there)."""

from __future__ import annotations

from dataclasses import dataclass

from registry import Account, Tx
from registry.evm.events import topic_of, typed

from .events import RootPosted
from .light_client import LightClientProver
from .merkle import MerkleTree
from .optimistic import Claim, leaf
from .topology import Network

CHALLENGE_GAS = 3_000_000


@dataclass(frozen=True)
class Posting:
    """Claims posted on `chain` about hop `hop`, at `posted_at`."""

    chain: int
    hop: int
    root: bytes
    poster: str
    hop_gateway: str
    claims: tuple[Claim, ...]
    posted_at: int
    block: int


class FraudProver:
    """Reads postings and proves false claims (one prover per watcher)."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.receipts = LightClientProver(network)

    def postings(self, chain_id: int, from_block: int, to_block: int) -> list[Posting]:
        """Every posting on `chain_id`'s optimistic verifier in the block range."""
        node = self.network.nodes[chain_id]
        verifier = self.network.optimistic(chain_id)
        topic = topic_of(RootPosted)
        found = []
        for log in node.chain.logs(verifier.address, from_block, to_block):
            if log.topics[0] == topic:
                event = typed(verifier.abi.decode_event(log.address, log.topics, log.data))
                assert isinstance(event, RootPosted)
                found.append(Posting(chain_id, event.hop, event.root, event.poster, event.hop_gateway, event.claims,
                                     node.chain.block(log.block_number).timestamp, log.block_number))
        return found

    def false_claim(self, posting: Posting) -> int | None:
        """The index of the first claim the hop's receipts do not bear out (None: all hold, or the posting is about a
        chain this network does not have: no lane could use it)."""
        source = self.network.nodes.get(posting.hop)
        if source is None:
            return None
        if posting.hop_gateway != source.gateway.address:
            return 0  # about another gateway's events: no lane of this network uses that root
        for index, (message_id, hop_sequence, (number, tx, log)) in enumerate(posting.claims):
            if number > source.chain.block_number:
                return index
            found = self.receipts.block(posting.hop, number).sent_at.get((message_id, posting.chain))
            if found is None or found[:2] != (tx, log) or found[2] != hop_sequence:
                return index
        return None

    def challenge(self, posting: Posting, index: int, by: Account) -> list[Tx] | None:
        """The transactions proving claim `index` false: the handovers and header the store lacks, then the
        challenge (None: nothing to prove it with, a block the hop has not produced: the verifier refuses posts of
        such claims, so none can be usable)."""
        net = self.network
        verifier = net.optimistic(posting.chain)
        source = net.nodes.get(posting.hop)
        claim = posting.claims[index]
        number, tx, _ = claim[2]
        if source is None or number > source.chain.block_number or posting.hop_gateway != source.gateway.address:
            return None
        path = MerkleTree([leaf(*c) for c in posting.claims]).proof(index)
        trie_nodes = self.receipts.block(posting.hop, number).trie.path(tx)
        return [*self.receipts.headers(verifier, posting.hop, [number], by),
                verifier.challenge_tx(posting.hop, posting.hop_gateway, posting.root, claim, path, trie_nodes, by=by,
                                      gas=CHALLENGE_GAS)]
