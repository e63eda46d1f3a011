"""Run a scenario end to end and write its report; sweeps over processes; comparing reports.

A run is a straight line of typed stages:
scenario → provision (Network) → engine (RunRecords) → metrics (Report) → outputs → the caller.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry import AnvilNode, PilotsimError
from registry.progress import Progress, no_progress

from ..bridge.cache import NetworkCache
from ..bridge.provision import build_network
from ..bridge.topology import Backend, Network
from ..engine.scenario import Scenario, ScenarioError, load
from ..engine.simulation import Simulation
from ..engine.watcher import INVARIANTS
from .metrics import Machine, build_report, flatten
from .outputs import check_output_folder, write_outputs
from .report import Report

RUNS_DIR = Path("runs")
# the living registry's headline (empty for a run without registry activity)
REGISTRY_HEADLINE = ["registry.propagation_s.p50", "registry.propagation_s.p95", "registry.propagation_s.max",
                     "registry.unpropagated", "registry.syncs_refused",
                     "registry.stale_decisions.served_while_suspended.count",
                     "registry.stale_decisions.refused_while_active.count",
                     "registry.stale_decisions.answered_while_suspended.count",
                     "registry.stale_decisions.answered_after_policy_revoked.count"]
SWEEP_COLUMNS = ["messages.sent", "messages.delivered", "messages.failed", "messages.timed_out", "messages.rejected",
                 "messages.pending", "messages.acknowledged", "messages.refused_at_source", "latency_s.p50",
                 "latency_s.p95", "latency_s.p99", "latency_s.round_trip.p50", "throughput.delivered_per_s",
                 "gas.per_message", *(f"invariants.{name}" for name in INVARIANTS), "invariants.violation_count",
                 *REGISTRY_HEADLINE, "wall.run_s"]


def default_out(scenario: Scenario) -> Path:
    """A new folder under runs/, named by the scenario (its name made a plain file name: never a path that
    leaves runs/), seed and time."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario.name).strip(".-") or "scenario"
    return RUNS_DIR / f"{name}-seed{scenario.seed}-{stamp}"


@dataclass
class KeptNodes:
    """The Anvil nodes a run was asked to keep (`run_scenario(keep=…)`), hub first, and the registry on
    the hub. Filled (and `on_ready` called) as soon as the network is built, so they can be queried
    while the run goes on; a run that fails stops them; once it completed they are the caller's to stop
    (also when writing the outputs fails afterwards)."""

    nodes: list[AnvilNode] = field(default_factory=list)
    registry: str = ""
    on_ready: Callable[[KeptNodes], None] | None = None  # called once the network is built, before the run

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes.clear()


@contextmanager
def _network_for(scenario: Scenario, backend: Backend, progress: Progress, network: Network | None,
                 cache: NetworkCache | None, keep: KeptNodes | None = None) -> Iterator[Network]:
    """A network for the scenario (built, or loaded from `cache`), closed afterwards (its Anvil nodes
    handed to `keep` instead of stopped, once the run completed); or `network`, reverted afterwards."""
    data = scenario.seed_data()
    if keep is not None and (backend != "anvil" or network is not None):
        raise PilotsimError("only the Anvil nodes a run starts itself can be kept (backend anvil)")
    if network is None:
        with build_network(scenario.network_config(), backend=backend, data=data, progress=progress,
                           cache=cache) as built:
            if keep is not None:
                keep.nodes = sorted(built.anvils, key=lambda node: node.chain_id)  # the hub (1000) first
                keep.registry = built.registry.address
                if keep.on_ready is not None:
                    keep.on_ready(keep)
            yield built
            if keep is not None:  # reached only when the run completed: a failed run stops its nodes
                built.anvils = []  # so closing the network closes its connections and stops no node
        return
    if network.config != scenario.network_config():
        raise ScenarioError(f"{scenario.name}: the network given was built for other network settings")
    if [z.name for z in network.data.zones] != [z.name for z in data.zones]:
        raise ScenarioError(f"{scenario.name}: the network given was built for other zones")
    with network.anchor():
        yield network


