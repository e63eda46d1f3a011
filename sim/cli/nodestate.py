"""The state file that lets `pilotsim node up` (or `run --keep-nodes`) and later commands share Anvil nodes."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from registry.evm.anvil import Orphan



def home(environment: Mapping[str, str] = os.environ) -> Path:
    """Where the state file lives (PILOTSIM_HOME, by default ~/.pilotsim) for a process of this environment."""
    return Path(environment.get("PILOTSIM_HOME", Path.home() / ".pilotsim")).absolute()


class NodeRecord(BaseModel):
    pid: int
    url: str
    chain_id: int
    log_file: str = ""  # none for a kept run's nodes (started --silent)
    command: str = ""  # the process's command line when started: the pid is ours only while it matches
    ipc_path: str | None = None  # its IPC socket, if it has one

    def is_ours(self) -> bool:
        """The recorded process still runs the Anvil `node up` started (a reused pid does not)."""
        from registry.evm.anvil import command_of, pid_alive
        return pid_alive(self.pid) and bool(self.command) and command_of(self.pid) == self.command


class KeptNetwork(BaseModel):
    """The Anvil nodes a `pilotsim run --keep-nodes` left running: the hub first, then the zone chains."""

    scenario: str
    out: str  # the run's output folder
    registry: str  # the PilotRegistry on the hub
    nodes: list[NodeRecord]

    @property
    def hub(self) -> NodeRecord:
        return self.nodes[0]

    def live(self) -> list[NodeRecord]:
        """The nodes still running as started (a pid now another process's is not one of them)."""
        return [node for node in self.nodes if node.is_ours()]


class State(BaseModel):
    node: NodeRecord | None = None
    network: KeptNetwork | None = None  # the nodes of the last `pilotsim run --keep-nodes`
    registries: dict[str, str] = {}  # RPC URL → address of the registry last seeded there

    @property
    def running_node(self) -> NodeRecord | None:
        return self.node if self.node is not None and self.node.is_ours() else None

    @property
    def kept_hub(self) -> NodeRecord | None:
        """The hub of the kept network, if it still runs."""
        return self.network.hub if self.network is not None and self.network.hub.is_ours() else None


def own_orphans(state: State) -> list[Orphan]:
    """Anvil nodes started under this home whose starter ended without recording them (a run killed while
    it built its network with --keep-nodes): none of the state file's nodes, none of another home's."""
    from registry.evm.anvil import orphaned_nodes
    recorded = {node.pid for node in ([state.node] if state.node else []) +
                (state.network.nodes if state.network else [])}
    here = home()
    return [orphan for orphan in orphaned_nodes()
            if orphan.pid not in recorded and home(orphan.environment) == here]


def state_path() -> Path:
    return home() / "state.json"


def load_state() -> State:
    path = state_path()
    try:
        return State.model_validate_json(path.read_text())
    except FileNotFoundError:
        return State()
    except (ValidationError, ValueError):
        return State()  # a damaged state file only forgets what it knew


def save_state(state: State) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state.model_dump(), indent=2) + "\n")
    tmp.replace(path)  # atomic: a crash never leaves half a state file
