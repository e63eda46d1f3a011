"""The living registry in the reports: a summary line, tables for report.md and report.html, and two
plots: each mirror's lag behind the hub over time, and the pilots by status over time."""

from __future__ import annotations

from typing import Any

from .report import RegistrySection, Report
from .svg import svg


def registry_summary(section: RegistrySection) -> str:
    """`9 suspensions, 8 reinstatements, …; propagation p50 10 s, p95 90.6 s, max 130 s; stale: 6 served while
    suspended, 3 refused while active`."""
    activity = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in section.activity.items())
    p = section.propagation_s
    spread = f"propagation p50 {p.p50} s, p95 {p.p95} s, max {p.max} s" if p.count else "nothing propagated"
    stale = section.stale_decisions
    return (f"{activity or 'no activity'}; {spread}"
            + (f" ({section.unpropagated} change-and-zone pairs never applied)" if section.unpropagated else "")
            + f"; stale decisions: {stale['served_while_suspended'].count} served while suspended, "
              f"{stale['refused_while_active'].count} refused while active (of {section.decisions})")


def registry_tables(section: RegistrySection) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, headers, rows) of each registry table."""
    tables = [("Propagation by zone (s): hub change → applied on the mirror", ["zone", "p50", "p95", "p99", "max",
                                                                              "changes"],
               [[zone, p.p50, p.p95, p.p99, p.max, p.count] for zone, p in section.propagation_by_zone.items()])]
    for kind, found in section.stale_decisions.items():
        if found.count:
            tables.append((f"{kind.replace('_', ' ').capitalize()} ({found.count})",
                           ["message", "zone", "entity", "at (s)", "lag (s)"],
                           [[d.message_id, d.zone, d.entity, d.time_s, d.lag_s] for d in found.listed]))
    return tables


def registry_markdown(report: Report) -> list[str]:
    section = report.registry
    if section is None:
        return []
    lines = ["", "## Registry", "", registry_summary(section)]
    for title, headers, rows in registry_tables(section):
        lines += ["", f"### {title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def registry_plots(report: Report) -> dict[str, str]:
    from matplotlib.figure import Figure  # noqa: PLC0415 - loaded on first use: slow to import

    section = report.registry
    if section is None or not section.lag_timeline:
        return {}
    plots = {}
    figure = Figure(figsize=(6.4, 3.6))
    axis = figure.subplots()
    times = [t for t, _ in section.lag_timeline]
    tips: dict[str, str] = {}
    zones = list(section.lag_timeline[0][1])
    for i, zone in enumerate(zones):
        lags = [lag[zone] for _, lag in section.lag_timeline]
        [line] = axis.plot(times, lags, label=zone if max(lags) > 0 else None, linewidth=1.2)
        line.set_gid(f"tip-{i}")
        tips[f"tip-{i}"] = f"{zone}: at most {max(lags):g} s behind the hub"
    axis.axhline(section.max_stale_s, color="black", linestyle="--", linewidth=1, label="registry.max_stale_s")
    axis.set_xlabel("simulated time (s)")
    axis.set_ylabel("oldest hub change not applied (s)")
    axis.set_title("Mirror lag behind the hub, by zone")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    plots["mirror-lag"] = svg(figure, "mirror-lag", tips)

    figure = Figure(figsize=(6.4, 3.6))
    axis = figure.subplots()
    statuses = sorted({s for _, counts in section.pilot_timeline for s in counts})
    times = [t for t, _ in section.pilot_timeline]
    stacks = [[counts.get(s, 0) for _, counts in section.pilot_timeline] for s in statuses]
    areas = axis.stackplot(times, stacks, labels=statuses, alpha=0.8)
    tips = {}
    for i, (area, status) in enumerate(zip(areas, statuses, strict=True)):
        area.set_gid(f"tip-{i}")
        tips[f"tip-{i}"] = f"{status}: {stacks[i][0]} at the start, {stacks[i][-1]} at the end"
    axis.set_xlabel("simulated time (s)")
    axis.set_ylabel("pilots")
    axis.set_title("Pilots by status on the hub")
    axis.legend(fontsize=7, loc="lower left")
    plots["pilots"] = svg(figure, "pilots", tips)
    return plots
