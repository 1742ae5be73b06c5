"""Pure ingest logic: what a message or a fact means, with no I/O."""
