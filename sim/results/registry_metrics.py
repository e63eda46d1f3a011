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
    zones = list(records.unapplied)

    def listed(kind: str) -> StaleDecisions:
        found: list[StaleDecision] = sorted((d for d in records.stale if d.kind == kind), key=lambda d: d.time_s)
        return StaleDecisions(count=records.stale_counts.get(kind, 0), listed=[
            StaleDecisionEntry(message_id=d.message_id, zone=d.zone, entity=records.entity_names[d.entity],
                               role=d.role, time_s=_round(d.time_s), lag_s=_round(d.lag_s))
            for d in found[:MAX_LISTED]])

    every = [seconds for found in records.propagation.values() for seconds in found]
    return RegistrySection(
        activity=dict(sorted(records.activity.items())), refused=dict(sorted(records.refused.items())),
        syncs_refused=records.syncs_refused, propagation_s=percentiles(every),
        propagation_by_zone={zone: percentiles(found) for zone, found in records.propagation.items()},
        unpropagated=sum(records.unapplied.values()), unpropagated_by_zone=records.unapplied,
        decisions=sum(records.decisions.values()),
        decisions_by_zone={zone: {kind: records.decisions.get((zone, kind), 0) for kind in ("accepted", "refused")}
                           for zone in zones},
        stale_decisions={kind: listed(kind) for kind in STALE_KINDS},
        max_stale_s=records.settings.max_stale_s, lag_timeline=records.lag_timeline,
        pilot_timeline=records.pilot_timeline, suspended_at=records.suspended_at,
        refused_per_10s=records.refused_per_10s)
