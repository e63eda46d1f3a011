"""The one shape of a progress report: `progress(label, done, total)`, called as long work advances."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, float, float], None]


def no_progress(label: str, done: float, total: float) -> None:
    """A `Progress` that shows nothing."""
