"""pilotsim: cross-chain simulation of the national blockchain pilot programme, and its CLI."""

__version__ = "0.1.0"
