"""`pilotsim`: seed and query the pilot registry, and manage a local Anvil node."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from registry import (
    AnvilNode,
    Chain,
    EntityStatus,
    EthTesterChain,
    NotFound,
    PilotsimError,
    PilotStatus,
    Registry,
    RpcChain,
    load_seed_data,
)
from registry.errors import first_error
from registry.models import Entity, Pilot, Sector, Zone, parse_status
from registry.pytest_plugin import GENESIS_TIMESTAMP
from registry.seeds import slug

from . import __version__
from .nodestate import NodeRecord, home, load_state, save_state

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Simulate the national blockchain pilot programme on real EVM chains.")
node_app = typer.Typer(no_args_is_help=True, help="A local Anvil node kept running between commands.")
registry_app = typer.Typer(no_args_is_help=True, help="Query a registry deployed on a node.")
app.add_typer(node_app, name="node")
app.add_typer(registry_app, name="registry")

out = console = Console()
err = Console(stderr=True, soft_wrap=True)  # one error, one line: never wrapped

class VerifierChoice(StrEnum):
    committee = "committee"
    checkpoint = "checkpoint"


class TopologyChoice(StrEnum):
    mesh = "mesh"
    hub = "hub"


RpcUrl = Annotated[str | None, typer.Option("--rpc-url", help="JSON-RPC URL of a node (http://… or an IPC path).")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]


@contextmanager
def cli_errors() -> Iterator[None]:
    """Domain errors end the command with one line on stderr and exit code 1, never a traceback."""
    try:
        yield
    except PilotsimError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    except ValidationError as exc:
        where, message = first_error(exc, "(input)")
        err.print(f"[red]error:[/red] {escape(where)}: {escape(message)}", highlight=False)
        raise typer.Exit(1) from None
    except OSError as exc:
        message = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
        err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
        raise typer.Exit(1) from None


def _version(value: bool) -> None:
    if value:
        out.print(f"pilotsim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Simulate the national blockchain pilot programme on real EVM chains."""


# ---------------------------------------------------------------------------------------- seed


