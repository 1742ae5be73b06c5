"""Every message the platform exchanges: MQTT payloads of docs/contract.md and Kafka facts."""
