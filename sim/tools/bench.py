"""`pilotsim bench`: the simulator's own speed, cost and scale, measured side by side on this machine.

Figures (see the README for the targets):
- seed_speedup: seeding the registry vs a naive one-transaction-per-item web3 loop (seed_bench).
- msgs_per_s: delivered cross-chain messages per wall second of the simulation (baseline, eth-tester),
  raw_tx_per_s: bare py-evm (no web3, no eth-tester) applying the baseline's signed send
  transactions (DataExchange.request) 100 to a block, and msg_to_raw_ratio between them.
- revm_msgs_per_s: the same on revm; revm_speedup: the baseline's wall time, setup included, on
  eth-tester divided by the same on revm.
- scaling_10x (on revm): wall time of a run with ten times the messages of another, divided by it;
  peak_rss_mb of the larger run, and scaling_memory_ratio: its peak memory over the smaller run's.
- day_wall_s, day_peak_rss_mb: the `day` scenario (86,400 simulated seconds) on revm, end to end.
- report_write_s: writing the baseline's outputs (report.md and report.html with their plots, messages.csv).
- week_wall_s, week_rss_growth (`--long` only): the `week` scenario (604,800 simulated seconds) on revm, and
  how much its memory moved over its last six days: (highest - lowest) / lowest of the samples.
- anvil_msgs_per_s and anvil_ratio: the baseline on one Anvil node per chain.
- gas_per_delivered_message: by verifier and batch size (gas_bench).
Each run of the simulator is its own process, so memory figures are its own.
"""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from eth_utils import keccak

import registry
import sim
from registry import Chain, PilotsimError, Tx
from registry.evm.base import sign
from registry.progress import Progress, no_progress
from registry.seeds import load_seed_data

from ..bridge.cache import NetworkCache
from ..bridge.exchange import REQUEST_GAS
from ..bridge.provision import build_network
from ..engine.scenario import load
from ..engine.workload import WorkloadPairs
from . import gas_bench, seed_bench


def raw_send_rate(transactions: int = 1_000, per_block: int = 100) -> float:
    """The baseline's own send transactions, applied by bare py-evm: signed DataExchange.request
    transactions drawn as the baseline's workload draws them (same entities, sectors, policy,
    contracts and registry state), `per_block` to a block on each requester's chain, through
    py-evm's `MiningChain.mine_all` alone (no web3, no eth-tester, no simulator).

    Responses, the baseline's other send, need their request delivered first, so they are not
    replayed; they run the same path (registry mirror check, `Gateway.send`) with a few
    percent fewer EVM steps.
    """
    scenario = load("baseline")
    with build_network(scenario.network_config(), cache=NetworkCache.default()) as network:
        rng = np.random.default_rng(scenario.seed)
        pairs = WorkloadPairs(network, scenario.workload)
        roles = network.registry.roles
        by_chain: dict[int, list[Tx]] = {}
        for _ in range(transactions):
            requester, provider, sector = pairs.draw(rng)
            home, away = network.home(requester), network.home(provider)
            by_chain.setdefault(home.chain_id, []).append(home.data_exchange.request_tx(
                requester, provider, away.chain_id, sector, keccak(rng.bytes(32)), scenario.workload.ttl_s,
                by=roles.entity(requester), gas=REQUEST_GAS))
        bare = {chain_id: _BareChain(network.nodes[chain_id].chain) for chain_id in by_chain}
        started = time.perf_counter()
        for chain_id, txs in by_chain.items():
            for first in range(0, len(txs), per_block):
                if not all(bare[chain_id].mine(txs[first:first + per_block])):
                    raise PilotsimError(f"a DataExchange.request failed on bare chain {chain_id}")
        return transactions / (time.perf_counter() - started)


class _BareChain:
    """The py-evm `MiningChain` under an in-process chain, driven directly: sign, `mine_all`."""

    def __init__(self, chain: Chain) -> None:
        self.chain_id = chain.chain_id
        self.evm: Any = chain.evm  # type: ignore[attr-defined]
        self.nonces: dict[str, int] = {}
        self.lookup = chain.nonce

    def mine(self, txs: list[Tx]) -> list[bool]:
        evm = self.evm
        evm.header = evm.header.copy(timestamp=evm.header.timestamp + 1)
        signed = []
        for tx in txs:
            sender = tx.sender.address
            nonce = self.nonces[sender] if sender in self.nonces else self.lookup(sender)
            signed.append(sign(tx, self.chain_id, nonce, evm.header.base_fee_per_gas))
            self.nonces[sender] = nonce + 1
        _, _, computations = evm.mine_all(signed, mix_hash=keccak(evm.header.block_number.to_bytes(8, "big")))
        return [not c.is_error for c in computations]


