"""Every message the platform exchanges: MQTT payloads of CONTRACT.md and Kafka facts."""
