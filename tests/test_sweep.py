"""`pilotsim sweep`: every combination of settings × replicates, over processes, one tidy row per run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sim_kit import SHORT
from typer.testing import CliRunner

from registry import PilotsimError
from sim.cli.app import app
from sim.engine.fault_kinds import ChainHalt
from sim.engine.scenario import load
from sim.experiment.settings import parse_sets
from sim.experiment.sweep import batch_run, sweep_runs

runner = CliRunner()


def test_sweep_writes_one_tidy_row_per_run(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(SHORT)
    out = tmp_path / "sweep"
    result = runner.invoke(app, ["sweep", str(short), "--set", "workload.rate_per_s=0.5,1.5", "--replicates", "2",
                                 "--jobs", "2", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    with (out / "runs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["workload.rate_per_s"], r["seed"]) for r in rows] == [("0.5", "5"), ("0.5", "6"), ("1.5", "5"),
                                                                     ("1.5", "6")]
    assert all(r["invariants.exactly_once"] == "True" for r in rows)
    sent = [int(r["messages.sent"]) for r in rows]
    assert sent[2] > sent[0] and sent[3] > sent[1]  # more load, more messages
    assert all((Path(r["out"]) / "report.json").exists() for r in rows)
    assert [Path(r["out"]).name for r in rows] == ["000-rate_per_s=0.5-seed=5", "001-rate_per_s=0.5-seed=6",
                                                   "002-rate_per_s=1.5-seed=5", "003-rate_per_s=1.5-seed=6"]
    assert "4 runs" in result.stdout and "rate_per_s" in result.stdout and "all true" in result.stdout  # summary
    again = runner.invoke(app, ["sweep", str(short), "--set", "workload.rate_per_s=2", "--out", str(out)])
    assert again.exit_code == 1 and "exists and is not empty" in again.stderr  # the first sweep's results kept
    assert len(list(out.iterdir())) == 5
    result = runner.invoke(app, ["sweep", str(short), "--set", "workload.nope=1", "--out", str(tmp_path / "bad")])
    assert result.exit_code == 1 and "--set workload.nope: unknown setting 'workload.nope'" in result.stderr


def test_replicates_count_up_from_the_seeds_the_grid_sets() -> None:
    baseline = load("baseline")
    seeds = [run["seed"] for run in sweep_runs(baseline, {"seed": [10, 20]}, replicates=2)]
    assert seeds == [10, 11, 20, 21]
    runs = sweep_runs(baseline, {"workload.rate_per_s": [0.5]}, replicates=3)
    assert [run["seed"] for run in runs] == [baseline.seed, baseline.seed + 1, baseline.seed + 2]


def test_fault_timing_and_list_settings_can_be_swept() -> None:
    halt = load("chain-halt")
    grid = parse_sets(["faults.0.at_s=5,50", "workload.answer_bytes=[256,512],[1024,2048]"])
    assert grid == {"faults.0.at_s": [5, 50], "workload.answer_bytes": [[256, 512], [1024, 2048]]}
    runs = sweep_runs(halt, grid, replicates=1)
    assert len(runs) == 4
    variant = halt.with_overrides(runs[-1])
    assert variant.faults[0].at_s == 50 and variant.workload.answer_bytes == (1024, 2048)
    kept, original = variant.faults[0], halt.faults[0]
    assert isinstance(kept, ChainHalt) and isinstance(original, ChainHalt)
    assert kept.chain == original.chain  # the rest of the fault kept
    with pytest.raises(PilotsimError, match=r"faults.3.at_s: faults has 1 item; add one in the scenario file"):
        halt.with_overrides({"faults.3.at_s": 1})


def test_a_sweep_on_a_local_dask_cluster_gives_the_rows_of_local_processes(tmp_path: Path) -> None:
    """A scheduler and two worker processes on 127.0.0.1; 2 settings x 2 replicates; the same rows as
    local processes give (wall time and folders aside)."""
    from distributed import LocalCluster

    short = tmp_path / "short.toml"
    short.write_text(SHORT)
    args = ["sweep", str(short), "--set", "workload.rate_per_s=0.5,1.5", "--replicates", "2"]
    local = runner.invoke(app, [*args, "--jobs", "2", "--out", str(tmp_path / "local")])
    assert local.exit_code == 0, local.stderr
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        remote = runner.invoke(app, [*args, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask")])
    assert remote.exit_code == 0, remote.stderr

    def rows(folder: str) -> list[dict[str, str]]:
        with (tmp_path / folder / "runs.csv").open() as handle:
            return [{k: v for k, v in r.items() if k not in ("wall.run_s", "out")} for r in csv.DictReader(handle)]

    assert rows("dask") == rows("local") and len(rows("local")) == 4


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(SHORT)
    result = runner.invoke(app, ["sweep", str(short), "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "cannot reach the Dask scheduler" in result.stderr


def test_a_stopped_sweep_resumes_with_the_runs_it_had_not_finished(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(SHORT)
    out = tmp_path / "sweep"
    args = ["sweep", str(short), "--set", "workload.rate_per_s=0.5,1.5,2.5", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    table = out / "runs.csv"

    def rows() -> list[dict[str, str]]:
        with table.open() as handle:
            return [{k: v for k, v in r.items() if k != "wall.run_s"} for r in csv.DictReader(handle)]

    complete = rows()
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:2]) + "\n")  # as if stopped after its first run
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0, resumed.stderr
    assert rows() == complete and len(complete) == 3  # the two missing runs run again, in run order
    assert table.read_text().count("run,") == 1  # one header, however often resumed
    other = runner.invoke(app, ["sweep", str(short), "--set", "workload.ttl_s=60", "--out", str(out), "--resume"])
    assert other.exit_code == 1 and "the runs of another sweep" in other.stderr


def test_batch_run_gives_the_sweep_as_a_dataframe(tmp_path: Path) -> None:
    """From Python, like Mesa's batch_run: one row per run, settings and figures as columns."""
    short = tmp_path / "short.toml"
    short.write_text(SHORT)
    frame = batch_run(str(short), {"workload.rate_per_s": [0.5, 1.5]}, tmp_path / "batch", replicates=2)
    assert list(frame["workload.rate_per_s"]) == [0.5, 0.5, 1.5, 1.5] and list(frame["seed"]) == [5, 6, 5, 6]
    means = frame.groupby("workload.rate_per_s")["messages.sent"].mean()
    assert means[1.5] > means[0.5]
    assert frame["invariants.exactly_once"].all()


