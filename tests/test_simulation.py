"""`pilotsim run` and friends: outputs, reproducibility, every built-in fault scenario's findings,
bad scenario files, sweeps, comparisons, and the HTML report in a real browser."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.engine import Simulation
from sim.metrics import summarize
from sim.relayer import OBSERVED_BLOCKS
from sim.scenario import Scenario

runner = CliRunner()
INVARIANTS = ("exactly_once", "all_terminal", "no_forged_accepted", "no_unmatched_delivery")
SHORT = """
name = "short"
description = "A short steady run for tests"
seed = 5
duration_s = 40
drain_s = 300

[workload]
rate_per_s = 1.0
ttl_s = 600
"""


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOTSIM_HOME", str(tmp_path / "home"))


@pytest.fixture
def short(tmp_path: Path) -> Path:
    path = tmp_path / "short.toml"
    path.write_text(SHORT)
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> dict:
    code, stdout, stderr = run("run", *args, "--json")
    assert code == 0, stderr
    return json.loads(stdout)


def without_machine(report: dict) -> dict:
    return {k: v for k, v in report.items() if k not in ("wall", "versions")}


def test_run_with_no_arguments_writes_the_four_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = run("run")
    assert code == 0, stderr
    [folder] = list((tmp_path / "runs").iterdir())
    assert sorted(p.name for p in folder.iterdir()) == ["messages.csv", "report.html", "report.json", "report.md"]
    report = json.loads((folder / "report.json").read_text())
    assert report["scenario"]["name"] == "baseline"
    assert report["messages"]["sent"] > 0 and report["messages"]["pending"] == 0
    assert all(report["invariants"][k] for k in INVARIANTS), report["invariants"]["violations"][:3]
    assert report["network"] == report["network"] | {"zones": 15, "entities": 164, "sectors": 16, "chains": 16,
                                                      "topology": "mesh", "verifier": "checkpoint"}
    for phase in ("source_inclusion", "relay_pickup", "delivery", "execution", "acknowledgement"):
        assert report["latency_s"]["by_phase"][phase]["count"] > 0
    assert report["latency_s"]["p50"] <= report["latency_s"]["p95"] <= report["latency_s"]["p99"]
    assert {"contract": "Gateway", "function": "deliverCheckpoint"}.items() <= next(
        r for r in report["gas"]["by_function"] if r["function"] == "deliverCheckpoint").items()
    assert report["wall"]["total_s"] > 0 and report["versions"]["backend"] == "eth-tester"
    with (folder / "messages.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == report["messages"]["sent"]
    assert {r["outcome"] for r in rows} == {"delivered"} and all(float(r["latency_s"]) > 0 for r in rows)
    assert "Active" not in stdout and "baseline" in stdout  # the summary table


def test_same_seed_same_report_and_another_seed_another(short: Path, tmp_path: Path) -> None:
    first = run_json(str(short), "--out", str(tmp_path / "a"))
    second = run_json(str(short), "--out", str(tmp_path / "b"))
    other = run_json(str(short), "--seed", "6", "--out", str(tmp_path / "c"))
    assert without_machine(first) == without_machine(second)
    assert (tmp_path / "a" / "messages.csv").read_text() == (tmp_path / "b" / "messages.csv").read_text()
    assert without_machine(other) != without_machine(first)
    assert other["scenario"]["settings_hash"] == first["scenario"]["settings_hash"]
    assert other["scenario"]["seed"] == 6



def test_waiting_acknowledgements_save_deliveries_and_gas(short: Path, tmp_path: Path) -> None:
    now = run_json(str(short), "--out", str(tmp_path / "a"))
    waited = run_json(str(short), "--set", "relayers.ack_wait_s=10", "--out", str(tmp_path / "b"))
    assert waited["messages"]["acknowledged"] == waited["messages"]["sent"] == now["messages"]["sent"]
    assert all(waited["invariants"][k] for k in INVARIANTS)
    assert waited["relayers"]["delivery_transactions"] < 0.9 * now["relayers"]["delivery_transactions"]
    assert waited["gas"]["per_message"] < now["gas"]["per_message"]
    def ack_p50(report: dict) -> float:
        return report["latency_s"]["by_phase"]["acknowledgement"]["p50"]

    assert ack_p50(waited) > ack_p50(now)

EXPECTED = {
    "relayer-outage": {"invariants": dict.fromkeys(INVARIANTS, True)},
    "chain-halt": {"invariants": dict.fromkeys(INVARIANTS, True)},
    "keys-below-threshold": {"invariants": dict.fromkeys(INVARIANTS, True)},
    "keys-at-threshold": {"invariants": {"exactly_once": True, "no_forged_accepted": True,
                                         "no_unmatched_delivery": False}},
    "verifier-bypass": {"invariants": {"exactly_once": True, "no_forged_accepted": False,
                                       "no_unmatched_delivery": False}},
    "zero-root": {"invariants": {"exactly_once": True, "no_forged_accepted": False, "no_unmatched_delivery": False}},
    "admin-call": {"invariants": dict.fromkeys(INVARIANTS, True)},
    "rate-limit-storm": {"invariants": dict.fromkeys(INVARIANTS, True)},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fault_scenarios_produce_their_findings(name: str, tmp_path: Path) -> None:
    report = run_json(name, "--out", str(tmp_path / name))
    for key, value in EXPECTED[name]["invariants"].items():
        assert report["invariants"][key] is value, (key, report["invariants"]["violations"][:5])
    messages, attacks = report["messages"], report["attacks"]
    assert messages["sent"] > 0
    if name == "relayer-outage":
        assert report["relayers"]["restarts"] == 1 and messages["pending"] == 0
        assert messages["delivered"] == messages["sent"]  # nothing lost, nothing duplicated (exactly_once)
        assert report["latency_s"]["max"] > 60  # the messages that waited out the outage
    elif name == "chain-halt":
        assert messages["timed_out"] > 0 and messages["pending"] == 0
        assert messages["timed_out"] + messages["delivered"] == messages["sent"]
    elif name == "keys-below-threshold":
        assert [(a["status"], a["reason"]) for a in attacks] == [(False, "TooFewSignatures")]
    elif name in ("keys-at-threshold", "verifier-bypass", "zero-root"):
        forged = set(attacks[0]["message_ids"])
        assert attacks[0]["status"] and attacks[0]["processed"] == len(forged) == 5
        flagged = {v["message_id"] for v in report["invariants"]["violations"]
                   if v["invariant"] == "no_unmatched_delivery"}
        assert flagged == forged
    elif name == "admin-call":
        assert [a["outcomes"] for a in attacks] == [[["rejected"]]] * 4
    elif name == "rate-limit-storm":
        assert messages["refused_at_source"] > 0 and messages["pending"] == 0
        assert set(messages["refused_at_source_by_reason"]) == {"RateLimited"}


@pytest.mark.parametrize(("name", "duration"), [("hub", 40), ("peak-load", 20)])
def test_hub_and_peak_load_keep_every_invariant(name: str, duration: int, tmp_path: Path) -> None:
    from sim import scenario as scenarios

    path = tmp_path / f"{name}.toml"
    text = (scenarios.SCENARIOS_DIR / f"{name}.toml").read_text()
    path.write_text(text.replace("duration_s = ", f"duration_s = {duration}  # was ", 1))
    report = run_json(str(path), "--out", str(tmp_path / "out"))
    assert all(report["invariants"][k] for k in INVARIANTS)
    assert report["messages"]["delivered"] == report["messages"]["sent"] > 0
    assert report["network"]["topology"] == ("hub" if name == "hub" else "mesh")


@pytest.mark.parametrize(("body", "fragment"), [
    ("name = 'x'\n[workload]\nrate_per_s = -1\n", "workload.rate_per_s: Input should be greater than 0"),
    ("name = 'x'\n[workload]\nrate = 1\n", "workload.rate: Extra inputs are not permitted"),
    ("name = 'x'\n[[faults]]\nkind = 'meteor'\n", "faults.0.kind: Input should be"),
    ("name = 'x'\nduration_s = 'long'\n", "duration_s: Input should be a valid number"),
    ("name = 'x'\n[network\n", "not valid TOML"),
    ("name = 'x'\n[workload]\npayload_bytes = [10, 1]\n", "workload: payload_bytes must be [low, high]"),
])
def test_malformed_scenario_is_one_line_and_writes_nothing(body: str, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    out = tmp_path / "out"
    code, _, stderr = run("run", str(path), "--out", str(out))
    assert code == 1
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0] and str(path) in lines[0], stderr
    assert not out.exists()


def test_unknown_scenario_and_bad_flags(tmp_path: Path) -> None:
    code, _, stderr = run("run", "basline", "--out", str(tmp_path / "o"))
    assert code == 1 and "did you mean 'baseline'" in stderr
    assert runner.invoke(app, ["run", "--seed", "-3"]).exit_code == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, stderr = run("run", "baseline", "--out", str(tmp_path / "full"))
    assert code == 1 and "not empty" in stderr
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_scenarios_list_and_show() -> None:
    code, stdout, _ = run("scenarios")
    assert code == 0
    for name in ["baseline", "hub", "peak-load", "relayer-outage", "chain-halt", "keys-below-threshold",
                 "keys-at-threshold", "verifier-bypass", "zero-root", "admin-call", "rate-limit-storm"]:
        assert name in stdout
    code, stdout, _ = run("scenarios", "show", "zero-root")
    assert code == 0 and 'kind = "zero-root"' in stdout
    code, _, stderr = run("scenarios", "show", "zero-rot")
    assert code == 1 and "did you mean 'zero-root'" in stderr


def test_sweep_writes_one_tidy_row_per_run(short: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    code, stdout, stderr = run("sweep", str(short), "--set", "workload.rate_per_s=0.5,1.5", "--replicates", "2",
                               "--jobs", "2", "--out", str(out))
    assert code == 0, stderr
    with (out / "runs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["workload.rate_per_s"], r["seed"]) for r in rows] == [("0.5", "5"), ("0.5", "6"), ("1.5", "5"),
                                                                     ("1.5", "6")]
    assert all(r["invariants.exactly_once"] == "True" for r in rows)
    sent = [int(r["messages.sent"]) for r in rows]
    assert sent[2] > sent[0] and sent[3] > sent[1]  # more load, more messages
    assert all((Path(r["out"]) / "report.json").exists() for r in rows)
    code, _, stderr = run("sweep", str(short), "--set", "workload.nope=1", "--out", str(tmp_path / "bad"))
    assert code == 1 and "no such setting 'nope'" in stderr


def test_compare_reports(short: Path, tmp_path: Path) -> None:
    run_json(str(short), "--out", str(tmp_path / "a"))
    run_json(str(short), "--seed", "9", "--out", str(tmp_path / "b"))
    code, stdout, _ = run("compare", str(tmp_path / "a"), str(tmp_path / "a" / "report.json"))
    assert code == 0 and "the reports agree" in stdout
    code, stdout, _ = run("compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 0 and "scenario.seed" in stdout and "differences" in stdout
    code, _, stderr = run("compare", str(tmp_path / "a"), str(tmp_path / "missing"))
    assert code == 1 and "no such report" in stderr


def test_html_report_shows_its_plots_in_headless_chromium(short: Path, tmp_path: Path) -> None:
    import matplotlib.image as mpimg
    import numpy as np

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium is needed (Debian package chromium; .ci/run installs it)"
    run_json(str(short), "--out", str(tmp_path / "run"))
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,1800", f"--screenshot={shot}",
                    (tmp_path / "run" / "report.html").as_uri()], check=True, capture_output=True, timeout=120)
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    not_white = (pixels < 0.95).any(axis=2).mean()
    colours = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert not_white > 0.05, f"page looks blank ({not_white:.1%} non-white)"
    assert colours > 200, f"too few colours for plots ({colours})"
    html = (tmp_path / "run" / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "http" not in html.replace("http-equiv", "")


SOAK_SHORT = """
name = "soak-short"
description = "The soak scenario, shortened for CI"
seed = 3
duration_s = 60
drain_s = 900

