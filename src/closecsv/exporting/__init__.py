"""Close into CSV files: the routes that list instances, their rows, the run state, the exporter."""
