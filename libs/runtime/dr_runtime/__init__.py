"""Runtime plumbing shared by the services: settings blocks and Kafka/MQTT client factories.

Services import this and `dr_contracts`, never each other.
"""
