"""Run a scenario end to end and write its report; sweeps over processes; comparing reports."""

from __future__ import annotations

import csv
import itertools
import json
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from registry.errors import PilotsimError

from .engine import Simulation
from .metrics import flatten, summarize, versions
from .report import write_outputs
from .scenario import Scenario, ScenarioError

Progress = Callable[[str, float, float], None]
RUNS_DIR = Path("runs")
SWEEP_COLUMNS = ["messages.sent", "messages.delivered", "messages.failed", "messages.timed_out", "messages.rejected",
                 "messages.pending", "messages.acknowledged", "messages.refused_at_source", "latency_s.p50",
                 "latency_s.p95", "latency_s.p99", "latency_s.round_trip.p50", "throughput.delivered_per_s",
                 "gas.per_message", "invariants.exactly_once", "invariants.all_terminal",
                 "invariants.no_forged_accepted", "invariants.no_unmatched_delivery", "invariants.violation_count",
                 "wall.run_s"]


def default_out(scenario: Scenario) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return RUNS_DIR / f"{scenario.name}-seed{scenario.seed}-{stamp}"


def run_scenario(scenario: Scenario, out: Path, *, backend: str = "eth-tester",
                 progress: Progress | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    result = Simulation(scenario, backend=backend, progress=progress).run()
    report = summarize(result)
    report["versions"] = versions(backend)
    total = time.perf_counter() - started
    delivered = report["messages"]["delivered"]
    report["wall"] = {
        "setup_s": round(result.wall_setup_s, 3),
        "run_s": round(result.wall_run_s, 3),
        "total_s": round(total, 3),
        "delivered_per_wall_s": round(delivered / result.wall_run_s, 3) if result.wall_run_s else None,
        "sim_speedup": round(result.sim_seconds / result.wall_run_s, 2) if result.wall_run_s else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_mb_timeline": [[round(t, 1), mb] for t, mb in result.rss_mb],
    }
    write_outputs(out, report, result)
    return report


def parse_sets(sets: list[str]) -> dict[str, list[Any]]:
    """`key=v1,v2` options → {key: [v1, v2]}, values read as JSON where they parse (2, true, "x")."""
    grid: dict[str, list[Any]] = {}
    for item in sets:
        if "=" not in item:
            raise ScenarioError(f"--set {item!r}: expected key=value[,value…]")
        key, raw = item.split("=", 1)
        values = []
        for text in raw.split(","):
            try:
                values.append(json.loads(text))
            except json.JSONDecodeError:
                values.append(text)
        grid[key.strip()] = values
    return grid


def _sweep_one(args: tuple[dict[str, Any], dict[str, Any], Path, str]) -> dict[str, Any]:
    scenario_data, overrides, out, backend = args
    scenario = Scenario.model_validate(scenario_data).with_overrides(overrides)
    report = run_scenario(scenario, out, backend=backend)
    row = dict(flatten(report))
    return {"overrides": overrides, "seed": scenario.seed, "out": str(out),
            "metrics": {k: row.get(k) for k in SWEEP_COLUMNS}}


def sweep(scenario: Scenario, grid: dict[str, list[Any]], replicates: int, jobs: int, out: Path,
          backend: str = "eth-tester", on_done: Callable[[int, int], None] | None = None) -> Path:
    """Every combination of `grid` × `replicates` seeds, `jobs` at a time; one tidy row per run."""
    combos = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())] or [{}]
    runs = []
    for combo in combos:
        for replicate in range(replicates):
            overrides = combo | {"seed": scenario.seed + replicate}
            scenario.with_overrides(overrides)  # every combination validates before anything runs
            runs.append(overrides)
    out.mkdir(parents=True, exist_ok=True)
    tasks = [(scenario.model_dump(mode="json"), o, out / f"run-{i:03d}", backend) for i, o in enumerate(runs)]
    rows: list[dict[str, Any]] = [{} for _ in tasks]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_sweep_one, task): i for i, task in enumerate(tasks)}
        for done, future in enumerate(as_completed(futures), start=1):
            rows[futures[future]] = future.result()
            if on_done:
                on_done(done, len(tasks))
    table = out / "runs.csv"
    keys = list(grid)
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["run", *keys, "seed", *SWEEP_COLUMNS, "out"])
        for i, row in enumerate(rows):
            writer.writerow([i, *[row["overrides"].get(k) for k in keys], row["seed"],
                             *[row["metrics"][c] for c in SWEEP_COLUMNS], row["out"]])
    return table


def load_report(path: Path) -> dict[str, Any]:
    target = path / "report.json" if path.is_dir() else path
    try:
        return json.loads(target.read_text())
    except FileNotFoundError:
        raise PilotsimError(f"{target}: no such report") from None
    except (ValueError, OSError) as exc:
        raise PilotsimError(f"{target}: not a report ({exc})") from None


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(key, value in A, value in B) for every scalar that differs."""
    left, right = dict(flatten(a)), dict(flatten(b))
    return [(k, left.get(k), right.get(k)) for k in sorted(set(left) | set(right)) if left.get(k) != right.get(k)]
