"""`pilotsim run`, `scenarios`, `sweep` and `compare`: the simulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from registry.errors import Interrupted

from .common import (
    BackendOption,
    JsonFlag,
    NoCacheFlag,
    PlainHelp,
    RpcFlag,
    chosen_backend,
    err,
    network_cache,
    out,
    progress_bar,
)

if TYPE_CHECKING:
    from ..engine.scenario import Scenario
    from ..results.report import Report

scenarios_app = typer.Typer(cls=PlainHelp, invoke_without_command=True, help="The built-in scenarios.")


def run(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO|FILE",
                                            help="Built-in scenario name or a TOML file.")] = "baseline",
    seed: Annotated[int | None, typer.Option(metavar="N", help="Seed instead of the scenario's.", min=0)] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", metavar="DIR",
                                                 help="Output folder (default: a new one under runs/).")]
    = None,
    set_: Annotated[list[str] | None, typer.Option("--set", metavar="KEY=VALUE",
                                                   help="key=value to change a setting (dotted keys, "
                                                   "e.g. workload.rate_per_s=5); repeatable.")] = None,
    backend: BackendOption = None,
    rpc: RpcFlag = False,
    no_cache: NoCacheFlag = False,
    quiet: Annotated[bool, typer.Option("--quiet", metavar="", help="No progress bar, no summary.")] = False,
    as_json: JsonFlag = False,
    keep_nodes: Annotated[bool, typer.Option("--keep-nodes", metavar="", help=(
        "Leave the run's Anvil nodes running after it (backend anvil): `pilotsim registry …` queries the hub, "
        "`pilotsim node down` stops them."))] = False,
) -> None:
    """Run a scenario: workload and faults on the simulated clock; writes report.json, messages.csv,
    report.md and report.html."""
    from registry import PilotsimError

    from ..engine import scenario as scenarios
    from ..experiment.run import default_out, run_scenario
    from ..experiment.settings import parse_sets
    from .kept import check_keep, keeping, kept_notice
    where = chosen_backend(backend, rpc)
    check_keep(keep_nodes, where)  # contradicting flags are refused before anything runs
    chosen = scenarios.load(scenario)
    overrides = {key: values[0] if len(values) == 1 else values for key, values in parse_sets(set_ or []).items()}
    for key, value in overrides.items():
        _one_value_for_run(chosen, key, value)
    if seed is not None:
        overrides["seed"] = seed
    if overrides:
        chosen = chosen.with_overrides(overrides)
    target = out_dir or default_out(chosen)
    if target.exists() and any(target.iterdir()):
        raise PilotsimError(f"{target}: exists and is not empty; choose another --out")
    try:
        with keeping(keep_nodes, chosen.name, target) as kept, progress_bar(disable=quiet or as_json) as progress:
            report = run_scenario(chosen, target, backend=where, progress=progress, cache=network_cache(no_cache),
                                  keep=kept)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: the run stopped before its end; nothing written to {target}") from None
    if as_json:
        print(json.dumps(report.model_dump(mode="json")))
    elif quiet:
        print(target)  # the one thing a quiet run says: where its results are
    else:
        _say_run(report, f"{chosen.name} → {target}")
    if kept is not None:  # even with --quiet or --json (on stderr): what is left running must be said
        err.print(kept_notice(kept), highlight=False)


def _say_run(report: Report, title: str) -> None:
    """A run's summary table, its faults' table, and a line on stderr for each broken invariant."""
    from ..results.outputs import FAULT_COLUMNS, fault_rows, summary_rows
    table = Table(title=title, show_header=False)
    for key, value in summary_rows(report):
        table.add_row(key, str(value))
    out.print(table)
    if report.faults:
        faults = Table(*FAULT_COLUMNS, title="faults")
        for row in fault_rows(report):
            faults.add_row(*row)
        out.print(faults)
    if report.invariants.broken:
        err.print(f"[yellow]findings:[/yellow] broken invariants: {', '.join(report.invariants.broken)} "
                  "(see report.md)")


@scenarios_app.callback()
def scenarios_list(ctx: typer.Context) -> None:
    """List the built-in scenarios with a line each."""
    from ..engine import scenario as scenarios
    if ctx.invoked_subcommand is not None:
        return
    table = Table(show_header=False, box=None)
    names = scenarios.builtin_names()
    table.add_column("scenario", style="bold", no_wrap=True, min_width=max(map(len, names)))
    table.add_column("description")  # wrapped to the width, never cut
    for name in names:
        table.add_row(name, scenarios.load(name).description)
    out.print(table)


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(metavar="SCENARIO|FILE",
                                                       help="A built-in scenario name or a TOML file.")],
                   resolved: Annotated[bool, typer.Option("--resolved", metavar="",
                                                          help="Every setting, defaults included.")] = False) -> None:
    """Print a scenario's TOML, once it has been checked (with --resolved: every setting it runs with)."""
    from ..engine import scenario as scenarios
    from ..engine.schema import resolved_toml
    scenario = scenarios.load(name)  # unknown names get suggestions, mistakes their field path
    if resolved:
        print(resolved_toml(scenario), end="")
    else:
        print(scenarios.scenario_path(name).read_text(encoding="utf-8"), end="")


