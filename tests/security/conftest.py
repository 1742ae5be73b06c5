"""The attack suite's tools: clients of the TLS broker under an identity, and forged certificates.

Every case runs against the session's real Mosquitto (TLS listener, client certificates from the
session PKI, the platform's ACL: tests/fixtures/infra.py) and, where something could be stored,
the real bridge and projector (tests/fixtures/platform.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dr_contracts.topics import KafkaTopics
from dr_infra.mosquitto import Mosquitto
from dr_infra.pki import Pki
from dr_runtime.mqtt import make_client
from dr_runtime.settings import MqttSettings
from tests.fixtures.waiting import wait_for


@pytest.fixture
def pki(tls_broker: Mosquitto) -> Pki:
    assert tls_broker.tls is not None
    return tls_broker.tls.pki


@dataclass(frozen=True)
class Ingest:
    """The real bridge and projector of this test, and where they write."""

    dsn: str
    bootstrap: str
    topics: KafkaTopics


@pytest.fixture
def ingest(platform_factory: Any, pg_db: str, kafka_bootstrap: str, kafka_topics: KafkaTopics) -> Ingest:
    platform_factory(0, services=("projector", "bridge"))
    return Ingest(pg_db, kafka_bootstrap, kafka_topics)


def settings_as(broker: Mosquitto, cert: Path | None, key: Path | None) -> MqttSettings:
    """Settings of a client of the TLS listener presenting `cert` (None: no certificate)."""
    assert broker.tls is not None
    return MqttSettings(
        mqtt_url=broker.url,
        mqtt_ca_file=str(broker.tls.pki.ca_file),
        mqtt_cert_file=str(cert) if cert else None,
        mqtt_key_file=str(key) if key else None,
    )


@contextlib.asynccontextmanager
async def connected_as(
    broker: Mosquitto, pki: Pki, identity: str, username: str | None = None
) -> AsyncIterator[aiomqtt.Client]:
    """A connected client with `identity`'s certificate; `username` is what it claims in CONNECT."""
    settings = settings_as(broker, *pki.client_files(identity))
    async with make_client(settings, f"{identity}-{id(settings):x}", username=username) as client:
        yield client


class Inbox:
    """Every message a client receives on its subscriptions, as (topic, payload)."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self.client = client
        self.messages: list[tuple[str, bytes]] = []
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async for message in self.client.messages:
            assert isinstance(message.payload, bytes)
            self.messages.append((message.topic.value, message.payload))

    def topics(self) -> set[str]:
        return {topic for topic, _ in self.messages}

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def forged_certificate(
    folder: Path, identity: str, *, pki: Pki | None, expired: bool = False
) -> tuple[Path, Path]:
    """A client certificate for `identity`: self-signed (`pki=None`), or signed by the PKI's CA
    but expired yesterday. The PKI itself never issues either; an attacker (or a clock) does."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity)])
    issuer, signer = subject, key
    if pki is not None:
        ca_cert = x509.load_pem_x509_certificate(pki.ca_file.read_bytes())
        ca_key = serialization.load_pem_private_key((pki.root / "ca.key").read_bytes(), password=None)
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        issuer, signer = ca_cert.subject, ca_key
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=30 if expired else 0)
    end = now + dt.timedelta(days=-1 if expired else 1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .sign(signer, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / f"{identity}.crt", folder / f"{identity}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem = serialization.Encoding.PEM
    key_path.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


async def kafka_records_until(
    bootstrap: str, topics: list[str], done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool]
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topics` from the start, read until `done(records so far)` (30 s at most)."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    records: list[ConsumerRecord[bytes, bytes]] = []
    await consumer.start()
    try:

        async def seen() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return done(records)

        await wait_for(seen, 30, message=f"the awaited record in {topics}")
    finally:
        await consumer.stop()
    return records


def keys(records: list[ConsumerRecord[bytes, bytes]]) -> list[str]:
    return [record.key.decode() for record in records if record.key is not None]
