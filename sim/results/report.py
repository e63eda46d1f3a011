"""The report of a run, as a pydantic model from end to end: what report.json holds, field by field.

`sim.results.metrics.build_report` makes one from a run's records; outputs, the CLI, sweeps and
comparisons read it. `Report.model_dump_json()` is report.json; `load_report` reads one back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

from registry.errors import PilotsimError, first_error

from ..engine.fault_kinds import Fault
from ..engine.recorder import Attack
from ..engine.watcher import InvariantReport


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True)


class ScenarioInfo(_Part):
    name: str
    seed: int
    settings_hash: str  # sha256 of the settings, seed excluded
    description: str
    settings: dict[str, Any] = {}  # every setting the run used, defaults included: what `compare` shows changed


class NetworkInfo(_Part):
    zones: int
    entities: int
    sectors: int
    chains: int
    topology: str
    verifier: str
    committee: str  # "threshold-of-size"
    trust: str = ""  # what the network's verifier trusts, in words
    block_interval_s: int
    relayers: int
    # for the plots, not in report.json: the zones, in chain order
    zone_names: list[str] = Field(default_factory=list, exclude=True)


class Messages(_Part):
    sent: int
    delivered: int
    failed: int
    timed_out: int
    rejected: int
    pending: int
    acknowledged: int
    refused_at_source: int
    refused_at_source_by_reason: dict[str, int]
    by_kind: dict[str, dict[str, int]]  # request | response → outcome → count


class Percentiles(_Part):
    count: int
    p50: float | None
    p95: float | None
    p99: float | None
    mean: float | None
    max: float | None


class PairLatency(_Part):
    count: int
    p50: float


class Latency(_Part):
    """Seconds from submission to processing at the destination, over delivered messages."""

    p50: float | None
    p95: float | None
    p99: float | None
    mean: float | None
    max: float | None
    by_phase: dict[str, Percentiles]
    round_trip: Percentiles
    by_zone_pair: dict[str, PairLatency]  # "Beijing->Chengdu"
    by_sector: dict[str, Percentiles]
    # for the plots, not in report.json: a CDF of latency per message kind (sorted latencies)
    cdf: dict[str, list[float]] = Field(default_factory=dict, exclude=True)


class ThroughputPoint(_Part):
    t: float
    sent: int
    processed: int


class Throughput(_Part):
    sent_per_s: float
    delivered_per_s: float
    bucket_s: int
    timeline: list[ThroughputPoint]


class GasRow(_Part):
    """Foundry's gas report columns, for one contract function."""

    contract: str
    function: str
    min: int
    avg: int
    median: int
    max: int
    calls: int


class Gas(_Part):
    total: int
    per_message: int | None
    by_function: list[GasRow]


class FaultEntry(_Part):
    """A fault of the scenario as the run met it: when it started (jitter drawn) and ended (None: it
    lasted to the end of the run), and what it was seen to do."""

    fault: Fault
    started_s: float
    ended_s: float | None = None
    effect: str = ""

    @model_serializer
    def _flat(self) -> dict[str, Any]:
        return {**self.fault.model_dump(mode="json"), "started_s": self.started_s, "ended_s": self.ended_s,
                "effect": self.effect}

    @model_validator(mode="before")
    @classmethod
    def _from_flat(cls, data: Any) -> Any:
        if isinstance(data, dict) and "fault" not in data:
            observed = {k: data[k] for k in ("started_s", "ended_s", "effect") if k in data}
            return {"fault": {k: v for k, v in data.items() if k not in observed}, **observed}
        return data


class RelayerStats(_Part):
    index: int
    deliveries: int
    takeovers: int  # deliveries on another relayer's lanes, taken over when they stalled
    restarts: int
    restarts_at_s: list[float] = []


class Relayers(_Part):
    count: int
    restarts: int
    delivery_transactions: int
    per_relayer: list[RelayerStats]


class StaleDecisionEntry(_Part):
    message_id: str
    zone: str  # the provider's zone, whose mirror decided
    entity: str
    role: str  # requester | provider
    time_s: float
    lag_s: float  # since the hub's change the mirror had not caught up with


class StaleDecisions(_Part):
    count: int
    listed: list[StaleDecisionEntry]  # the first MAX_LISTED


