"""The project's exceptions: one root, revert data decoded by selector the same on every backend."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

PANIC_CODES: Mapping[int, str] = {
    0x00: "generic compiler panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "bad storage byte array encoding",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to a zero-initialised function",
}


class PilotsimError(Exception):
    """Root of every error this project raises on purpose."""

    exit_code = 1  # the status `pilotsim` ends with when this stops a command


class Interrupted(PilotsimError):
    """Ctrl-C or SIGTERM stopped a command; what it says is what was kept."""

    exit_code = 130  # what a shell reports for SIGINT


class ChainError(PilotsimError):
    """A node or chain refused or could not do what was asked."""


class ChainConnectionError(ChainError, ConnectionError):
    """The JSON-RPC endpoint cannot be reached or does not answer as a node."""


class TransactionRejected(ChainError):
    """The chain refused a transaction before executing it (nonce, fee, gas limit, balance)."""


class ContractRevert(ChainError):
    """A call or transaction reverted. `name` is the custom error's name, `Error` for
    `Error(string)`, `Panic` for `Panic(uint256)`, or the EVM's failure (e.g. `OutOfGas`);
    `args` holds the decoded arguments by name; `data` the raw revert data."""

    def __init__(self, name: str, args: Mapping[str, Any] | None = None, data: bytes = b"",
                 tx_hash: bytes | None = None) -> None:
        self.name = name
        self.args_by_name: dict[str, Any] = dict(args or {})
        self.data = data
        self.tx_hash = tx_hash
        super().__init__(self.describe())

    def __reduce__(self) -> tuple[Any, ...]:  # so it crosses process pools (sweeps) intact
        return type(self), (self.name, self.args_by_name, self.data, self.tx_hash)

    def describe(self) -> str:
        if self.name == "Error":
            return f"reverted: {self.args_by_name.get('message', '')}"
        if self.name == "Panic":
            code = int(self.args_by_name.get("code", 0))
            return f"panic 0x{code:02x}: {PANIC_CODES.get(code, 'unknown panic code')}"
        if not self.args_by_name:
            return f"reverted with {self.name}"
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args_by_name.items())
        return f"reverted with {self.name}({shown})"


class ConfigError(PilotsimError, ValueError):
    """A setting or argument that cannot work: a threshold above the committee size, a block time
    not after the latest block's, a workload that allows no request."""


class ArtifactError(PilotsimError):
    """A compiled contract artifact is missing, malformed or out of date with its source."""


class SeedDataError(PilotsimError, ValueError):
    """Seed data (zones, sectors, entities, pilots) is malformed: names the file, line and field."""


LISTED = 16  # known names an unknown one is answered with, when none is close


class NotFound(PilotsimError, LookupError):
    """A name (zone, sector, entity, scenario) is unknown; the message suggests the closest."""

    def __init__(self, kind: str, name: str, known: Iterable[str], listed: Iterable[str] | None = None) -> None:
        """`known`: every spelling a suggestion may be; `listed`: what to list when none is close (default: known)."""
        self.kind, self.name = kind, name
        unique = _unique(known)
        self.suggestions = _closest(name, unique)
        if self.suggestions:
            hint = f"; did you mean {' or '.join(repr(s) for s in self.suggestions)}?"
        else:  # nothing close: what there is, so the next try need not be a guess
            every = _unique(listed) if listed is not None else unique
            shown = ", ".join(every[:LISTED]) + (f" and {len(every) - LISTED} more" if len(every) > LISTED else "")
            hint = f"; known: {shown}" if every else ""
        super().__init__(f"unknown {kind} {name!r}{hint}")
        self._known, self._listed = unique, None if listed is None else list(listed)

    def __reduce__(self) -> tuple[Any, ...]:  # so it crosses process pools (sweeps) intact
        return type(self), (self.kind, self.name, self._known, self._listed)


def _unique(names: Iterable[str]) -> list[str]:
    """`names` without repeats whatever their case, each kept as first written."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return list(seen.values())


def _closest(name: str, known: list[str], count: int = 3) -> list[str]:
    """The known names most like `name`, best first: difflib's ratio, ties broken by shared letter pairs
    ('Pekin' is as close to 'Weifang' as to 'Beijing' by ratio; only Beijing shares 'in')."""
    wanted = name.lower()

    def pairs(text: str) -> set[str]:
        return {text[i:i + 2] for i in range(len(text) - 1)}

    def score(candidate: str) -> tuple[float, float]:
        other = candidate.lower()
        ratio = difflib.SequenceMatcher(None, wanted, other).ratio()
        union = pairs(wanted) | pairs(other)
        return ratio, len(pairs(wanted) & pairs(other)) / len(union) if union else 0.0

    scored = sorted(((score(k), k) for k in known), key=lambda item: item[0], reverse=True)
    return [k for (ratio, _), k in scored if ratio >= 0.5][:count]


def first_error(exc: Any, whole: str, skip: Iterable[str] = ()) -> tuple[str, str]:
    """The first error of a pydantic `ValidationError`: (dotted field path or `whole`, message).
    Path parts in `skip` are left out (pydantic puts the tag of a discriminated union in the path)."""
    errors = exc.errors()
    skipped = set(skip)

    def path(error: Any) -> str:
        # pydantic names each member of a union in the path (`list[str]`, `literal['all']`): not the user's words
        return ".".join(str(p) for p in error["loc"] if p not in skipped and not _type_label(p)) or whole

    field = path(errors[0])
    if any(_type_label(p) for p in errors[0]["loc"]):  # a union: what each of its forms wanted, in one line
        wanted = dict.fromkeys(str(e["msg"]).removeprefix("Value error, ") for e in errors if path(e) == field)
        return field, " or ".join(wanted)
    return field, str(errors[0]["msg"]).removeprefix("Value error, ")


def _type_label(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part in ("str", "int", "float", "bool"))


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
