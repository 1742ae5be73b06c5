"""Ingest: the MQTT -> Kafka bridge and the Kafka -> Postgres projector (separate workers)."""
