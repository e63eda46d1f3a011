"""What each fault of a run did, in a phrase, from what the run recorded: the dip in processing while
it lasted, the latency of what was sent meanwhile, the restarts it caused, what the chains made of
its attack transactions.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from registry.seeds import slug

from ..engine.fault_kinds import ChainHalt, Fault, LaneOutage, LanePause, Lasting, RelayerOutage, ValidatorHandover
from ..engine.recorder import Attack
from .report import RegistrySection
from .tally import MessageTally


def fault_effect(fault: Fault, window: tuple[float, float | None], tally: MessageTally, attacks: list[Attack],
                 restarts_at_s: list[list[float]], sim_seconds: float, registry: RegistrySection | None = None) -> str:
    """`processed 0.2/s during (1.9/s outside); sent during: p50 21.3 s (4.1 s outside); relayer 0
    restarted at 75 s` — or, for an attack, what its transactions and messages came to."""
    start, end = window
    if isinstance(fault, ValidatorHandover):  # no window: what crossed its chain's lanes from then on
        touched = _touched(fault, tally)
        return _on_lanes(tally, touched, start, sim_seconds, "sent since") if touched else "no lane of that chain"
    if not isinstance(fault, Lasting):
        mine = [a for a in attacks if a.kind == fault.kind and start <= a.time_s <= (end or sim_seconds)]
        return _attack_effect(mine)
    until = end if end is not None else sim_seconds
    parts = [_processing(tally, start, until, sim_seconds)]
    touched = _touched(fault, tally)
    if touched:
        parts.insert(0, _on_lanes(tally, touched, start, until))
    if isinstance(fault, LanePause) and registry is not None and registry.lag_timeline:
        parts.append(_registry_lag(registry, [slug(z) for z in fault.to], start))
    if isinstance(fault, RelayerOutage):
        after = [t for t in restarts_at_s[fault.relayer] if t >= start]
        parts.append(f"relayer {fault.relayer} restarted at {after[0]:g} s" if after
                     else f"relayer {fault.relayer} still down at the end")
    return "; ".join(p for p in parts if p)


def _touched(fault: Fault, tally: MessageTally) -> tuple[str, set[int]] | None:
    """The lanes a fault holds up, by the zones at their ends (a halted zone's chain; a paused zone's lanes),
    and their numbers in the tally; None when it holds up every lane or none in particular."""
    if isinstance(fault, ChainHalt | ValidatorHandover):
        zones, what = {slug(fault.chain)}, f"lanes to and from {fault.chain}"
    elif isinstance(fault, LanePause | LaneOutage) and slug(fault.chain) != "hub":
        zones, what = {slug(fault.chain)}, f"lanes of {fault.chain} with {', '.join(fault.to)}"
    else:
        return None
    ends = {slug(t) for t in fault.to} if isinstance(fault, LanePause | LaneOutage) else None
    pairs = {n for (a, b), n in tally.pairs.items()
             if (slug(a) in zones and (ends is None or slug(b) in ends)) or
             (slug(b) in zones and (ends is None or slug(a) in ends))}
    return (what, pairs) if pairs and len(pairs) < len(tally.pairs) else None


def _on_lanes(tally: MessageTally, touched: tuple[str, set[int]], start: float, end: float,
              sent_when: str = "sent during") -> str:
    """What was sent on the fault's lanes during it, its p50 latency; the run's timeouts on those lanes."""
    what, pairs = touched
    sent = np.frombuffer(tally.delivered_submitted, dtype=float)
    on = np.isin(np.frombuffer(tally.delivered_pair, dtype=np.uint16), list(pairs)) & (sent >= start) & (sent < end)
    latency = np.frombuffer(tally.latencies, dtype=float)[on]
    late = sum(1 for _, pair in tally.timeouts if pair in pairs)
    shown = f"p50 latency {np.median(latency):.1f} s (n = {len(latency)})" if len(latency) else "none delivered"
    return f"{what}, {sent_when}: {shown}; {late} of the run's {len(tally.timeouts)} timeouts on them"


def _processing(tally: MessageTally, start: float, end: float, sim_seconds: float) -> str:
    """Messages processed per second inside the window and outside it; the p50 latency of the delivered
    messages sent inside it and outside it."""
    processed = np.frombuffer(tally.processed, dtype=float)
    inside = ((processed >= start) & (processed < end)).sum()
    span, rest = max(end - start, 1e-9), max(sim_seconds - (end - start), 1e-9)
    rate = f"processed {inside / span:.2f}/s during ({(len(processed) - inside) / rest:.2f}/s outside)"
    sent = np.frombuffer(tally.delivered_submitted, dtype=float)
    latency = np.frombuffer(tally.latencies, dtype=float)
    during = (sent >= start) & (sent < end)
    if not during.any() or during.all():
        return rate
    return (f"{rate}; network-wide, sent during: p50 latency {np.median(latency[during]):.1f} s "
            f"({np.median(latency[~during]):.1f} s outside)")


def _attack_effect(attacks: list[Attack]) -> str:
    """What an attack's transactions came to. A forgery the gateway turned away before checking what it is
    (its lane paused, its message taken already) says so: it was not attempted, not refused."""
    if not attacks:
        return "no attack transaction settled"
    reverted = Counter((a.reason or "reverted", a.checked is False) for a in attacks if not a.status)
    parts = [f"{len(attacks) - sum(reverted.values())} of {len(attacks)} transactions mined"]
    for (reason, unchecked), n in sorted(reverted.items()):
        parts.append(f"{'not attempted: ' if unchecked else ''}{n} reverted ({reason})")
    for unchecked in (False, True):
        mine = [a for a in attacks if a.status and a.refused and (a.checked is False) == unchecked]
        if mine:
            refused, reasons = sum(a.refused for a in mine), ", ".join(sorted({r for a in mine for r in a.refusals}))
            parts.append(f"not attempted: {refused} turned away before verification ({reasons})" if unchecked
                         else f"{refused} refused on delivery" + (f" ({reasons})" if reasons else ""))
    ends = Counter(hops[-1] for a in attacks for hops in a.outcomes if hops)  # where its messages ended
    if ends:
        parts.append("messages: " + ", ".join(f"{n} {label}" for label, n in sorted(ends.items())))
    elif not any(a.refused for a in attacks) and not reverted:
        parts.append("no message of it processed")
    return "; ".join(parts)


def _registry_lag(registry: RegistrySection, zones: list[str], start: float) -> str:
    """How far the paused zones' registry fell behind the hub from the pause on."""
    worst: dict[str, float] = {}
    for t, lags in registry.lag_timeline:
        if t >= start:
            for zone, lag in lags.items():
                if slug(zone) in zones:
                    worst[zone] = max(worst.get(zone, 0.0), lag)
    if not worst:
        return ""
    return f"registry of {', '.join(worst)} up to {max(worst.values()):g} s behind the hub"
