"""`pilotsim run` and its outputs: the four files, reproducibility (also across shared and fresh
networks), acknowledgement waiting, comparing reports, and the HTML report in a real browser."""

from __future__ import annotations

import csv
import html as html_lib
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import numpy as np
import pytest
from conftest import Networks
from sim_kit import SHORT, all_hold, run_on, short_scenario, shortened
from typer.testing import CliRunner

from registry import PilotsimError
from sim.bridge.cache import NetworkCache
from sim.bridge.provision import build_network
from sim.cli.app import app
from sim.engine import scenario as scenarios
from sim.engine.fault_kinds import ChainHalt
from sim.engine.scenario import Scenario
from sim.engine.watcher import INVARIANTS
from sim.experiment.run import run_scenario
from sim.results.outputs import summary_rows
from sim.results.report import Report, load_report

runner = CliRunner()


@pytest.fixture(autouse=True)
def private_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOTSIM_HOME", str(tmp_path / "home"))


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


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
    assert {"contract": "Gateway", "function": "deliver"}.items() <= next(
        r for r in report["gas"]["by_function"] if r["function"] == "deliver").items()
    assert report["wall"]["total_s"] > 0 and report["versions"]["backend"] == "revm"  # the default
    with (folder / "messages.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == report["messages"]["sent"]
    assert {r["outcome"] for r in rows} == {"delivered"} and all(float(r["latency_s"]) > 0 for r in rows)
    # what each message carried on chain: a request's ids, sector, query hash and deadline (6 words), a response's
    # request id, answer hash and size (4 words), whatever size the answer is (workload.answer_bytes)
    assert {(r["kind"], r["payload_bytes"]) for r in rows} == {("request", "192"), ("response", "128")}
    assert "Active" not in stdout and "baseline" in stdout  # the summary table
    assert load_report(folder).without_machine() == {k: v for k, v in report.items() if k not in ("wall", "versions")}


def test_same_seed_same_report_built_cached_or_shared(networks: Networks, network_cache: NetworkCache,
                                                     tmp_path: Path) -> None:
    """One scenario and seed, one report: on an eth-tester network built from scratch (--no-cache), on
    one loaded from the cache of built networks, on revm, and twice on a shared revm network inside
    snapshots."""
    path = tmp_path / "short.toml"
    path.write_text(SHORT)
    build_network(short_scenario().network_config(), cache=network_cache).close()  # in the cache for "cached"
    shared = networks.get(short_scenario().network_config())
    reports = {}
    for name, flags in (("built", ["--backend", "eth-tester", "--no-cache"]), ("cached", ["--backend", "eth-tester"]),
                        ("revm", ["--backend", "revm"])):
        code, stdout, stderr = run("run", str(path), "--json", "--out", str(tmp_path / name), *flags)
        assert code == 0, stderr
        reports[name] = Report.model_validate_json(stdout)
    assert reports["built"].wall is not None and not reports["built"].wall.network_from_cache
    assert reports["cached"].wall is not None and reports["cached"].wall.network_from_cache
    reports["shared"] = run_scenario(short_scenario(), tmp_path / "shared", network=shared)
    reports["again"] = run_scenario(short_scenario(), tmp_path / "again", network=shared)
    first = reports["built"].without_machine()
    assert all(r.without_machine() == first for r in reports.values())
    assert len({(tmp_path / name / "messages.csv").read_text() for name in reports}) == 1
    other = run_on(networks, short_scenario().with_overrides({"seed": 6}), tmp_path / "other")
    assert other.without_machine() != first
    assert other.scenario.settings_hash == reports["built"].scenario.settings_hash and other.scenario.seed == 6


def test_a_run_replaces_only_an_earlier_runs_outputs(networks: Networks, tmp_path: Path) -> None:
    """From Python, a run into a folder of an earlier run replaces it; a folder holding anything else
    is refused before the run starts, and left as it was."""
    out = tmp_path / "out"
    run_on(networks, short_scenario(), out)
    (out / "report.md").write_text("stale")
    run_on(networks, short_scenario(), out)
    assert (out / "report.md").read_text() != "stale"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(PilotsimError, match=r"mine: holds other files \(notes.txt"):
        run_scenario(short_scenario(), mine, network=networks.get(short_scenario().network_config()))
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_waiting_acknowledgements_save_deliveries_and_gas(networks: Networks, tmp_path: Path) -> None:
    now = run_on(networks, short_scenario(), tmp_path / "a")
    waited = run_on(networks, short_scenario().with_overrides({"relayers.ack_wait_s": 10}), tmp_path / "b")
    assert waited.messages.acknowledged == waited.messages.sent == now.messages.sent
    assert all_hold(waited)
    assert waited.relayers.delivery_transactions < 0.9 * now.relayers.delivery_transactions
    assert waited.gas.per_message is not None and now.gas.per_message is not None
    assert waited.gas.per_message < now.gas.per_message
    acknowledgement = "acknowledgement"
    assert waited.latency_s.by_phase[acknowledgement].p50 > now.latency_s.by_phase[acknowledgement].p50  # type: ignore[operator]


def test_compare_reports(networks: Networks, tmp_path: Path) -> None:
    run_on(networks, short_scenario(), tmp_path / "a")
    run_on(networks, short_scenario().with_overrides({"seed": 9}), tmp_path / "b")
    code, stdout, _ = run("compare", str(tmp_path / "a"), str(tmp_path / "a" / "report.json"))
    assert code == 0 and "the reports agree" in stdout
    code, stdout, _ = run("compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 0 and "scenario.seed" in stdout and "differences" in stdout
    keys = [row["key"] for row in json.loads(run("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json")[1])]
    assert keys[0] == "scenario.seed" and keys.index("messages.sent") < min(  # the headline first
        i for i, k in enumerate(keys) if k.startswith("latency_s.by_zone_pair."))
    run_on(networks, short_scenario().with_overrides({"workload.rate_per_s": 2}), tmp_path / "c")
    changed = json.loads(run("compare", str(tmp_path / "a"), str(tmp_path / "c"), "--json")[1])
    assert changed[0] == {"key": "scenario.settings.workload.rate_per_s", "a": 1.0, "b": 2.0, "change": 1.0}
    default = run("compare", str(tmp_path / "a"), str(tmp_path / "c"))[1]
    everything = run("compare", str(tmp_path / "a"), str(tmp_path / "c"), "--all")[1]
    assert len(default.splitlines()) <= 40 < len(everything.splitlines())  # one screen by default
    assert "workload.rate_per_s" in default and "more differences" in default and "--all" in default
    only = json.loads(run("compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json", "--only", "gas")[1])
    assert only and all(row["key"].startswith("gas") for row in only)
    assert "e+0" not in stdout and "1 differences" not in stdout
    code, _, stderr = run("compare", str(tmp_path / "a"), str(tmp_path / "missing"))
    assert code == 1 and "no such report" in stderr
    (tmp_path / "bad.json").write_text(json.dumps({"scenario": {"name": "x"}}))
    code, _, stderr = run("compare", str(tmp_path / "a"), str(tmp_path / "bad.json"))
    assert code == 1 and "not a report" in stderr


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "headless Chromium is needed (Debian package chromium; .ci/run installs it)"
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
                          check=True, capture_output=True, text=True, timeout=120)


# The outage's shading: tab10's C4 (#9467bd) at alpha 0.15 over white, as the browser paints it.
OUTAGE_SHADE = np.array([239, 232, 245])


def test_a_relayer_outage_report_shows_its_fault_in_headless_chromium(networks: Networks, tmp_path: Path) -> None:
    """The report of a relayer outage, rendered by a real browser: the plots drawn, the faults table
    with what was observed, the outage's window shaded on the throughput plot, the restart marked,
    and hover texts on the bars and cells; nothing fetched from the network."""
    from PIL import Image

    report = run_on(networks, shortened("relayer-outage", 60), tmp_path / "run")
    page = tmp_path / "run" / "report.html"
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, page, "--window-size=1200,1800", f"--screenshot={shot}")
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    not_white = (pixels < 243).any(axis=2).mean()
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    assert not_white > 0.05, f"page looks blank ({not_white:.1%} non-white)"
    assert colours > 200, f"too few colours for plots ({colours})"
    shaded = (np.abs(pixels - OUTAGE_SHADE) <= 2).all(axis=2)
    columns = np.flatnonzero(shaded.sum(axis=0) > 100)  # the window: columns shaded for 100 px and more
    assert len(columns) > 40, f"no shaded fault window in the screenshot ({shaded.sum()} shaded pixels)"

    [entry] = report.faults
    assert (entry.started_s, entry.ended_s) == (40.0, 130.0)
    assert report.relayers.per_relayer[0].restarts_at_s == [130.0]
    assert "relayer 0 restarted at 130 s" in entry.effect and "processed" in entry.effect
    dom = _chromium(tmp_path, page, "--dump-dom").stdout  # what the browser built, not just the file
    assert "<h2>Faults</h2>" in dom and "effect observed" in dom and html_lib.escape(entry.effect) in dom
    assert "relayer 0 restarted at 130 s</title>" in dom
    assert dom.count("<svg") >= 3 and "<img" not in dom
    pair, stats = next(iter(report.latency_s.by_zone_pair.items()))
    src, dst = pair.split("->")
    assert f"<title>{src} → {dst}: {stats.count} delivered, p50 {stats.p50} s</title>" in dom
    first = report.throughput.timeline[0]
    assert f"<title>0–{report.throughput.bucket_s:g} s: {first.sent} sent" in dom
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", dom), "the report fetches something"


