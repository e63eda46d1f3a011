"""Comparing two runs' reports: every figure that differs, the headline first."""

from __future__ import annotations

from typing import Any

from ..results.metrics import flatten
from ..results.report import Report

# the living registry's headline (empty for a run without registry activity)
REGISTRY_HEADLINE = ["registry.propagation_s.p50", "registry.propagation_s.p95", "registry.propagation_s.max",
                     "registry.unpropagated", "registry.syncs_refused",
                     "registry.stale_decisions.served_while_suspended.count",
                     "registry.stale_decisions.refused_while_active.count",
                     "registry.stale_decisions.answered_while_suspended.count",
                     "registry.stale_decisions.answered_after_policy_revoked.count"]

# atomic transactions' headline (empty for a run without them)
TRANSACTIONS_HEADLINE = ["transactions.started", "transactions.committed", "transactions.aborted",
                         "transactions.aborted_by_reason.", "transactions.partial", "transactions.conflicts",
                         "transactions.commit_latency_s.p50", "transactions.commit_latency_s.p95",
                         "transactions.commit_latency_s.p99", "transactions.lock_hold_s.p50",
                         "transactions.lock_hold_s.p95", "transactions.lock_hold_s.max"]

# What a reader of two runs looks at first; everything else (per pair, per sector, per function) after.
HEADLINE = ("scenario.", "messages.", "invariants.", "latency_s.p50", "latency_s.p95", "latency_s.p99",
            "latency_s.mean", "latency_s.max", "throughput.sent_per_s", "throughput.delivered_per_s",
            *REGISTRY_HEADLINE, *TRANSACTIONS_HEADLINE, "gas.per_message", "gas.total", "relayers.",
            "latency_s.round_trip.", "latency_s.by_phase.")


def compare(a: Report, b: Report, only: tuple[str, ...] = ()) -> list[tuple[str, Any, Any]]:
    """(key, value in A, value in B) for every scalar that differs (under the `only` prefixes, if any),
    the headline figures first."""
    left = dict(flatten(a.model_dump(mode="json")))
    right = dict(flatten(b.model_dump(mode="json")))
    keys = [k for k in set(left) | set(right) if left.get(k) != right.get(k) and (not only or k.startswith(only))]
    return [(k, left.get(k), right.get(k)) for k in sorted(keys, key=_headline_first)]


def is_headline(key: str) -> bool:
    """Among the figures `compare` shows by default (up to gas per message and in all)."""
    return _headline_first(key)[0] <= HEADLINE.index("gas.total")


def _headline_first(key: str) -> tuple[int, str]:
    return next((i for i, prefix in enumerate(HEADLINE) if key.startswith(prefix)), len(HEADLINE)), key