def _run(scenario: str, sets: dict[str, Any], backend: str) -> dict[str, Any]:
    """`pilotsim run` in a process of its own (so its memory figures are its own); its report, and the
    process's wall time from start to exit as `process_s`."""
    with tempfile.TemporaryDirectory() as folder:
        args = [sys.executable, "-m", "sim.cli", "run", scenario, "--quiet", "--json", "--backend", backend,
                "--no-cache", "--out", str(Path(folder) / "o")]
        for key, value in sets.items():
            args += ["--set", f"{key}={json.dumps(value)}"]
        started = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PilotsimError(f"bench: pilotsim {' '.join(args[3:])}: {done.stderr.strip()}")
        return json.loads(done.stdout) | {"process_s": time.perf_counter() - started}


STEPS = ["seed speedup", "baselines on eth-tester, revm and bare py-evm", "scaling on revm", "a day on revm",
         "baseline on Anvil", "gas per delivered message", "a week on revm"]


@dataclass(frozen=True)
class Sizes:
    """How much each figure is measured over."""

    seed_entities: int | None  # None: all of them
    baseline_s: float
    raw_transactions: int
    scaling_messages: tuple[int, int]
    day_s: float
    week_s: float | None = None  # None: no week (the long mode runs one)


FULL = Sizes(None, 300, 2_000, (2_000, 20_000), 86_400)
LONG = replace(FULL, week_s=7 * 86_400)
QUICK = Sizes(10, 15, 100, (40, 400), 60, week_s=140)  # every figure, in about a minute: a smoke test, not a measure
Figures = dict[str, Any]


def measure(quick: bool = False, progress: Progress = no_progress, long: bool = False) -> Figures:
    """Every figure of `pilotsim bench`, step by step (each step's figures may use the earlier ones'); with
    `long`, a simulated week too (the quick bench runs a short one)."""
    sizes = QUICK if quick else LONG if long else FULL
    _compile_sources()
    results: Figures = {}
    steps = [_seed_figures, _baseline_figures, _scaling_figures, _day_figures, _anvil_figures, _gas_figures,
             _week_figures]
    for index, (label, step) in enumerate(zip(STEPS, steps, strict=True)):
        progress(label, index, len(STEPS))
        results |= step(sizes, results)
    return results | {"targets": _targets(results), "quick": quick}


def _compile_sources() -> None:
    """The project's modules as bytecode before any process is timed, as an installed wheel has them (an editable
    install where PYTHONDONTWRITEBYTECODE is set would compile them in every process)."""
    for package in (registry, sim):
        compileall.compile_dir(Path(str(package.__file__)).parent, quiet=2, workers=0)  # unwritable: left as is


def _seed_figures(sizes: Sizes, _: Figures) -> Figures:
    data = load_seed_data()
    if sizes.seed_entities is not None:
        data = data.first_entities(sizes.seed_entities)
    fast, naive = seed_bench.pilotsim_seed(data), seed_bench.naive_seed(data)
    return {"seed_speedup": round(naive["wall_s"] / fast["wall_s"], 1)}


def _baseline_figures(sizes: Sizes, _: Figures) -> Figures:
    base = _run("baseline", {"duration_s": sizes.baseline_s}, "eth-tester")
    fast = _run("baseline", {"duration_s": sizes.baseline_s}, "revm")
    if fast["messages"] != base["messages"] or fast["gas"] != base["gas"]:
        raise PilotsimError("bench: the baseline's messages or gas differ between revm and eth-tester")
    msgs_per_s, raw_tx_per_s = base["wall"]["delivered_per_wall_s"], round(raw_send_rate(sizes.raw_transactions), 1)
    # why the ratio to bare py-evm is what it is: transactions each delivered message costs (its send, its share
    # of delivery and acknowledgement transactions), few batches filling at the baseline's load
    calls = sum(row["calls"] for row in base["gas"]["by_function"])
    return {"msgs_per_s": msgs_per_s, "revm_msgs_per_s": fast["wall"]["delivered_per_wall_s"],
            "baseline_process_s": round(fast["process_s"], 2), "report_write_s": fast["wall"]["report_write_s"],
            "cli_help_s": _help_seconds(),
            "revm_speedup": round(base["wall"]["total_s"] / fast["wall"]["total_s"], 1),
            "raw_tx_per_s": raw_tx_per_s, "msg_to_raw_ratio": round(msgs_per_s / raw_tx_per_s, 3),
            "txs_per_message": round(calls / max(1, base["messages"]["delivered"]), 2)}


