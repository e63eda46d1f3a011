"""What a researcher at the CLI meets along the way: Ctrl-C, quiet runs, a grid given to `run`, the
progress counts, and a run that delivers nothing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
from rich.progress import Task, TaskID
from sim_kit import SHORT
from typer.testing import CliRunner

from sim.cli.app import app
from sim.cli.common import CountColumn
from sim.engine.scenario import Scenario
from sim.experiment.run import run_scenario

runner = CliRunner()
PILOTSIM = [sys.executable, "-c", "from sim.cli.app import main; main()"]


def test_ctrl_c_on_a_run_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    """SIGINT to the process group, as a terminal sends it: exit 130, one line that says nothing was written
    (not a blank line), and no output folder."""
    out = tmp_path / "run"
    run = subprocess.Popen([*PILOTSIM, "run", "baseline", "--out", str(out), "--set", "duration_s=5000",
                            "--no-cache"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    time.sleep(6)
    os.killpg(run.pid, signal.SIGINT)
    _, stderr = run.communicate(timeout=30)
    assert run.returncode == 130
    assert stderr == f"error: interrupted: the run stopped before its end; nothing written to {out}\n"
    assert not out.exists()


def test_a_quiet_run_says_where_its_results_are(tmp_path: Path) -> None:
    short = tmp_path / "short.toml"
    short.write_text(SHORT.replace("duration_s = 25", "duration_s = 3"))
    result = runner.invoke(app, ["run", str(short), "--quiet", "--out", str(tmp_path / "quiet")])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{tmp_path / 'quiet'}\n" and (tmp_path / "quiet" / "report.json").exists()


def test_several_values_given_to_run_point_to_sweep(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "baseline", "--set", "workload.rate_per_s=1,2", "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert ("--set workload.rate_per_s=1,2: run takes one value per setting; several values are a grid for "
            "`pilotsim sweep baseline --set workload.rate_per_s=1,2 --out DIR`") in result.stderr
    assert not (tmp_path / "o").exists()
    listed = runner.invoke(app, ["run", "baseline", "--set", "workload.zones=[Beijing,Chengdu]", "--set",
                                 "duration_s=2", "--quiet", "--out", str(tmp_path / "list")])
    assert listed.exit_code == 0, listed.stderr  # a setting that is a list takes its list as one value


def test_progress_counts_read_as_whole_numbers() -> None:
    task = Task(TaskID(0), "simulating", None, 31.199999999999996, _get_time=lambda: 0.0)
    assert str(CountColumn().render(task)) == "31"  # no total known yet: no "/None"
    task.total = 780.0
    assert str(CountColumn().render(task)) == "31/780"


def test_a_run_that_delivers_nothing_writes_its_report_without_warnings(tmp_path: Path) -> None:
    """One second at a low rate sends nothing: the plots say so, with no warning on stderr."""
    quiet = Scenario.model_validate({"name": "idle", "duration_s": 1, "drain_s": 1, "workload": {"rate_per_s": 0.01}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = run_scenario(quiet, tmp_path / "idle", backend="revm")
    assert report.messages.sent == 0
    assert "no message delivered" in (tmp_path / "idle" / "report.html").read_text()


@pytest.mark.anvil
def test_seeding_a_plain_anvil_from_python_says_how_to_fund_it() -> None:
    """A node started by hand funds 10 accounts; the registry's actors are more. The refusal names the cure,
    which the package exports; after it the seed goes through."""
    from registry import AnvilNode, Registry, RpcChain, TransactionRejected, fund_actors, load_seed_data

    with AnvilNode.start(accounts=10, genesis_timestamp=1_643_414_400) as node:
        chain = RpcChain(node.endpoint)
        registry = Registry.deploy(chain)
        with pytest.raises(TransactionRejected, match=r"from registry import fund_actors; fund_actors\(chain\)"):
            registry.seed(load_seed_data())
        assert fund_actors(chain) is not None
        fresh = Registry.deploy(chain)  # the refused seed had registered some zones on the first
        fresh.seed(load_seed_data())
        assert len(fresh.zones()) == 15


def test_a_file_that_is_no_report_is_named_by_its_first_wrong_field(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "report.json").write_text('{"x": 1}')
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "a")])
    assert result.exit_code == 1 and "validation error for" not in result.stderr
    assert re.search(r"report\.json: not a report \(\d+ fields wrong, first scenario: Field required\)", result.stderr)
