"""Local infrastructure for tests and local runs: Tansu (Kafka protocol), Mosquitto
(MQTT) and PostgreSQL as child processes on free ports, in temp dirs, never left behind.

    from dr_infra import LocalStack
    with LocalStack() as stack:
        stack.kafka_bootstrap, stack.mqtt_url, stack.pg_dsn

Command line: ``python -m dr_infra up`` (see :mod:`dr_infra.cli`).
"""

from .errors import InfraError
from .kafka_admin import ensure_topics, topic_partitions
from .mosquitto import Mosquitto
from .ports import free_port, wait_for_tcp
from .postgres import Postgres, create_database, drop_database
from .stack import LocalStack
from .tansu import TansuBroker

__all__ = [
    "InfraError",
    "LocalStack",
    "Mosquitto",
    "Postgres",
    "TansuBroker",
    "create_database",
    "drop_database",
    "ensure_topics",
    "free_port",
    "topic_partitions",
    "wait_for_tcp",
]