@scenarios_app.command("schema")
def scenarios_schema(as_json: JsonFlag = False) -> None:
    """Every scenario setting with its default and meaning, as a commented TOML to start a scenario
    from (or, with --json, the JSON Schema of the model)."""
    from ..engine.scenario import Scenario
    from ..engine.schema import toml_template
    if as_json:
        print(json.dumps(Scenario.model_json_schema(), indent=2))
    else:
        print(toml_template(), end="")


def _one_value_for_run(scenario: Scenario, key: str, value: object) -> None:
    """`run --set key=1,2` where the setting takes one value: several values are a sweep's grid."""
    from registry import PilotsimError
    if not isinstance(value, list):
        return
    try:
        scenario.with_overrides({key: value})
    except (PilotsimError, ValidationError):
        shown = ",".join(str(v) for v in value)
        raise PilotsimError(f"--set {key}={shown}: run takes one value per setting; several values are a grid "
                            f"for `pilotsim sweep {scenario.name} --set {key}={shown} --out DIR`") from None


def sweep(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO|FILE", help="Built-in scenario name or a TOML file.")],
    out_dir: Annotated[Path, typer.Option("--out", metavar="DIR", help="Folder for the runs and runs.csv.")],
    set_: Annotated[list[str] | None, typer.Option("--set", metavar="KEY=V1,V2", help="key=v1,v2 (dotted keys, e.g. "
                                                   "workload.rate_per_s=1,2); repeat for a grid.")] = None,
    replicates: Annotated[int, typer.Option(metavar="N", help="Seeds per combination (seed, seed+1, …).", min=1)] = 1,
    jobs: Annotated[int, typer.Option(metavar="N", help="Runs in parallel (processes).", min=1)] = 1,
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS", help=(
        "A Dask scheduler (tcp://host:8786): each run a task on its workers, instead of local processes."))]
    = None,
    resume: Annotated[bool, typer.Option("--resume", metavar="",
                                         help="Into the folder of the same sweep: only the runs not done yet.")]
    = False,
    backend: BackendOption = None,
    rpc: RpcFlag = False,
    no_cache: NoCacheFlag = False,
) -> None:
    """Run a grid of scenario variants over processes; one tidy row per run in runs.csv, and a summary
    per setting (mean and 95% interval over the replicates)."""
    from ..engine import scenario as scenarios
    from ..engine.watcher import INVARIANTS
    from ..experiment.settings import parse_sets
    from ..experiment.sweep import sweep as run_sweep
    base = scenarios.load(scenario)
    grid = parse_sets(set_ or [])
    with progress_bar() as progress:
        result = run_sweep(base, grid, replicates, jobs, out_dir, backend=chosen_backend(backend, rpc),
                           on_done=lambda done, total: progress("runs", done, total), cache=network_cache(no_cache),
                           scheduler=scheduler, resume=resume)
    rows, table = result.rows, result.table
    if resume:
        err.print(f"{len(rows) - result.ran} of {len(rows)} runs were done already; ran {result.ran}")
    keys = [k for k in grid if k != "seed"]
    shown = ["messages.delivered", "latency_s.p50", "latency_s.p95", "gas.per_message"]
    summary = Table(title=f"{len(rows)} runs → {table}: mean ± 95% interval over the replicates")
    for column in [*(k.rpartition(".")[2] for k in keys), "runs", *shown, "invariants"]:
        summary.add_column(column, justify="right")
    groups: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(row)
    for setting, group in groups.items():
        held = all(r[f"invariants.{name}"] == "True" for r in group for name in INVARIANTS)
        summary.add_row(*setting, str(len(group)), *[_interval([r[c] for r in group]) for c in shown],
                        "all true" if held else "[red]broken[/red]")
    out.print(summary)


