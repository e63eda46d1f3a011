"""The report's `registry` section, from what the run's registry watch read on the chains."""

from __future__ import annotations

from ..engine.living_registry import RegistryRecords
from ..engine.registry_watch import StaleDecision
from .report import RegistrySection, StaleDecisionEntry, StaleDecisions
from .stats import _round, percentiles

MAX_LISTED = 200
STALE_KINDS = ("served_while_suspended", "refused_while_active", "answered_while_suspended",
               "answered_after_policy_revoked")


def registry_section(records: RegistryRecords) -> RegistrySection:
    watch = records.watch
    zones = {z.chain_id: z.name for z in watch.network.zones}

    def listed(kind: str) -> StaleDecisions:
        found: list[StaleDecision] = sorted((d for d in watch.stale if d.kind == kind), key=lambda d: d.time_s)
        return StaleDecisions(count=watch.stale_counts[kind], listed=[
            StaleDecisionEntry(message_id=d.message_id, zone=d.zone, entity=watch.name(d.entity), role=d.role,
                               time_s=_round(d.time_s), lag_s=_round(d.lag_s)) for d in found[:MAX_LISTED]])

    unapplied = {zones[c]: sum(len(pending) for pending in waiting.values()) for c, waiting in watch.unapplied.items()}
    every = [seconds for found in watch.propagation.values() for _, seconds in found]
    return RegistrySection(
        activity=dict(sorted(watch.activity.items())), refused=dict(sorted(records.refused.items())),
        syncs_refused=records.syncs_refused, propagation_s=percentiles(every),
        propagation_by_zone={zones[c]: percentiles([s for _, s in found]) for c, found in watch.propagation.items()},
        unpropagated=sum(unapplied.values()), unpropagated_by_zone=unapplied,
        decisions=sum(watch.decisions.values()),
        decisions_by_zone={zone: {kind: watch.decisions[(zone, kind)] for kind in ("accepted", "refused")}
                           for zone in zones.values()},
        stale_decisions={kind: listed(kind) for kind in STALE_KINDS},
        max_stale_s=records.settings.max_stale_s, lag_timeline=watch.lag_timeline,
        pilot_timeline=watch.pilot_timeline)
