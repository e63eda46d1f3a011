"""Staleness, from chain events alone: what the hub's registry said, what each zone's mirror said, and
what each provider's chain decided in between.

Read block range by block range (as the watcher reads gateways): the hub's `EntityRegistered`,
`EntityStatusChanged`, `DataPolicySet`, `PilotProposed` and `PilotStatusChanged`; what each sync
carried (the payload of the broadcaster's `Sent` on the hub's gateway: entity words for a mirror,
sector masks for a DataExchange); each mirror's `Synced` and each DataExchange's `PolicySynced`; each
DataExchange's `RequestSent`, `RequestReceived` (accepted) and `RequestRefused`, and the answers:
`ResponseSent` (a provider's chain let its provider answer) and `Answered` (a requester's chain took
the answer), each a decision judged like a request's. A change is
propagated to a zone when the zone applies a sync the hub sent after it. Events of one chain
are taken in log order, so a mirror's view at a decision is exact; the hub's view at a decision is its
last change strictly before that moment.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from registry import Contract, EntityStatus, PilotStatus
from registry.events import DataPolicySet, EntityRegistered, EntityStatusChanged, PilotProposed, PilotStatusChanged
from registry.evm.artifacts import contract_constants
from registry.evm.base import HistoryHolds
from registry.evm.events import EventRecord, typed
from registry.models import sectors_to_mask

from ..bridge import events as chain
from ..bridge.sync_payloads import entity_statuses, policy_masks
from ..bridge.topology import HUB_CHAIN_ID, Network
from .watcher import Violation

ACTIVE, SUSPENDED = int(EntityStatus.ACTIVE), int(EntityStatus.SUSPENDED)
Position = tuple[int, int]  # (block, log index) on one chain
Subject = tuple[str, int]  # ("entity", id) or ("policy", requester sector)
REQUEST = contract_constants("DataExchange")  # a request's statuses
ENDED_UNDECIDED = (REQUEST["FAILED"], REQUEST["TIMED_OUT"])
ENTITY_STEPS = {(EntityStatus.PENDING, EntityStatus.ACTIVE): "approvals",
                (EntityStatus.ACTIVE, EntityStatus.SUSPENDED): "suspensions",
                (EntityStatus.SUSPENDED, EntityStatus.ACTIVE): "reinstatements"}
MAX_KEPT = 1_000  # stale decisions and violations listed; all are counted
PILOT_STEPS = {PilotStatus.APPROVED: "pilots_approved", PilotStatus.ACTIVE: "pilots_started",
               PilotStatus.SUSPENDED: "pilots_suspended", PilotStatus.COMPLETED: "pilots_completed"}


@dataclass(frozen=True, slots=True)
class HubChange:
    subject: Subject
    value: int  # an entity's status, a sector's data mask
    time_s: float
    position: Position  # on the hub


@dataclass(frozen=True, slots=True)
class StaleDecision:
    """A request a provider's chain decided while its mirror disagreed with the hub."""

    # served_while_suspended | refused_while_active | answered_while_suspended | answered_after_policy_revoked
    kind: str
    message_id: str
    zone: str
    entity: int
    role: str  # requester | provider (answered_after_policy_revoked: requester)
    time_s: float
    lag_s: float  # since the hub's change the mirror had not caught up with


