"""How refusals read: a transition's statuses by name (`from=active`), actors' addresses by who they
are (`0x3C44…FA42 (Beijing authority)`), each still equal to the value the contract returned."""

from __future__ import annotations

from typing import Any

from .errors import ContractRevert
from .models import EntityStatus, PilotStatus

__tracebackhide__ = True  # pytest shows a failing test's own frames, not these (--fulltrace: all)

_STATUS_ERRORS: dict[str, type[EntityStatus] | type[PilotStatus]] = {
    "InvalidEntityTransition": EntityStatus, "InvalidPilotTransition": PilotStatus}


class Labelled(str):
    """An address that prints with who it is ("0x3C44…FA42 (Beijing authority)") and still equals itself."""

    label: str

    def __new__(cls, address: str, label: str) -> Labelled:
        labelled = super().__new__(cls, address)
        labelled.label = label
        return labelled

    def __str__(self) -> str:
        return f"{self[:6]}…{self[-4:]} ({self.label})"

    def __reduce__(self) -> tuple[Any, ...]:  # so refusals cross process pools (sweeps) intact
        return Labelled, (str.__str__(self), self.label)


def explained(error: ContractRevert, labels: dict[str, str]) -> ContractRevert:
    enum = _STATUS_ERRORS.get(error.name)

    def explain(key: str, value: Any) -> Any:
        if enum is not None and key in ("from", "to"):
            return enum(value)
        if isinstance(value, str) and value in labels:
            return Labelled(value, labels[value])
        return value

    args = {k: explain(k, v) for k, v in error.args_by_name.items()}
    return ContractRevert(error.name, args, error.data, error.tx_hash)
