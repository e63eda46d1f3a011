"""The report's `registry` section, from what the run's registry watch read on the chains."""

from __future__ import annotations

from ..engine.living_registry import RegistryRecords
from ..engine.registry_watch import StaleDecision
from .report import RegistrySection, StaleDecisionEntry, StaleDecisions
from .stats import _round, percentiles

MAX_LISTED = 200
STALE_KINDS = ("served_while_suspended", "refused_while_active")


def registry_section(records: RegistryRecords, entity_names: list[str]) -> RegistrySection:
    watch = records.watch
    zones = {z.chain_id: z.name for z in watch.network.zones}

    def name(entity: int) -> str:
        return entity_names[entity - 1] if 0 < entity <= len(entity_names) else f"entity {entity}"

    def listed(kind: str) -> StaleDecisions:
        found: list[StaleDecision] = [d for d in watch.stale if d.kind == kind]
        return StaleDecisions(count=watch.stale_counts[kind], listed=[
            StaleDecisionEntry(message_id=d.message_id, zone=d.zone, entity=name(d.entity), time_s=_round(d.time_s),
                               lag_s=_round(d.lag_s)) for d in found[:MAX_LISTED]])

    every = [seconds for found in watch.propagation.values() for _, seconds in found]
    return RegistrySection(
        activity=dict(sorted(watch.activity.items())), refused=dict(sorted(records.refused.items())),
        syncs_refused=records.syncs_refused, propagation_s=percentiles(every),
        propagation_by_zone={zones[c]: percentiles([s for _, s in found]) for c, found in watch.propagation.items()},
        unpropagated=sum(len(pending) for waiting in watch.unapplied.values() for pending in waiting.values()),
        decisions=sum(watch.decisions.values()),
        decisions_by_zone={zone: {kind: watch.decisions[(zone, kind)] for kind in ("accepted", "refused")}
                           for zone in zones.values()},
        stale_decisions={kind: listed(kind) for kind in STALE_KINDS},
        max_stale_s=records.settings.max_stale_s, lag_timeline=watch.lag_timeline,
        pilot_timeline=watch.pilot_timeline)
