"""Scenarios: TOML files validated by pydantic. One error is one line naming the field path.

Sections are models of their own (faults in sim.engine.fault_kinds, registry activity in
sim.engine.registry_settings); everything is checked when the scenario loads, before anything is built.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from registry.errors import NotFound, PilotsimError, first_error
from registry.paths import SEEDS_DIR
from registry.seeds import SeedData, slug

from ..bridge.messages import MAX_TTL_S
from ..bridge.topology import HUB_NAME, NetworkConfig
from .fault_kinds import FAULT_KINDS, Fault, Lasting, OriginSpoof, VerifierBypass, ZeroRoot
from .names import bundled_data, extra_field_error, name_errors, setting_keys, zones_used
from .registry_settings import RegistrySettings
from .settings_base import _Model
from .transaction_settings import TransactionSettings

SCENARIOS_DIR = SEEDS_DIR / "scenarios"


class ScenarioError(PilotsimError, ValueError):
    """A scenario file that cannot be read or does not validate."""


class Chains(_Model):
    block_interval_s: int = Field(2, ge=1, le=60, description="seconds between blocks, every chain")
    hub_block_interval_s: int | None = Field(None, ge=1, le=60, description=(
        "the hub chain's own block interval (default: block_interval_s)"))


class Relayers(_Model):
    count: int = Field(1, ge=1, le=16, description="relayers, the lanes dealt among them round-robin")
    poll_interval_s: float = Field(1.0, gt=0, le=600, description="how often each relayer reads the chains")
    batch_size: int = Field(64, ge=1, le=256, description="messages per delivery transaction at most")
    ack_wait_s: float = Field(0.0, ge=0, le=3600, description=(
        "hold a lane's acknowledgements up to this long while no data travels with them, so they share a delivery"))
    takeover_after_s: float | None = Field(None, gt=0, le=3600, description=(
        "a relayer delivers another's lane whose oldest message waited this long (default: three polls and a "
        "block)"))


class WatcherSettings(_Model):
    lane_stall_s: float = Field(180.0, gt=0, le=86_400, description=(
        "lanes_live: how long a lane with messages waiting may go without progress while it could move"))
    max_wait_s: float = Field(120.0, gt=0, le=86_400, description=(
        "deadlines_met: how long a message may wait on a lane, beyond the time a halt, a pause or no relayer "
        "excuses"))


class FraudWatchers(_Model):
    count: int = Field(1, ge=0, le=16, description=(
        "watchers that check optimistic lanes' posted claims and prove false ones within the challenge window"))
    poll_interval_s: float = Field(5.0, gt=0, le=3600, description="how often they read what was posted")


class Workload(_Model):
    rate_per_s: float = Field(1.0, gt=0, le=1000, description="new data requests per second, all zones")
    zones: list[str] | Literal["all"] = Field("all", description="zone names, or \"all\"")
    zone_weights: dict[str, float] = Field(default_factory=dict, description="relative traffic of requester zones")
    sectors: list[str] | Literal["all"] = Field("all", description="sector names, or \"all\"")
    answer_bytes: tuple[int, int] = Field((256, 4096), description=(
        "each answer's size, drawn in [low, high]: the provider commits to its answer on chain by hash and size "
        "(the data itself stays off chain, so the size does not change gas); recorded per response"))
    ttl_s: int = Field(600, ge=1, le=MAX_TTL_S, description=(
        "each request's and answer's deadline, from its send; past it the message times out"))
    respond_after_s: tuple[float, float] = Field((1.0, 5.0), description=(
        "how long a provider takes to answer a delivered request, drawn in [low, high]"))
    respect_policy: bool = Field(True, description="only pairs the sector policy allows")

    @field_validator("answer_bytes", "respond_after_s")
    @classmethod
    def _range(cls, value: tuple[float, float], info: ValidationInfo) -> tuple[float, float]:
        low, high = value
        if low < 0 or high < low:
            raise ValueError("must be [low, high] with 0 <= low <= high")
        if info.field_name == "answer_bytes" and high >= 2**64:
            raise ValueError(f"{high} does not fit the answer's size on chain (uint64)")
        return value


# -- the scenario ---------------------------------------------------------------------------------


class Scenario(_Model):
    name: str = Field(min_length=1)
    description: str = Field("", description="one line on what the scenario shows")
    seed: int = Field(0, ge=0, lt=2**63, description="the random draws' seed: the same seed, the same run")
    duration_s: float = Field(300, gt=0, le=7 * 86400, description="how long the workload runs")
    drain_s: float = Field(600, ge=0, le=7 * 86400, description="time after the workload for messages to settle")
    network: NetworkConfig = NetworkConfig()
    chains: Chains = Chains()
    relayers: Relayers = Relayers()
    workload: Workload = Workload()
    watcher: WatcherSettings = WatcherSettings()
    fraud_watchers: FraudWatchers = FraudWatchers()
    registry: RegistrySettings = RegistrySettings()
    transactions: TransactionSettings = TransactionSettings()
    faults: list[Fault] = Field(default_factory=list)

    def takeover_after_s(self) -> float:
        """When a relayer takes over another's stalled lane."""
        relayers = self.relayers
        if relayers.takeover_after_s is not None:
            return relayers.takeover_after_s
        return 3 * relayers.poll_interval_s + self.chains.block_interval_s

    @property
    def settings_hash(self) -> str:
        """sha256 of the settings, seed excluded: runs of one scenario with other seeds share it."""
        settings = self.model_dump(mode="json", exclude={"seed"})
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()

    def network_config(self) -> NetworkConfig:
        """The network to build: the scenario's, with the flawed gateway or verifiers its faults attack, on the
        chain where their forgeries arrive (the hub, in the hub topology, for zone-to-zone forgeries)."""
        flawed: dict[str, Any] = {}
        for fault in self.faults:
            if isinstance(fault, VerifierBypass | ZeroRoot):
                flawed[self.first_hop(fault.source, fault.chain)] = fault.kind
            elif isinstance(fault, OriginSpoof) and fault.unchecked_gateway:
                flawed[self.first_hop(fault.source, fault.chain)] = "origin-unchecked"
        if not flawed:
            return self.network
        return self.network.model_copy(update={"vulnerable": self.network.vulnerable | flawed})

    def lane_verifier(self, source: str, chain: str) -> str:
        """The verifier of the lane from `source` to the first hop toward `chain`."""
        ends = {slug(source), slug(self.first_hop(source, chain))}
        named = (v for k, v in self.network.lane_verifiers.items() if {slug(p) for p in k.split(":")} == ends)
        return next(named, self.network.verifier)

    def first_hop(self, source: str, chain: str) -> str:
        """The chain that messages from `source` to `chain` reach first."""
        direct = self.network.topology == "mesh" or HUB_NAME in (slug(source), slug(chain))
        return chain if direct else HUB_NAME

    def seed_data(self) -> SeedData:
        """The pilot data its network is built from: all zones, or, when the workload names zones, only
        those and the ones its faults and network settings name (see `names.zones_used`)."""
        data = bundled_data()
        names = zones_used(self, self.network_config())
        return data if names is None else data.only_zones(names)

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A copy with dotted keys set (`workload.rate_per_s=2`); validated like a file."""
        data = self.model_dump(mode="json")
        for key, value in overrides.items():
            *path, last = key.split(".")
            target: Any = data
            for depth, part in enumerate(path):  # sections by name, faults by number (`faults.0.at_s`)
                if isinstance(target, list) and part.isdigit() and int(part) >= len(target):
                    where = ".".join(path[:depth])
                    raise ScenarioError(f"--set {key}: {where} has {len(target)} item{'s' if len(target) != 1 else ''}"
                                        f"; add one in the scenario file, or set the whole list (--set {where}=[…])")
                target = _step(target, part)
            if isinstance(target, list) and last.isdigit() and int(last) < len(target):
                target[int(last)] = value
            elif isinstance(target, dict) and last in target:
                target[last] = value
            else:
                raise ScenarioError(f"--set {key}: {NotFound('setting', key, setting_keys(data))}")
        return validate(data, "--set")


def _step(target: Any, part: str) -> Any:
    if isinstance(target, dict):
        return target.get(part)
    if isinstance(target, list) and part.isdigit() and int(part) < len(target):
        return target[int(part)]
    return None


def validate(data: dict[str, Any], where: str) -> Scenario:
    """`data` as a `Scenario`, or one `ScenarioError` line: `where: field.path: what is wrong`."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        path, message = _fault_error(exc) or extra_field_error(exc, Scenario) or first_error(exc, "(top level)",
                                                                                     skip=FAULT_KINDS)
        raise ScenarioError(f"{where}: {path}: {message}") from None
    for path, message in _cross_field_errors(scenario):
        raise ScenarioError(f"{where}: {path}: {message}")
    return scenario


