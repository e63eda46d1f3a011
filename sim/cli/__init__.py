"""`pilotsim`, the command line: the root app and its one error edge (`app`), the registry and node
commands, the simulation commands, and the tools."""
