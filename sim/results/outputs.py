"""A run's outputs: report.json, messages.csv, report.md and a self-contained report.html.

Everything is written into a temporary folder beside the target and renamed into place at the
end, so an output folder holds a complete report or nothing.
"""

from __future__ import annotations

import csv
import html
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from registry import PilotsimError

from ..engine.fault_kinds import Lasting
from ..engine.recorder import MessageRecord
from .chart import Axes, colour, figure
from .heatmap import heatmap
from .registry_outputs import registry_markdown, registry_plots, registry_summary, registry_tables
from .report import FaultEntry, Report
from .transaction_outputs import (
    transactions_markdown,
    transactions_plot,
    transactions_rows,
    transactions_summary,
    write_transaction_files,
)

CSV_COLUMNS = ["message_id", "kind", "src_zone", "dst_zone", "src_chain", "dst_chain", "sector", "outcome",
               "submitted_s", "included_s", "picked_s", "delivered_s", "executed_s", "acked_s", "latency_s", "hops",
               "payload_bytes", "gas_send", "gas_deliver", "gas_ack", "request_id"]


OUTPUT_FILES = frozenset({"report.json", "messages.csv", "report.md", "report.html", "transactions.csv",
                          "transaction_steps.csv"})

def check_output_folder(out: Path) -> None:
    """Refuse a folder that holds anything but an earlier run's outputs: writing replaces it whole."""
    if out.exists() and not out.is_dir():
        raise PilotsimError(f"{out}: is not a folder; choose another output folder")
    others = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES) if out.is_dir() else []
    if others:
        raise PilotsimError(f"{out}: holds other files ({', '.join(others[:3])}…); choose another output folder")


def write_outputs(out: Path, report: Report, messages: Iterable[MessageRecord]) -> Report:
    """The four outputs of a run: the report in three forms, and its messages one per row. `out`
    may hold an earlier run's outputs (they are replaced), nothing else. Returns the report as
    report.json holds it: with the time the writing took (`wall.report_write_s`) when it has a `wall`."""
    out = out.resolve()
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staging.chmod(0o755)
    try:
        started = time.perf_counter()
        _write_csv(staging / "messages.csv", messages)
        write_transaction_files(staging, report.transactions)
        (staging / "report.md").write_text(_markdown(report))
        (staging / "report.html").write_text(_html(report, _plots(report)))
        if report.wall is not None:
            wall = report.wall.model_copy(update={"report_write_s": round(time.perf_counter() - started, 3)})
            report = report.model_copy(update={"wall": wall})
        (staging / "report.json").write_text(report_json(report))
        if out.exists():
            if any(out.iterdir()):
                shutil.rmtree(out)
            else:
                out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def report_json(report: Report) -> str:
    """report.json's text."""
    return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"


def _write_csv(path: Path, messages: Iterable[MessageRecord]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for m in messages:
            row = asdict(m)
            row["message_id"] = "0x" + m.message_id.hex()
            row["request_id"] = "0x" + m.request_id.hex() if m.request_id else ""
            value = m.latency_s
            row["latency_s"] = "" if value is None else round(value, 3)
            writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in CSV_COLUMNS})


# ------------------------------------------------------------------------------------------- plots


def _plots(report: Report) -> dict[str, str]:
    plots = {"latency": _latency_plot(report), "throughput": _throughput_plot(report), "zones": _zones_plot(report)}
    return plots | registry_plots(report) | transactions_plot(report)


CDF_POINTS = 400  # a latency CDF drawn through this many quantiles at most: the same curve at any run length


def _latency_plot(report: Report) -> str:
    axes = Axes(ylabel="fraction of messages", y_top=1.0)
    for i, (kind, values) in enumerate((k, v) for k, v in report.latency_s.cdf.items() if v):
        n = len(values)
        ranks = range(n) if n <= CDF_POINTS else sorted({round(j * (n - 1) / (CDF_POINTS - 1))
                                                          for j in range(CDF_POINTS)})
        axes.line([values[r] for r in ranks], [(r + 1) / n for r in ranks], colour=colour(i),
                  label=f"{kind}s ({n})", tip=f"{kind}s: {n}, p50 {np.median(values):.2f} s, "
                                              f"p95 {np.percentile(values, 95):.2f} s, max {values[-1]:.2f} s")
    if not axes.marks:
        axes.note = "no message delivered"
    return figure("latency", [axes], xlabel="latency, submitted → processed at destination (s)",
                  title="Latency CDF")


