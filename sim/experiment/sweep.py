"""Sweeps: every combination of a grid of settings × replicate seeds, run in local processes or on a
Dask cluster, one tidy row per run in runs.csv written the moment it finishes.

A run is known by what it sets and its seed, never by its place in the grid, so `resume` into a sweep's
folder runs exactly the (settings, seed) pairs runs.csv does not hold yet: a widened grid or more
replicates run only what is new. Ctrl-C stops every run at once; the rows already written stay.
"""

from __future__ import annotations

import csv
import itertools
import json
import multiprocessing
import shutil
import signal
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry import PilotsimError
from registry.errors import Interrupted

from ..bridge.cache import NetworkCache
from ..bridge.topology import Backend
from ..engine.scenario import Scenario, ScenarioError, load
from ..engine.watcher import INVARIANTS
from ..results.metrics import flatten
from .compare import REGISTRY_HEADLINE
from .run import run_scenario

SWEEP_COLUMNS = ["messages.sent", "messages.delivered", "messages.failed", "messages.timed_out", "messages.rejected",
                 "messages.pending", "messages.acknowledged", "messages.refused_at_source", "latency_s.p50",
                 "latency_s.p95", "latency_s.p99", "latency_s.round_trip.p50", "throughput.delivered_per_s",
                 "gas.per_message", *(f"invariants.{name}" for name in INVARIANTS), "invariants.violation_count",
                 *REGISTRY_HEADLINE, "transactions.started", "transactions.committed", "transactions.aborted",
                 "transactions.partial", "transactions.commit_latency_s.p95", "transactions.lock_hold_s.max",
                 "wall.run_s"]


@dataclass(frozen=True)
class PlannedRun:
    index: int  # its number in the sweep's folder (runs added by a resume count on from the last)
    overrides: dict[str, Any]  # what it sets, its seed included

    @property
    def name(self) -> str:
        """Its folder: its number and what it sets (`003-rate_per_s=1.5-seed=6`)."""
        parts = [f"{key.rpartition('.')[2]}={value}" for key, value in self.overrides.items()]
        return "-".join([f"{self.index:03d}", *parts]).replace("/", "_").replace(" ", "")


@dataclass(frozen=True)
class SweepResult:
    table: Path  # runs.csv: every run of the folder, this grid's and earlier ones'
    rows: list[dict[str, str]]  # this grid's runs, as runs.csv holds them, in run order
    ran: int  # how many of them ran now (the rest were found done)


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


def run_identity(values: list[Any]) -> str:
    """What names a run across sweeps: its settings' values and seed, written one way (1 and 1.0 alike,
    a value read back from runs.csv alike the value it was written from)."""
    return json.dumps([_normal(v) for v in values], sort_keys=True)


def _cell(value: Any) -> str:
    """A setting as runs.csv writes it: JSON for what is not a plain number or word (`true`, `["a", "b"]`)."""
    return value if isinstance(value, str) else str(value) if isinstance(value, int | float) and not isinstance(
        value, bool) else json.dumps(value)


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return float(value)


def sweep(scenario: Scenario, grid: dict[str, list[Any]], replicates: int, jobs: int, out: Path,
          backend: Backend = "eth-tester", on_done: Callable[[int, int], None] | None = None,
          cache: NetworkCache | None = None, scheduler: str | None = None, resume: bool = False) -> SweepResult:
    """Every combination of `grid` × `replicates` seeds, `jobs` at a time in local processes, or as
    tasks of the Dask cluster at `scheduler` (`tcp://host:8786`; a run whose worker is lost is retried
    elsewhere); one row per run appended to runs.csv as it finishes (in run order at the end).
    `resume`: into a folder of a sweep that set the same keys, only the (settings, seed) runs.csv lacks."""
    wanted = sweep_runs(scenario, grid, replicates)
    table = out / "runs.csv"
    keys = [k for k in grid if k != "seed"]  # the seed has its own column
    header = ["run", *keys, "seed", *SWEEP_COLUMNS, "out"]
    if not resume and out.exists() and any(out.iterdir()):  # before anything runs: earlier results are kept
        raise ScenarioError(f"{out}: exists and is not empty; choose another --out (or --resume that sweep)")
    plan, todo = _plan(wanted, [*keys, "seed"], _rows(table, header) if resume else [])
    out.mkdir(parents=True, exist_ok=True)
    _clear_unfinished(out, todo)
    finished = len(wanted) - len(todo)
    if on_done:
        on_done(finished, len(wanted))
    tasks = [(scenario.model_dump(mode="json"), run.overrides, out / run.name, backend, cache, run.index)
             for run in todo]
    with table.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if handle.tell() == 0:
            writer.writerow(header)
        results = run_tasks(_sweep_one, tasks, jobs, scheduler)
        try:
            for row in results:
                writer.writerow([row["index"], *[_cell(row["overrides"].get(k)) for k in keys], row["seed"],
                                 *[row["metrics"][c] for c in SWEEP_COLUMNS], row["out"]])
                handle.flush()  # a sweep stopped half way keeps what it finished
                finished += 1
                if on_done:
                    on_done(finished, len(wanted))
        except KeyboardInterrupt:
            raise Interrupted(f"interrupted: {finished} of {len(wanted)} runs are in {table}; "
                              "the same command with --resume runs the rest") from None
        finally:
            results.close()  # the runs under way stop now, not when the generator is collected
    by_index = {int(row["run"]): row for row in _sorted_table(table, header)}
    return SweepResult(table, [by_index[i] for i in plan], len(todo))


