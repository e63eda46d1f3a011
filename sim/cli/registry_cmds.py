"""`pilotsim seed`, `pilotsim registry …` and `pilotsim node …`: the registry on a chain, and local
Anvil nodes kept running between commands (`node up`'s, or those of a `run --keep-nodes`)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from registry.defaults import GENESIS_TIMESTAMP

from .common import BackendOption, JsonFlag, PlainHelp, RpcUrl, chosen_backend, err, out, progress_bar

if TYPE_CHECKING:
    from .nodestate import State

if TYPE_CHECKING:
    from registry import (
        Chain,
        Registry,
    )
    from registry.models import Entity, Pilot, Sector, Zone


node_app = typer.Typer(cls=PlainHelp, no_args_is_help=True, help="A local Anvil node kept running between commands.")
registry_app = typer.Typer(cls=PlainHelp, no_args_is_help=True, help="Query a registry deployed on a node.")


def seed(
    rpc_url: RpcUrl = None,
    backend: BackendOption = None,
    entities: Annotated[Path | None, typer.Option("--entities", metavar="FILE",
                                                  help="CSV of entities to load instead of the "
                                                  "bundled list (columns: name, sectors, province, zone, "
                                                  "provenance, source).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Deploy the registry and register every zone, sector, entity and pilot, approved and active."""
    from registry import AnvilNode, PilotsimError, Registry, RpcChain, in_process_chain, load_seed_data
    from registry.evm.funding import fund_actors

    from .nodestate import load_state, save_state
    data = load_seed_data(entities)  # refuse bad data before touching any chain
    if rpc_url and backend is not None:
        raise PilotsimError(f"--rpc-url seeds the node given; it cannot go with --backend {backend}")
    where = "rpc" if rpc_url else chosen_backend(backend, rpc=False)
    with ExitStack() as stack:
        if where == "anvil":  # a node for this command only
            rpc_url = stack.enter_context(AnvilNode.start(genesis_timestamp=GENESIS_TIMESTAMP)).endpoint
        chain: Chain = RpcChain(rpc_url) if rpc_url else in_process_chain(where, genesis_timestamp=GENESIS_TIMESTAMP)
        funded = fund_actors(chain) if rpc_url else None  # a node started by hand funds only a few actors
        if funded:
            err.print(f"{rpc_url}: {funded}")
        with progress_bar(disable=as_json) as progress:
            registry = Registry.deploy(chain)
            result = registry.seed(data, progress=progress)
        table = None if as_json else _zone_sector_table(registry)
    if where == "rpc" and rpc_url:
        state = load_state()
        state.registries[rpc_url] = registry.address
        save_state(state)
    summary = {
        "chain_id": result.chain_id, "registry": result.registry, "backend": where,
        "zones": result.zones, "sectors": result.sectors, "entities": result.entities, "pilots": result.pilots,
        "active_pilots": result.active_pilots, "gas_used": result.gas_used, "transactions": result.transactions,
        "blocks": result.blocks, "wall_s": result.wall_s, "entities_source": data.entities_source,
    }
    if as_json:
        print(json.dumps(summary))
        return
    out.print(table)
    out.print(f"registry {result.registry} on chain {result.chain_id}: {result.zones} zones, "
              f"{result.sectors} sectors, {result.entities} entities, {result.pilots} pilots "
              f"({result.active_pilots} active); {result.transactions} transactions in {result.blocks} "
              f"blocks, {result.gas_used:,} gas, {result.wall_s:.2f} s")


def _zone_sector_table(registry: Registry) -> Group:
    from registry import PilotStatus
    sectors = registry.sectors()
    pilots = registry.pilots(status=PilotStatus.ACTIVE)
    counts: dict[tuple[int, int], int] = {}
    for pilot in pilots:
        counts[pilot.zone_id, pilot.sector_id] = counts.get((pilot.zone_id, pilot.sector_id), 0) + 1
    table = Table(title="Active pilots by zone (rows) and sector (columns)", box=box.SIMPLE_HEAD, padding=(0, 0),
                  collapse_padding=True, pad_edge=False)
    table.add_column("zone", no_wrap=True)
    for sector in sectors:
        table.add_column(" " + _short(sector.name), justify="right", no_wrap=True)
    table.add_column(" total", justify="right", style="bold")
    for zone in registry.zones():
        row = [counts.get((zone.id, s.id), 0) for s in sectors]
        table.add_row(zone.name, *[str(n) if n else "·" for n in row], str(sum(row)))
    entries = [f"{_short(s.name)} {s.name}" for s in sectors]
    lines, line = [], "sectors:"
    for entry in entries:  # a line breaks between entries, never inside one ("HRSS Human resources and …")
        if len(line) + len(entry) + 5 > out.width and line != "sectors:":  # room for " · " and a closing " ·"
            lines.append(line + " ·")
            line = entry
        else:
            line = f"{line} {entry}" if line == "sectors:" else f"{line} · {entry}"
    return Group(table, Text("\n".join([*lines, line]), style="dim", no_wrap=True))


