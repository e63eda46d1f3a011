"""`pilotsim security`: the attack catalogue against every verifier, as a matrix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import BackendOption, JsonFlag, NoCacheFlag, chosen_backend, network_cache, out, progress_bar

STYLE = {"refused": "green", "flagged": "yellow", "unflagged": "bold red"}


def security(
    as_json: JsonFlag = False,
    out_dir: Annotated[Path | None, typer.Option("--out", metavar="DIR", help=(
        "Write security.json, .md and .html there, and each run's outputs under runs/."))] = None,
    attack: Annotated[list[str] | None, typer.Option("--attack", metavar="SCENARIO", help=(
        "Only these attack scenarios (repeat; default: the whole catalogue)."))] = None,
    verifier: Annotated[list[str] | None, typer.Option("--verifier", metavar="NAME", help=(
        "Only these verifiers (repeat; default: committee, checkpoint, light-client, optimistic)."))] = None,
    jobs: Annotated[int, typer.Option(metavar="N", help="Runs in parallel (processes).", min=1)] = 2,
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS", help=(
        "A Dask scheduler (tcp://host:8786): each run a task on its workers, instead of local processes."))]
    = None,
    backend: BackendOption = None,
    no_cache: NoCacheFlag = False,
) -> None:
    """Run every attack against every verifier on the same workload: refused, accepted and flagged (by which
    invariants), or accepted unflagged; and each verifier's latency and gas on the baseline."""
    from registry import PilotsimError

    from ..experiment import security as matrix
    unknown = [v for v in verifier or [] if v not in matrix.VERIFIERS]
    if unknown:
        raise PilotsimError(f"--verifier {unknown[0]}: not a verifier (one of {', '.join(matrix.VERIFIERS)})")
    if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()):
        raise PilotsimError(f"{out_dir}: exists and is not empty; choose another --out")
    with progress_bar(disable=as_json) as progress:
        result = matrix.security(attack, verifier, jobs=jobs, out=out_dir, backend=chosen_backend(backend, False),
                                 cache=network_cache(no_cache), scheduler=scheduler,
                                 on_done=lambda done, total: progress("runs", done, total))
    if as_json:
        print(json.dumps(result))
        return
    verifiers = list(result["verifiers"])
    table = Table(title="attacks × verifiers")
    for column in ["attack", *verifiers]:
        table.add_column(column)
    for name, row in result["matrix"].items():
        table.add_row(name, *(f"[{STYLE[row[v]['outcome']]}]{matrix.cell_text(row[v])}[/]" for v in verifiers))
    out.print(table)
    figures = Table(title="the baseline on each verifier")
    for column in ("verifier", "p50 latency (s)", "p95 latency (s)", "gas per delivered message"):
        figures.add_column(column, justify="right")
    for name, f in result["verifiers"].items():
        figures.add_row(name, f"{f['p50_s']:.2f}", f"{f['p95_s']:.2f}", f"{f['gas_per_message']:,}")
    out.print(figures)
