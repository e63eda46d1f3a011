"""`pilotsim run --keep-nodes`: the run's Anvil nodes left running, recorded in the state file so that
`pilotsim registry …` queries the hub, `node status` shows them and `node down` stops them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .nodestate import KeptNetwork, NodeRecord, State, load_state, save_state

if TYPE_CHECKING:
    from registry import BackendName

    from ..experiment.run import KeptNodes


def check_keep(wanted: bool, backend: BackendName) -> None:
    """Refuse --keep-nodes before anything runs where it cannot be honoured."""
    from registry import PilotsimError
    if not wanted:
        return
    if backend != "anvil":
        raise PilotsimError(f"--keep-nodes keeps a run's Anvil nodes; it cannot go with backend {backend} "
                            "(it needs --backend anvil or --rpc)")
    earlier = load_state().network
    if earlier is not None and earlier.live():  # one kept network at a time: `node down` stops it whole
        raise PilotsimError(f"the nodes kept by an earlier run ({earlier.scenario}) still run, hub at "
                            f"{earlier.hub.url}; stop them first: pilotsim node down")


@contextmanager
def keeping(wanted: bool, scenario: str, out: Path) -> Iterator[KeptNodes | None]:
    """The `KeptNodes` for `run_scenario` (None unless wanted). As soon as the network is built they
    are recorded in the state file (`pilotsim registry` queries the hub while the run goes on); a run
    that fails, or whose nodes cannot be recorded, stops them and forgets them, so nothing is left
    running that `node down` would not know of."""
    from ..experiment.run import KeptNodes
    if not wanted:
        yield None
        return
    kept = KeptNodes(on_ready=lambda ready: _record(ready, scenario, out))  # queryable while the run goes on
    try:
        yield kept
    except BaseException:
        kept.stop()
        state = load_state()
        if state.network is not None and kept.registry and state.network.registry == kept.registry:
            stop_kept(state)  # forget them: they are stopped
            save_state(state)
        raise


def _record(kept: KeptNodes, scenario: str, out: Path) -> None:
    from registry.evm.anvil import command_of
    nodes = [NodeRecord(pid=n.pid, url=n.url, chain_id=n.chain_id, ipc_path=n.ipc_path,
                        command=command_of(n.pid) or "") for n in kept.nodes]
    state = load_state()
    state.network = KeptNetwork(scenario=scenario, out=str(out), registry=kept.registry, nodes=nodes)
    for where in (nodes[0].url, nodes[0].ipc_path):  # either one may be given as --rpc-url
        if where:
            state.registries[where] = kept.registry
    save_state(state)


def kept_notice(kept: KeptNodes) -> str:
    """The line a kept run ends with: what runs, where the hub is, how to stop it."""
    hub = kept.nodes[0]
    return (f"kept {len(kept.nodes)} Anvil nodes running (the hub and {len(kept.nodes) - 1} zone chains): hub at "
            f"{hub.url} (IPC {hub.ipc_path}, chain id {hub.chain_id}); `pilotsim registry zones` queries it, "
            "`pilotsim node down` stops them all")


def stop_kept(state: State) -> tuple[str | None, int]:
    """Stop the kept nodes still running as started and forget the network. Returns what was done (None:
    nothing ran) and how many pids now belong to other processes (left alone)."""
    from registry.evm.anvil import pid_alive, remove_socket_folder, stop_pid
    network = state.network
    if network is None:
        return None, 0
    live = network.live()
    taken = sum(1 for n in network.nodes if n not in live and pid_alive(n.pid))
    for node in live:
        stop_pid(node.pid)
    for node in network.nodes:
        if node.ipc_path:
            remove_socket_folder(node.ipc_path)
    for where in (network.hub.url, network.hub.ipc_path):
        if where:
            state.registries.pop(where, None)
    state.network = None
    nodes = f"{len(live)} Anvil node{'s' if len(live) > 1 else ''}"
    return (f"stopped {nodes} kept by run {network.scenario} (hub at {network.hub.url})" if live else None), taken


def kept_status(state: State) -> tuple[dict[str, Any], str] | None:
    """The kept network, as data and as a line, while any of its nodes runs."""
    network = state.network
    live = network.live() if network is not None else []
    if network is None or not live:
        return None
    hub = network.hub
    info = {"scenario": network.scenario, "out": network.out, "registry": network.registry,
            "running": len(live), "hub": {"url": hub.url, "ipc_path": hub.ipc_path, "pid": hub.pid,
                                          "chain_id": hub.chain_id, "running": hub in live},
            "nodes": [{"chain_id": n.chain_id, "url": n.url, "ipc_path": n.ipc_path, "pid": n.pid,
                       "running": n in live} for n in network.nodes]}
    line = (f"kept nodes of run {network.scenario} ({network.out}): {len(live)} of {len(network.nodes)} running; "
            f"hub at {hub.url} (IPC {hub.ipc_path}, pid {hub.pid}, chain id {hub.chain_id}"
            f"{'' if hub in live else ', gone'}); registry: {network.registry}")
    return info, line
