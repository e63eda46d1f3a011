"""The living registry in the reports: a summary line, tables for report.md and report.html, and two
plots: each zone's lag behind the hub over time, and the pilots by status over time."""

from __future__ import annotations

from typing import Any

from .chart import Axes, colour, figure
from .report import RegistrySection, Report

# activity in the order things happen, with the words the summary uses (singular, plural)
ACTIVITY = {"applications": ("application", "applications"), "approvals": ("approval", "approvals"),
            "suspensions": ("suspension", "suspensions"), "reinstatements": ("reinstatement", "reinstatements"),
            "pilots_proposed": ("pilot proposed", "pilots proposed"),
            "pilots_approved": ("pilot approved", "pilots approved"),
            "pilots_started": ("pilot started", "pilots started"),
            "pilots_suspended": ("pilot suspended", "pilots suspended"),
            "pilots_completed": ("pilot completed", "pilots completed"),
            "policy_changes": ("policy change", "policy changes"), "syncs": ("entity sync", "entity syncs"),
            "policy_syncs": ("policy sync", "policy syncs")}


def _counted(n: int, words: tuple[str, str]) -> str:
    return f"{n:,} {words[0] if n == 1 else words[1]}"


def registry_summary(section: RegistrySection) -> str:
    """`20 suspensions, 19 reinstatements, …; propagation p50 8 s, p95 12 s, max 12 s; stale decisions: 1
    served while suspended, 1 refused while active (of 597 requests decided by providers' chains)`."""
    order = [*ACTIVITY, *sorted(set(section.activity) - set(ACTIVITY))]
    activity = ", ".join(_counted(section.activity[k], ACTIVITY.get(k, (k.replace("_", " "),) * 2))
                         for k in order if section.activity.get(k))
    refused = sum(section.refused.values())
    p = section.propagation_s
    parts = [activity or "no activity"]
    if refused:
        parts.append(f"{_counted(refused, ('transaction', 'transactions'))} the registry refused "
                     f"({', '.join(f'{f} {n}' for f, n in section.refused.items())})")
    if section.syncs_refused:
        parts.append(f"{_counted(section.syncs_refused, ('sync', 'syncs'))} refused on paused lanes, sent again")
    parts.append(f"propagation p50 {p.p50} s, p95 {p.p95} s, max {p.max} s" if p.count else "nothing propagated")
    if section.unpropagated:
        late = ", ".join(f"{zone} {n}" for zone, n in section.unpropagated_by_zone.items() if n)
        parts.append(f"never applied: {late} (changes)")
    stale = section.stale_decisions
    parts.append(f"stale decisions: {stale['served_while_suspended'].count} served while suspended, "
                 f"{stale['refused_while_active'].count} refused while active (of {section.decisions:,} requests "
                 f"decided by providers' chains), {stale['answered_while_suspended'].count} answered while suspended, "
                 f"{stale['answered_after_policy_revoked'].count} answered after the policy was revoked")
    return "; ".join(parts)


def registry_tables(section: RegistrySection) -> list[tuple[str, list[str], list[list[Any]]]]:
    """(title, headers, rows) of each registry table."""
    def shown(value: float | None) -> Any:
        return "—" if value is None else value

    tables = [("Propagation by zone (s): hub change → applied on the zone", ["zone", "p50", "p95", "p99", "max",
                                                                           "changes applied", "never applied"],
               [[zone, shown(p.p50), shown(p.p95), shown(p.p99), shown(p.max), p.count,
                 section.unpropagated_by_zone.get(zone, 0)] for zone, p in section.propagation_by_zone.items()])]
    bound = section.max_stale_s
    for kind, found in section.stale_decisions.items():
        if found.count:
            more = f", the first {len(found.listed)} listed" if found.count > len(found.listed) else ""
            beyond = sum(d.lag_s > bound for d in found.listed)
            over = f"; {beyond} beyond the {bound:g} s bound, marked ⚠" if beyond else f"; all within {bound:g} s"
            tables.append((f"{kind.replace('_', ' ').capitalize()} ({found.count}{more}{over})",
                           ["message", "zone", "entity", "role", "at (s)", "lag (s)"],
                           [[d.message_id, d.zone, d.entity, d.role, d.time_s,
                             f"{d.lag_s} ⚠" if d.lag_s > bound else d.lag_s] for d in found.listed]))
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
    section = report.registry
    if section is None or not section.lag_timeline:
        return {}
    plots = {"mirror-lag": _lag_plot(section)}
    if any(k.startswith("pilots_") for k in section.activity):  # no pilot moved: nothing to plot
        plots["pilots"] = _pilots_plot(section)
    return plots


LAGGING_STYLES = ["solid", "dashed", "short", "dashdot", "dotted"]  # the lagging zones told apart in grey print too


def _lag_plot(section: RegistrySection) -> str:
    """Each zone's lag behind the hub over time (the hub's suspensions ticked on the time axis), and the
    requests the zones' chains refused beneath."""
    times = [t for t, _ in section.lag_timeline]
    worst = {z: max(lag[z] for _, lag in section.lag_timeline) for z in section.lag_timeline[0][1]}
    # the zones that lagged most (over half the bound, five at most) in colour; the rest one grey band
    shown = [z for z in sorted(worst, key=worst.__getitem__, reverse=True)[:5] if worst[z] > section.max_stale_s / 2]
    others = [z for z in worst if z not in shown]
    late = [z for z in worst if worst[z] > section.max_stale_s]
    axes = Axes(ylabel="oldest hub change\nnot applied (s)", share=3)
    for zone in others + shown:  # the coloured ones drawn last, over the grey
        picked = zone in shown
        label = zone if picked else (f"the other {len(others)} zones" if shown else f"the {len(others)} zones") \
            if zone == others[0] else None
        axes.line(times, [lag[zone] for _, lag in section.lag_timeline], label=label,
                  width=2.0 if picked else 0.8, colour=colour(shown.index(zone)) if picked else "#b3b3b3",
                  dash=LAGGING_STYLES[shown.index(zone)] if picked else "solid",
                  tip=f"{zone}: at most {worst[zone]:g} s behind the hub")
    axes.hline(section.max_stale_s, label="registry.max_stale_s")
    for i, t in enumerate(section.suspended_at):  # each suspension on the hub, a tick on the time axis
        axes.vline(t, colour=colour(3), dash="solid", height=0.04, label="a suspension" if i == 0 else None)
    panels = [axes]
    if section.refused_per_10s:
        buckets = sorted(section.refused_per_10s)
        below = Axes(ylabel="requests\nrefused", share=1)
        below.bars([b * 10 for b in buckets], [section.refused_per_10s[b] for b in buckets], 10, colour=colour(1))
        panels.append(below)
    title = "Each zone's lag behind the hub's registry" + (f"\n(over the bound: {', '.join(late)})" if late else "")
    return figure("mirror-lag", panels, xlabel="simulated time (s)", title=title, width=800,
                  height=520 if len(panels) > 1 else 380)


def _pilots_plot(section: RegistrySection) -> str:
    statuses = sorted({s for _, counts in section.pilot_timeline for s in counts})
    times = [t for t, _ in section.pilot_timeline]
    stacks = [[float(counts.get(s, 0)) for _, counts in section.pilot_timeline] for s in statuses]
    axes = Axes(ylabel="pilots")
    axes.stack(times, stacks, statuses, [f"{status}: {int(stack[0])} at the start, {int(stack[-1])} at the end"
                                         for status, stack in zip(statuses, stacks, strict=True)])
    return figure("pilots", [axes], xlabel="simulated time (s)", title="Pilots by status on the hub")
