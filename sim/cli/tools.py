"""`pilotsim bench` and `pilotsim gas-snapshot`: the project measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from .common import JsonFlag, err, out, progress_bar


def gas_snapshot(
    check: Annotated[bool, typer.Option("--check", metavar="",
                                        help="Fail if the gas differs from the committed snapshot.")]
    = False,
    file: Annotated[Path | None, typer.Option("--file", metavar="FILE",
                                              help="Snapshot file (default: .gas-snapshot).")] = None,
) -> None:
    """Every contract function's gas in a fixed run, like `forge snapshot`; --check compares."""
    from registry import PilotsimError

    from ..tools import gas_snapshot as snapshots
    path = file or snapshots.SNAPSHOT
    fresh = snapshots.render(snapshots.collect())
    if not check:
        path.write_text(fresh)
        out.print(f"wrote {path} ({fresh.count(chr(10))} functions)")
        return
    if not path.exists():
        raise PilotsimError(f"{path}: no snapshot to check against (run: pilotsim gas-snapshot)")
    changes = snapshots.diff(path.read_text(), fresh)
    if changes:
        for line in changes:
            err.print(escape(line), highlight=False)
        raise PilotsimError(f"gas differs from {path} in {len(changes)} function(s); "
                            "if intended, update it with: pilotsim gas-snapshot")
    out.print(f"gas matches {path}")


def bench(
    as_json: JsonFlag = False,
    quick: Annotated[bool, typer.Option("--quick", metavar="",
                                        help="Every figure from small runs, in a minute or two: a smoke "
                                        "test, not a measure.")] = False,
    long: Annotated[bool, typer.Option("--long", metavar="",
                                       help="Also a simulated week on revm (about 1.2 million messages; most of "
                                       "an hour): its memory over the last six days.")] = False,
) -> None:
    """Measure the simulator itself: seeding speed-up, messages per second against bare py-evm,
    scaling and memory, Anvil against eth-tester, gas per delivered message."""
    from ..tools.bench import measure
    with progress_bar(disable=as_json) as progress:
        results = measure(quick=quick, progress=progress, long=long)
    if as_json:
        print(json.dumps(results))
        return
    table = Table(title="pilotsim bench" + (" (quick)" if quick else ""), show_header=False)
    for key, value in results.items():
        if key not in ("targets", "gas_per_delivered_message", "quick"):
            table.add_row(key, str(value))
    for row in results["gas_per_delivered_message"]:
        table.add_row(f"gas/delivered {row['verifier']} x{row['batch']}", f"{row['deliver']:,}")
    for target, met in results["targets"].items():
        table.add_row(f"target {target}", "met" if met else "NOT met")
    out.print(table)
