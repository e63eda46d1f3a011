"""A scenario's `[registry]` section: what happens to the hub's PilotRegistry during the run, how the
hub's broadcaster carries it to the zones' mirrors, and how stale a mirror may be."""

from __future__ import annotations

from pydantic import Field, field_validator

from .settings_base import Seconds, _Model


class ScheduledSuspension(_Model):
    """The regulator suspends a named entity at a given moment (and reinstates it `for_s` later)."""

    entity: str = Field(min_length=1, description="the entity's name, as in the pilot data")
    at_s: Seconds = Field(description="when the regulator suspends it")
    for_s: Seconds = Field(0.0, description="reinstated by the regulator this long after (0: never)")


class RegistrySettings(_Model):
    """Registry activity on the hub, each kind performed by its role's account on the simulated clock
    (random ones drawn from the run's seed), and the propagation of entity changes to the mirrors."""

    applications_per_min: float = Field(0.0, ge=0, le=600, description=(
        "new entities registered by the national admin (pending), approved by their zone authority after "
        "review_s"))
    review_s: tuple[float, float] = Field((30.0, 120.0), description="an application's review, drawn in [low, high]")
    pilots_per_min: float = Field(0.0, ge=0, le=600, description=(
        "pilots proposed by active entities; approved, then started by their zone authority after pilot_step_s "
        "each, completed by the entity after pilot_run_s"))
    pilot_step_s: tuple[float, float] = Field((20.0, 90.0), description="proposal → approval → start, each step")
    pilot_run_s: tuple[float, float] = Field((120.0, 900.0), description="how long a started pilot runs")
    suspensions_per_min: float = Field(0.0, ge=0, le=600, description=(
        "entities suspended by the regulator at random, among the workload's active ones"))
    suspension_s: tuple[float, float] = Field((60.0, 300.0), description=(
        "how long a random suspension lasts before the regulator reinstates the entity"))
    suspend: list[ScheduledSuspension] = Field(default_factory=list, description=(
        "suspensions at given moments: [{entity = NAME, at_s = T, for_s = D}]"))
    policy_changes_per_min: float = Field(0.0, ge=0, le=600, description=(
        "sector-policy changes by the national admin: a requester sector gains or loses one data sector"))
    broadcast_interval_s: float = Field(10.0, gt=0, le=3600, description=(
        "how often the hub's broadcaster sends each zone the entities changed since its last sync"))
    broadcast_batch: int = Field(32, ge=1, le=256, description="entities per sync message at most")
    max_stale_s: float = Field(120.0, gt=0, le=86_400, description=(
        "suspension_honoured: no request to or from an entity is served later than this after its suspension"))

    @field_validator("review_s", "pilot_step_s", "pilot_run_s", "suspension_s")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if low < 0 or high < low:
            raise ValueError("must be [low, high] with 0 <= low <= high")
        return value

    @property
    def active(self) -> bool:
        """Anything happens to the registry during the run."""
        return bool(self.applications_per_min or self.pilots_per_min or self.suspensions_per_min or self.suspend
                    or self.policy_changes_per_min)
