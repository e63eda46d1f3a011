"""The report's `transactions` section, from what the run's transaction watch read on the chains."""

from __future__ import annotations

from collections import Counter

from ..engine.transactions import TransactionRecords
from .report import TransactionEntry, TransactionsSection
from .stats import percentiles

ABORT_REASONS = ("vote_no", "conflict", "timeout", "coordinator_gone", "decision_late")


def transactions_section(records: TransactionRecords) -> TransactionsSection:
    s, names = records.settings, records.chain_names
    outcomes: Counter[str] = Counter()
    reasons: Counter[str] = Counter({r: 0 for r in ABORT_REASONS})
    latency, holds, listed = [], [], []
    for tx in records.transactions:
        outcome = tx.outcome
        outcomes[outcome] += 1
        committed = tx.committed_parties()
        reason = tx.abort_reason if outcome == "aborted" else ""
        if reason:
            reasons[reason] += 1
        done = outcome == "committed" and all(p.ended_s is not None for p in committed)
        took = round(max(p.ended_s or 0.0 for p in committed) - tx.begun_s, 3) if done else None
        if took is not None:
            latency.append(took)
        holds += [p.ended_s - p.prepared_s for p in tx.parties.values()
                  if p.prepared_s is not None and p.ended_s is not None]
        listed.append(TransactionEntry(
            tx_id="0x" + tx.tx_id.hex(), protocol=tx.protocol, coordinator=names.get(tx.coordinator, "?"),
            parties=[f"{names.get(p.chain, '?')}: {records.entity_names.get(p.entity, p.entity)}"
                     for p in tx.parties.values()],
            begun_s=round(tx.begun_s, 3), outcome=outcome, reason=reason,
            committed_on=[names.get(p.chain, "?") for p in committed], commit_latency_s=took,
            steps=[(round(at, 3), names.get(chain, "?"), step, detail) for at, chain, step, detail in tx.steps]))
    return TransactionsSection(
        protocol=s.protocol, coordinator=s.coordinator, lock_timeout_s=s.lock_timeout_s,
        started=len(records.transactions), committed=outcomes["committed"], aborted=outcomes["aborted"],
        aborted_by_reason=dict(reasons), unfinished=outcomes["unfinished"], partial=outcomes["partial"],
        begin_refused=records.begin_refused, conflicts=records.conflicts,
        commit_latency_s=percentiles(latency), lock_hold_s=percentiles(holds), listed=listed,
        lock_holds=sorted(round(h, 3) for h in holds))