def _plan(wanted: list[dict[str, Any]], identity: list[str],
          held: list[dict[str, str]]) -> tuple[list[int], list[PlannedRun]]:
    """This grid's runs by number, in grid order, and those still to run (numbered after the ones held)."""
    done = {run_identity([row[k] for k in identity]): row for row in held}
    following = max((int(row["run"]) for row in held), default=-1) + 1
    plan: list[int] = []
    todo: list[PlannedRun] = []
    for overrides in wanted:
        found = done.get(run_identity([overrides.get(k) for k in identity]))
        if found is None:
            todo.append(PlannedRun(following + len(todo), overrides))
        plan.append(int(found["run"]) if found else todo[-1].index)
    return plan, todo


def _sorted_table(table: Path, header: list[str]) -> list[dict[str, str]]:
    """runs.csv rewritten in run order (rows are appended as runs finish); its rows."""
    rows = sorted(_rows(table, header), key=lambda r: int(r["run"]))
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([row[c] for c in header] for row in rows)
    return rows


def batch_run(scenario: Scenario | str, grid: dict[str, list[Any]], out: Path, *, replicates: int = 1,
              jobs: int = 1, backend: Backend = "revm", scheduler: str | None = None) -> Any:
    """A sweep from Python, like Mesa's `batch_run`: its tidy table as a pandas DataFrame, one row per
    run of this grid (pandas: `pip install 'pilotsim[analysis]'`)."""
    try:
        import pandas  # noqa: PLC0415 - an optional extra, loaded only here
    except ImportError:
        raise PilotsimError("batch_run needs pandas: pip install 'pilotsim[analysis]'") from None
    base = load(scenario) if isinstance(scenario, str) else scenario
    result = sweep(base, grid, replicates, jobs, out, backend=backend, scheduler=scheduler)
    frame = pandas.read_csv(result.table)
    return frame[frame["run"].isin([int(row["run"]) for row in result.rows])].reset_index(drop=True)


def _rows(table: Path, header: list[str]) -> list[dict[str, str]]:
    """The runs a sweep's runs.csv holds; refused in one line if it is another sweep's or damaged."""
    if not table.exists():
        return []
    with table.open(newline="") as handle:
        reader = csv.reader(handle)
        found = next(reader, None)
        if found is None:
            return []
        if found != header:
            theirs = found[1:found.index("seed")] if "seed" in found else []
            raise ScenarioError(f"{table}: the runs of another sweep (it set {', '.join(theirs) or 'nothing'}); "
                                "choose another --out")
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not cells:
                continue
            if len(cells) != len(header) or not cells[0].isdigit():
                raise ScenarioError(f"{table}:{line}: not a row of this sweep ({len(cells)} cells, "
                                    f"{len(header)} expected); choose another --out")
            rows.append(dict(zip(header, cells, strict=True)))
        return rows


def _clear_unfinished(out: Path, todo: list[PlannedRun]) -> None:
    """What an interrupted run may have left: a half-written staging folder (its folder is written whole,
    so it is either absent or a finished run's that runs.csv missed; it is written again)."""
    names = {run.name for run in todo}
    for leftover in out.glob(".*"):
        if leftover.is_dir() and leftover.name[1:].rsplit(".", 1)[0] in names:
            shutil.rmtree(leftover)


SweepTask = tuple[dict[str, Any], dict[str, Any], Path, Backend, NetworkCache | None, int]


def _sweep_one(task: SweepTask) -> dict[str, Any]:
    scenario_data, overrides, out, backend, cache, index = task
    scenario = Scenario.model_validate(scenario_data).with_overrides(overrides)
    row = dict(flatten(run_scenario(scenario, out, backend=backend, cache=cache).model_dump(mode="json")))
    return {"index": index, "overrides": overrides, "seed": scenario.seed, "out": str(out),
            "metrics": {k: row.get(k) for k in SWEEP_COLUMNS}}


def _die_on_sigterm() -> None:
    """In a worker: the pool stops its workers with SIGTERM. pilotsim's own handler (exit with cleanup) would
    let a worker waiting for the task queue's lock live on, and the pool wait for it for good."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def run_tasks(worker: Callable[[Any], dict[str, Any]], tasks: Sequence[Any], jobs: int,
              scheduler: str | None) -> Generator[dict[str, Any]]:
    """`worker` on each task (each ending with its index), as they finish: `jobs` local processes, or tasks of the
    Dask cluster at `scheduler`. Closing the generator stops what is under way."""
    return _on_cluster(worker, scheduler, tasks) if scheduler else _in_processes(worker, jobs, tasks)


def _in_processes(worker: Callable[[Any], dict[str, Any]], jobs: int,
                  tasks: Sequence[Any]) -> Generator[dict[str, Any]]:
    if not tasks:
        return
    # Ctrl-C reaches the whole process group; the parent alone decides (it stops the pool), so the workers
    # ignore it from birth (forked while the parent ignores it for a moment).
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = multiprocessing.get_context("fork").Pool(min(jobs, len(tasks)), initializer=_die_on_sigterm)
    finally:
        signal.signal(signal.SIGINT, interrupt)
    try:
        yield from pool.imap_unordered(worker, tasks)
        pool.close()
    finally:
        pool.terminate()  # at once: a run under way when the sweep stops (Ctrl-C, a failed run) is abandoned
        pool.join()


def _on_cluster(worker: Callable[[Any], dict[str, Any]], scheduler: str,
                tasks: Sequence[Any]) -> Generator[dict[str, Any]]:
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
        futures = [client.submit(worker, task, key=f"pilotsim-run-{task[-1]}", pure=False, retries=2)
                   for task in tasks]
        try:
            for future in finished(futures):
                yield future.result()
        finally:
            client.cancel(futures)  # a stopped sweep leaves no run behind on the workers