def test_the_reports_say_what_faults_the_run_met(networks: Networks, tmp_path: Path) -> None:
    scenario = shortened("chain-halt", 40)
    report = run_on(networks, scenario, tmp_path / "run")
    [fault] = scenario.faults
    assert isinstance(fault, ChainHalt)
    line = f"chain-halt {fault.chain} at {report.faults[0].started_s:g} s for {fault.duration_s:g} s"
    assert ("faults", line) in summary_rows(report)
    [entry] = report.faults
    assert entry.ended_s == entry.started_s + fault.duration_s
    # the halted chain's messages wait: less is processed while it lasts than outside it
    during, outside = map(float, re.findall(r"processed ([\d.]+)/s during \(([\d.]+)/s outside\)", entry.effect)[0])
    assert during < outside
    # and on the lanes it touches, the wait shows, beside the network-wide figure that hides it
    halted = float(re.findall(r"lanes to and from \w+, sent during: p50 latency ([\d.]+) s", entry.effect)[0])
    network = float(re.findall(r"network-wide, sent during: p50 latency ([\d.]+) s", entry.effect)[0])
    assert halted > 10 * network
    row = f"| chain-halt | {fault.chain} | {fault.at_s:g} | {entry.started_s:g} | {entry.ended_s:g} | {entry.effect} |"
    markdown = (tmp_path / "run" / "report.md").read_text()
    assert f"| faults | {line} |" in markdown and row in markdown
    page = (tmp_path / "run" / "report.html").read_text()
    assert line in page and html_lib.escape(entry.effect) in page
    reloaded = load_report(tmp_path / "run")  # report.json keeps the observed start, end and effect
    assert reloaded.faults == report.faults