def test_the_sweep_interval_is_students_t_and_reads_like_the_rest() -> None:
    """Two replicates of 70 and 58: mean 64, and a 95% interval of ± 76 (Student's t, one degree of freedom),
    not the normal approximation's ± 12; gas with thousands separators, as everywhere else."""
    from sim.cli.simulate import _interval

    assert _interval(["70", "58"]) == "64 ± 76.2"
    assert _interval(["403600", "385000"]) == "394,300 ± 118,166"
    assert _interval(["5", ""]) == "5"  # one value: no interval


def test_a_resumed_sweep_runs_only_the_settings_and_seeds_it_has_not_run(tmp_path: Path) -> None:
    """Runs are known by (settings, seed), not by their place in the grid: another rate, or one more
    replicate, runs only what is new, and the summary shows the grid asked for."""
    short = tmp_path / "short.toml"
    short.write_text(SHORT.replace("duration_s = 25", "duration_s = 8"))
    out = tmp_path / "sweep"
    first = runner.invoke(app, ["sweep", str(short), "--set", "workload.rate_per_s=0.5,1", "--out", str(out)])
    assert first.exit_code == 0, first.stderr
    wider = runner.invoke(app, ["sweep", str(short), "--set", "workload.rate_per_s=0.5,3", "--out", str(out),
                                "--replicates", "2", "--resume"])
    assert wider.exit_code == 0, wider.stderr
    assert "1 of 4 runs were done already; ran 3" in wider.stderr
    with (out / "runs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["run"], r["workload.rate_per_s"], r["seed"]) for r in rows] == [
        ("0", "0.5", "5"), ("1", "1", "5"), ("2", "0.5", "6"), ("3", "3", "5"), ("4", "3", "6")]
    assert "4 runs" in wider.stdout and "│          3 │" in wider.stdout  # this grid: rate 0.5 and 3, not 1
    assert not any(line.startswith("│          1 │") for line in wider.stdout.splitlines())
    sent = {(r["workload.rate_per_s"], r["seed"]): int(r["messages.sent"]) for r in rows}
    assert sent[("3", "5")] > sent[("0.5", "5")]  # rate 3's own figures, not another run's
    again = runner.invoke(app, ["sweep", str(short), "--set", "workload.rate_per_s=0.5,3", "--out", str(out),
                                "--replicates", "2", "--resume"])
    assert again.exit_code == 0 and "4 of 4 runs were done already; ran 0" in again.stderr


def test_a_damaged_runs_table_is_refused_in_one_line(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(SHORT)
    out = tmp_path / "sweep"
    out.mkdir()
    header = runner.invoke(app, ["sweep", str(short), "--set", "workload.rate_per_s=0.5", "--out", str(tmp_path / "h"),
                                 "--set", "duration_s=1"])
    assert header.exit_code == 0, header.stderr
    lines = (tmp_path / "h" / "runs.csv").read_text().splitlines()
    (out / "runs.csv").write_text(lines[0] + "\nrun,0.5\n")
    result = runner.invoke(app, ["sweep", str(short), "--set", "workload.rate_per_s=0.5", "--set", "duration_s=1",
                                 "--out", str(out), "--resume"])
    assert result.exit_code == 1 and "runs.csv:2: not a row of this sweep" in result.stderr


def test_ctrl_c_stops_a_sweep_at_once_keeping_what_finished(tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it: every run stops (none goes on in the
    background), the finished rows stay under one header."""
    import os
    import signal
    import subprocess
    import sys
    import time

    short = tmp_path / "short.toml"
    short.write_text(SHORT.replace("duration_s = 25", "duration_s = 6"))
    out = tmp_path / "sweep"
    args = [sys.executable, "-c", "from sim.cli.app import main; main()", "sweep", str(short), "--out", str(out),
            "--set", "workload.rate_per_s=0.5,1,1.5,2,2.5,3,3.5,4", "--set", "duration_s=6,400", "--jobs", "2",
            "--backend", "revm", "--no-cache"]
    sweep = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    table = out / "runs.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not table.exists() or table.read_text().count("\n") < 2):
        time.sleep(0.2)
    assert table.exists() and table.read_text().count("\n") >= 2, "no run finished in 120 s"
    os.killpg(sweep.pid, signal.SIGINT)
    stopped = time.monotonic()
    _, stderr = sweep.communicate(timeout=60)
    assert time.monotonic() - stopped < 10  # at once, not after the queued runs
    assert sweep.returncode == 130
    assert "interrupted:" in stderr and "--resume" in stderr and "Traceback" not in stderr
    time.sleep(0.5)
    survivors = subprocess.run(["pgrep", "-g", str(sweep.pid)], capture_output=True, text=True, check=False)
    assert survivors.stdout.strip() == ""  # no worker left running
    with table.open() as handle:
        finished = list(csv.DictReader(handle))
    assert 1 <= len(finished) < 16 and table.read_text().count("run,") == 1
