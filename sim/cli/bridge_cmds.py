"""`pilotsim exchange`: one data request's round trip between two zones, on a network built for it."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from .common import (
    BackendOption,
    JsonFlag,
    NoCacheFlag,
    RpcFlag,
    TopologyChoice,
    VerifierChoice,
    chosen_backend,
    network_cache,
    out,
    progress_bar,
)


def exchange(
    requester: Annotated[str, typer.Option("--requester", metavar="ENTITY",
                                           help="Entity that asks, e.g. 'Beijing healthcare pilot 05'.")
                         ],
    provider: Annotated[str, typer.Option("--provider", metavar="ENTITY",
                                          help="Entity of another zone that holds the data.")],
    sector: Annotated[str, typer.Option("--sector", metavar="SECTOR", help="Sector of the dataset, e.g. healthcare.")],
    verifier: Annotated[VerifierChoice, typer.Option(help="How lanes verify messages.")] = VerifierChoice.checkpoint,
    topology: Annotated[TopologyChoice, typer.Option(help="mesh: zones talk directly; hub: through the hub chain.")]
    = TopologyChoice.mesh,
    backend: BackendOption = None,
    rpc: RpcFlag = False,
    no_cache: NoCacheFlag = False,
    as_json: JsonFlag = False,
) -> None:
    """Build a fresh network of the 15 zone chains and the hub, and run one data request round trip."""
    from registry import PilotsimError, load_seed_data

    from ..bridge.exchange import round_trip
    from ..bridge.provision import build_network
    from ..bridge.topology import NetworkConfig
    data = load_seed_data()
    homes = [data.entity(data.entity_id(name)).zone for name in (requester, provider)]
    data.sector_id(sector)  # unknown names fail here, before the network is built
    if homes[0] == homes[1]:
        raise PilotsimError(f"{requester!r} and {provider!r} are both in zone {homes[0]}: "
                            "a data exchange crosses zones")
    config = NetworkConfig(topology=topology.value, verifier=verifier.value)
    where = chosen_backend(backend, rpc)
    with progress_bar(disable=as_json) as progress:
        network = build_network(config, backend=where, data=data, progress=progress,
                                cache=network_cache(no_cache))
    with network:
        result = round_trip(network, requester, provider, sector)
    if as_json:
        print(json.dumps(result.as_dict() | {"topology": topology.value, "verifier": verifier.value,
                                             "backend": where}))
    else:
        table = Table(title=f"{result.requester} → {result.provider}: {result.sector} data "
                            f"({topology.value}, {verifier.value})")
        for column in ("step", "chain", "block", "at (s)", "gas", "detail"):
            table.add_column(column, justify="right" if column in ("block", "at (s)", "gas") else "left")
        start = result.steps[0].timestamp  # seconds since the request: an optimistic lane's window shows
        for step in result.steps:
            table.add_row(step.step, f"{step.chain} ({step.chain_id})", str(step.block), str(step.timestamp - start),
                          f"{step.gas:,}", step.detail)
        out.print(table)
    if result.status != "answered":
        reason = f": {result.reason}" if result.reason else ""
        raise PilotsimError(f"request {result.status} by {result.provider}'s chain{reason}")
    if not as_json:
        out.print(f"answered: {result.answer_hash} ({result.answer_size} bytes) recorded on the requester's chain")