def _help_seconds() -> float:
    """`pilotsim --help` as a whole process, the fastest of three (what a user waits for)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim.cli", "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return round(min(times), 3)


def _scaling_figures(sizes: Sizes, _: Figures) -> Figures:
    small, large = sizes.scaling_messages
    rate = 5.0  # requests per second; each makes a request and a response message
    runs = {n: _run("baseline", {"workload.rate_per_s": rate, "duration_s": n / (2 * rate), "drain_s": 600}, "revm")
            for n in (small, large)}
    rss = {n: runs[n]["wall"]["peak_rss_mb"] for n in (small, large)}
    return {"scaling_messages": [runs[small]["messages"]["sent"], runs[large]["messages"]["sent"]],
            "scaling_10x": round(runs[large]["wall"]["run_s"] / runs[small]["wall"]["run_s"], 2),
            "peak_rss_mb": rss[large], "scaling_memory_ratio": round(rss[large] / rss[small], 3),
            # the same machinery under 5x the baseline's load, where relayer batches fill
            "loaded_msgs_per_s": runs[large]["wall"]["delivered_per_wall_s"]}


def _day_figures(sizes: Sizes, _: Figures) -> Figures:
    day = _run("day", {"duration_s": sizes.day_s}, "revm")
    return {"day_messages": day["messages"]["sent"], "day_wall_s": round(day["process_s"], 1),
            "day_peak_rss_mb": day["wall"]["peak_rss_mb"],
            "day_invariants": all(v for v in day["invariants"].values() if isinstance(v, bool))}


def _week_figures(sizes: Sizes, _: Figures) -> Figures:
    if sizes.week_s is None:
        return {}
    week = _run("week", {"duration_s": sizes.week_s}, "revm")
    return {"week_messages": week["messages"]["sent"], "week_wall_s": round(week["process_s"], 1),
            "week_peak_rss_mb": week["wall"]["peak_rss_mb"],
            "week_rss_growth": rss_growth(week["wall"]["rss_mb_timeline"], sizes.week_s / 7),
            "week_invariants": all(v for v in week["invariants"].values() if isinstance(v, bool))}


def rss_growth(timeline: list[list[float]], after_s: float) -> float:
    """How much resident memory moved once `after_s` simulated seconds had passed: (highest - lowest) / lowest."""
    later = [mb for t, mb in timeline if t >= after_s]
    if not later:
        raise PilotsimError(f"bench: no memory sample after {after_s:g} simulated s")
    return round((max(later) - min(later)) / min(later), 3)


def _anvil_figures(sizes: Sizes, results: Figures) -> Figures:
    anvil = _run("baseline", {"duration_s": sizes.baseline_s}, "anvil")["wall"]["delivered_per_wall_s"]
    return {"anvil_msgs_per_s": anvil, "anvil_ratio": round(anvil / results["msgs_per_s"], 2)}


def _gas_figures(_: Sizes, __: Figures) -> Figures:
    return {"gas_per_delivered_message": [
        {k: row[k] for k in ("verifier", "batch", "deliver")}
        for row in (gas_bench.measure(v, n, "request") for v in ("committee", "checkpoint", "light-client")
                    for n in (1, 16, 64))]}


def _targets(results: Figures) -> dict[str, bool]:
    return {
        "seed_speedup>=10": results["seed_speedup"] >= 10,
        "cli_help_s<=0.3": results["cli_help_s"] <= 0.3,
        "baseline_process_s<=2.5": results["baseline_process_s"] <= 2.5,
        "report_write_s<=0.3": results["report_write_s"] <= 0.3,
        "msg_to_raw_ratio>=0.5": results["msg_to_raw_ratio"] >= 0.5,
        "revm_speedup>=10": results["revm_speedup"] >= 10,
        "revm_msgs_per_s>=550": results["revm_msgs_per_s"] >= 550,
        "scaling_10x<=11": results["scaling_10x"] <= 11,
        "scaling_memory_ratio<=1.1": results["scaling_memory_ratio"] <= 1.1,
        "peak_rss_mb<=1024": results["peak_rss_mb"] <= 1024,
        "day_wall_s<=360": results["day_wall_s"] <= 360,
        "day_peak_rss_mb<=1024": results["day_peak_rss_mb"] <= 1024,
        "day_invariants": results["day_invariants"],
        "checkpoint_64<=60000": next(r["deliver"] for r in results["gas_per_delivered_message"]
                                     if r["verifier"] == "checkpoint" and r["batch"] == 64) <= 60_000,
        "light_client_64<=120000": next(r["deliver"] for r in results["gas_per_delivered_message"]
                                        if r["verifier"] == "light-client" and r["batch"] == 64) <= 120_000,
    } | ({"week_rss_growth<=0.1": results["week_rss_growth"] <= 0.1, "week_invariants": results["week_invariants"]}
         if "week_rss_growth" in results else {})