def _cross_field_errors(scenario: Scenario) -> list[tuple[str, str]]:
    """Rules between fields, each named at the field that breaks it."""
    errors = []
    network = scenario.network
    if network.threshold > network.committee_size:
        errors.append(("network.threshold", f"{network.threshold} exceeds network.committee_size "
                                            f"({network.committee_size})"))
    if scenario.watcher.lane_stall_s <= scenario.relayers.ack_wait_s + scenario.takeover_after_s():
        errors.append(("watcher.lane_stall_s", f"{scenario.watcher.lane_stall_s} s is no longer than "
                                               "relayers.ack_wait_s plus the takeover time: held acknowledgements "
                                               "would count as stalls"))
    if scenario.watcher.max_wait_s <= scenario.relayers.ack_wait_s + scenario.takeover_after_s():
        errors.append(("watcher.max_wait_s", f"{scenario.watcher.max_wait_s} s is no longer than "
                                             "relayers.ack_wait_s plus the takeover time: held acknowledgements "
                                             "would count as late"))
    if network.verifier == "optimistic" or "optimistic" in network.lane_verifiers.values():
        window = network.challenge_window_s
        watcher = scenario.watcher
        for name, bound in (("lane_stall_s", watcher.lane_stall_s), ("max_wait_s", watcher.max_wait_s)):
            if bound <= window + scenario.takeover_after_s():
                errors.append((f"watcher.{name}", f"{bound:g} s is no longer than network.challenge_window_s "
                                                  f"({window} s) plus the takeover time: optimistic deliveries wait "
                                                  "that long by design"))
    sync_bytes = 96 + 32 * scenario.registry.broadcast_batch  # (version, offset, length), a word per entity
    if sync_bytes > network.max_payload_bytes:
        errors.append(("registry.broadcast_batch", f"{scenario.registry.broadcast_batch} entities make a "
                                                   f"{sync_bytes}-byte sync, above network.max_payload_bytes "
                                                   f"({network.max_payload_bytes})"))
    transactions, block = scenario.transactions, scenario.chains.block_interval_s
    if transactions.active and transactions.keeper_interval_s + block > transactions.release_bound_s:
        # a lock expiring just after a keeper round is released at the next one, mined a block later
        errors.append(("transactions.keeper_interval_s",
                       f"{transactions.keeper_interval_s:g} s plus a block ({block} s) exceeds "
                       f"transactions.release_bound_s ({transactions.release_bound_s:g} s): keepers could not "
                       "release an expired lock within the bound locks_released judges"))
    end = scenario.duration_s + scenario.drain_s
    after_the_run = f"after the run ends (duration_s + drain_s = {end:g} s)"
    for i, suspension in enumerate(scenario.registry.suspend):
        back = suspension.at_s + suspension.for_s
        if suspension.at_s >= end:
            errors.append((f"registry.suspend.{i}.at_s", f"it would come at {suspension.at_s:g} s, {after_the_run}"))
        elif suspension.for_s and back >= end:
            errors.append((f"registry.suspend.{i}.for_s",
                           f"the reinstatement would come at {back:g} s, {after_the_run}"))
    count = scenario.relayers.count
    for i, fault in enumerate(scenario.faults):
        latest = fault.at_s + fault.jitter_s
        if latest >= end:
            errors.append((f"faults.{i}.at_s", f"it would start at {latest:g} s, {after_the_run}"))
        elif isinstance(fault, Lasting) and fault.duration_s and latest + fault.duration_s > end:
            errors.append((f"faults.{i}.duration_s", f"it would end at {latest + fault.duration_s:g} s, "
                                                     f"{after_the_run}; 0 keeps it for the rest of the run"))
        relayer = getattr(fault, "relayer", 0)
        if relayer >= count:
            errors.append((f"faults.{i}.relayer", f"relayer {relayer} does not exist: relayers.count is {count} "
                                                  f"(relayers 0 to {count - 1})"))
    return errors + name_errors(scenario)





