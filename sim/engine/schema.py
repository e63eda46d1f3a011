"""The scenario schema, published: every setting with its default and meaning, walked from the pydantic
model itself, as a commented TOML (`pilotsim scenarios schema`), as the README's table, or as JSON
Schema (`--json`). Nothing here is written by hand, so it cannot fall behind the model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from .fault_kinds import Fault
from .scenario import Scenario

SECTIONS = ("network", "chains", "relayers", "workload", "watcher", "registry", "transactions")


@dataclass(frozen=True)
class Setting:
    key: str  # dotted, as `--set` takes it
    default: str  # as TOML writes it; "(required)" or "(unset)" when there is none
    meaning: str


def settings(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[Setting]:
    """Every setting of `model`, sections expanded (faults aside: see `fault_kinds`)."""
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if name == "faults":
            continue
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from settings(annotation, f"{prefix}{name}.")
            continue
        if info.is_required():
            default = "(required)"
        else:
            value = info.get_default(call_default_factory=True)
            default = "(unset)" if value is None else toml_value(value)
        yield Setting(f"{prefix}{name}", default, _meaning(info))


def fault_kinds() -> Iterator[tuple[str, str, list[Setting]]]:
    """(kind, what it does, its settings) for every fault kind."""
    for model in get_args(get_args(Fault)[0]):
        kind = get_args(model.model_fields["kind"].annotation)[0]
        fields = [s for s in settings(model) if s.key != "kind"]
        yield kind, " ".join((model.__doc__ or "").split()), fields


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


def _meaning(info: Any) -> str:
    parts = [info.description or ""]
    choices = [c for arg in (info.annotation, *get_args(info.annotation)) for c in _literal(arg)]
    if choices and not any(get_origin(arg) is list for arg in get_args(info.annotation)):  # names, or "all"
        parts.append("one of " + ", ".join(map(str, choices)))
    bounds = [f"{name} {getattr(m, name)}" for m in info.metadata for name in ("ge", "gt", "le", "lt")
              if getattr(m, name, None) is not None]
    symbols = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    if bounds:
        parts.append(", ".join(f"{symbols[b.split()[0]]} {b.split()[1]}" for b in bounds))
    return "; ".join(p for p in parts if p)


def _literal(annotation: Any) -> tuple[Any, ...]:
    return get_args(annotation) if getattr(annotation, "__origin__", None) is Literal else ()


def toml_template() -> str:
    """A scenario file with every setting at its default, each with its meaning."""
    lines = ["# A pilotsim scenario: every setting at its default, with what it means.",
             "# Unset settings and sections may be left out; `pilotsim run FILE` checks it all when it loads.", ""]
    by_section: dict[str, list[Setting]] = {}
    for setting in settings():
        section, _, key = setting.key.rpartition(".")
        by_section.setdefault(section, []).append(Setting(key, setting.default, setting.meaning))
    for section, rows in by_section.items():
        if section:
            lines += ["", f"[{section}]"]
        for row in rows:
            lines.append(_line(row))
    lines += ["", "# Faults: any number of [[faults]] tables, each of one kind:"]
    for kind, doc, fields in fault_kinds():
        lines += ["#", f"# {doc}", "# [[faults]]", f'# kind = "{kind}"']
        lines += ["# " + _line(f).removeprefix("# ") for f in fields]
    return "\n".join(lines) + "\n"


def _line(setting: Setting) -> str:
    """`key = default  # meaning`; commented out when there is no default to write."""
    if setting.default.startswith("("):
        text = f"# {setting.key} = …  {setting.default}"
    else:
        text = f"{setting.key} = {setting.default}"
    return f"{text}  # {setting.meaning}" if setting.meaning else text


def resolved_toml(scenario: Scenario) -> str:
    """`scenario` with every setting written out, defaults included: what a run will use."""
    data = scenario.model_dump(mode="json")
    faults = data.pop("faults")
    lines = [f"{k} = {toml_value(v)}" for k, v in data.items() if not isinstance(v, dict) and v is not None]
    for section in SECTIONS:
        lines += ["", f"[{section}]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in data[section].items() if v is not None]
    for fault in faults:
        lines += ["", "[[faults]]"] + [f"{k} = {toml_value(v)}" for k, v in fault.items() if v is not None]
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The README's table of settings."""
    rows = ["| setting | default | unit | meaning |", "|---|---|---|---|"]
    rows += [f"| `{s.key}` | `{s.default}` | {unit(s.key)} | {s.meaning} |" for s in settings()]
    return "\n".join(rows) + "\n"


NAMED_UNITS = {"committee_size": "validators", "validators": "validators", "threshold": "signatures",
               "count": "relayers", "fraud_watchers.count": "watchers", "batch_size": "messages",
               "broadcast_batch": "entities", "participants": "parties", "conflict_probability": "probability"}


def unit(key: str) -> str:
    """A setting's unit, as its name says it (`_s` seconds, `_per_min` per minute, …); a name that cannot say
    it (`sync_ttl`) is named here."""
    name = key.rpartition(".")[2]
    if key in NAMED_UNITS:
        return NAMED_UNITS[key]
    if name in NAMED_UNITS:
        return NAMED_UNITS[name]
    if name in ("sync_ttl", "at_s", "jitter_s") or (name.endswith("_s") and not name.endswith("_per_s")):
        return "s"
    if name == "genesis_timestamp":
        return "Unix s"
    if name.endswith("_per_s"):
        return "gas/s" if "gas" in name else "1/s"
    if name.endswith("_per_min"):
        return "1/min"
    if name.endswith("_bytes"):
        return "bytes"
    if "gas" in name and name != "gas_accounting":
        return "gas"
    return ""
