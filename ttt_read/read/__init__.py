"""Reading: the model, the reading loop, checkpoints, and the .mem snapshots `ingest` writes."""