[relayers]
count = 2
poll_interval_s = 2.0

[workload]
rate_per_s = 4.0
ttl_s = 900

[[faults]]
kind = "relayer-outage"
relayer = 0
at_s = 3
jitter_s = 8
duration_s = 13

[[faults]]
kind = "chain-halt"
chain = "Guangzhou"
at_s = 20
jitter_s = 6
duration_s = 20

[[faults]]
kind = "relayer-outage"
relayer = 1
at_s = 28
jitter_s = 6
duration_s = 9

[[faults]]
kind = "relayer-outage"
relayer = 0
at_s = 44
jitter_s = 6
duration_s = 5
"""


@pytest.mark.anvil
def test_soak_shortened_on_anvil(tmp_path: Path) -> None:
    """The soak, shortened: relayers killed and restarted three times at seeded random moments and
    a chain halted, on Anvil nodes: nothing lost, nothing delivered twice, and nothing kept per
    message beyond the records the report is made of. (The full soak: `pilotsim run soak --rpc`.)"""
    scenario = Scenario.model_validate(tomllib.loads(SOAK_SHORT))
    simulation = Simulation(scenario, backend="anvil")
    result = simulation.run()
    report = summarize(result)
    messages = report["messages"]
    assert messages["sent"] > 300 and messages["pending"] == 0
    assert messages["delivered"] == messages["sent"] == messages["acknowledged"]
    assert all(report["invariants"][k] for k in INVARIANTS)
    assert report["relayers"]["restarts"] == 3
    starts = [(f["at_s"], f["started_s"], f["at_s"] + f["jitter_s"]) for f in report["faults"]]
    assert all(low <= start <= high for low, start, high in starts)
    assert len({start for _, start, _ in starts} - {low for low, _, _ in starts}) == 4, "moments are drawn"
    # memory: relayers of a simulation keep no per-message history, the committee's view of past
    # blocks is bounded, pickup times and pending answers are dropped once used
    for slot in simulation.slots:
        relayer = slot.relayer
        assert not (relayer.sent or relayer.deliveries or relayer.processed or relayer.acknowledged)
        assert relayer.pending() == 0 and len(relayer._observed) <= OBSERVED_BLOCKS
    assert not simulation._picked and not simulation._pending_answers
    assert result.rss_mb, "memory is sampled during the run"
