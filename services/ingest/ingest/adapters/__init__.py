"""Ingest's I/O: MQTT, Kafka and Postgres."""