def _zones_plot(report: Report) -> str:
    """p50 latency by (source, destination) zone, each cell with its count of messages delivered."""
    pairs = {tuple(pair.split("->")): latency for pair, latency in report.latency_s.by_zone_pair.items()}
    used = {zone for pair in pairs for zone in pair}
    zones = [z for z in report.network.zone_names if z in used]  # no empty rows for zones the run left idle
    index = {z: i for i, z in enumerate(zones)}
    cells = {(index[src], index[dst]): (stats.p50, str(stats.count),
                                        f"{src} → {dst}: {stats.count} delivered, p50 {stats.p50} s")
             for (src, dst), stats in pairs.items()}
    seen = [v for v, _, _ in cells.values() if v is not None]
    # one outlier pair must not flatten the others into one colour: the scale tops at the 95th percentile
    top = float(np.percentile(seen, 95)) if seen else None
    if not zones:  # nothing delivered: an empty frame that says so
        axes = Axes(note="no message delivered")
        return figure("zones", [axes], xlabel="destination zone", title="Latency by zone pair")
    return heatmap("zones", zones, cells, title="Latency by zone pair (numbers: messages delivered)",
                   xlabel="destination zone", ylabel="source zone",
                   scale_label="p50 latency, submitted → processed (s)", top=top)


def _throughput_plot(report: Report) -> str:
    """Sent and processed per second over time, each fault's window shaded (or its moment marked) and
    each relayer restart marked: where the dips come from."""
    timeline, width = report.throughput.timeline, report.throughput.bucket_s
    axes = Axes(ylabel="messages per second")
    for i, entry in enumerate(report.faults):
        label = fault_line(entry) if i < 4 else None
        tip, shade = f"{fault_line(entry)}: {entry.effect}", colour(4 + i % 5)
        end = entry.ended_s if entry.ended_s is not None else report.sim_seconds
        if isinstance(entry.fault, Lasting) and end > entry.started_s:
            axes.span(entry.started_s, end, colour=shade, label=label, tip=tip)
        else:
            axes.vline(entry.started_s, colour=shade, label=label, tip=tip)
    if timeline:
        t = [p.t for p in timeline]
        axes.bars(t, [p.sent / width for p in timeline], width, opacity=0.5, label="sent",
                  tips=[f"{p.t:g}–{p.t + width:g} s: {p.sent} sent ({p.sent / width:.2f}/s), "
                        f"{p.processed} processed ({p.processed / width:.2f}/s)" for p in timeline])
        processed = [p.processed / width for p in timeline]
        axes.line([*t, t[-1] + width], [*processed, processed[-1]], colour=colour(3), label="processed", step=True)
    restarts = sorted((at, r.index) for r in report.relayers.per_relayer for at in r.restarts_at_s)
    for j, (at, index) in enumerate(restarts):
        axes.vline(at, colour="#000000", dash="dotted", label="relayer restarted" if j == 0 else None,
                   tip=f"relayer {index} restarted at {at:g} s")
    return figure("throughput", [axes], xlabel="simulated time (s)", title="Throughput over time")


# ------------------------------------------------------------------------------------------ text


def summary_rows(report: Report) -> list[tuple[str, str]]:
    """The headline of a run, as (what, figures) rows: the terminal summary and the top of the reports."""
    m, lat, net, gas = report.messages, report.latency_s, report.network, report.gas
    wall = report.wall
    return [
        ("scenario", f"{report.scenario.name} (seed {report.scenario.seed})"),
        ("network", f"{net.chains} chains, {net.topology}, {net.verifier} ({net.trust or net.committee})"),
        ("messages", f"{m.sent} sent: {m.delivered} delivered, {m.failed} failed, {m.timed_out} timed out, "
                     f"{m.rejected} rejected, {m.pending} pending; {m.acknowledged} acknowledged; "
                     f"{m.refused_at_source} refused at source"),
        ("latency", f"p50 {lat.p50} s, p95 {lat.p95} s, p99 {lat.p99} s (round trip p50 {lat.round_trip.p50} s)"),
        ("throughput", f"{report.throughput.delivered_per_s} delivered per simulated second"),
        ("gas", f"{gas.per_message:,} per message (amortised), {gas.total:,} in all" if gas.per_message else "n/a"),
        *([("faults", "; ".join(fault_line(f) for f in report.faults))] if report.faults else []),
        *([("registry", registry_summary(report.registry))] if report.registry else []),
        *([("transactions", transactions_summary(report.transactions))] if report.transactions else []),
        ("invariants", ", ".join(f"{k} {'✓' if ok else '✗'}" for k, ok in report.invariants.held.items())),
        ("time", f"{report.sim_seconds} simulated s in {wall.run_s if wall else '?'} wall s "
                 f"(+ {wall.setup_s if wall else '?'} s setup)"),
    ]


def fault_line(entry: FaultEntry) -> str:
    """`chain-halt Guiyang at 5 s for 10 s`: a fault as the run met it."""
    fields: dict[str, Any] = entry.fault.model_dump()
    parts: list[str] = [str(fields["kind"])]
    if "relayer" in fields:
        parts.append(f"relayer {fields['relayer']}")
    if fields.get("chain"):
        parts.append(str(fields["chain"]))
    if fields.get("to"):
        parts.append("→ " + ", ".join(fields["to"]))
    if fields.get("source"):
        parts.append(f"from {fields['source']}")
    parts.append(f"at {entry.started_s:g} s")
    if "duration_s" in fields:
        parts.append(f"for {fields['duration_s']:g} s" if fields["duration_s"] else "for good")
    return " ".join(parts)


