"""Names in a scenario checked before anything is built, each error at the field that holds it with
the closest known names: zones, sectors and chains against the pilot data, and settings themselves
(a misspelt key in a file or in `--set`); and the zones a scenario's network needs."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from registry.errors import NotFound
from registry.seeds import SeedData, load_seed_data, slug

FORGERIES = ("verifier-bypass", "zero-root", "admin-call")  # faults whose messages claim a source chain


@cache
def bundled_data() -> SeedData:
    return load_seed_data()


def zones_used(scenario: Any, config: Any) -> list[str] | None:
    """The zones (in seed order) a scenario's network needs when its workload names zones: those, and
    the ones its faults and network settings name. None: every zone."""
    transactions = scenario.transactions
    if scenario.workload.zones == "all" or (transactions.active and transactions.zones == "all"):
        return None
    data = bundled_data()
    names = [*scenario.workload.zones, *scenario.workload.zone_weights, *config.vulnerable,
             *(transactions.zones if transactions.active else ()),
             *(name for lane in config.lane_verifiers for name in lane.split(":"))]
    names += [name for f in scenario.faults for name in (getattr(f, "chain", None), getattr(f, "source", None),
                                                         *getattr(f, "to", ())) if isinstance(name, str)]
    ids = {data.zone_id(name) for name in names if slug(name) != "hub"}
    return [data.zones[i - 1].name for i in sorted(ids)]


Errors = list[tuple[str, str]]  # (where in the scenario, what is wrong)


def name_errors(scenario: Any) -> Errors:
    """Zone, sector and chain names checked against the seed data, before anything is built."""
    data = bundled_data()
    errors: Errors = []

    def check(path: str, name: str, kind: str = "zone", hub: bool = False) -> None:
        if hub and slug(name) == "hub":
            return
        try:
            data.zone_id(name) if kind == "zone" else data.sector_id(name)
        except NotFound as unknown:
            errors.append((path, str(unknown)))

    _workload_names(scenario.workload, check, errors)
    _transaction_names(scenario.transactions, check, errors)
    _fault_names(data, scenario.faults, check, errors)
    _suspension_names(data, scenario, errors)
    for name in scenario.network.vulnerable:
        check(f"network.vulnerable.{name}", name, hub=True)
    for lane in scenario.network.lane_verifiers:
        for name in lane.split(":"):
            check(f"network.lane_verifiers.{lane}", name, hub=True)
    return errors


Check = Callable[..., None]  # check(path, name, kind="zone", hub=False): an unknown name becomes an error


def _workload_names(work: Any, check: Check, errors: Errors) -> None:
    if work.zones != "all":
        for i, name in enumerate(work.zones):
            check(f"workload.zones.{i}", name)
        if len({slug(z) for z in work.zones}) < 2:
            errors.append(("workload.zones", "needs two zones at least: every data request crosses zones"))
    for name, weight in work.zone_weights.items():
        check(f"workload.zone_weights.{name}", name)
        if weight < 0:
            errors.append((f"workload.zone_weights.{name}", f"{weight} is negative"))
    if work.sectors != "all":
        for i, name in enumerate(work.sectors):
            check(f"workload.sectors.{i}", name, kind="sector")
        if not work.sectors:
            errors.append(("workload.sectors", "is empty: name sectors, or \"all\""))


def _transaction_names(transactions: Any, check: Check, errors: Errors) -> None:
    if transactions.zones == "all":
        return
    for i, name in enumerate(transactions.zones):
        check(f"transactions.zones.{i}", name)
    zones = len({slug(z) for z in transactions.zones})
    if zones < transactions.participants[1]:
        errors.append(("transactions.participants", f"up to {transactions.participants[1]} parties, one per zone, "
                                                    f"but transactions.zones names {zones}"))


def _fault_names(data: SeedData, faults: list[Any], check: Check, errors: Errors) -> None:
    for i, fault in enumerate(faults):
        for field in ("chain", "source"):
            name = getattr(fault, field, None)
            if isinstance(name, str):
                check(f"faults.{i}.{field}", name, hub=True)
                if field == "source" and slug(name) == "hub" and fault.kind in FORGERIES:
                    errors.append((f"faults.{i}.source", "forgeries claim a zone's chain, not the hub"))
        for j, name in enumerate(getattr(fault, "to", ())):
            check(f"faults.{i}.to.{j}", name, hub=True)
            if _same_chain(data, name, fault.chain):
                errors.append((f"faults.{i}.to.{j}", f"{name} is {fault.chain} itself: a chain has no lane to itself"))


def _suspension_names(data: SeedData, scenario: Any, errors: Errors) -> None:
    """Each suspended entity exists, is in a zone the workload uses, and is not suspended twice at once."""
    work = scenario.workload
    in_play = None if work.zones == "all" else {slug(data.zones[data.zone_id(z) - 1].code) for z in work.zones
                                                if not _unknown_zone(data, z)}
    held: dict[int, list[tuple[float, float, int]]] = {}  # entity → (from, until, item) of its suspensions
    for i, suspension in enumerate(scenario.registry.suspend):
        path = f"registry.suspend.{i}.entity"
        try:
            entity_id = data.entity_id(suspension.entity)
        except NotFound as unknown:
            errors.append((path, str(unknown)))
            continue
        zone = data.entity(entity_id).zone
        if in_play is not None and slug(zone) not in in_play:
            errors.append((path, f"{suspension.entity} is in {data.zones[data.zone_id(zone) - 1].name}, which "
                                 "workload.zones leaves out: nothing would ask it for data"))
        until = suspension.at_s + suspension.for_s if suspension.for_s else float("inf")
        for start, end, j in held.get(entity_id, []):
            if suspension.at_s < end and start < until:
                errors.append((path, f"{suspension.entity} is already suspended then (registry.suspend.{j})"))
        held.setdefault(entity_id, []).append((suspension.at_s, until, i))


def _same_chain(data: SeedData, a: str, b: str) -> bool:
    if "hub" in (slug(a), slug(b)) or _unknown_zone(data, a) or _unknown_zone(data, b):
        return slug(a) == slug(b)
    return data.zone_id(a) == data.zone_id(b)


def _unknown_zone(data: SeedData, name: str) -> bool:
    if slug(name) == "hub":
        return False
    try:
        data.zone_id(name)
    except NotFound:
        return True
    return False


def setting_keys(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Every setting's dotted key (`workload.rate_per_s`), for suggestions."""
    keys: list[str] = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            keys += setting_keys(value, f"{prefix}{key}.")
        keys.append(f"{prefix}{key}")
    return keys


def extra_field_error(exc: ValidationError, root: type[BaseModel]) -> tuple[str, str] | None:
    """A setting that does not exist, with the closest ones of its section of `root`."""
    error = exc.errors()[0]
    if error["type"] != "extra_forbidden":
        return None
    loc = [str(p) for p in error["loc"]]
    model: Any = root
    shown: list[str] = []  # the path as the user wrote it (a fault's kind, which pydantic adds, left out)
    parts = iter(loc[:-1])
    for part in parts:
        shown.append(part)
        field = model.model_fields.get(part)
        annotation = field.annotation if field is not None else None
        if get_origin(annotation) is list:  # a list of models (faults): its index, then the kind pydantic names
            index = next(parts, None)
            members = [m for arg in get_args(annotation) for m in get_args(get_args(arg)[0]) or [arg]]
            tag = next(parts, None)
            found = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)
                     and get_args(m.model_fields["kind"].annotation) == (tag,)] if "kind" in getattr(
                members[0], "model_fields", {}) else []
            if index is None or not found:
                return None
            shown.append(index)
            model = found[0]
            continue
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return ".".join([*shown, loc[-1]]), str(NotFound("setting", loc[-1], list(model.model_fields)))