class RegistrySection(_Part):
    """The living registry: what happened on the hub, how fast it reached every mirror, and what the
    zones decided while their mirrors lagged."""

    activity: dict[str, int]  # from the hub's events: applications, approvals, suspensions, pilots_…, syncs
    refused: dict[str, int]  # registry transactions the registry refused, by function
    syncs_refused: int  # sync transactions refused at the hub (a paused lane toward the zone)
    propagation_s: Percentiles  # hub change → applied on a zone (or superseded there), over every (change, zone)
    propagation_by_zone: dict[str, Percentiles]
    unpropagated: int  # (change, zone) pairs still not applied when the run ended
    unpropagated_by_zone: dict[str, int]
    decisions: int  # requests decided by the providers' chains
    decisions_by_zone: dict[str, dict[str, int]]  # provider's zone → accepted | refused → requests
    # served_while_suspended | refused_while_active | answered_while_suspended | answered_after_policy_revoked
    stale_decisions: dict[str, StaleDecisions]
    max_stale_s: float
    # for the plots, not in report.json
    lag_timeline: list[tuple[float, dict[str, float]]] = Field(default_factory=list, exclude=True)
    pilot_timeline: list[tuple[float, dict[str, int]]] = Field(default_factory=list, exclude=True)
    suspended_at: list[float] = Field(default_factory=list, exclude=True)  # the hub's suspensions
    refused_per_10s: dict[int, int] = Field(default_factory=dict, exclude=True)  # zones' refusals, by 10 s


class TransactionEntry(_Part):
    """One atomic transaction, as the chains recorded it (transactions.csv; its path: transaction_steps.csv)."""

    tx_id: str
    protocol: str
    coordinator: str
    parties: list[str]  # "zone: entity"
    begun_s: float
    outcome: str  # committed (on every party) | aborted (on none) | partial (on some) | unfinished
    reason: str  # why it aborted: vote_no | conflict | timeout | coordinator_gone | decision_late ("" otherwise)
    committed_on: list[str]  # zones whose party committed
    commit_latency_s: float | None  # begun → its last party committed
    steps: list[tuple[float, str, str, str]]  # (s since the run began, chain, step, detail)


class TransactionsSection(_Part):
    """Atomic cross-zone transactions: how they ended and why, how long commits took and locks were held."""

    protocol: str
    coordinator: str
    lock_timeout_s: int
    started: int  # = committed + aborted + partial + unfinished
    committed: int  # on every party
    aborted: int  # on none
    aborted_by_reason: dict[str, int]  # vote_no, conflict, timeout, coordinator_gone, decision_late
    unfinished: int  # a party not final when the run ended
    partial: int  # committed on some parties only: `atomic` broken
    begin_refused: int  # begin transactions the coordinator refused
    conflicts: int  # parties that voted no because another transaction held their record
    commit_latency_s: Percentiles  # begun → last party committed, over committed transactions
    lock_hold_s: Percentiles  # a party's lock, from prepare to its end
    # every transaction, for transactions.csv and `pilotsim tx show`, and every lock's hold, for the plot; not in
    # report.json
    listed: list[TransactionEntry] = Field(default_factory=list, exclude=True)
    lock_holds: list[float] = Field(default_factory=list, exclude=True)


class Wall(_Part):
    """Everything that depends on the machine the run was on."""

    setup_s: float
    network_from_cache: bool  # the network was loaded from the cache of built networks, not built
    run_s: float
    total_s: float
    delivered_per_wall_s: float | None
    sim_speedup: float | None
    peak_rss_mb: float
    rss_mb_timeline: list[tuple[float, float]]  # (simulated s, resident MB)
    # writing messages.csv, report.md and report.html with its plots (report.json, which holds it, comes after)
    report_write_s: float | None = None


class Report(_Part):
    """report.json. The same scenario and seed give the same report, `versions` and `wall` aside."""

    scenario: ScenarioInfo
    network: NetworkInfo
    messages: Messages
    latency_s: Latency
    throughput: Throughput
    gas: Gas
    invariants: InvariantReport
    faults: list[FaultEntry]
    attacks: list[Attack]
    relayers: Relayers
    blocks: dict[str, int]  # chain name → blocks mined during the run
    sim_seconds: float
    registry: RegistrySection | None = Field(None, exclude_if=lambda v: v is None)
    transactions: TransactionsSection | None = Field(None, exclude_if=lambda v: v is None)
    versions: dict[str, str] | None = Field(None, exclude_if=lambda v: v is None)
    wall: Wall | None = Field(None, exclude_if=lambda v: v is None)

    def without_machine(self) -> dict[str, Any]:
        """report.json's content without what depends on the machine (`versions`, `wall`)."""
        return self.model_dump(mode="json", exclude={"versions", "wall"})


def load_report(path: Path) -> Report:
    """A report.json, or a run folder holding one."""
    target = path / "report.json" if path.is_dir() else path
    try:
        return Report.model_validate_json(target.read_text())
    except FileNotFoundError:
        raise PilotsimError(f"{target}: no such report") from None
    except ValidationError as exc:
        where, message = first_error(exc, "")
        count = f"{exc.error_count()} fields wrong, first " if exc.error_count() > 1 else ""
        raise PilotsimError(f"{target}: not a report ({count}{where + ': ' if where else ''}{message})") from None
    except (ValueError, OSError) as exc:
        raise PilotsimError(f"{target}: not a report ({str(exc).splitlines()[0]})") from None
