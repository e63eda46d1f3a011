"""Percentiles as the reports give them: rounded to the millisecond, None for no values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .report import Percentiles


def _round(value: float) -> float:
    return round(float(value), 3)


def percentiles(values: Sequence[float]) -> Percentiles:
    if not values:
        return Percentiles(count=0, p50=None, p95=None, p99=None, mean=None, max=None)
    array = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(array, [50, 95, 99])
    return Percentiles(count=len(values), p50=_round(p50), p95=_round(p95), p99=_round(p99),
                       mean=_round(array.mean()), max=_round(array.max()))
