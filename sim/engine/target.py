"""What a fault may do to a running simulation: the few levers it offers, and nothing else of it."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol

import simpy

from registry import Tx

from ..bridge.topology import Network
from .recorder import Attack

FaultProcess = Generator[simpy.Event, Any, None]


class FaultTarget(Protocol):
    """What a fault may do to a running simulation."""

    env: simpy.Environment
    network: Network
    epoch: int  # block timestamp of simulated second 0

    def relayer_down(self, index: int, *, restarts: bool) -> None: ...
    def restart_relayer(self, index: int) -> None: ...
    def relayer_misbehaves(self, index: int, *, duplicate: bool = False, reorder: bool = False) -> None: ...
    def halt_chain(self, chain_id: int, halted: bool) -> None: ...
    def block_lanes(self, lanes: set[tuple[int, int]], blocked: bool) -> None: ...  # (emitter, next hop) pairs
    def submit(self, chain_id: int, txs: list[Tx]) -> simpy.Event: ...
    def breach_trust(self) -> None: ...  # what the verifiers rely on is the attacker's (keys at threshold, no watcher)
    def watchers_down(self, down: bool, count: int | None = None) -> None: ...
    def record_attack(self, attack: Attack) -> None: ...
