"""From a run's records to its report: outcomes, latency, throughput, gas, invariants."""

from __future__ import annotations

import platform
import resource
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import numpy as np

from registry.evm.artifacts import load_artifact

from ..engine.recorder import NetworkSummary, RunRecords
from .effects import fault_effect
from .registry_metrics import registry_section
from .report import (
    FaultEntry,
    Gas,
    GasRow,
    Latency,
    Messages,
    NetworkInfo,
    PairLatency,
    Relayers,
    RelayerStats,
    Report,
    ScenarioInfo,
    Throughput,
    ThroughputPoint,
    Wall,
)
from .stats import _round, percentiles
from .tally import KINDS, PHASES, MessageTally, gas_by_function
from .transaction_metrics import transactions_section

OUTCOMES = ("delivered", "failed", "timed_out", "rejected")


def gas_row(contract: str, function: str, values: Sequence[int]) -> GasRow:
    """Foundry's columns over the gas of every call of one function (median: mean of the middle two)."""
    return GasRow(contract=contract, function=function, min=min(values), avg=int(round(sum(values) / len(values))),
                  median=int(statistics.median(values)), max=max(values), calls=len(values))


@dataclass(frozen=True)
class Machine:
    """How the run went on this machine: what the report's `versions` and `wall` are made of."""

    backend: str
    setup_s: float  # building or loading the network
    network_from_cache: bool
    total_s: float  # setup and run


def build_report(records: RunRecords, machine: Machine | None = None) -> Report:
    """The report of a run. Without `machine`, only what the scenario and seed determine (no wall
    time, no versions)."""
    scenario, network = records.scenario, records.network
    tally = MessageTally(records.messages)  # one pass over the spool: no message held
    counts = tally.outcomes
    config = network.config
    delivered = counts.get("delivered", 0)
    restarts = [r.restarts_at_s for r in records.relayers]
    registry = registry_section(records.registry) if records.registry else None
    return Report(
        scenario=ScenarioInfo(name=scenario.name, seed=scenario.seed, settings_hash=scenario.settings_hash,
                              description=scenario.description,
                              settings=scenario.model_dump(mode="json", exclude={"name", "seed", "description"})),
        network=NetworkInfo(zones=len(network.zone_names), entities=network.entities, sectors=network.sectors,
                            chains=len(network.chain_names), topology=config.topology, verifier=config.verifier,
                            committee=f"{config.threshold}-of-{config.committee_size}", trust=_trust(network),
                            block_interval_s=scenario.chains.block_interval_s, relayers=scenario.relayers.count,
                            zone_names=network.zone_names),
        messages=Messages(
            sent=tally.sent, **{o: counts.get(o, 0) for o in OUTCOMES},
            pending=tally.pending,
            acknowledged=tally.acknowledged,
            refused_at_source=len(records.refusals),
            refused_at_source_by_reason=dict(sorted(Counter(r.reason for r in records.refusals).items())),
            by_kind={k: dict(sorted(tally.by_kind[k].items())) for k in KINDS},
        ),
        latency_s=_latency(tally),
        throughput=_throughput(tally, scenario.duration_s, records.sim_seconds),
        gas=_gas(records, tally.sent),
        invariants=records.invariants,
        faults=[FaultEntry(fault=f, started_s=round(start, 3), ended_s=None if end is None else round(end, 3),
                           effect=fault_effect(f, (start, end), tally, records.attacks, restarts, records.sim_seconds,
                                               registry))
                for f, (start, end) in zip(scenario.faults, records.fault_windows, strict=True)],
        attacks=records.attacks,
        relayers=Relayers(count=scenario.relayers.count, restarts=sum(r.restarts for r in records.relayers),
                          delivery_transactions=sum(r.deliveries for r in records.relayers),
                          per_relayer=[RelayerStats(index=r.index, deliveries=r.deliveries, takeovers=r.takeovers,
                                                    restarts=r.restarts,
                                                    restarts_at_s=[round(t, 3) for t in r.restarts_at_s])
                                        for r in records.relayers]),
        blocks={network.chain_names[c]: n for c, n in sorted(records.blocks.items())},
        sim_seconds=_round(records.sim_seconds),
        registry=registry,
        transactions=transactions_section(records.transactions) if records.transactions else None,
        versions=versions(machine.backend) if machine else None,
        wall=_wall(records, machine, delivered) if machine else None,
    )


