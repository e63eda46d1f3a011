"""Helpers for the simulation tests: a short steady scenario, running scenarios on the shared
networks of `conftest.Networks` (each run inside a snapshot, so runs cannot leak into each other),
and scenario files the CLI must refuse."""

from __future__ import annotations

import tomllib
from pathlib import Path

from conftest import Networks
from typer.testing import CliRunner

from sim.cli.app import app
from sim.engine import scenario as scenarios
from sim.engine.scenario import Scenario
from sim.engine.watcher import INVARIANTS
from sim.experiment.run import run_scenario
from sim.results.report import Report

SHORT = """
name = "short"
description = "A short steady run for tests"
seed = 5
duration_s = 25
drain_s = 300

[workload]
rate_per_s = 1.0
ttl_s = 600
"""


def short_scenario() -> Scenario:
    return Scenario.model_validate(tomllib.loads(SHORT))


def shortened(name: str, duration_s: float) -> Scenario:
    """A built-in scenario with its workload cut to `duration_s` (its faults keep their times)."""
    return scenarios.load(name).with_overrides({"duration_s": duration_s})


def run_on(networks: Networks, scenario: Scenario, out: Path) -> Report:
    """Run `scenario` on the shared network of its settings; outputs into `out`."""
    return run_scenario(scenario, out, network=networks.get(scenario.network_config()))


def all_hold(report: Report) -> bool:
    return all(report.invariants.held[name] for name in INVARIANTS)


def refused_scenario(tmp_path: Path, body: str) -> tuple[Path, str]:
    """`pilotsim run` on a scenario file holding `body`, which must be refused before anything runs: exit
    1, no traceback, one line on stderr, no output folder. The file and that line."""
    path, out = tmp_path / "bad.toml", tmp_path / "out"
    path.write_text(body)
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert not out.exists()
    return path, lines[0]
