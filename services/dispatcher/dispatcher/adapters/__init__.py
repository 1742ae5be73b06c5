"""Kafka, MQTT and Postgres behind the dispatcher's ports."""