def _wall(records: RunRecords, machine: Machine, delivered: int) -> Wall:
    run = records.wall_run_s
    return Wall(
        setup_s=round(machine.setup_s, 3), network_from_cache=machine.network_from_cache, run_s=round(run, 3),
        total_s=round(machine.total_s, 3),
        delivered_per_wall_s=round(delivered / run, 3) if run else None,
        sim_speedup=round(records.sim_seconds / run, 2) if run else None,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        rss_mb_timeline=[(round(t, 1), mb) for t, mb in records.rss_mb],
    )


def _latency(tally: MessageTally) -> Latency:
    overall = percentiles(tally.latencies)
    return Latency(
        p50=overall.p50, p95=overall.p95, p99=overall.p99, mean=overall.mean, max=overall.max,
        by_phase={name: percentiles(tally.by_phase[name]) for name in PHASES},
        round_trip=percentiles(tally.round_trips),
        by_zone_pair={k: PairLatency(count=len(v), p50=_round(np.median(v))) for k, v in sorted(tally.by_pair.items())},
        by_sector={k: percentiles(v) for k, v in sorted(tally.by_sector.items())},
        cdf={kind: sorted(tally.by_kind_latency[kind]) for kind in KINDS},
    )


def _throughput(tally: MessageTally, duration: float, sim_seconds: float) -> Throughput:
    bucket = max(1, round(sim_seconds / 60))
    edges = np.arange(0.0, sim_seconds + bucket, bucket)
    sent = np.histogram(np.frombuffer(tally.submitted, dtype=float), bins=edges)[0]
    done = np.histogram(np.frombuffer(tally.processed, dtype=float), bins=edges)[0]
    return Throughput(
        sent_per_s=_round(tally.sent / duration),
        delivered_per_s=_round(tally.outcomes.get("delivered", 0) / max(sim_seconds, 1e-9)),
        bucket_s=bucket,
        timeline=[ThroughputPoint(t=_round(edges[i]), sent=int(sent[i]), processed=int(done[i]))
                  for i in range(len(edges) - 1)],
    )


def _gas(records: RunRecords, messages: int) -> Gas:
    total, table = gas_by_function(records.gas)
    rows = [gas_row(contract, function, values) for (contract, function), values in sorted(table.items())]
    return Gas(total=total, per_message=int(round(total / messages)) if messages else None, by_function=rows)


def versions(backend: str) -> dict[str, str]:
    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "?"

    found = {name: of(name) for name in ("pilotsim", "web3", "py-evm", "eth-tester", "pyrevm", "simpy", "numpy")}
    found["python"] = platform.python_version()
    found["solc"] = load_artifact("Gateway").compiler_version
    found["backend"] = backend
    return found


def flatten(report: dict[str, object], prefix: str = "") -> Iterable[tuple[str, object]]:
    """(dotted key, value) for every scalar of a report's JSON, for tidy tables and comparisons."""
    for key, value in report.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten(value, path + ".")
        elif not isinstance(value, list):
            yield path, value


def _trust(network: NetworkSummary) -> str:
    """What the network's verifier trusts: the bridge committee, the chains' own validators, or watchers in time."""
    config = network.config
    if config.verifier == "light-client":
        return f"headers signed by >2/3 of each chain's {config.validators} validators"
    if config.verifier == "optimistic":
        return f"a {config.challenge_window_s} s challenge window for fraud proofs"
    return f"{config.threshold}-of-{config.committee_size} committee"
