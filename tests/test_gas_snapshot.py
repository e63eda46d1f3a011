"""The committed gas snapshot: any change in any contract function's gas fails until it is updated."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim.cli.app import app
from sim.tools import gas_snapshot


@pytest.fixture(scope="module")
def fresh() -> dict[str, list[int]]:
    return gas_snapshot.collect()


def test_committed_snapshot_matches_a_fresh_run(fresh: dict[str, list[int]]) -> None:
    committed = gas_snapshot.SNAPSHOT.read_text()
    assert gas_snapshot.diff(committed, gas_snapshot.render(fresh)) == [], \
        "gas changed: update the snapshot on purpose with `pilotsim gas-snapshot`"


def test_snapshot_covers_every_function_that_changes_state(fresh: dict[str, list[int]]) -> None:
    from registry.evm.artifacts import load_artifact

    for contract in ("PilotRegistry", "Gateway", "CommitteeVerifier", "CheckpointVerifier", "LightClientVerifier",
                     "OptimisticVerifier", "DataExchange", "RegistryBroadcaster"):
        mutating = {f.name for f in load_artifact(contract).abi.functions.values() if f.mutates}
        mutating -= {"handleMessage", "handleOutcome", "setPeer", "setLane",
                     "setMirror" if contract != "RegistryBroadcaster" else ""}
        mutating -= {"transferOwnership", "acceptOwnership", "renounceOwnership"}  # OpenZeppelin's Ownable2Step
        covered = {key.split(".", 1)[1] for key in fresh if key.startswith(contract + ".")}
        assert mutating <= covered, (contract, sorted(mutating - covered))


def test_check_fails_on_any_change(fresh: dict[str, list[int]], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gas_snapshot, "collect", lambda: fresh)
    path = tmp_path / ".gas-snapshot"
    tampered = gas_snapshot.render(fresh).replace("Gateway.send (calls: 1, min: ", "Gateway.send (calls: 1, min: 1")
    path.write_text(tampered)
    result = CliRunner().invoke(app, ["gas-snapshot", "--check", "--file", str(path)])
    assert result.exit_code == 1
    assert "Gateway.send:" in result.stderr and "update it with: pilotsim gas-snapshot" in result.stderr
    result = CliRunner().invoke(app, ["gas-snapshot", "--file", str(path)])
    assert result.exit_code == 0
    result = CliRunner().invoke(app, ["gas-snapshot", "--check", "--file", str(path)])
    assert result.exit_code == 0 and "gas matches" in result.stdout
