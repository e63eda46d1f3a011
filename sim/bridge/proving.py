"""Each lane's verifier, as a relayer serves it: the proof of a batch and what must be mined before it.

Committee lanes: the source committee signs, after its validators found each message in their own view of the
source chain. Light-client lanes: the source's headers (signed by its own validators) and receipt proofs.
Optimistic lanes: the Merkle paths of claims posted a challenge window earlier (`sim.bridge.optimistic`).
"""

from __future__ import annotations

from collections.abc import Sequence

from registry import Tx

from .attestation import CommitteeView
from .light_client import LightClientProver
from .messages import SentRecord, subject
from .optimistic import Poster
from .topology import Network


class Provers:
    """The proof builders of one relayer, for every kind of lane."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.view = CommitteeView(network)
        self.receipts = LightClientProver(network)
        self.poster = Poster(network, self.receipts)

    def prove(self, lane: tuple[int, int], batch: Sequence[SentRecord], account_index: int) -> tuple[list[Tx], bytes]:
        """The transactions the destination needs first (a light client's headers) and the delivery's proof."""
        src, dst = lane
        net = self.network
        verifier = net.verifier(src, dst)
        if verifier.name == "light-client":
            return self.receipts.prove(lane, batch, account_index)
        if verifier.name == "optimistic":
            return [], self.poster.proof(lane, batch)
        self.view.attest(batch)
        return [], verifier.prove(net.committees[src], net.domain(src, dst),
                                  [subject(r.message_id, r.hop_sequence) for r in batch])
