"""Each lane's verifier, as a relayer serves it: the proof of a batch and what must be mined before it.

Committee lanes: the source committee signs, after its validators found each message in their own view of the
source chain. Light-client lanes: the source's headers (signed by its own validators) and receipt proofs.
Optimistic lanes: the Merkle paths of claims posted a challenge window earlier (`sim.bridge.optimistic`).
"""

from __future__ import annotations

from collections.abc import Sequence

from registry import Tx

from .attestation import CommitteeView
from .light_client import LightClientProver, proof_gas
from .messages import SentRecord, subject
from .optimistic import Poster
from .topology import Network

MERKLE_GAS_PER_BYTE = 40  # an optimistic proof's Merkle paths, decoded and hashed


class Provers:
    """The proof builders of one relayer, for every kind of lane."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.view = CommitteeView(network)
        self.receipts = LightClientProver(network)
        self.poster = Poster(network, self.receipts)

    def prove(self, lane: tuple[int, int], batch: Sequence[SentRecord],
              account_index: int) -> tuple[list[Tx], bytes, int]:
        """The transactions the destination needs first (a light client's headers), the delivery's proof, and the
        gas its verification may take beyond a delivery's bound (which allows for a checkpoint's)."""
        src, dst = lane
        net = self.network
        verifier = net.verifier(src, dst)
        if verifier.name == "light-client":
            pre, proof = self.receipts.prove(lane, batch, account_index)
            return pre, proof, proof_gas(proof)
        if verifier.name == "optimistic":
            proof = self.poster.proof(lane, batch)
            return [], proof, MERKLE_GAS_PER_BYTE * len(proof)
        self.view.attest(batch)
        return [], verifier.prove(net.committees[src], net.domain(src, dst),
                                  [subject(r.message_id, r.hop_sequence) for r in batch]), 0