@app.command()
def seed(
    rpc_url: RpcUrl = None,
    entities: Annotated[Path | None, typer.Option("--entities", help="CSV of entities to load instead of the "
                                                  "bundled list (columns: name, sectors, province, zone, "
                                                  "provenance, source).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Deploy the registry and register every zone, sector, entity and pilot, approved and active."""
    with cli_errors():
        data = load_seed_data(entities)  # refuse bad data before touching any chain
        chain = _connect(rpc_url)
        with _progress(disable=as_json) as progress:
            task = progress.add_task("deploying", total=None)

            def report(label: str, done: int, total: int) -> None:
                progress.update(task, description=label, total=total, completed=done)

            registry = Registry.deploy(chain)
            result = registry.seed(data, progress=report)
        if rpc_url:
            state = load_state()
            state.registries[rpc_url] = registry.address
            save_state(state)
        summary = {
            "chain_id": result.chain_id, "registry": result.registry, "backend": "rpc" if rpc_url else "eth-tester",
            "zones": result.zones, "sectors": result.sectors, "entities": result.entities, "pilots": result.pilots,
            "active_pilots": result.active_pilots, "gas_used": result.gas_used, "transactions": result.transactions,
            "blocks": result.blocks, "wall_s": result.wall_s, "entities_source": data.entities_source,
        }
        if as_json:
            print(json.dumps(summary))
            return
        out.print(_zone_sector_table(registry))
        out.print(f"registry {result.registry} on chain {result.chain_id}: {result.zones} zones, "
                  f"{result.sectors} sectors, {result.entities} entities, {result.pilots} pilots "
                  f"({result.active_pilots} active); {result.transactions} transactions in {result.blocks} "
                  f"blocks, {result.gas_used:,} gas, {result.wall_s:.2f} s")


def _progress(disable: bool) -> Progress:
    return Progress(TextColumn("{task.description:<18}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), console=err, transient=True, disable=disable)


def _connect(rpc_url: str | None) -> Chain:
    if rpc_url:
        return RpcChain(rpc_url)
    return EthTesterChain(genesis_timestamp=GENESIS_TIMESTAMP)


def _zone_sector_table(registry: Registry) -> Group:
    sectors = registry.sectors()
    pilots = registry.pilots(status=PilotStatus.ACTIVE)
    counts: dict[tuple[int, int], int] = {}
    for pilot in pilots:
        counts[pilot.zone_id, pilot.sector_id] = counts.get((pilot.zone_id, pilot.sector_id), 0) + 1
    table = Table(title="Active pilots by zone (rows) and sector (columns)", box=box.SIMPLE_HEAD, padding=(0, 0),
                  collapse_padding=True, pad_edge=False)
    table.add_column("zone", no_wrap=True)
    for sector in sectors:
        table.add_column(str(sector.id), justify="right", no_wrap=True, min_width=2)
    table.add_column(" total", justify="right", style="bold")
    for zone in registry.zones():
        row = [counts.get((zone.id, s.id), 0) for s in sectors]
        table.add_row(zone.name, *[str(n) if n else "·" for n in row], str(sum(row)))
    legend = Text("sectors: " + " · ".join(f"{s.id} {s.name}" for s in sectors), style="dim")
    return Group(table, legend)


# ------------------------------------------------------------------------------------ exchange


@app.command()
def exchange(
    requester: Annotated[str, typer.Option("--requester", help="Entity that asks, e.g. 'Beijing healthcare pilot 05'.")
                         ],
    provider: Annotated[str, typer.Option("--provider", help="Entity of another zone that holds the data.")],
    sector: Annotated[str, typer.Option("--sector", help="Sector of the dataset, e.g. healthcare.")],
    verifier: Annotated[VerifierChoice, typer.Option(help="How lanes verify messages.")] = VerifierChoice.checkpoint,
    topology: Annotated[TopologyChoice, typer.Option(help="mesh: zones talk directly; hub: through the hub chain.")]
    = TopologyChoice.mesh,
    rpc: Annotated[bool, typer.Option("--rpc", help="One Anvil node per chain instead of in-process eth-tester.")]
    = False,
    as_json: JsonFlag = False,
) -> None:
    """Build a fresh network of the 15 zone chains and the hub, and run one data request round trip."""
    from sim.exchange import round_trip
    from sim.network import Network, NetworkConfig

    with cli_errors():
        data = load_seed_data()
        homes = [data.entities[data.entity_id(name) - 1].zone for name in (requester, provider)]
        data.sector_id(sector)  # unknown names fail here, before the network is built
        if homes[0] == homes[1]:
            raise PilotsimError(f"{requester!r} and {provider!r} are both in zone {homes[0]}: "
                                "a data exchange crosses zones")
        config = NetworkConfig(topology=topology.value, verifier=verifier.value)
        with _progress(disable=as_json) as progress:
            task = progress.add_task("starting", total=None)

            def report(label: str, done: int, total: int) -> None:
                progress.update(task, description=label, total=total, completed=done)

            network = Network.build(config, backend="anvil" if rpc else "eth-tester", data=data, progress=report)
        with network:
            result = round_trip(network, requester, provider, sector)
        if as_json:
            print(json.dumps(result.as_dict() | {"topology": topology.value, "verifier": verifier.value,
                                                 "backend": "anvil" if rpc else "eth-tester"}))
        else:
            table = Table(title=f"{result.requester} → {result.provider}: {result.sector} data "
                                f"({topology.value}, {verifier.value})")
            for column in ("step", "chain", "block", "gas", "detail"):
                table.add_column(column, justify="right" if column in ("block", "gas") else "left")
            for step in result.steps:
                table.add_row(step.step, f"{step.chain} ({step.chain_id})", str(step.block), f"{step.gas:,}",
                              step.detail)
            out.print(table)
        if result.status != "answered":
            reason = f": {result.reason}" if result.reason else ""
            raise PilotsimError(f"request {result.status} by {result.provider}'s chain{reason}")
        if not as_json:
            out.print(f"answered: {result.answer_hash} ({result.answer_size} bytes) recorded on the requester's chain")


# ------------------------------------------------------------------------------------- simulate


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or a TOML file.")] = "baseline",
    seed: Annotated[int | None, typer.Option(help="Seed instead of the scenario's.", min=0)] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: a new one under runs/).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="key=value to change a setting (dotted keys, "
                                                   "e.g. workload.rate_per_s=5); repeatable.")] = None,
    rpc: Annotated[bool, typer.Option("--rpc", help="One Anvil node per chain instead of eth-tester.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar, no summary.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Run a scenario: workload and faults on the simulated clock; writes report.json, messages.csv,
    report.md and report.html."""
    from sim import scenario as scenarios
    from sim.runner import default_out, parse_sets, run_scenario

    with cli_errors():
        chosen = scenarios.load(scenario)
        overrides = {key: values[0] if len(values) == 1 else values for key, values in parse_sets(set_ or []).items()}
        if seed is not None:
            overrides["seed"] = seed
        if overrides:
            chosen = chosen.with_overrides(overrides)
        target = out or default_out(chosen)
        if target.exists() and any(target.iterdir()):
            raise PilotsimError(f"{target}: exists and is not empty; choose another --out")
        with _progress(disable=quiet or as_json) as progress:
            task = progress.add_task("starting", total=None)

            def report_progress(label: str, done: float, total: float) -> None:
                progress.update(task, description=label, total=total, completed=done)

            report = run_scenario(chosen, target, backend="anvil" if rpc else "eth-tester",
                                  progress=report_progress)
        if as_json:
            print(json.dumps(report))
        elif not quiet:
            from sim.report import summary_rows

            table = Table(title=f"{chosen.name} → {target}", show_header=False)
            for key, value in summary_rows(report):
                table.add_row(key, str(value))
            console.print(table)
        broken = [k for k in ("exactly_once", "all_terminal", "no_forged_accepted", "no_unmatched_delivery")
                  if not report["invariants"][k]]
        if broken and not as_json and not quiet:
            err.print(f"[yellow]findings:[/yellow] broken invariants: {', '.join(broken)} (see report.md)")


scenarios_app = typer.Typer(invoke_without_command=True, help="The built-in scenarios.")
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.callback()
def scenarios_list(ctx: typer.Context) -> None:
    """List the built-in scenarios with a line each."""
    if ctx.invoked_subcommand is not None:
        return
    from sim import scenario as scenarios

    with cli_errors():
        table = Table(show_header=False, box=None)
        names = scenarios.builtin_names()
        table.add_column("scenario", style="bold", no_wrap=True, min_width=max(map(len, names)))
        table.add_column("description", no_wrap=True, overflow="ellipsis")
        for name in names:
            table.add_row(name, scenarios.load(name).description)
        out.print(table)


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="A built-in scenario name.")]) -> None:
    """Print a built-in scenario's TOML."""
    from sim import scenario as scenarios

    with cli_errors():
        scenarios.load(name)  # unknown names get suggestions
        print((scenarios.SCENARIOS_DIR / f"{name}.toml").read_text(), end="")


@app.command()
def sweep(
    scenario: Annotated[str, typer.Argument(help="Built-in scenario name or a TOML file.")],
    out: Annotated[Path, typer.Option(help="Folder for the runs and runs.csv.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="key=v1,v2 (dotted keys, e.g. "
                                                   "workload.rate_per_s=1,2); repeat for a grid.")] = None,
    replicates: Annotated[int, typer.Option(help="Seeds per combination (seed, seed+1, …).", min=1)] = 1,
    jobs: Annotated[int, typer.Option(help="Runs in parallel (processes).", min=1)] = 1,
    rpc: Annotated[bool, typer.Option("--rpc", help="One Anvil node per chain instead of eth-tester.")] = False,
) -> None:
    """Run a grid of scenario variants over processes; one tidy row per run in runs.csv."""
    from sim import scenario as scenarios
    from sim.runner import parse_sets
    from sim.runner import sweep as run_sweep

    with cli_errors():
        base = scenarios.load(scenario)
        grid = parse_sets(set_ or [])
        with _progress(disable=False) as progress:
            task = progress.add_task("runs", total=None)
            table = run_sweep(base, grid, replicates, jobs, out, backend="anvil" if rpc else "eth-tester",
                              on_done=lambda done, total: progress.update(task, total=total, completed=done))
        runs = table.read_text().count("\n") - 1
        console.print(f"{runs} runs → {table}")


@app.command()
def compare(
    a: Annotated[Path, typer.Argument(help="A run folder or its report.json.")],
    b: Annotated[Path, typer.Argument(help="Another run folder or report.json.")],
    include_wall: Annotated[bool, typer.Option("--wall", help="Also compare wall time and versions.")] = False,
) -> None:
    """Print what differs between two reports."""
    from sim.runner import compare as differences
    from sim.runner import load_report

    with cli_errors():
        rows = [r for r in differences(load_report(a), load_report(b))
                if include_wall or not r[0].startswith(("wall.", "versions."))]
        if not rows:
            out.print("the reports agree" + ("" if include_wall else " (wall time and versions aside)"))
            return
        table = Table(title=f"{len(rows)} differences")
        for column in ("key", str(a), str(b), "change"):
            table.add_column(column)
        for key, left, right in rows:
            change = ""
            if isinstance(left, int | float) and isinstance(right, int | float) and not isinstance(left, bool):
                change = f"{right - left:+.4g}" + (f" ({right / left:.2f}x)" if left else "")
            table.add_row(key, str(left), str(right), change)
        out.print(table)


@app.command("gas-snapshot")
def gas_snapshot(
    check: Annotated[bool, typer.Option("--check", help="Fail if the gas differs from the committed snapshot.")]
    = False,
    file: Annotated[Path | None, typer.Option("--file", help="Snapshot file (default: .gas-snapshot).")] = None,
) -> None:
    """Every contract function's gas in a fixed run, like `forge snapshot`; --check compares."""
    from sim import gas_snapshot as snapshots

    with cli_errors():
        path = file or snapshots.SNAPSHOT
        fresh = snapshots.render(snapshots.collect())
        if not check:
            path.write_text(fresh)
            console.print(f"wrote {path} ({fresh.count(chr(10))} functions)")
            return
        if not path.exists():
            raise PilotsimError(f"{path}: no snapshot to check against (run: pilotsim gas-snapshot)")
        changes = snapshots.diff(path.read_text(), fresh)
        if changes:
            for line in changes:
                err.print(escape(line), highlight=False)
            raise PilotsimError(f"gas differs from {path} in {len(changes)} function(s); "
                                "if intended, update it with: pilotsim gas-snapshot")
        console.print(f"gas matches {path}")


@app.command()
def bench(
    as_json: JsonFlag = False,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller runs: minutes instead of half an hour.")] = False,
) -> None:
    """Measure the simulator itself: seeding speed-up, messages per second against bare py-evm,
    scaling and memory, Anvil against eth-tester, gas per delivered message."""
    from sim.bench import measure

    with cli_errors():
        with _progress(disable=as_json) as progress:
            task = progress.add_task("bench", total=None)
            results = measure(quick=quick, progress=lambda label: progress.update(task, description=label))
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
        console.print(table)


# ---------------------------------------------------------------------------------------- node


@node_app.command("up")
def node_up(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).", min=0, max=65535)] = 8545,
    chain_id: Annotated[int, typer.Option("--chain-id", help="Chain id of the node.", min=1)] = 31337,
) -> None:
    """Start Anvil on 127.0.0.1 in the background; its PID and URL go to the state file."""
    with cli_errors():
        state = load_state()
        running = state.running_node
        if running:
            out.print(f"anvil is already running at {running.url} (pid {running.pid})")
            return
        log_file = home() / "anvil.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        node = AnvilNode.start(chain_id=chain_id, port=port or None, detach=True, log_file=log_file)
        state.node = NodeRecord(pid=node.pid, url=node.url, chain_id=chain_id, log_file=str(log_file))
        state.registries.pop(node.url, None)  # a fresh node holds no registry
        save_state(state)
        out.print(f"anvil running at {node.url} (pid {node.pid}, chain id {chain_id})")


@node_app.command("down")
def node_down() -> None:
    """Stop the Anvil started by `pilotsim node up`."""
    with cli_errors():
        from registry.anvil import stop_pid

        state = load_state()
        if state.node is None or not state.running_node:
            out.print("no node is running")
            state.node = None
            save_state(state)
            return
        stop_pid(state.node.pid)
        state.registries.pop(state.node.url, None)
        out.print(f"stopped anvil at {state.node.url} (pid {state.node.pid})")
        state.node = None
        save_state(state)


@node_app.command("status")
def node_status(as_json: JsonFlag = False) -> None:
    """Say whether the node is running, where, and which registry it holds."""
    with cli_errors():
        state = load_state()
        node = state.running_node
        info: dict[str, Any] = {"running": node is not None}
        if node:
            info.update(url=node.url, pid=node.pid, chain_id=node.chain_id, registry=state.registries.get(node.url))
        if as_json:
            print(json.dumps(info))
        elif node:
            registry = info["registry"] or "none yet (pilotsim seed --rpc-url " + node.url + ")"
            out.print(f"anvil running at {node.url} (pid {node.pid}, chain id {node.chain_id}); registry: {registry}")
        else:
            out.print("no node is running (start one with: pilotsim node up)")


# ------------------------------------------------------------------------------------ registry

ZoneOpt = Annotated[str | None, typer.Option("--zone", help="Zone name or code, e.g. Chengdu.")]
SectorOpt = Annotated[str | None, typer.Option("--sector", help="Sector name or code, e.g. healthcare.")]
StatusOpt = Annotated[str | None, typer.Option("--status", help="Status name, e.g. active.")]
AddressOpt = Annotated[str | None, typer.Option("--address", help="Registry address (default: the one "
                                                "`pilotsim seed --rpc-url` recorded for that URL).")]


def _attach(rpc_url: str | None, address: str | None) -> Registry:
    state = load_state()
    if rpc_url is None:
        node = state.running_node
        if node is None:
            raise PilotsimError("no --rpc-url given and no node is running (start one with: pilotsim node up)")
        rpc_url = node.url
    address = address or state.registries.get(rpc_url)
    if address is None:
        raise PilotsimError(f"no registry recorded for {rpc_url}: run `pilotsim seed --rpc-url {rpc_url}` "
                            "or pass --address")
    return Registry.at(RpcChain(rpc_url), address)


def _zone_filter(registry: Registry, name: str | None) -> int:
    if name is None:
        return 0
    zones = registry.zones()
    codes = {slug(z.code): slug(z.name) for z in load_seed_data().zones}
    wanted = codes.get(slug(name), slug(name))
    for zone in zones:
        if slug(zone.name) == wanted or slug(zone.name).startswith(wanted):
            return zone.id
    raise NotFound("zone", name, [z.name for z in zones])


def _sector_filter(registry: Registry, name: str | None) -> int:
    if name is None:
        return 0
    sectors = registry.sectors()
    codes = {slug(s.code): slug(s.name) for s in load_seed_data().sectors}
    wanted = codes.get(slug(name), slug(name))
    for sector in sectors:
        if slug(sector.name) == wanted:
            return sector.id
    raise NotFound("sector", name, [s.name for s in sectors] + [s.code for s in load_seed_data().sectors])


def _status_filter(enum: type[EntityStatus] | type[PilotStatus], name: str | None) -> int:
    if name is None:
        return 0
    try:
        return int(parse_status(enum, name))
    except (KeyError, ValueError):
        known = [m.name.lower() for m in enum if m.value]
        raise NotFound("status", name, known) from None


def _emit(rows: list[Zone] | list[Sector] | list[Entity] | list[Pilot], as_json: bool, title: str,
          columns: list[str]) -> None:
    if as_json:
        print(json.dumps([r.model_dump(mode="json") for r in rows]))
        return
    table = Table(title=f"{title} ({len(rows)})")
    for column in columns:
        table.add_column(column)
    for row in rows:
        values = row.model_dump()
        table.add_row(*[_cell(values[c]) for c in columns])
    out.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, EntityStatus | PilotStatus):
        return value.name.lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


@registry_app.command("zones")
def registry_zones(rpc_url: RpcUrl = None, address: AddressOpt = None, as_json: JsonFlag = False) -> None:
    """The pilot zones and their authorities."""
    with cli_errors():
        registry = _attach(rpc_url, address)
        _emit(registry.zones(), as_json, "Zones", ["id", "name", "province", "authority"])


@registry_app.command("entities")
def registry_entities(rpc_url: RpcUrl = None, address: AddressOpt = None, zone: ZoneOpt = None,
                      sector: SectorOpt = None, status: StatusOpt = None, as_json: JsonFlag = False) -> None:
    """Entities, filtered by zone, sector and status."""
    with cli_errors():
        registry = _attach(rpc_url, address)
        rows = registry.entities(_zone_filter(registry, zone), _sector_filter(registry, sector),
                                 EntityStatus(_status_filter(EntityStatus, status)))
        _emit(rows, as_json, "Entities", ["id", "name", "zone_id", "sectors", "status", "province"])


@registry_app.command("pilots")
def registry_pilots(rpc_url: RpcUrl = None, address: AddressOpt = None, zone: ZoneOpt = None,
                    sector: SectorOpt = None, status: StatusOpt = None, as_json: JsonFlag = False) -> None:
    """Pilots, filtered by zone, sector and status."""
    with cli_errors():
        registry = _attach(rpc_url, address)
        rows = registry.pilots(_zone_filter(registry, zone), _sector_filter(registry, sector),
                               PilotStatus(_status_filter(PilotStatus, status)))
        _emit(rows, as_json, "Pilots", ["id", "title", "entity_id", "zone_id", "sector_id", "status"])


def _terminate(signum: int, frame: object) -> None:
    # `kill` ends pilotsim like Ctrl-C does: cleanup runs, so the Anvil nodes it started stop with it
    sys.exit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    app(prog_name="pilotsim")


if __name__ == "__main__":
    main()
