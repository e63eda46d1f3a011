"""The watcher: compares every destination's deliveries with the sources' sends, from chain logs alone.

It trusts no relayer and no metrics: it reads each gateway's `Sent`, `Processed` and `Acknowledged`
events, block range by block range, and checks the four invariants of a run. A message it is done
with (processed at its destination and, if data, acknowledged to its origin) is checked then and
kept only as an 8-byte prefix of its id, to catch a later second processing: a long run's memory
holds what is in flight, not its history.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, model_serializer, model_validator

from ..bridge.messages import KIND_DATA, TERMINAL, Outcome
from ..bridge.topology import Network

# The invariants every run is checked against, in the order reports show them.
INVARIANTS = {
    "exactly_once": "no message processed twice",
    "all_terminal": "every sent message ended delivered, failed, timed out or rejected, and its source was told",
    "no_forged_accepted": "no delivery without a matching send while fewer than threshold keys are compromised",
    "no_unmatched_delivery": "no delivery without a matching send, at all",
}
MAX_VIOLATIONS_KEPT = 1000


@dataclass(frozen=True)
class Violation:
    invariant: str
    message_id: str
    detail: str


class InvariantReport(BaseModel):
    """Which invariants held, and the violations found (the first MAX_VIOLATIONS_KEPT of them).
    In JSON the flags stand flat beside the violations: `{"exactly_once": true, …, "violations": […]}`."""

    model_config = ConfigDict(frozen=True)

    held: dict[str, bool]
    violations: list[Violation]
    violation_count: int

    @property
    def broken(self) -> list[str]:
        return [name for name, ok in self.held.items() if not ok]

    @model_serializer
    def _flat(self) -> dict[str, Any]:
        return {**self.held, "violations": [vars(v) for v in self.violations],
                "violation_count": self.violation_count}

    @model_validator(mode="before")
    @classmethod
    def _from_flat(cls, data: Any) -> Any:
        if isinstance(data, dict) and "held" not in data:
            return {"held": {k: data[k] for k in INVARIANTS if k in data},
                    "violations": data.get("violations", []), "violation_count": data.get("violation_count", 0)}
        return data


@dataclass
class Watcher:
    network: Network
    first_block: dict[int, int]  # where to start reading each chain (the simulation's first block)
    threshold_breached: bool = False  # set by a fault: as many keys stolen as the threshold needs

    sent: dict[bytes, tuple[int, int, int]] = field(default_factory=dict)  # id → (origin, destination, kind)
    outcomes: dict[bytes, list[tuple[int, Outcome]]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: dict[bytes, Outcome] = field(default_factory=dict)
    unmatched: dict[bytes, tuple[int, bool]] = field(default_factory=dict)  # id → (chain, while trusted)
    keep: set[bytes] = field(default_factory=set)  # ids whose outcomes are asked for later (attacks)
    settled: set[int] = field(default_factory=set)  # id prefixes of messages done with
    found: list[Violation] = field(default_factory=list)  # violations of messages done with
    _scanned: dict[int, int] = field(default_factory=dict)

    def scan(self) -> None:
        """Read every chain up to its head and match what was processed against what was sent."""
        new_processed: list[tuple[bytes, int]] = []
        touched: set[bytes] = set()
        for chain_id, node in self.network.nodes.items():
            head = node.chain.block_number()
            first = self._scanned.get(chain_id, self.first_block[chain_id] - 1) + 1
            if first > head:
                continue
            gateway = node.gateway
            for log in node.chain.logs(gateway.address, first, head):
                event = gateway.abi.decode_event(log.address, log.topics, log.data)
                if event is None:
                    continue
                if event.name == "Sent":
                    message = event["message"]
                    if message["srcChain"] == chain_id:  # the origin's emission, not a forward
                        self.sent[event["id"]] = (chain_id, message["dstChain"], message["kind"])
                elif event.name == "Processed":
                    self.outcomes[event["id"]].append((chain_id, Outcome(event["outcome"])))
                    new_processed.append((event["id"], chain_id))
                elif event.name == "Acknowledged":
                    self.acknowledged[event["id"]] = Outcome(event["outcome"])
                    touched.add(event["id"])
            self._scanned[chain_id] = head
        for message_id, chain_id in new_processed:
            if _prefix(message_id) in self.settled:
                self.found.append(Violation("exactly_once", "0x" + message_id.hex(),
                                            f"processed again on chain {chain_id} after it was done"))
            elif message_id not in self.sent and message_id not in self.unmatched:
                # accepted while fewer than threshold keys were compromised: the verifier failed
                self.unmatched[message_id] = (chain_id, not self.threshold_breached)
            touched.add(message_id)
        for message_id in touched:
            self._settle(message_id)

    def rewind(self, chain_id: int, block: int) -> None:
        """Read `chain_id` again from `block` on at the next scan (as after a restart or a reorg)."""
        self._scanned[chain_id] = max(block, self.first_block[chain_id]) - 1

    def keep_outcomes(self, message_ids: Iterable[bytes]) -> None:
        """Remember where these messages end even once they are done (attacks are reported so)."""
        self.keep.update(message_ids)

    def outcomes_of(self, message_id: bytes) -> list[Outcome]:
        return [o for _, o in self.outcomes.get(message_id, [])]

    def _settle(self, message_id: bytes) -> None:
        """Check a message that is done and forget all but its id prefix; one in flight stays."""
        if message_id not in self.sent or message_id in self.keep:
            return
        _, destination, kind = self.sent[message_id]
        seen = self.outcomes.get(message_id, [])
        if not any(c == destination and o in TERMINAL for c, o in seen):
            return
        if kind == KIND_DATA and message_id not in self.acknowledged:
            return
        self.found.extend(_processed_twice(message_id, seen))
        del self.sent[message_id]
        self.outcomes.pop(message_id, None)
        self.acknowledged.pop(message_id, None)
        self.settled.add(_prefix(message_id))

    def invariants(self) -> InvariantReport:
        violations: list[Violation] = list(self.found)
        for message_id, seen in self.outcomes.items():
            violations.extend(_processed_twice(message_id, seen))
        for message_id, (origin, destination, kind) in self.sent.items():
            if kind != KIND_DATA:
                continue
            ends = [o for c, o in self.outcomes.get(message_id, []) if c == destination and o in TERMINAL]
            if not ends:
                violations.append(Violation("all_terminal", "0x" + message_id.hex(),
                                            f"no outcome on chain {destination} (sent from {origin})"))
            elif message_id not in self.acknowledged:
                violations.append(Violation("all_terminal", "0x" + message_id.hex(),
                                            f"{ends[0].label} on chain {destination}, never acknowledged to {origin}"))
        for message_id, (chain_id, trusted) in self.unmatched.items():
            violations.append(Violation("no_unmatched_delivery", "0x" + message_id.hex(),
                                        f"processed on chain {chain_id} without a matching send"))
            if trusted:
                violations.append(Violation("no_forged_accepted", "0x" + message_id.hex(),
                                            f"accepted on chain {chain_id} while the committees were sound"))
        broken = {v.invariant for v in violations}
        return InvariantReport(held={name: name not in broken for name in INVARIANTS},
                               violations=violations[:MAX_VIOLATIONS_KEPT], violation_count=len(violations))


def _prefix(message_id: bytes) -> int:
    return int.from_bytes(message_id[:8], "big")


def _processed_twice(message_id: bytes, seen: list[tuple[int, Outcome]]) -> list[Violation]:
    delivered = [c for c, o in seen if o is Outcome.DELIVERED]
    terminal = [c for c, o in seen if o in TERMINAL]
    if len(delivered) > 1 or len(terminal) > 1:
        return [Violation("exactly_once", "0x" + message_id.hex(),
                          f"processed {len(terminal)} times, delivered {len(delivered)} times")]
    return []
