"""The run's atomic transactions in its outputs: a summary line, a section of report.md and report.html, a
plot of commit latency and lock hold, and two CSV files (one row per transaction; one per step of each),
which `pilotsim tx show` reads back."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from registry import PilotsimError

from .chart import Axes, colour, figure
from .report import Report, TransactionEntry, TransactionsSection

TRANSACTION_COLUMNS = ["tx_id", "protocol", "coordinator", "parties", "begun_s", "outcome", "reason", "committed_on",
                       "commit_latency_s"]
STEP_COLUMNS = ["tx_id", "at_s", "chain", "step", "detail"]
CDF_POINTS = 400


def transactions_summary(section: TransactionsSection) -> str:
    """`150 started (2pc, hub): 121 committed, 29 aborted (15 vote_no, 14 conflict); commit p50 6.0 s, p95 6.0 s;
    locks held p50 4.0 s, max 4.0 s`."""
    reasons = ", ".join(f"{n} {r}" for r, n in section.aborted_by_reason.items() if n)
    place = "the hub" if section.coordinator == "hub" else "the initiator's zone"
    parts = [f"{section.started} started ({section.protocol}, decided on {place}): "
             f"{section.committed} committed, {section.aborted} aborted" + (f" ({reasons})" if reasons else "")
             + (f", {section.unfinished} unfinished" if section.unfinished else "")]
    if section.partial:
        parts.append(f"{section.partial} committed on some parties only")
    c, h = section.commit_latency_s, section.lock_hold_s
    parts.append(f"commit p50 {c.p50} s, p95 {c.p95} s" if c.count else "none committed")
    parts.append(f"locks held p50 {h.p50} s, max {h.max} s" if h.count else "no lock held")
    return "; ".join(parts)


def transactions_markdown(report: Report) -> list[str]:
    section = report.transactions
    if section is None:
        return []
    lines = ["", "## Atomic transactions", "", transactions_summary(section), "",
             "| | p50 | p95 | p99 | max | count |", "|---|---:|---:|---:|---:|---:|"]
    for name, p in (("commit latency (s)", section.commit_latency_s), ("lock hold (s)", section.lock_hold_s)):
        lines.append(f"| {name} | {p.p50} | {p.p95} | {p.p99} | {p.max} | {p.count} |")
    partial = [t for t in section.listed if t.outcome == "partial"]
    if partial:
        lines += ["", f"Committed on some parties only ({len(partial)}): "
                      + ", ".join(f"`{t.tx_id}`" for t in partial[:20]), "",
                  "`pilotsim tx show RUN_DIR ID` prints one's path across zones."]
    return lines


def transactions_rows(section: TransactionsSection) -> list[list[Any]]:
    return [[name, p.p50, p.p95, p.p99, p.max, p.count] for name, p in
            (("commit latency (s)", section.commit_latency_s), ("lock hold (s)", section.lock_hold_s))]


def transactions_plot(report: Report) -> dict[str, str]:
    """Commit latency and lock hold, each a CDF."""
    section = report.transactions
    if section is None:
        return {}
    axes = Axes(ylabel="fraction", y_top=1.0)
    latency = sorted(t.commit_latency_s for t in section.listed if t.commit_latency_s is not None)
    for i, (label, values) in enumerate((("commit latency: begun → last party committed", latency),
                                         ("lock hold: prepared → committed, rolled back or released",
                                          section.lock_holds))):
        if values:
            n = len(values)
            step = max(1, n // CDF_POINTS)  # the same curve at any run length
            ranks = [*range(0, n, step), n - 1] if n > 1 else [0]
            axes.line([values[r] for r in ranks], [(r + 1) / n for r in ranks], colour=colour(i),
                      label=f"{label.split(':')[0]} ({n})", tip=f"{label}: {n}, max {values[-1]:.1f} s")
    if not axes.marks:
        axes.note = "no transaction committed, no lock held"
    return {"transactions": figure("transactions", [axes], xlabel="seconds",
                                   title="Atomic transactions: commit latency and lock hold, CDF")}


def write_transaction_files(folder: Path, section: TransactionsSection | None) -> None:
    if section is None:
        return
    with (folder / "transactions.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRANSACTION_COLUMNS)
        for t in section.listed:
            writer.writerow([t.tx_id, t.protocol, t.coordinator, "; ".join(t.parties), t.begun_s, t.outcome,
                             t.reason, "; ".join(t.committed_on),
                             "" if t.commit_latency_s is None else t.commit_latency_s])
    with (folder / "transaction_steps.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(STEP_COLUMNS)
        for t in section.listed:
            for at, chain, step, detail in t.steps:
                writer.writerow([t.tx_id, at, chain, step, detail])


def read_transaction(folder: Path, tx_id: str) -> TransactionEntry:
    """One transaction of a run folder, by its id (or a unique prefix of it)."""
    path = folder / "transactions.csv"
    if not path.is_file():
        raise PilotsimError(f"{folder}: no transactions.csv (a run of a scenario with a [transactions] section "
                            "writes one)")
    wanted = tx_id.lower() if tx_id.lower().startswith("0x") else "0x" + tx_id.lower()
    with path.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["tx_id"].startswith(wanted)]
    if not rows:
        raise PilotsimError(f"{path}: no transaction {tx_id}")
    if len(rows) > 1:
        raise PilotsimError(f"{path}: {len(rows)} transactions start with {tx_id}; give more of the id")
    row = rows[0]
    with (folder / "transaction_steps.csv").open(newline="") as handle:
        steps = [(float(s["at_s"]), s["chain"], s["step"], s["detail"]) for s in csv.DictReader(handle)
                 if s["tx_id"] == row["tx_id"]]
    return TransactionEntry(
        tx_id=row["tx_id"], protocol=row["protocol"], coordinator=row["coordinator"],
        parties=row["parties"].split("; "), begun_s=float(row["begun_s"]), outcome=row["outcome"],
        reason=row["reason"], committed_on=[c for c in row["committed_on"].split("; ") if c],
        commit_latency_s=float(row["commit_latency_s"]) if row["commit_latency_s"] else None, steps=steps)
