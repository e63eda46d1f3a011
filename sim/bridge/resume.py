"""Where a relayer stands, from the chains alone: what it resumes from after a restart, and what it holds.

A relayer keeps no state of its own that matters. Each gateway's watermark of what it took from a hop
says what is left to deliver; a binary search over the source chain's past state finds the block where
that hop sequence was sent, to read again from there. A revm chain forgets blocks past a window, so a
long-running relayer holds, on each chain, from the block before the first one it (or a relayer started in
its place) would read again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from registry import ChainError
from registry.evm.base import HistoryHolds

from .deliveries import Lane
from .messages import SentRecord
from .topology import Network


def resume_positions(network: Network, serves: Callable[[Lane], bool]) -> tuple[dict[Lane, int], dict[int, int],
                                                                                 set[Lane]]:
    """For every lane served: the hop's watermark (the next hop sequence it expects); for every chain: the
    last block already accounted for; and the lanes whose hop may have taken messages above its watermark."""
    state = {c: node.gateway.hop_positions(network.neighbours(c)) for c, node in network.nodes.items()}
    watermarks: dict[Lane, int] = {}
    scanned: dict[int, int] = {}
    unchecked: set[Lane] = set()
    for src, node in network.nodes.items():
        head = node.chain.block_number
        start = head + 1
        for hop in network.neighbours(src):
            if not serves((src, hop)):
                continue
            sent, expected = state[src][hop][0], state[hop][src][1]
            watermarks[(src, hop)] = expected
            if expected <= sent:
                start = min(start, block_of(network, src, hop, expected, head))
                unchecked.add((src, hop))
        scanned[src] = start - 1
    return watermarks, scanned, unchecked


def block_of(network: Network, src: int, hop: int, hop_sequence: int, head: int) -> int:
    """The first block after which `src` had emitted `hop_sequence` messages toward `hop`."""
    gateway = network.nodes[src].gateway
    low, high = gateway.chain.first_kept_block(), head
    if low > 0 and gateway.hop_positions([hop], block=low)[hop][0] >= hop_sequence:  # sent before what is kept
        raise ChainError(f"chain {src} keeps blocks from {low} on only: its lane to {hop} cannot be resumed")
    while low < high:
        middle = (low + high) // 2
        if gateway.hop_positions([hop], block=middle)[hop][0] >= hop_sequence:
            high = middle
        else:
            low = middle + 1
    return low


def hold_what_is_read(network: Network, holds: HistoryHolds, scanned: Mapping[int, int],
                      queues: Mapping[Lane, dict[int, SentRecord]]) -> None:
    """On each chain, hold from the block before the first one read again: where the oldest undelivered
    message was sent, or the first block not read. The block before: the state after it tells a successor
    that the message came later (see `block_of`)."""
    first = {chain_id: last + 1 for chain_id, last in scanned.items()}
    for (src, _), queue in queues.items():
        if queue:  # in the order read: the first was sent first
            first[src] = min(first[src], next(iter(queue.values())).block_number)
    for chain_id, block in first.items():
        holds.keep(network.nodes[chain_id].chain, max(0, block - 1))