# Student's t at 97.5% (a two-sided 95% interval) by degrees of freedom; beyond the table the normal's 1.96
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
         20: 2.086, 25: 2.060, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def _interval(values: list[str]) -> str:
    """`12.5 ± 0.8`: the mean and the half-width of its 95% interval (Student's t with n - 1 degrees of
    freedom, so two replicates give an honest, wide one); numbers as the rest of the output writes them."""
    numbers = [float(v) for v in values if v not in ("", "None")]
    if not numbers:
        return "–"
    mean = sum(numbers) / len(numbers)
    if len(numbers) < 2:
        return _figure(mean)
    spread = (sum((x - mean) ** 2 for x in numbers) / (len(numbers) - 1)) ** 0.5
    df = len(numbers) - 1
    t = T_975[max(d for d in T_975 if d <= df)] if df <= max(T_975) else 1.960
    return f"{_figure(mean)} ± {_figure(t * spread / len(numbers) ** 0.5)}"


def _figure(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def compare(
    a: Annotated[Path, typer.Argument(metavar="RUN", help="A run folder or its report.json.")],
    b: Annotated[Path, typer.Argument(metavar="RUN", help="Another run folder or report.json.")],
    include_wall: Annotated[bool, typer.Option("--wall", metavar="",
                                               help="Also compare wall time and versions.")] = False,
    only: Annotated[list[str] | None, typer.Option("--only", metavar="PREFIX",
                                                   help="Only keys starting so, e.g. latency_s; repeatable.")]
    = None,
    everything: Annotated[bool, typer.Option("--all", metavar="", help=(
        "Every difference, per pair, sector, phase and function too (default: the headline)."))] = False,
    as_json: JsonFlag = False,
) -> None:
    """Print what differs between two reports: the settings and headline figures (--all: everything;
    --json: everything, as data)."""
    from ..experiment.compare import compare as differences
    from ..experiment.compare import is_headline
    from ..results.report import load_report
    rows = [r for r in differences(load_report(a), load_report(b), tuple(only or ()))
            if include_wall or not r[0].startswith(("wall.", "versions."))]
    hidden = 0
    if not (everything or as_json or only):
        shown = [r for r in rows if is_headline(r[0])]
        hidden, rows = len(rows) - len(shown), shown
    if as_json:
        print(json.dumps([{"key": k, "a": left, "b": right, "change": _change(left, right)}
                          for k, left, right in rows]))
        return
    if not rows:
        agree = "the headline figures agree" if hidden else "the reports agree"
        out.print(agree + ("" if include_wall else " (wall time and versions aside)") +
                  (f"; {hidden} more differences: --all" if hidden else ""))
        return
    # the runs' paths in the caption, not as headers: a long path would squeeze the figures into a column each
    table = Table(title=f"{len(rows)} difference{'s' if len(rows) > 1 else ''}", caption=f"A: {a}\nB: {b}",
                  caption_justify="left")
    table.add_column("key", no_wrap=True, min_width=max(len(key) for key, _, _ in rows))  # keys whole, always
    for column in ("A", "B"):
        table.add_column(column, justify="right", overflow="fold")  # a hash folds onto lines, never cut
    table.add_column("change", justify="right", no_wrap=True)
    for key, left, right in rows:
        change = _change(left, right)
        table.add_row(key, _number(left), _number(right), "" if change is None else
                      _number(change, sign=True) + (f" ({right / left:.2f}x)" if left else ""))
    out.print(table)
    if hidden:
        out.print(f"and {hidden} more difference{'s' if hidden > 1 else ''} (per pair, sector, phase, function): "
                  "--all")


def _change(left: object, right: object) -> float | None:
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
    return right - left if numbers else None  # type: ignore[operator]


def _number(value: object, sign: bool = False) -> str:
    """12,345 and 0.125, never 1.235e+04."""
    if value is None:
        return "–"  # not in that report (a count it never had, a section it has not)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):{'+' if sign else ''},}"
    return f"{value:{'+' if sign else ''},.3f}".rstrip("0").rstrip(".")