def _short(name: str) -> str:
    """A column header for a sector: its name's initials, or its first four letters if one word
    ("Human resources and social security" -> HRSS, "Taxation" -> Taxa)."""
    words = [w for w in name.replace("-", " ").split() if w.lower() not in ("and", "of", "the")]
    return "".join(w[0].upper() for w in words) if len(words) > 1 else name[:4]


# ---------------------------------------------------------------------------------------- node


@node_app.command("up")
def node_up(
    port: Annotated[int, typer.Option(metavar="N",
                                      help="Port on 127.0.0.1 (0: any free port).", min=0, max=65535)] = 8545,
    chain_id: Annotated[int, typer.Option("--chain-id", metavar="N", help="Chain id of the node.", min=1)] = 31337,
) -> None:
    """Start Anvil on 127.0.0.1 in the background; its PID and URL go to the state file."""
    from registry import AnvilNode
    from registry.evm.anvil import command_of

    from .nodestate import NodeRecord, home, load_state, save_state
    state = load_state()
    running = state.running_node
    if running:
        out.print(f"anvil is already running at {running.url} (pid {running.pid})")
        return
    log_file = home() / "anvil.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    node = AnvilNode.start(chain_id=chain_id, port=port or None, detach=True, log_file=log_file)
    state.node = NodeRecord(pid=node.pid, url=node.url, chain_id=chain_id, log_file=str(log_file),
                            command=command_of(node.pid) or "")
    state.registries.pop(node.url, None)  # a fresh node holds no registry
    save_state(state)
    out.print(f"anvil running at {node.url} (pid {node.pid}, chain id {chain_id})")


@node_app.command("down")
def node_down() -> None:
    """Stop the Anvil started by `pilotsim node up` and the nodes a `pilotsim run --keep-nodes` kept (and
    nothing else: a process that took one of their pids is left alone)."""
    from registry import PilotsimError
    from registry.evm.anvil import pid_alive, stop_pid

    from .kept import stop_kept
    from .nodestate import load_state, own_orphans, save_state
    state = load_state()
    done: list[str] = []
    node, taken = state.running_node, 0
    if node is not None:
        stop_pid(node.pid)
        state.registries.pop(node.url, None)
        done.append(f"stopped anvil at {node.url} (pid {node.pid})")
    elif state.node is not None and pid_alive(state.node.pid):
        taken = 1  # the node died and another process took its pid
    state.node = None
    kept, kept_taken = stop_kept(state)
    save_state(state)
    done += [kept] if kept else []
    orphans = own_orphans(state)
    for orphan in orphans:
        stop_pid(orphan.pid)
    if orphans:
        done.append(f"stopped {_nodes(len(orphans))} whose run ended before recording them "
                    f"(pid {', '.join(str(o.pid) for o in orphans)})")
    for line in done:
        out.print(line)
    if taken + kept_taken == 1:
        raise PilotsimError("a node pilotsim started is gone; its pid now belongs to another process, left running")
    if taken + kept_taken:
        raise PilotsimError(f"{taken + kept_taken} nodes pilotsim started are gone; their pids now belong to "
                            "other processes, left running")
    if not done:
        out.print("no node is running")


def _nodes(count: int) -> str:
    return f"{count} Anvil node{'s' if count != 1 else ''}"


@node_app.command("status")
def node_status(as_json: JsonFlag = False) -> None:
    """Say whether a node runs (`node up`'s, or a kept run's), where, and which registry it holds; exit 1
    when none runs."""
    from .kept import kept_status
    from .nodestate import load_state, own_orphans
    state = load_state()
    node = state.running_node
    kept = kept_status(state)
    orphans = own_orphans(state)
    info: dict[str, Any] = {"running": node is not None or kept is not None}
    if orphans:
        info["orphans"] = [o.pid for o in orphans]
    if node:
        info.update(url=node.url, pid=node.pid, chain_id=node.chain_id, registry=state.registries.get(node.url))
    if kept:
        info["kept"] = kept[0]
    if as_json:
        print(json.dumps(info))
    elif info["running"]:
        if node:
            registry = info["registry"] or "none yet (pilotsim seed --rpc-url " + node.url + ")"
            out.print(f"anvil running at {node.url} (pid {node.pid}, chain id {node.chain_id}); registry: {registry}")
        if kept:
            out.print(kept[1])
    else:
        out.print("no node is running (start one with: pilotsim node up)")
    if orphans and not as_json:
        out.print(f"{_nodes(len(orphans))} pilotsim started outlived their run without being recorded "
                  f"(pid {', '.join(str(o.pid) for o in orphans)}); `pilotsim node down` stops them")
    if not info["running"]:  # for scripts: `pilotsim node status && …`
        raise typer.Exit(1)


# ------------------------------------------------------------------------------------ registry

ZoneOpt = Annotated[str | None, typer.Option("--zone", metavar="ZONE", help="Zone name or code, e.g. Chengdu.")]
SectorOpt = Annotated[str | None, typer.Option("--sector", metavar="SECTOR",
                                               help="Sector name or code, e.g. healthcare.")]
