"""Experiments: running a scenario end to end, sweeping a grid of its variants over processes or a
Dask cluster, and comparing two runs' reports. Above the results (which make a report from a run's
records) and the engine (which makes the records)."""
