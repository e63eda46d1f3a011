"""The security matrix: every attack scenario run against every verifier on the same workload, and each verifier's
latency and gas on the baseline. A cell is what the run's own records say:

- `flagged`: the attack had an effect (a forged message processed, or an invariant broken) and the watcher's
  invariants name it;
- `unflagged`: a forged message was processed while every invariant held (the worst verdict: nothing saw it);
- `refused`: no forged message was processed and every invariant held.

Runs go to local processes or a Dask cluster like a sweep's (`sim.experiment.sweep`).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry import PilotsimError
from registry.paths import ROOT

from ..bridge.cache import NetworkCache
from ..bridge.topology import Backend
from ..engine import scenario as scenarios
from ..engine.watcher import INVARIANTS
from .run import run_scenario
from .sweep import run_tasks

SECURITY_JSON = ROOT / ".security.json"
VERIFIERS = ["committee", "checkpoint", "light-client", "optimistic"]
ATTACKS = ["keys-at-threshold", "verifier-bypass", "zero-root", "origin-spoof", "admin-call", "ack-bomb",
           "oversized-payload", "gas-cap-flood", "validator-takeover", "header-forgery", "fraud-watched",
           "fraud-unwatched"]
# fault kinds whose messages no one sent: processed at all, they were accepted
FORGERIES = {"keys-compromised", "verifier-bypass", "zero-root", "origin-spoof", "validator-takeover",
             "header-forgery", "fraud-watched", "fraud-unwatched"}
BASELINE = "baseline"

Task = tuple[str, str, Path, Backend, NetworkCache | None, int]


def _overrides(verifier: str) -> dict[str, Any]:
    """The whole network on `verifier`: no lane keeps a verifier of its own."""
    return {"network.verifier": verifier, "network.lane_verifiers": {}}


def plan(attacks: list[str], verifiers: list[str]) -> list[tuple[str, str]]:
    """Every (scenario, verifier) to run, each validated before anything runs: the baseline, then the attacks."""
    runs = [(name, v) for name in [BASELINE, *attacks] for v in verifiers]
    for name, verifier in runs:
        scenarios.load(name).with_overrides(_overrides(verifier))
    return runs


def _one(task: Task) -> dict[str, Any]:
    name, verifier, out, backend, cache, index = task
    scenario = scenarios.load(name).with_overrides(_overrides(verifier))
    report = run_scenario(scenario, out, backend=backend, cache=cache)
    forgeries = [f.kind for f in scenario.faults if f.kind in FORGERIES]
    missing = [kind for kind in forgeries if not any(a.kind == kind for a in report.attacks)]
    if missing:  # no record reads as "refused": say instead that the attack never ran to its end
        raise PilotsimError(f"security: {name} on {verifier}: the {missing[0]} attack recorded no outcome")
    held = report.invariants.held
    broken = sorted(k for k in INVARIANTS if not held.get(k, True))
    accepted = any(a.kind in FORGERIES and a.processed > 0 for a in report.attacks)
    return {"index": index, "scenario": name, "verifier": verifier, "broken": broken, "accepted": accepted,
            "p50_s": report.latency_s.p50, "p95_s": report.latency_s.p95, "gas_per_message": report.gas.per_message}


def outcome(accepted: bool, broken: list[str]) -> dict[str, Any]:
    """A cell of the matrix from what a run recorded."""
    if broken:
        return {"outcome": "flagged", "invariants": broken}
    return {"outcome": "unflagged" if accepted else "refused", "invariants": []}


def security(attacks: list[str] | None = None, verifiers: list[str] | None = None, *, jobs: int = 2,
             out: Path | None = None, backend: Backend = "revm", cache: NetworkCache | None = None,
             scheduler: str | None = None, on_done: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """The matrix (`{"matrix": {attack: {verifier: cell}}, "verifiers": {verifier: figures}}`); each run's outputs
    in `out/runs/` (a temporary folder without `out`)."""
    attacks, verifiers = attacks or ATTACKS, verifiers or VERIFIERS
    runs = plan(attacks, verifiers)
    with tempfile.TemporaryDirectory() as scratch:
        folder = (out or Path(scratch)) / "runs"
        tasks: list[Task] = [(name, v, folder / f"{i:03d}-{name}-{v}", backend, cache, i)
                             for i, (name, v) in enumerate(runs)]
        results = []
        if on_done:
            on_done(0, len(tasks))
        rows = run_tasks(_one, tasks, jobs, scheduler)
        try:
            for row in rows:
                results.append(row)
                if on_done:
                    on_done(len(results), len(tasks))
        finally:
            rows.close()
    by_run = {(r["scenario"], r["verifier"]): r for r in results}
    matrix = {a: {v: outcome(by_run[(a, v)]["accepted"], by_run[(a, v)]["broken"]) for v in verifiers}
              for a in attacks}
    figures = {v: {k: by_run[(BASELINE, v)][k] for k in ("p50_s", "p95_s", "gas_per_message")} for v in verifiers}
    baseline_broken = {v: by_run[(BASELINE, v)]["broken"] for v in verifiers if by_run[(BASELINE, v)]["broken"]}
    result: dict[str, Any] = {"matrix": matrix, "verifiers": figures}
    if baseline_broken:  # the figures' own run broke an invariant: say so beside them
        result["baseline_broken"] = baseline_broken
    if out is not None:
        write(result, out)
    return result


COLOURS = {"refused": "#1a7f37", "flagged": "#9a6700", "unflagged": "#cf222e"}


def cell_text(cell: dict[str, Any]) -> str:
    if cell["outcome"] == "flagged":
        return "accepted, flagged by " + ", ".join(cell["invariants"]) if cell["invariants"] else "flagged"
    return "refused" if cell["outcome"] == "refused" else "accepted, unflagged"


def markdown(result: dict[str, Any]) -> str:
    """The matrix and the verifiers' figures as markdown tables."""
    verifiers = list(result["verifiers"])
    lines = ["| attack | " + " | ".join(verifiers) + " |", "|---|" + "---|" * len(verifiers)]
    for attack, row in result["matrix"].items():
        lines.append(f"| {attack} | " + " | ".join(cell_text(row[v]) for v in verifiers) + " |")
    lines += ["", "| verifier | p50 latency (s) | p95 latency (s) | gas per delivered message |",
              "|---|---:|---:|---:|"]
    for v, f in result["verifiers"].items():
        lines.append(f"| {v} | {f['p50_s']:.2f} | {f['p95_s']:.2f} | {f['gas_per_message']:,} |")
    return "\n".join(lines) + "\n"