def test_the_zone_map_shows_only_the_zones_the_run_used(tmp_path: Path) -> None:
    settings = tomllib.loads(SHORT)
    settings["workload"] |= {"zones": ["Beijing", "Chengdu", "Guiyang"]}
    report = run_scenario(Scenario.model_validate(settings), tmp_path / "run", backend="revm")
    assert report.network.zone_names == ["Beijing", "Chengdu", "Guiyang"]
    assert {z for pair in report.latency_s.by_zone_pair for z in pair.split("->")} == {"Beijing", "Chengdu", "Guiyang"}
    html = (tmp_path / "run" / "report.html").read_text()
    assert html.count("<svg ") == 3  # latency, throughput, zones
    assert "Chengdu → Guiyang" in html and "Wuxi →" not in html


def test_a_chain_failing_mid_run_is_one_line_with_the_moment_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chain that refuses a block mid-run (as a node out of sync would): the run stops with one
    `error:` line saying when and why, exit 1, no traceback, no output folder."""
    from registry import RevmChain, TransactionRejected
    from sim.engine.simulation import Simulation

    running, sends = [], [0]
    original_run, original_send = Simulation.run, RevmChain.send

    def run_marked(self: Simulation) -> object:
        running.append(True)
        return original_run(self)

    def send_failing(self: RevmChain, txs: list) -> list:  # type: ignore[type-arg]
        if running:
            sends[0] += 1
            if sends[0] == 40:
                raise TransactionRejected(f"chain {self.chain_id} refused the transaction: nonce too low")
        return original_send(self, txs)

    monkeypatch.setattr(Simulation, "run", run_marked)
    monkeypatch.setattr(RevmChain, "send", send_failing)
    (tmp_path / "short.toml").write_text(SHORT)
    code, stdout, stderr = run("run", str(tmp_path / "short.toml"), "--backend", "revm", "--quiet",
                               "--out", str(tmp_path / "out"))
    assert code == 1 and "Traceback" not in stdout + stderr
    [line] = stderr.strip().splitlines()
    assert re.fullmatch(r"error: short stopped at simulated \d+(\.\d+)? s: chain \d+ refused the transaction: "
                        r"nonce too low", line), line
    assert [p.name for p in tmp_path.iterdir() if p.name != "home"] == ["short.toml"]  # no output, no staging


@pytest.mark.anvil
def test_the_same_run_on_anvil_nodes_gives_revms_report(tmp_path: Path) -> None:
    """Anvil stamps blocks a second apart from the genesis, as the in-process chains do (it used to take
    the wall clock's seconds during the build: other block times, other message ids, other calldata gas,
    and two Anvil runs could differ)."""
    scenario = short_scenario().with_overrides({"registry.suspend": [{"entity": "ICBC", "at_s": 5, "for_s": 10}]})
    on_revm = run_scenario(scenario, tmp_path / "revm", backend="revm")
    on_anvil = run_scenario(scenario, tmp_path / "anvil", backend="anvil")
    assert on_anvil.without_machine() == on_revm.without_machine()
    assert (tmp_path / "anvil" / "messages.csv").read_text() == (tmp_path / "revm" / "messages.csv").read_text()


def test_the_registry_plots_of_mirror_lag_read_in_headless_chromium(networks: Networks, tmp_path: Path) -> None:
    """The lagging zones in colour (the rest one grey band), the hub's suspensions marked on the time axis,
    the refusals over time beneath, and the stale decisions beyond the bound marked; drawn by a real browser."""
    from PIL import Image

    report = run_on(networks, scenarios.load("mirror-lag"), tmp_path / "run")
    assert report.registry is not None
    bound = report.registry.max_stale_s
    served = report.registry.stale_decisions["served_while_suspended"]
    beyond = sum(d.lag_s > bound for d in served.listed)
    every = sum(d.lag_s > bound for found in report.registry.stale_decisions.values() for d in found.listed)
    assert beyond > 0
    page = tmp_path / "run" / "report.html"
    dom = _chromium(tmp_path, page, "--dump-dom").stdout
    assert "over the bound: Changsha, Guangzhou, Haikou" in dom and "the other 12 zones" in dom
    assert "a suspension" in dom and "refused" in dom  # the marks and the panel beneath
    assert f"{beyond} beyond the {report.registry.max_stale_s:g} s bound, marked ⚠" in dom
    assert dom.count(" ⚠</td>") == every  # in each table of stale decisions
    shot = tmp_path / "shot.png"
    _chromium(tmp_path, page, "--window-size=1200,3000", f"--screenshot={shot}")
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    for colour in ([31, 119, 180], [255, 127, 14]):  # tab10's first two: the lagging zones' lines, the refusals
        assert (np.abs(pixels - colour) <= 3).all(axis=2).sum() > 200, colour


def test_a_report_without_violations_says_so_instead_of_an_empty_table(networks: Networks, tmp_path: Path) -> None:
    report = run_on(networks, short_scenario(), tmp_path / "run")
    assert report.invariants.violation_count == 0
    page = (tmp_path / "run" / "report.html").read_text()
    assert "none: every invariant held" in page and "<th>invariant</th>" not in page
