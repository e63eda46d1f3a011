"""Fuzzing every input a user gives — CLI options, scenario TOML, entity CSV: never a traceback,
always one clear line and a non-zero exit (or success)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from registry import NotFound, SeedDataError, load_seed_data
from registry.paths import SEEDS_DIR
from sim.cli.app import app
from sim.engine import scenario as scenarios

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
VALID_CSV = (SEEDS_DIR / "entities.csv").read_text(encoding="utf-8").splitlines(keepends=True)[:6]
VALID_TOML = (scenarios.SCENARIOS_DIR / "keys-at-threshold.toml").read_text()


def mutate(text: str, data: st.DataObject) -> str:
    """Delete, duplicate or overwrite a few random spans of `text`."""
    for _ in range(data.draw(st.integers(1, 4))):
        if not text:
            break
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start, min(len(text), start + 12)))
        action = data.draw(st.sampled_from(["delete", "duplicate", "replace"]))
        filler = data.draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=8))
        text = {"delete": text[:start] + text[end:], "duplicate": text[:end] + text[start:end] + text[end:],
                "replace": text[:start] + filler + text[end:]}[action]
    return text


@FAST
@given(data=st.data())
def test_entity_csv_never_crashes(data: st.DataObject) -> None:
    text = mutate("".join(VALID_CSV), data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "entities.csv"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            loaded = load_seed_data(path)
        except SeedDataError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message
        else:
            assert loaded.entities and all(e.zone for e in loaded.entities)


@FAST
@given(raw=st.binary(max_size=200))
def test_entity_csv_of_random_bytes_never_crashes(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "entities.csv"
        path.write_bytes(raw)
        try:
            load_seed_data(path)
        except SeedDataError as exc:
            assert "\n" not in str(exc)


@FAST
@given(data=st.data())
def test_scenario_toml_never_crashes(data: st.DataObject) -> None:
    text = mutate(VALID_TOML, data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzzed.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            scenario = scenarios.load(str(path))
        except scenarios.ScenarioError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message.strip(), message
        else:
            assert scenario.name


WORDS = ["run", "seed", "exchange", "scenarios", "show", "sweep", "compare", "registry", "zones", "entities",
         "pilots", "node", "status", "down", "--json", "--quiet", "--seed", "--out", "--rpc-url", "--entities",
         "--zone", "--sector", "--status", "--requester", "--provider", "--set", "--jobs", "--replicates",
         "--topology", "--verifier", "--address", "-1", "0", "9" * 30, "x=y", "workload.rate_per_s=a",
         "http://127.0.0.1:9", "http://[::1", "/nonexistent/file.toml", "no-such-scenario", "Chendgu", "helth",
         "", " ", "\x00", "日本", "--", "--help"]


@settings(max_examples=120, deadline=None)
@given(args=st.lists(st.sampled_from(WORDS) | st.text(max_size=10), min_size=1, max_size=6))
def test_cli_options_never_crash(args: list[str]) -> None:
    # inputs that would do real work for minutes (a valid scenario, a full seed) are not fuzz cases
    if args[0] in ("run", "sweep") and (len(args) < 2 or args[1].startswith("-") or
                                         args[1] in scenarios.builtin_names()):
        return
    if args[0] == "seed" and not {"--entities", "--rpc-url", "--help"} & set(args):
        return
    with tempfile.TemporaryDirectory() as home:
        result = CliRunner().invoke(app, args, env={"PILOTSIM_HOME": home, "COLUMNS": "200"})
    assert "Traceback" not in result.output, (args, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert result.exit_code in (0, 1, 2), (args, result.exit_code)
    if result.exit_code == 1:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)


def test_not_found_names_suggest() -> None:
    with pytest.raises(NotFound, match=r"^unknown zone 'Beijng'; did you mean 'Beijing'"):
        load_seed_data().zone_id("Beijng")