@dataclass
class RegistryWatch:
    network: Network
    first_block: dict[int, int]  # where to start reading each chain
    epoch: int  # block timestamp of simulated second 0
    max_stale_s: float

    activity: Counter[str] = field(default_factory=Counter)
    changes: list[HubChange] = field(default_factory=list)
    propagation: dict[int, list[tuple[int, float]]] = field(default_factory=dict)  # zone → (change, seconds)
    stale: list[StaleDecision] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    lag_timeline: list[tuple[float, dict[str, float]]] = field(default_factory=list)  # (t, zone → lag s)
    pilot_timeline: list[tuple[float, dict[str, int]]] = field(default_factory=list)  # (t, status → pilots)
    stale_counts: Counter[str] = field(default_factory=Counter)  # every stale decision, by kind
    violation_count: int = 0
    decisions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (zone, accepted | refused) → requests
    suspended_at: list[float] = field(default_factory=list)  # when the hub suspended an entity (for the plots)
    refused_per_10s: Counter[int] = field(default_factory=Counter)  # requests zones' chains refused, by 10 s bucket
    holds: HistoryHolds = field(default_factory=HistoryHolds)  # what it has yet to read stays on the chains

    def __post_init__(self) -> None:
        registry = self.network.registry
        assert self.network.hub.broadcaster is not None
        start = [int(s) for s in registry.view("entityStatuses")]
        self.initial = {i: s for i, s in enumerate(start, start=1)}
        self.history: dict[int, list[tuple[float, int]]] = {}  # entity → (time, status) changes in the run
        self.pilots = {i: int(s) for i, s in enumerate(registry.view("pilotStatuses"), start=1)}
        version = self.network.hub.broadcaster.version()
        # each zone's view: subject → (version that set it, value); the setup's sync set every entity
        self.mirrors: dict[int, dict[Subject, tuple[int, int]]] = {
            z.chain_id: {("entity", e): (version, s) for e, s in self.initial.items()} for z in self.network.zones}
        self.unapplied: dict[int, dict[Subject, list[int]]] = {z.chain_id: {} for z in self.network.zones}
        self.propagation = {z.chain_id: [] for z in self.network.zones}
        # version → (hub position, the zone it went to, what it set); dropped once that zone applied it
        self.versions: dict[int, tuple[Position, int, dict[Subject, int]]] = {}
        self.requests: dict[bytes, tuple[int, int]] = {}  # request id → (requester, provider), until decided
        self.asked: dict[bytes, tuple[int, int, int, float]] = {}  # id → (requester, provider, sector, deadline)
        self.policy = {s: int(registry.view("dataPolicy", s)) for s in range(1, len(self.network.data.sectors) + 1)}
        self.policy_history: list[tuple[float, int, int]] = []  # (time, requester sector, its data mask) changes
        self._sectors: dict[int, int] = {}  # entity → its sector mask (fixed once registered)
        self._scanned = {c: b - 1 for c, b in self.first_block.items()}
        self.holds.keep_each((self.network.nodes[c].chain, scanned) for c, scanned in self._scanned.items())
        self._exchanges = {z.data_exchange.address.lower() for z in self.network.zones}
        self._times: dict[tuple[int, int], float] = {}

    # -- reading ------------------------------------------------------------------------------------

    def scan(self, now: float) -> None:
        """Read every chain up to its head; then sample each mirror's lag and the pilots by status."""
        net = self.network
        hub = net.hub
        assert hub.broadcaster is not None
        for position, event in self._events(HUB_CHAIN_ID, [net.registry, hub.gateway]):
            self._hub_event(position, event, hub.broadcaster.address)
        zone_events = {}
        for zone in net.zones:
            assert zone.mirror is not None
            zone_events[zone.chain_id] = self._events(zone.chain_id, [zone.mirror, zone.data_exchange])
            for _, event in zone_events[zone.chain_id]:
                if isinstance(event, chain.RequestSent):
                    self.requests[event.id] = (event.requester, event.provider)
                    self.asked[event.id] = (event.requester, event.provider, event.sector,
                                            float(event.deadline - self.epoch))
        for chain_id, events in zone_events.items():
            for position, event in events:
                self._zone_event(chain_id, position, event)
        self._times.clear()  # block times are looked up within a scan only
        for request_id in [r for r, asked in self.asked.items() if asked[3] < now]:
            del self.asked[request_id]  # past its deadline: no answer counts any more
        self._sample(now)

    def _events(self, chain_id: int, contracts: list[Contract]) -> list[tuple[Position, EventRecord]]:
        """The contracts' events since the last scan, in log order across them."""
        head = self.network.nodes[chain_id].chain.block_number
        first = self._scanned[chain_id] + 1
        found = [((log.block_number, log.log_index), record) for contract in contracts if first <= head
                 for log, event in contract.logged(first, head) if (record := typed(event)) is not None]
        self._scanned[chain_id] = max(head, self._scanned[chain_id])
        self.holds.keep(self.network.nodes[chain_id].chain, self._scanned[chain_id])
        return sorted(found, key=lambda item: item[0])

    def _time(self, chain_id: int, block: int) -> float:
        key = (chain_id, block)
        if key not in self._times:
            self._times[key] = float(self.network.nodes[chain_id].chain.block(block).timestamp - self.epoch)
        return self._times[key]

    def _hub_event(self, position: Position, event: EventRecord, broadcaster: str) -> None:
        match event:
            case EntityRegistered(entity_id=entity):
                self.activity["applications"] += 1
                self._change(("entity", entity), int(EntityStatus.PENDING), position)
            case EntityStatusChanged(entity_id=entity, from_=before, to=after):
                self.activity[ENTITY_STEPS.get((before, after), "other_entity_changes")] += 1
                self._change(("entity", entity), int(after), position)
            case DataPolicySet(requester_sector=sector, data_sector_mask=mask):
                self.activity["policy_changes"] += 1
                self._change(("policy", sector), mask, position)
            case PilotProposed(pilot_id=pilot):
                self.activity["pilots_proposed"] += 1
                self.pilots[pilot] = int(PilotStatus.PROPOSED)
            case PilotStatusChanged(pilot_id=pilot, to=after):
                self.activity[PILOT_STEPS.get(after, "pilots_other_changes")] += 1
                self.pilots[pilot] = int(after)
            case chain.Sent(message=message) if message.src_chain == HUB_CHAIN_ID and \
                    message.sender.lower() == broadcaster.lower():
                # the hub's own sends only: forwarded zone messages may name a sender at the same address
                policy = message.recipient.lower() in self._exchanges
                version, values = (policy_masks if policy else entity_statuses)(message.payload)
                found = {("policy" if policy else "entity", key): value for key, value in values.items()}
                self.activity["policy_syncs" if policy else "syncs"] += 1
                self.versions[version] = (position, message.dst_chain, found)

    def _change(self, subject: Subject, value: int, position: Position) -> None:
        t = self._time(HUB_CHAIN_ID, position[0])
        index = len(self.changes)
        self.changes.append(HubChange(subject, value, t, position))
        if subject[0] == "entity":
            self.history.setdefault(subject[1], []).append((t, value))
            if value == SUSPENDED:
                self.suspended_at.append(t)
        else:
            self.policy_history.append((t, subject[1], value))
        for waiting in self.unapplied.values():
            waiting.setdefault(subject, []).append(index)

    def _zone_event(self, chain_id: int, position: Position, event: EventRecord) -> None:
        t = self._time(chain_id, position[0])
        match event:
            case chain.Synced(version=version) | chain.PolicySynced(version=version):
                self._apply(chain_id, version, t)
            case chain.RequestStatus(id=request, status=status) if status in ENDED_UNDECIDED:
                self.requests.pop(request, None)  # timed out or failed on the way: no decision will come
            case chain.ResponseSent(request_id=request) | chain.Answered(request_id=request):
                asked = self.asked.get(request)  # an answer is judged once: where it is first stale
                if asked is not None and (self._judge_answer(chain_id, "0x" + request.hex(), asked, t)
                                          or isinstance(event, chain.Answered)):
                    del self.asked[request]
            case chain.AnswerRefused(request_id=request):
                self.asked.pop(request, None)
            case chain.RequestStatus(id=request, status=status) if status == REQUEST["REFUSED"]:
                self.asked.pop(request, None)  # no answer will come
            case chain.RequestReceived(id=request) | chain.RequestRefused(id=request):
                parties = self.requests.pop(request, None)
                if parties is not None:
                    accepted = isinstance(event, chain.RequestReceived)
                    self.decisions[(self.network.nodes[chain_id].name, "accepted" if accepted else "refused")] += 1
                    if not accepted:
                        self.refused_per_10s[int(t // 10)] += 1
                    self._decide(chain_id, "0x" + request.hex(), parties, accepted, t)

    def _apply(self, chain_id: int, version: int, t: float) -> None:
        """A zone applied a version: what it had from an older version takes the new value."""
        found = self.versions.get(version)
        if found is None:  # a version from before the run (the setup's sync)
            return
        position, destination, words = found
        if destination == chain_id:
            del self.versions[version]
        view, waiting = self.mirrors[chain_id], self.unapplied[chain_id]
        for subject, value in words.items():
            if view.get(subject, (0, 0))[0] >= version:
                continue
            view[subject] = (version, value)
            pending = waiting.get(subject, [])
            done = [i for i in pending if self.changes[i].position < position]
            for i in done:
                self.propagation[chain_id].append((i, t - self.changes[i].time_s))
            waiting[subject] = [i for i in pending if self.changes[i].position >= position]

    # -- judging --------------------------------------------------------------------------------------

    def hub_status(self, entity: int, t: float) -> tuple[int, float]:
        """The hub's status of `entity` just before `t`, and since when (0: from the start)."""
        status, since = self.initial.get(entity, 0), 0.0
        for when, after in self.history.get(entity, []):
            if when >= t:
                break
            status, since = after, when
        return status, since

    def _decide(self, chain_id: int, message_id: str, parties: tuple[int, int], accepted: bool, t: float) -> None:
        """One judgement per request: the party whose status the provider's mirror had wrong the longest."""
        zone = self.network.nodes[chain_id].name
        hub = [self.hub_status(entity, t) for entity in parties]
        roles = ("requester", "provider")
        if accepted:
            suspended = [(t - since, role) for role, (status, since) in zip(roles, hub, strict=True)
                         if status == SUSPENDED]
            if suspended:
                lag, role = max(suspended)
                entity = parties[roles.index(role)]
                self._stale(StaleDecision("served_while_suspended", message_id, zone, entity, role, t, lag))
                if lag > self.max_stale_s:
                    self.violation_count += 1
                    if len(self.violations) < MAX_KEPT:
                        self.violations.append(Violation(
                            "suspension_honoured", message_id,
                            f"served on {zone} {lag:.1f} s after its {role} {self.name(entity)} was suspended on "
                            f"the hub (bound {self.max_stale_s:g} s)"))
        elif all(status == ACTIVE for status, _ in hub):
            view = self.mirrors[chain_id]
            wrong = [(t - since, role) for role, entity, (_, since) in zip(roles, parties, hub, strict=True)
                     if view.get(("entity", entity), (0, 0))[1] != ACTIVE]
            if wrong:
                lag, role = max(wrong)
                entity = parties[roles.index(role)]
                self._stale(StaleDecision("refused_while_active", message_id, zone, entity, role, t, lag))

    def _judge_answer(self, chain_id: int, request_id: str, asked: tuple[int, int, int, float], t: float) -> bool:
        """An answer let through (by the provider's chain) or taken (by the requester's) at `t`: stale if the
        hub had suspended a party, or revoked the requester's access to the sector, before; a violation of
        suspension_honoured beyond the bound. Whether it was stale."""
        requester, provider, sector, _ = asked
        zone = self.network.nodes[chain_id].name
        suspended = [(t - since, role, entity) for role, entity in (("requester", requester), ("provider", provider))
                     for status, since in [self.hub_status(entity, t)] if status == SUSPENDED]
        if suspended:
            lag, role, entity = max(suspended)
            self._late(StaleDecision("answered_while_suspended", request_id, zone, entity, role, t, lag),
                       f"answered on {zone} {lag:.1f} s after its {role} {self.name(entity)} was suspended on the hub")
            return True
        allowed, since = self.hub_allows(requester, sector, t)
        if not allowed:
            self._late(StaleDecision("answered_after_policy_revoked", request_id, zone, requester, "requester", t,
                                     t - since),
                       f"answered on {zone} {t - since:.1f} s after the hub's policy stopped {self.name(requester)} "
                       f"having {self.network.data.sectors[sector - 1].name} data")
        return not allowed

    def hub_allows(self, requester: int, sector: int, t: float) -> tuple[bool, float]:
        """Whether the hub's policy just before `t` let `requester` (by its sectors) have `sector`'s data, and
        since when it said so."""
        mask = self._sector_mask(requester)
        policy, since = dict(self.policy), 0.0
        allowed = any(policy.get(r, 0) >> (sector - 1) & 1 for r in _bits(mask))
        for when, requester_sector, value in self.policy_history:
            if when >= t:
                break
            if mask >> (requester_sector - 1) & 1:
                policy[requester_sector] = value
                now_allowed = any(policy.get(r, 0) >> (sector - 1) & 1 for r in _bits(mask))
                if now_allowed != allowed:
                    allowed, since = now_allowed, when
        return allowed, since

    def _sector_mask(self, entity: int) -> int:
        if entity not in self._sectors:
            self._sectors[entity] = sectors_to_mask(self.network.registry.entity(entity).sectors)
        return self._sectors[entity]

    def _late(self, decision: StaleDecision, what: str) -> None:
        self._stale(decision)
        if decision.lag_s > self.max_stale_s:
            self.violation_count += 1
            if len(self.violations) < MAX_KEPT:
                self.violations.append(Violation("suspension_honoured", decision.message_id,
                                                 f"{what} (bound {self.max_stale_s:g} s)"))

    def name(self, entity: int) -> str:
        """An entity's name (one registered during the run has only its id)."""
        entities = self.network.data.entities
        return entities[entity - 1].name if 0 < entity <= len(entities) else f"entity {entity}"

    def _stale(self, decision: StaleDecision) -> None:
        self.stale_counts[decision.kind] += 1
        if len(self.stale) < MAX_KEPT:
            self.stale.append(decision)

    def _sample(self, now: float) -> None:
        lags = {}
        for zone in self.network.zones:
            oldest = [self.changes[i].time_s for pending in self.unapplied[zone.chain_id].values() for i in pending]
            lags[zone.name] = round(max(0.0, now - min(oldest)), 3) if oldest else 0.0
        self.lag_timeline.append((now, lags))
        counts = Counter(PilotStatus(s).name.lower() for s in self.pilots.values())
        self.pilot_timeline.append((now, dict(sorted(counts.items()))))


def _bits(mask: int) -> list[int]:
    """The sectors (1-based) set in `mask`."""
    return [i + 1 for i in range(mask.bit_length()) if mask >> i & 1]
