"""Tools that measure the project itself: `pilotsim bench` and its scripts, and the gas snapshot."""
