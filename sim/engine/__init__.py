"""The discrete-event simulation: scenarios, the SimPy clock driving chains, relayers, the workload and
faults, the recorder of what happened and the watcher of the invariants."""
