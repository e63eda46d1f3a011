"""A run's results: the report model, the metrics that make it from the run's records, its outputs
(report.json, messages.csv, report.md, report.html), and running, sweeping and comparing scenarios."""
