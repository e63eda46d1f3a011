"""A scenario's `[transactions]` section: atomic cross-zone transactions (2PC or TCC) begun by entities during
the run, beside the data requests, and the bounds their invariants are judged by."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .settings_base import _Model


class TransactionSettings(_Model):
    """Atomic transactions over two to five zones: each writes an agreement into one entity's record on each
    party's zone chain, on every one or on none, decided by a coordinator on the hub or the initiator's zone."""

    rate_per_s: float = Field(0.0, ge=0, le=100, description="new transactions per second, all zones (0: none)")
    participants: tuple[int, int] = Field((2, 3), description=(
        "parties per transaction, drawn in [low, high] (2 to 5): one entity in each of as many zones"))
    zones: list[str] | Literal["all"] = Field("all", description="the zones whose entities take part, or \"all\"")
    protocol: Literal["2pc", "tcc"] = Field("2pc", description=(
        "2pc: prepare locks, commit writes; tcc: try writes tentatively and locks, cancel compensates"))
    coordinator: Literal["hub", "initiator"] = Field("hub", description=(
        "where transactions are decided: the hub's chain, or the initiating entity's zone chain"))
    lock_timeout_s: int = Field(120, ge=10, le=86_400, description=(
        "a party's lock expires this long after the transaction began; the coordinator decides by half of it"))
    conflict_probability: float = Field(0.0, ge=0, le=1, description=(
        "the chance that a transaction names an entity an unfinished one holds (a conflict, if it still does)"))
    keeper_interval_s: float = Field(5.0, gt=0, le=3600, description=(
        "how often keepers release expired locks and roll back transactions past their decision deadline "
        "(plus a block, at most release_bound_s)"))
    release_bound_s: float = Field(30.0, gt=0, le=86_400, description=(
        "locks_released: a lock ends at most this long after its expiry (time its chain was halted excused)"))
    unsafe_commit: bool = Field(False, description=(
        "FLAWED VARIANT: participants commit on prepare (and vote yes), which breaks atomicity when a party "
        "votes no"))

    @field_validator("participants")
    @classmethod
    def _parties(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 2 <= low <= high <= 5:
            raise ValueError("must be [low, high] with 2 <= low <= high <= 5")
        return value

    @property
    def active(self) -> bool:
        return self.rate_per_s > 0