StatusOpt = Annotated[str | None, typer.Option("--status", metavar="STATUS", help="Status name, e.g. active.")]
AddressOpt = Annotated[str | None, typer.Option("--address", metavar="ADDRESS",
                                                help="Registry address (default: the one "
                                                "`pilotsim seed --rpc-url` recorded for that URL).")]


def _attach(rpc_url: str | None, address: str | None) -> Registry:
    from registry import PilotsimError, Registry, RpcChain

    from .nodestate import load_state
    state = load_state()
    if rpc_url is None:
        rpc_url = _default_url(state)
    chain = RpcChain(rpc_url)  # a node that is down is the cause to name, before any missing registry
    address = address or state.registries.get(rpc_url)
    if address is None:
        raise PilotsimError(f"no registry recorded for {rpc_url}: run `pilotsim seed --rpc-url {rpc_url}` "
                            "or pass --address")
    return Registry.at(chain, address)


def _default_url(state: State) -> str:
    """The node queries go to without --rpc-url: `node up`'s, or the hub a kept run left running."""
    from registry import PilotsimError
    node, hub = state.running_node, state.kept_hub
    if node is not None and hub is not None:
        raise PilotsimError(f"two nodes run: {node.url} (pilotsim node up) and the kept hub at {hub.url}; "
                            "choose one with --rpc-url")
    if hub is not None:
        return hub.ipc_path or hub.url  # IPC: a tenth of HTTP's cost per call
    if node is None:
        raise PilotsimError("no --rpc-url given and no node is running (start one with: pilotsim node up)")
    return node.url


def _emit(rows: list[Zone] | list[Sector] | list[Entity] | list[Pilot], as_json: bool, title: str,
          columns: list[str], registry: Registry | None = None) -> None:
    """A table (or JSON) of records; zones and sectors named as well as numbered, when `registry` says."""
    named = [_with_names(r.model_dump(mode="json"), registry) for r in rows]
    if as_json:
        print(json.dumps(named))
        return
    table = Table(title=f"{title} ({len(rows)})")
    for column in columns:
        table.add_column(column, no_wrap=column in ("authority", "account"))  # an address stays one piece
    for values in named:
        table.add_row(*[_cell(values[c]) for c in columns])
    out.print(table)


def _with_names(values: dict[str, Any], registry: Registry | None) -> dict[str, Any]:
    if registry is None:
        return values
    zones, sectors = _names(registry)
    if "zone_id" in values:
        values["zone"] = zones.get(values["zone_id"], "?")
    if "sector_id" in values:
        values["sector"] = sectors.get(values["sector_id"], "?")
    if "sectors" in values:
        values["sector_names"] = [sectors.get(s, "?") for s in values["sectors"]]
    return values


def _names(registry: Registry) -> tuple[dict[int, str], dict[int, str]]:
    return {z.id: z.name for z in registry.zones()}, {s.id: s.name for s in registry.sectors()}


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@registry_app.command("zones")
def registry_zones(rpc_url: RpcUrl = None, address: AddressOpt = None, as_json: JsonFlag = False) -> None:
    """The pilot zones and their authorities."""
    registry = _attach(rpc_url, address)
    _emit(registry.zones(), as_json, "Zones", ["id", "name", "province", "authority"])


@registry_app.command("entities")
def registry_entities(rpc_url: RpcUrl = None, address: AddressOpt = None, zone: ZoneOpt = None,
                      sector: SectorOpt = None, status: StatusOpt = None, as_json: JsonFlag = False) -> None:
    """Entities, filtered by zone, sector and status."""
    from registry import EntityStatus
    registry = _attach(rpc_url, address)
    rows = registry.entities(zone or 0, sector or 0, status or EntityStatus.NONE)
    _emit(rows, as_json, "Entities", ["id", "name", "zone", "sector_names", "status", "province"], registry)


@registry_app.command("pilots")
def registry_pilots(rpc_url: RpcUrl = None, address: AddressOpt = None, zone: ZoneOpt = None,
                    sector: SectorOpt = None, status: StatusOpt = None, as_json: JsonFlag = False) -> None:
    """Pilots, filtered by zone, sector and status."""
    from registry import PilotStatus
    registry = _attach(rpc_url, address)
    rows = registry.pilots(zone or 0, sector or 0, status or PilotStatus.NONE)
    _emit(rows, as_json, "Pilots", ["id", "title", "entity_id", "zone", "sector", "status", "updated_at"], registry)


@registry_app.command("policy")
def registry_policy(rpc_url: RpcUrl = None, address: AddressOpt = None, sector: SectorOpt = None,
                    as_json: JsonFlag = False) -> None:
    """The sector policy on the hub: which sectors' data an entity of each sector may request."""
    registry = _attach(rpc_url, address)
    sectors = {s.id: s.name for s in registry.sectors()}
    chosen = [registry.sector_id(sector)] if sector else list(sectors)
    rows: list[dict[str, Any]] = [{"sector": sectors[s], "may_request": [sectors[d] for d in registry.data_policy(s)]}
                                  for s in chosen]
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("requester sector", "may request data of", title=f"Sector policy ({len(rows)})")
    for row in rows:
        table.add_row(row["sector"], ", ".join(row["may_request"]) or "nothing")
    out.print(table)
