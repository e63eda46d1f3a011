"""`pilotsim security`: every attack against every verifier, cells from what the runs recorded; the committed
matrix (`.security.json`, the README's table) has every verifier, the catalogue and no unflagged cell."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Networks
from sim_kit import run_on
from typer.testing import CliRunner

from sim.cli.app import app
from sim.engine import scenario as scenarios
from sim.experiment.security import ATTACKS, SECURITY_JSON, VERIFIERS, outcome, security

runner = CliRunner()
OUTCOMES = {"refused", "flagged", "unflagged"}


def test_cells_say_what_the_run_recorded() -> None:
    assert outcome(accepted=True, broken=[]) == {"outcome": "unflagged", "invariants": []}
    assert outcome(accepted=True, broken=["authentic_origin"]) == {"outcome": "flagged",
                                                                    "invariants": ["authentic_origin"]}
    assert outcome(accepted=False, broken=["deadlines_met"])["outcome"] == "flagged"  # an effect, not a forgery
    assert outcome(accepted=False, broken=[]) == {"outcome": "refused", "invariants": []}


def test_two_attacks_against_every_verifier(tmp_path: Path) -> None:
    """Stolen committee keys beat the committee-signed verifiers only; no watcher for the window beats the
    optimistic one only; each verifier's baseline figures come along, the optimistic p50 past its window."""
    result = security(["keys-at-threshold", "fraud-unwatched"], jobs=2, out=tmp_path / "out")
    assert set(result) == {"matrix", "verifiers"}
    cells = {(a, v): c["outcome"] for a, row in result["matrix"].items() for v, c in row.items()}
    assert cells == {("keys-at-threshold", "committee"): "flagged", ("keys-at-threshold", "checkpoint"): "flagged",
                     ("keys-at-threshold", "light-client"): "refused", ("keys-at-threshold", "optimistic"): "refused",
                     ("fraud-unwatched", "committee"): "refused", ("fraud-unwatched", "checkpoint"): "refused",
                     ("fraud-unwatched", "light-client"): "refused", ("fraud-unwatched", "optimistic"): "flagged"}
    assert result["matrix"]["fraud-unwatched"]["optimistic"]["invariants"] == ["authentic_origin",
                                                                              "no_unmatched_delivery"]
    figures = result["verifiers"]
    assert list(figures) == VERIFIERS and all(set(f) == {"p50_s", "p95_s", "gas_per_message"} for f in figures.values())
    assert 60 <= figures["optimistic"]["p50_s"] < 70 and figures["committee"]["p50_s"] < 10
    assert figures["light-client"]["gas_per_message"] > figures["checkpoint"]["gas_per_message"]
    written = json.loads((tmp_path / "out" / "security.json").read_text())
    assert written == result
    html = (tmp_path / "out" / "security.html").read_text()
    assert html.count("#cf222e") == 0 and html.count("#9a6700") == 3  # no unflagged cell; three flagged
    assert "| keys-at-threshold | accepted, flagged by" in (tmp_path / "out" / "security.md").read_text()
    assert len(list((tmp_path / "out" / "runs").iterdir())) == 12  # the baseline and two attacks, four verifiers


def test_the_committed_matrix_is_whole_and_nothing_gets_through_unseen() -> None:
    result = json.loads(SECURITY_JSON.read_text())
    assert list(result["verifiers"]) == VERIFIERS and list(result["matrix"]) == ATTACKS and len(ATTACKS) >= 8
    for row in result["matrix"].values():
        assert list(row) == VERIFIERS
        assert all(cell["outcome"] in OUTCOMES - {"unflagged"} for cell in row.values())
        assert all(bool(cell["invariants"]) == (cell["outcome"] == "flagged") for cell in row.values())


def test_bad_choices_are_one_line() -> None:
    result = runner.invoke(app, ["security", "--verifier", "multisig"])
    assert result.exit_code == 1 and "--verifier multisig: not a verifier" in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["security", "--attack", "keys-at-treshold"])
    assert result.exit_code == 1 and "keys-at-threshold" in result.stderr and "Traceback" not in result.output


def test_an_attack_late_in_the_drain_runs_to_its_end_before_the_run_stops(networks: Networks, tmp_path: Path) -> None:
    """The workload settles long before 300 s; the run still waits for the attack, so its outcome is recorded (no
    record would read as refused)."""
    scenario = scenarios.load("fraud-unwatched").with_overrides({"faults.0.at_s": 300})
    report = run_on(networks, scenario, tmp_path / "late")
    [attack] = report.attacks
    assert attack.kind == "fraud-unwatched" and attack.processed == attack.messages == 5 and attack.time_s > 300
    assert report.invariants.held["no_unmatched_delivery"] is False
