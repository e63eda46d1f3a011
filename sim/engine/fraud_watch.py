"""Fraud watchers: simulated actors that read the claims posted on optimistic lanes and prove false ones on chain
within the challenge window (sim.bridge.fraud builds the proofs; OptimisticVerifier checks them). Watchers may be
down (a fault); while at least one is up, every posting is checked at each poll."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from registry import Tx, derive_account
from registry.defaults import WATCHER_INDEX
from registry.errors import ChainError

from ..bridge.fraud import FraudProver, Posting
from ..bridge.topology import Network

WATCHER = derive_account(WATCHER_INDEX)

Submit = Callable[[int, list[Tx]], simpy.Event]


class FraudWatch:
    """`count` watchers reading every chain whose inbound lanes include an optimistic one, every `poll_s`."""

    def __init__(self, env: simpy.Environment, network: Network, count: int, poll_s: float, submit: Submit) -> None:
        self.env, self.network, self.poll_s, self.submit = env, network, poll_s, submit
        self.count = self.up = count
        self.prover = FraudProver(network)
        self.chains = sorted({dst for src, dst in network.lanes() if network.verifier(src, dst).name == "optimistic"})
        self._scanned = {c: network.nodes[c].chain.block_number for c in self.chains}
        self._open: list[Posting] = []  # postings still in their window, not proven
        self.proven = 0  # fraud proofs mined
        self.unprovable: list[str] = []  # what could not be judged, and why

    def set_down(self, down: bool, count: int | None = None) -> None:
        change = self.count if count is None else count
        self.up = max(0, min(self.count, self.up + (-change if down else change)))

    def run(self) -> Generator[simpy.Event, Any, None]:
        while True:
            yield self.env.timeout(self.poll_s)
            if self.up and self.chains:
                yield from self._poll()

    def _poll(self) -> Generator[simpy.Event, Any, None]:
        for chain_id in self.chains:
            head = self.network.nodes[chain_id].chain.block_number
            if head > self._scanned[chain_id]:
                self._open += self.prover.postings(chain_id, self._scanned[chain_id] + 1, head)
                self._scanned[chain_id] = head
        still_open = []
        for posting in self._open:
            closes = posting.posted_at + self.network.optimistic(posting.chain).challenge_window()
            if self.network.nodes[posting.chain].chain.block().timestamp >= closes:
                continue  # too late to prove anything
            try:
                index = self.prover.false_claim(posting)
                txs = None if index is None else self.prover.challenge(posting, index, WATCHER)
            except ChainError as exc:  # the claimed block is no longer kept
                self.unprovable.append(f"root 0x{posting.root.hex()} on chain {posting.chain}: {exc}")
                continue
            if index is None or txs is None:
                continue  # every claim holds; or it is about nothing a lane of ours could use
            receipts = yield self.submit(posting.chain, txs)
            if receipts[-1].status:
                self.proven += 1
            else:
                still_open.append(posting)
        self._open = still_open
