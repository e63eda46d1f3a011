"""`pilotsim tx`: atomic cross-zone transactions. `tx show RUN_DIR ID` prints one transaction of a run, its path
across zones with times; `tx run A B …` runs one on a fresh in-process network and prints the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .common import JsonFlag, out

tx_app = typer.Typer(no_args_is_help=True, help="Atomic cross-zone transactions (2PC, TCC).")


@tx_app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN_DIR", help="A run's output folder.")],
    tx_id: Annotated[str, typer.Argument(metavar="ID", help="The transaction's id (0x…), or a unique prefix.")],
    as_json: JsonFlag = False,
) -> None:
    """One transaction of a run: its parties, how it ended, and every step on every chain, with times."""
    from ..results.transaction_outputs import read_transaction

    entry = read_transaction(run_dir, tx_id)
    if as_json:
        out.print_json(json.dumps(entry.model_dump(mode="json")))
        return
    ended = entry.outcome + (f" ({entry.reason})" if entry.reason else "")
    took = f", committed in {entry.commit_latency_s} s" if entry.commit_latency_s is not None else ""
    table = Table(title=f"{entry.tx_id}: {entry.protocol}, decided on {entry.coordinator}; {ended}{took}")
    for column in ("at (s)", "chain", "step", "detail"):
        table.add_column(column, justify="right" if column == "at (s)" else "left")
    for at, chain, step, detail in entry.steps:
        table.add_row(f"{at:g}", chain, step, detail)
    out.print(table)
    out.print("parties: " + "; ".join(entry.parties), highlight=False)
    if entry.committed_on and len(entry.committed_on) < len(entry.parties):
        out.print(f"[red]committed on {', '.join(entry.committed_on)} only: atomicity broken[/red]")


@tx_app.command()
def run(
    parties: Annotated[list[str], typer.Argument(metavar="ENTITY…", help=(
        "Two to five entities of distinct zones, the first the initiator (names as in the pilot data)."))],
    protocol: Annotated[str, typer.Option(help="2pc or tcc.")] = "2pc",
    coordinator: Annotated[str, typer.Option(help="hub, or initiator (its zone's chain).")] = "hub",
    lock_timeout: Annotated[int, typer.Option("--lock-timeout", metavar="S", help="Each lock's life.", min=10,
                                              max=86_400)] = 120,
    as_json: JsonFlag = False,
) -> None:
    """Run one atomic transaction on a fresh in-process network (eth-tester) and print its path."""
    from registry import PilotsimError

    from ..bridge.atomic import run_transaction
    from ..bridge.provision import build_network
    from .common import network_cache

    if protocol not in ("2pc", "tcc"):
        raise PilotsimError(f"--protocol {protocol}: 2pc or tcc")
    if coordinator not in ("hub", "initiator"):
        raise PilotsimError(f"--coordinator {coordinator}: hub or initiator")
    network = build_network(cache=network_cache(False))
    try:
        result = run_transaction(network, parties, protocol=protocol, coordinator=coordinator,
                                 lock_timeout=lock_timeout)
    finally:
        network.close()
    if as_json:
        out.print_json(json.dumps(result.as_dict()))
        return
    state = result.state
    table = Table(title=f"{state.tx_id}: {state.protocol}, decided on {state.coordinator}: {state.outcome}"
                        + (f" ({state.reason})" if state.reason != "none" else "") + f"; applied: {state.applied}")
    for column in ("at (s)", "chain", "block", "step", "detail"):
        table.add_column(column, justify="right" if column in ("at (s)", "block") else "left")
    for step in result.steps:
        table.add_row(str(step.at_s), step.chain, str(step.block), step.step, step.detail)
    out.print(table)
    for party in state.parties:
        out.print(f"{party.chain}: entity {party.entity} {party.state}, record {party.record[:18]}…", highlight=False)