FAULT_COLUMNS = ["kind", "target", "planned at (s)", "started (s)", "ended (s)", "effect observed"]


def fault_rows(report: Report) -> list[list[str]]:
    """The faults table: each fault, what it struck, when it was planned, started and ended, and what
    the run saw it do."""
    rows = []
    for entry in report.faults:
        fields: dict[str, Any] = entry.fault.model_dump()
        if "relayer" in fields:
            target = f"relayer {fields['relayer']}"
        elif fields.get("to"):
            target = f"{fields['chain']} → {', '.join(fields['to'])}"
        elif fields.get("source"):
            target = f"{fields['source']} → {fields['chain']}"
        else:
            target = str(fields.get("chain") or "every zone-to-zone lane")
        planned = f"{fields['at_s']:g}" + (f" (+ up to {fields['jitter_s']:g})" if fields["jitter_s"] else "")
        ended = "never (lasted the run)" if entry.ended_s is None else f"{entry.ended_s:g}"
        rows.append([entry.fault.kind, target, planned, f"{entry.started_s:g}", ended, entry.effect])
    return rows


def _markdown(report: Report) -> str:
    lines = [f"# pilotsim run: {report.scenario.name}", "", report.scenario.description, "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in summary_rows(report)]
    if report.faults:
        lines += ["", "## Faults", "", "| " + " | ".join(FAULT_COLUMNS) + " |", "|---|---|---:|---:|---:|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in fault_rows(report)]
    lines += ["", "## Latency by phase (s)", "", "| phase | p50 | p95 | p99 | count |", "|---|---:|---:|---:|---:|"]
    for phase, p in report.latency_s.by_phase.items():
        lines.append(f"| {phase} | {p.p50} | {p.p95} | {p.p99} | {p.count} |")
    lines += ["", "## Gas by contract function", "", "| contract | function | min | avg | median | max | calls |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for row in report.gas.by_function:
        lines.append(f"| {row.contract} | {row.function} | {row.min:,} | {row.avg:,} | {row.median:,} | "
                     f"{row.max:,} | {row.calls} |")
    invariants = report.invariants
    lines += registry_markdown(report)
    lines += transactions_markdown(report)
    lines += ["", f"## Invariant violations ({invariants.violation_count})", ""]
    lines += [f"- {v.invariant}: {v.message_id} — {v.detail}" for v in invariants.violations[:50]] or ["none"]
    if report.attacks:
        lines += ["", "## Attacks", ""] + [f"- {json.dumps(a.model_dump(mode='json'))}" for a in report.attacks]
    return "\n".join(lines) + "\n"


def _html(report: Report, plots: dict[str, str]) -> str:
    def table(headers: list[str], rows: list[list[Any]]) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    summary = table(["", ""], [[k, v] for k, v in summary_rows(report)])
    registry = "".join(f"<h3>{html.escape(title)}</h3>{table(headers, rows)}"
                       for title, headers, rows in registry_tables(report.registry)) if report.registry else ""
    registry = f"<h2>Registry</h2>{registry}" if registry else ""
    if report.transactions:
        registry += "<h2>Atomic transactions</h2>" + table(["", "p50", "p95", "p99", "max", "count"],
                                                           transactions_rows(report.transactions))
    phases = table(["phase", "p50", "p95", "p99", "count"],
                   [[k, p.p50, p.p95, p.p99, p.count] for k, p in report.latency_s.by_phase.items()])
    gas = table(["contract", "function", "min", "avg", "median", "max", "calls"],
                [[r.contract, r.function, f"{r.min:,}", f"{r.avg:,}", f"{r.median:,}", f"{r.max:,}", r.calls]
                 for r in report.gas.by_function])
    invariants = report.invariants
    violations = table(["invariant", "message", "detail"],
                       [[v.invariant, v.message_id, v.detail] for v in invariants.violations[:200]]) \
        if invariants.violations else "<p>none: every invariant held</p>"  # no empty table under a header
    images = "".join(f"<figure>{svg}</figure>" for svg in plots.values())
    faults = table(FAULT_COLUMNS, fault_rows(report)) if report.faults else ""
    title = html.escape(f"pilotsim run: {report.scenario.name}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; padding: 0 1rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
td, th {{ border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
.plots {{ display: flex; flex-wrap: wrap; gap: 1rem; }}
figure {{ margin: 0; }} figure svg {{ max-width: 100%; height: auto; }}
g[id*="tip-"] > * {{ pointer-events: all; }} g[id*="tip-"]:hover > :not(title) {{ stroke: #000; stroke-opacity: 0.6; }}
</style></head><body>
<h1>{title}</h1><p>{html.escape(report.scenario.description)}</p>
{summary}
{"<h2>Faults</h2>" + faults if faults else ""}
<h2>Plots</h2><div class="plots">{images}</div>
<h2>Latency by phase (s)</h2>{phases}
<h2>Gas by contract function</h2>{gas}
{registry}
<h2>Invariant violations ({invariants.violation_count})</h2>{violations}
</body></html>
"""
