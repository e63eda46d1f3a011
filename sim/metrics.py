"""From a run's records to the figures of its report: outcomes, latency, throughput, gas."""

from __future__ import annotations

import platform
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from registry.artifacts import load_artifact

from .engine import MessageRecord, RunResult

PHASES = ("source_inclusion", "relay_pickup", "delivery", "execution", "acknowledgement")
OUTCOMES = ("delivered", "failed", "timed_out", "rejected")


def _round(value: float) -> float:
    return round(float(value), 3)


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    array = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(array, [50, 95, 99])
    return {"count": len(values), "p50": _round(p50), "p95": _round(p95), "p99": _round(p99),
            "mean": _round(array.mean()), "max": _round(array.max())}


def latency(message: MessageRecord) -> float | None:
    return None if message.delivered_s is None else message.delivered_s - message.submitted_s


def phases(m: MessageRecord) -> dict[str, float | None]:
    def span(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else b - a

    return {
        "source_inclusion": span(m.submitted_s, m.included_s),
        "relay_pickup": span(m.included_s, m.picked_s),
        "delivery": span(m.picked_s, m.delivered_s),
        "execution": span(m.delivered_s, m.executed_s),
        "acknowledgement": span(m.delivered_s, m.acked_s),
    }


def summarize(result: RunResult) -> dict[str, Any]:
    """Everything in report.json that the scenario and seed determine (no wall time, no versions)."""
    scenario = result.scenario
    network = result.network
    messages = list(result.messages.values())
    delivered = [m for m in messages if m.outcome == "delivered"]
    counts = Counter(m.outcome for m in messages)
    report: dict[str, Any] = {
        "scenario": {"name": scenario.name, "seed": scenario.seed, "settings_hash": scenario.settings_hash,
                     "description": scenario.description},
        "network": {
            "zones": len(network.zones), "entities": len(network.data.entities), "sectors": len(network.data.sectors),
            "chains": len(network.nodes), "topology": network.config.topology, "verifier": network.config.verifier,
            "committee": f"{network.config.threshold}-of-{network.config.committee_size}",
            "block_interval_s": scenario.chains.block_interval_s, "relayers": scenario.relayers.count,
        },
        "messages": {
            "sent": len(messages),
            **{o: counts.get(o, 0) for o in OUTCOMES},
            "pending": sum(m.delivered_s is None for m in messages),
            "acknowledged": sum(m.acked_s is not None for m in messages),
            "refused_at_source": len(result.refusals),
            "refused_at_source_by_reason": dict(sorted(Counter(r.reason for r in result.refusals).items())),
            "by_kind": {k: dict(sorted(Counter(m.outcome for m in messages if m.kind == k).items()))
                        for k in ("request", "response")},
        },
        "latency_s": _latency(messages, delivered, result),
        "throughput": _throughput(messages, scenario.duration_s, result.sim_seconds),
        "gas": _gas(result, len(messages)),
        "invariants": result.invariants,
        "faults": [f.model_dump(mode="json") | {"started_s": round(start, 3)}
                   for f, start in zip(scenario.faults, result.fault_starts, strict=True)],
        "attacks": result.attacks,
        "relayers": {"count": scenario.relayers.count, "restarts": result.relayer_restarts,
                     "delivery_transactions": result.delivery_transactions},
        "blocks": {network.nodes[c].name: n for c, n in sorted(result.blocks.items())},
        "sim_seconds": _round(result.sim_seconds),
    }
    return report


def _latency(messages: list[MessageRecord], delivered: list[MessageRecord], result: RunResult) -> dict[str, Any]:
    values = [latency(m) for m in delivered]
    by_phase = {name: percentiles([v for m in delivered if (v := phases(m)[name]) is not None])
                for name in PHASES}
    by_pair: dict[str, list[float]] = defaultdict(list)
    by_sector: dict[str, list[float]] = defaultdict(list)
    for m in delivered:
        by_pair[f"{m.src_zone}->{m.dst_zone}"].append(latency(m) or 0.0)
        by_sector[m.sector].append(latency(m) or 0.0)
    answered = [m for m in messages if m.kind == "response" and m.outcome == "delivered"]
    requests = {m.message_id: m for m in messages if m.kind == "request"}
    round_trips = [r.delivered_s - requests[r.request_id].submitted_s for r in answered
                   if r.delivered_s is not None and r.request_id in requests]
    return {
        **{k: v for k, v in percentiles([v for v in values if v is not None]).items() if k != "count"},
        "by_phase": by_phase,
        "round_trip": percentiles(round_trips),
        "by_zone_pair": {k: {"count": len(v), "p50": _round(np.median(v))} for k, v in sorted(by_pair.items())},
        "by_sector": {k: percentiles(v) for k, v in sorted(by_sector.items())},
    }


def _throughput(messages: list[MessageRecord], duration: float, sim_seconds: float) -> dict[str, Any]:
    bucket = max(1.0, round(sim_seconds / 60))
    edges = np.arange(0.0, sim_seconds + bucket, bucket)
    sent = np.histogram([m.submitted_s for m in messages], bins=edges)[0]
    done = np.histogram([m.delivered_s for m in messages if m.delivered_s is not None], bins=edges)[0]
    delivered = sum(m.outcome == "delivered" for m in messages)
    return {
        "sent_per_s": _round(len(messages) / duration),
        "delivered_per_s": _round(delivered / max(sim_seconds, 1e-9)),
        "bucket_s": bucket,
        "timeline": [{"t": _round(edges[i]), "sent": int(sent[i]), "processed": int(done[i])}
                     for i in range(len(edges) - 1)],
    }


def _gas(result: RunResult, messages: int) -> dict[str, Any]:
    table: dict[tuple[str, str], list[int]] = defaultdict(list)
    for record in result.gas:
        table[(record.contract, record.function)].append(record.gas_used)
    total = sum(r.gas_used for r in result.gas)
    rows = []
    for (contract, function), values in sorted(table.items()):
        rows.append({"contract": contract, "function": function, "min": min(values),
                     "avg": int(round(sum(values) / len(values))), "median": int(np.median(values)),
                     "max": max(values), "calls": len(values)})
    return {"total": total, "per_message": int(round(total / messages)) if messages else None, "by_function": rows}


def versions(backend: str) -> dict[str, str]:
    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "?"

    found = {name: of(name) for name in ("pilotsim", "web3", "py-evm", "eth-tester", "simpy", "numpy")}
    found["python"] = platform.python_version()
    found["solc"] = load_artifact("Gateway").compiler_version
    found["backend"] = backend
    return found


def flatten(report: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """(dotted key, value) for every scalar, for tidy tables and comparisons."""
    for key, value in report.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten(value, path + ".")
        elif not isinstance(value, list):
            yield path, value
