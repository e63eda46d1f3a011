"""`python -m sim.cli …` runs `pilotsim …`."""

from .app import main

main()