def _fault_error(exc: ValidationError) -> tuple[str, str] | None:
    """A fault without a kind, or of an unknown one, named at its `kind` field."""
    error = exc.errors()[0]
    path = ".".join(str(p) for p in error["loc"]) + ".kind"
    if error["type"] == "union_tag_not_found":
        return path, "Field required"
    if error["type"] == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        return path, str(NotFound("fault kind", str(tag), FAULT_KINDS)) + f" (one of {', '.join(FAULT_KINDS)})"
    return None


def builtin_names() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml"))


def scenario_path(name_or_path: str) -> Path:
    """The file of a built-in scenario by name, or the path given."""
    path = Path(name_or_path)
    if not path.suffix and not path.exists():
        path = SCENARIOS_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise NotFound("scenario", name_or_path, builtin_names())
    return path


MAX_SCENARIO_BYTES = 1 << 20  # a scenario file is settings, not data: anything larger is not one


def load(name_or_path: str) -> Scenario:
    """A built-in scenario by name, or a TOML file by path (a regular file of at most MAX_SCENARIO_BYTES)."""
    path = scenario_path(name_or_path)
    try:
        if path.exists() and not path.is_file():
            raise ScenarioError(f"{path}: not a regular file (a scenario is a TOML file)")
        if path.exists() and path.stat().st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(f"{path}: {path.stat().st_size:,} bytes, larger than a scenario file can be "
                                f"({MAX_SCENARIO_BYTES:,})")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    return validate(data, str(path))
