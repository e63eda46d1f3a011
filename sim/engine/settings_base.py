"""What every section of a scenario is built on: frozen models that refuse unknown keys, and the
field types they share."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Seconds = Annotated[float, Field(ge=0)]
ChainName = Annotated[str, Field(min_length=1, description="zone name or 'hub'")]