def run_scenario(scenario: Scenario, out: Path, *, backend: Backend = "eth-tester", progress: Progress = no_progress,
                 network: Network | None = None, cache: NetworkCache | None = None,
                 keep: KeptNodes | None = None) -> Report:
    """Run `scenario` and write its outputs into `out`. With `network` (built from
    `scenario.network_config()`), run on it and leave it as it was, instead of building one; with
    `cache`, an in-process network is loaded from it when it holds one; with `keep` (backend anvil),
    the run's nodes are left running and handed to it (see `KeptNodes`)."""
    check_output_folder(out)  # before the run, not after it
    started = time.perf_counter()
    with _network_for(scenario, backend, progress, network, cache, keep) as net:
        setup_s, from_cache = time.perf_counter() - started, net.from_cache
        records = Simulation(scenario, net, progress=progress).run()
    machine = Machine(backend, setup_s, from_cache, time.perf_counter() - started)
    try:
        report = build_report(records, machine)
        write_outputs(out, report, records.messages)
    finally:
        records.close()
    return report


def parse_sets(sets: list[str]) -> dict[str, list[Any]]:
    """`key=v1,v2` options → {key: [v1, v2]}, each value read as JSON or TOML where it parses (see `_value`)."""
    grid: dict[str, list[Any]] = {}
    for item in sets:
        if "=" not in item:
            raise ScenarioError(f"--set {item!r}: expected key=value[,value…]")
        key, raw = item.split("=", 1)
        grid[key.strip()] = [_value(text) for text in _top_level_split(raw)]
    return grid


def _value(text: str) -> Any:
    """A `--set` value: JSON (`2`, `true`, `["a", "b"]`), else TOML (`[{entity = "ICBC", at_s = 5}]`), else a
    list of bare words (`[Beijing, Chengdu]`), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        pass
    if text.startswith("[") and text.endswith("]"):
        return [word.strip() for word in text[1:-1].split(",") if word.strip()]
    return text


def _top_level_split(raw: str) -> list[str]:
    """`1,2` → ["1", "2"]; `[256,512],[1024,2048]` → two lists: commas inside brackets stay."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(raw):
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(raw[start:i])
            start = i + 1
    return [*parts, raw[start:]]


def _sweep_one(args: SweepTask) -> dict[str, Any]:
    scenario_data, overrides, out, backend, cache = args
    scenario = Scenario.model_validate(scenario_data).with_overrides(overrides)
    row = dict(flatten(run_scenario(scenario, out, backend=backend, cache=cache).model_dump(mode="json")))
    return {"overrides": overrides, "seed": scenario.seed, "out": str(out),
            "metrics": {k: row.get(k) for k in SWEEP_COLUMNS}}


SweepTask = tuple[dict[str, Any], dict[str, Any], Path, Backend, NetworkCache | None]


def _in_processes(jobs: int, tasks: list[SweepTask]) -> Iterator[tuple[int, dict[str, Any]]]:
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_sweep_one, task): i for i, task in enumerate(tasks)}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _on_cluster(scheduler: str, tasks: list[SweepTask]) -> Iterator[tuple[int, dict[str, Any]]]:
    try:  # loaded only for a sweep that asks for a cluster: an extra
        from distributed import Client  # noqa: PLC0415
        from distributed import as_completed as finished  # noqa: PLC0415
    except ImportError:
        raise ScenarioError(f"--scheduler {scheduler}: Dask is not installed (pip install 'pilotsim[cluster]')") \
            from None

    try:
        client = Client(scheduler, timeout=10)
    except (OSError, TimeoutError) as exc:
        raise ScenarioError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})") from None
    with client:
        futures = {client.submit(_sweep_one, task, key=f"pilotsim-run-{i}", pure=False, retries=2): i
                   for i, task in enumerate(tasks)}
        for future in finished(list(futures)):
            yield futures[future], future.result()


def run_name(index: int, overrides: dict[str, Any]) -> str:
    """A run's folder: its number and what it sets (`003-rate_per_s=1.5-seed=6`)."""
    parts = [f"{key.rpartition('.')[2]}={value}" for key, value in overrides.items()]
    return "-".join([f"{index:03d}", *parts]).replace("/", "_").replace(" ", "")


def sweep_runs(scenario: Scenario, grid: dict[str, list[Any]], replicates: int) -> list[dict[str, Any]]:
    """The overrides of each run of a sweep, every one validated before anything runs. Replicates
    count up from the combination's seed: the grid's when it sets `seed`, else the scenario's."""
    combos = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())] or [{}]
    runs = []
    for combo in combos:
        for replicate in range(replicates):
            overrides = combo | {"seed": int(combo.get("seed", scenario.seed)) + replicate}
            scenario.with_overrides(overrides)
            runs.append(overrides)
    return runs