def html(result: dict[str, Any]) -> str:
    """The same tables, each cell coloured by its outcome."""
    verifiers = list(result["verifiers"])
    head = "".join(f"<th>{v}</th>" for v in verifiers)
    rows = "".join(
        f"<tr><th>{attack}</th>" + "".join(
            f'<td style="background:{COLOURS[row[v]["outcome"]]};color:#fff">{cell_text(row[v])}</td>'
            for v in verifiers) + "</tr>" for attack, row in result["matrix"].items())
    figures = "".join(f"<tr><th>{v}</th><td>{f['p50_s']:.2f}</td><td>{f['p95_s']:.2f}</td>"
                      f"<td>{f['gas_per_message']:,}</td></tr>" for v, f in result["verifiers"].items())
    return ("<!doctype html><meta charset='utf-8'><title>pilotsim security matrix</title>"
            "<style>body{font-family:sans-serif}td,th{padding:4px 8px;border:1px solid #ddd}</style>"
            f"<h1>Attacks × verifiers</h1><table><tr><th>attack</th>{head}</tr>{rows}</table>"
            "<h2>Baseline per verifier</h2><table><tr><th>verifier</th><th>p50 latency (s)</th>"
            f"<th>p95 latency (s)</th><th>gas per delivered message</th></tr>{figures}</table>\n")


def write(result: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "security.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "security.md").write_text(markdown(result))
    (out / "security.html").write_text(html(result))


def readme_matrix() -> str:
    """The README's matrix: `.security.json`, the last full `pilotsim security --json`, as markdown."""
    return markdown(json.loads(SECURITY_JSON.read_text()))