def sweep(scenario: Scenario, grid: dict[str, list[Any]], replicates: int, jobs: int, out: Path,
          backend: Backend = "eth-tester", on_done: Callable[[int, int], None] | None = None,
          cache: NetworkCache | None = None, scheduler: str | None = None, resume: bool = False) -> Path:
    """Every combination of `grid` × `replicates` seeds, `jobs` at a time in local processes, or as
    tasks of the Dask cluster at `scheduler` (`tcp://host:8786`; a run whose worker is lost is retried
    elsewhere); one tidy row per run in runs.csv, appended as each run finishes (in run order at the
    end). `resume`: into a folder of the same sweep, only the runs runs.csv does not hold yet."""
    runs = sweep_runs(scenario, grid, replicates)
    table = out / "runs.csv"
    keys = [k for k in grid if k != "seed"]  # the seed has its own column
    header = ["run", *keys, "seed", *SWEEP_COLUMNS, "out"]
    done_runs = _finished_runs(table, header) if resume else set()
    if not resume and out.exists() and any(out.iterdir()):  # before anything runs: earlier results are kept
        raise ScenarioError(f"{out}: exists and is not empty; choose another --out (or --resume that sweep)")
    out.mkdir(parents=True, exist_ok=True)
    tasks = {i: (scenario.model_dump(mode="json"), o, out / run_name(i, o), backend, cache)
             for i, o in enumerate(runs) if i not in done_runs}
    if on_done:
        on_done(len(done_runs), len(runs))
    with table.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if not done_runs:
            writer.writerow(header)
        pending = list(tasks.values())
        results = _on_cluster(scheduler, pending) if scheduler else _in_processes(jobs, pending)
        for done, (position, row) in enumerate(results, start=len(done_runs) + 1):
            index = list(tasks)[position]
            writer.writerow([index, *[row["overrides"].get(k) for k in keys], row["seed"],
                             *[row["metrics"][c] for c in SWEEP_COLUMNS], row["out"]])
            handle.flush()  # a sweep stopped half way keeps what it finished
            if on_done:
                on_done(done, len(runs))
    with table.open(newline="") as handle:
        rows = sorted(csv.reader(handle), key=lambda r: -1 if r == header else int(r[0]))
    with table.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return table


def batch_run(scenario: Scenario | str, grid: dict[str, list[Any]], out: Path, *, replicates: int = 1,
              jobs: int = 1, backend: Backend = "revm", scheduler: str | None = None) -> Any:
    """A sweep from Python, like Mesa's `batch_run`: its tidy table (runs.csv) as a pandas DataFrame,
    one row per run (pandas: `pip install 'pilotsim[analysis]'`)."""
    try:
        import pandas  # noqa: PLC0415 - an optional extra, loaded only here
    except ImportError:
        raise PilotsimError("batch_run needs pandas: pip install 'pilotsim[analysis]'") from None
    base = load(scenario) if isinstance(scenario, str) else scenario
    return pandas.read_csv(sweep(base, grid, replicates, jobs, out, backend=backend, scheduler=scheduler))


def _finished_runs(table: Path, header: list[str]) -> set[int]:
    """The runs a sweep's runs.csv already holds; refused if it is another sweep's."""
    if not table.exists():
        return set()
    with table.open(newline="") as handle:
        reader = csv.reader(handle)
        if next(reader, None) != header:
            raise ScenarioError(f"{table}: the runs of another sweep (other settings); choose another --out")
        return {int(row[0]) for row in reader if row}


# What a reader of two runs looks at first; everything else (per pair, per sector, per function) after.
HEADLINE = ("scenario.", "messages.", "invariants.", "latency_s.p50", "latency_s.p95", "latency_s.p99",
            "latency_s.mean", "latency_s.max", "throughput.sent_per_s", "throughput.delivered_per_s",
            *REGISTRY_HEADLINE, "gas.per_message", "gas.total", "relayers.", "latency_s.round_trip.",
            "latency_s.by_phase.")


def compare(a: Report, b: Report, only: tuple[str, ...] = ()) -> list[tuple[str, Any, Any]]:
    """(key, value in A, value in B) for every scalar that differs (under the `only` prefixes, if any),
    the headline figures first."""
    left = dict(flatten(a.model_dump(mode="json")))
    right = dict(flatten(b.model_dump(mode="json")))
    keys = [k for k in set(left) | set(right) if left.get(k) != right.get(k) and (not only or k.startswith(only))]
    return [(k, left.get(k), right.get(k)) for k in sorted(keys, key=_headline_first)]


def is_headline(key: str) -> bool:
    """Among the figures `compare` shows by default (up to gas per message and in all)."""
    return _headline_first(key)[0] <= HEADLINE.index("gas.total")


def _headline_first(key: str) -> tuple[int, str]:
    return next((i for i, prefix in enumerate(HEADLINE) if key.startswith(prefix)), len(HEADLINE)), key
