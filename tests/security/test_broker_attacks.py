"""Attacks on the MQTT side, against the real TLS broker, bridge and projector (docs/security.md).

Each case asserts the refusal and that nothing reached Kafka or Postgres. A denied publish is
dropped silently by Mosquitto and a denied subscription simply never delivers, so those cases
send a legitimate message after the attack on the same connection: Mosquitto handles one
connection's packets in order, so once that message has arrived (or is stored), whatever the
attack sent before it would have arrived too.
"""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path
from typing import Any

import aiomqtt
import psycopg
import pytest

from dr_contracts.topics import MqttTopics
from dr_infra.mosquitto import Mosquitto, mqtt_connack
from dr_infra.mqtt_acl import DISPATCHER_IDENTITY
from dr_infra.pki import Pki
from dr_runtime.mqtt import client_tls, make_client
from dr_runtime.settings import MqttSettings
from tests.fixtures.waiting import wait_for
from tests.samples import ack_a, legacy_telemetry, telemetry
from tests.security.conftest import Inbox, Ingest, connected_as, forged_certificate, kafka_records_until, keys

pytestmark = pytest.mark.security

DEADLINE_S = 30.0


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


async def readings(dsn: str, ven: str) -> int:
    """Readings of `ven` in the read model."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        row = await (
            await conn.execute("SELECT count(*) FROM ven_telemetry WHERE ven_id = %s", (ven,))
        ).fetchone()
    return row[0] if row else 0


async def test_a_ven_receives_only_its_own_commands(
    tls_broker: Mosquitto, pki: Pki, ns: str, mqtt_topics: MqttTopics
) -> None:
    """VEN A subscribes to B's commands and to every command, claiming B's name as username:
    the broker takes the identity from A's certificate and delivers only A's own."""
    a, b = f"{ns}-a", f"{ns}-b"
    for identity, role in ((a, "ven"), (b, "ven"), (DISPATCHER_IDENTITY, "service")):
        pki.ensure_client(identity, role)
    async with (
        connected_as(tls_broker, pki, a, username=b) as ven_a,
        connected_as(tls_broker, pki, b) as ven_b,
        connected_as(tls_broker, pki, DISPATCHER_IDENTITY) as dispatcher,
    ):
        for topic in (mqtt_topics.cmd(a), mqtt_topics.cmd(b), mqtt_topics.all_cmds):
            await ven_a.subscribe(topic, qos=1)
        await ven_b.subscribe(mqtt_topics.cmd(b), qos=1)
        inbox_a, inbox_b = Inbox(ven_a), Inbox(ven_b)
        await dispatcher.publish(mqtt_topics.cmd(b), b'{"op":"event","for":"b"}', qos=1)
        await dispatcher.publish(mqtt_topics.cmd(a), b'{"op":"event","for":"a"}', qos=1)
        await wait_for(lambda: inbox_a.messages and inbox_b.messages, DEADLINE_S, message="commands")
        await inbox_a.close()
        await inbox_b.close()
    assert inbox_a.topics() == {mqtt_topics.cmd(a)}, inbox_a.messages
    assert inbox_b.topics() == {mqtt_topics.cmd(b)}, inbox_b.messages


async def test_a_ven_cannot_report_in_another_vens_name(
    ingest: Ingest, tls_broker: Mosquitto, pki: Pki, ns: str, mqtt_topics: MqttTopics
) -> None:
    """VEN A publishes an ack and telemetry on B's topics, and a reading for B on the legacy
    shared topic (A is no legacy gateway): the broker drops all four; nothing of B's is in
    Kafka or Postgres once A's own reading, sent after them, is stored."""
    a, b = f"{ns}-a", f"{ns}-b"
    pki.ensure_client(a, "ven")
    now = int(time.time())
    attacks = [
        (mqtt_topics.ack(b), ack_a(ven_id=b)),
        (mqtt_topics.telemetry(b), telemetry(b, ts=now)),
        (mqtt_topics.oadr_meter(b), telemetry(b, ts=now)),
        (mqtt_topics.metering, legacy_telemetry(b, ts=now)),
    ]
    async with connected_as(tls_broker, pki, a) as ven_a:
        for topic, body in attacks:
            await ven_a.publish(topic, dumps(body), qos=1)
        await ven_a.publish(mqtt_topics.telemetry(a), dumps(telemetry(a, ts=now)), qos=1)

    await wait_for(lambda: readings(ingest.dsn, a), DEADLINE_S, message=f"{a}'s own reading stored")
    topics = [ingest.topics.ven_acks, ingest.topics.ven_telemetry, ingest.topics.ingest_rejected]
    records = await kafka_records_until(ingest.bootstrap, topics, lambda got: a in keys(got))
    assert set(keys(records)) == {a}, f"records for {set(keys(records)) - {a}} reached Kafka"
    async with await psycopg.AsyncConnection.connect(ingest.dsn) as conn:
        found = await (
            await conn.execute(
                "SELECT (SELECT count(*) FROM vens WHERE ven_id = %(v)s)"
                " + (SELECT count(*) FROM ven_telemetry WHERE ven_id = %(v)s)",
                {"v": b},
            )
        ).fetchone()
    assert found == (0,), f"{b} reached Postgres"


async def test_a_gateway_speaks_only_for_its_own_vens(
    tls_broker: Mosquitto, pki: Pki, ns: str, mqtt_topics: MqttTopics
) -> None:
    """A gateway (not legacy) acks for its VEN and for one it does not own, and tries the
    legacy topic: only the first reaches the bridge's topics."""
    gateway, own, other = f"{ns}-gw", f"{ns}-own", f"{ns}-other"
    pki.ensure_client(gateway, "gateway")
    pki.set_gateway(gateway, [own])
    pki.ensure_client(BRIDGE := "ingest-bridge", "service")
    tls_broker.reload()
    async with (
        connected_as(tls_broker, pki, BRIDGE) as bridge,
        connected_as(tls_broker, pki, gateway) as gw,
    ):
        for topic in mqtt_topics.ingest_filters():
            await bridge.subscribe(topic, qos=1)
        inbox = Inbox(bridge)
        await gw.publish(mqtt_topics.ack(other), dumps(ack_a(ven_id=other)), qos=1)
        await gw.publish(mqtt_topics.metering, dumps(legacy_telemetry(other)), qos=1)
        await gw.publish(mqtt_topics.ack(own), dumps(ack_a(ven_id=own)), qos=1)
        await wait_for(lambda: inbox.messages, DEADLINE_S, message="the gateway's own ack")
        await inbox.close()
    assert inbox.topics() == {mqtt_topics.ack(own)}, inbox.messages


def refused(broker: Mosquitto, context: ssl.SSLContext | None, port: int | None = None) -> str:
    """How a connection with `context` (None: plain text) was refused; fails if it was accepted."""
    try:
        mqtt_connack(broker.host, port or broker.port, timeout=10.0, tls=context)
    except (ConnectionError, ssl.SSLError, TimeoutError) as err:
        return repr(err)
    pytest.fail("the broker accepted the connection")


def context_with(broker: Mosquitto, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    assert broker.tls is not None
    return client_tls(str(broker.tls.pki.ca_file), str(cert) if cert else None, str(key) if key else None)


def test_a_client_without_a_certificate_is_refused(tls_broker: Mosquitto) -> None:
    refused(tls_broker, context_with(tls_broker))


def test_a_self_signed_certificate_is_refused(tls_broker: Mosquitto, tmp_path: Path, ns: str) -> None:
    refused(tls_broker, context_with(tls_broker, *forged_certificate(tmp_path, f"{ns}-a", pki=None)))


def test_an_expired_certificate_is_refused(tls_broker: Mosquitto, pki: Pki, tmp_path: Path, ns: str) -> None:
    cert, key = forged_certificate(tmp_path, f"{ns}-a", pki=pki, expired=True)
    refused(tls_broker, context_with(tls_broker, cert, key))


def test_a_revoked_certificate_is_refused(tls_broker: Mosquitto, pki: Pki, ns: str) -> None:
    issued = pki.client(f"{ns}-a")
    mqtt_connack(tls_broker.host, tls_broker.port, tls=context_with(tls_broker, issued.cert, issued.key))
    kept = issued.cert.with_name("revoked.crt"), issued.key.with_name("revoked.key")
    kept[0].write_bytes(issued.cert.read_bytes())
    kept[1].write_bytes(issued.key.read_bytes())
    pki.client(f"{ns}-a")  # rotation: a new certificate, the old one revoked
    tls_broker.reload()
    refused(tls_broker, context_with(tls_broker, *kept))


def test_plain_text_on_the_tls_port_is_refused(tls_broker: Mosquitto) -> None:
    refused(tls_broker, None)


async def test_a_legacy_gateway_reports_only_for_its_own_vens(
    ingest: Ingest, tls_broker: Mosquitto, pki: Pki, ns: str, mqtt_topics: MqttTopics
) -> None:
    """A legacy gateway reports on the shared topic for a VEN it does not own (refused by the
    bridge, `not_owner`), and tries to pass as another gateway on the stamped topic (dropped by
    the broker); its own VEN's reading, sent last, is stored, and nothing of the others is."""
    gateway, other_gateway = f"{ns}-gw", f"{ns}-gw2"
    own, foreign = f"{ns}-own", f"{ns}-foreign"
    pki.ensure_client(gateway, "gateway")
    pki.set_gateway(gateway, [own], legacy=True)
    pki.set_gateway(other_gateway, [foreign], legacy=True)
    tls_broker.reload()
    now = int(time.time())
    async with connected_as(tls_broker, pki, gateway) as gw:
        await gw.publish(mqtt_topics.metering, dumps(legacy_telemetry(foreign, ts=now)), qos=1)
        forged = mqtt_topics.metering_from(other_gateway)
        await gw.publish(forged, dumps(legacy_telemetry(foreign, ts=now + 1)), qos=1)
        await gw.publish(mqtt_topics.metering, dumps(legacy_telemetry(own, ts=now)), qos=1)

    await wait_for(lambda: readings(ingest.dsn, own), DEADLINE_S, message=f"{own}'s reading stored")
    assert await readings(ingest.dsn, foreign) == 0
    records = await kafka_records_until(
        ingest.bootstrap,
        [ingest.topics.ingest_rejected],
        lambda got: any(b"not_owner" in r.value for r in got),
    )
    assert len(records) == 1, records
    assert f"gateway {gateway!r} does not speak for {foreign!r}".encode() in records[0].value


async def test_a_site_without_a_certificate_uses_its_password_and_only_its_topics(
    tls_broker: Mosquitto, pki: Pki, ns: str, mqtt_topics: MqttTopics
) -> None:
    """The fallback listener (TLS without client certificates): a VEN with its password gets
    only its own commands; a wrong password, and another VEN's name with it, are refused."""
    a, b = f"{ns}-a", f"{ns}-b"
    password = pki.password(a)
    pki.ensure_client(DISPATCHER_IDENTITY, "service")
    tls_broker.reload()
    assert tls_broker.tls is not None
    ca = str(tls_broker.tls.pki.ca_file)

    def as_user(username: str, secret: str) -> MqttSettings:
        return MqttSettings(
            mqtt_url=tls_broker.password_url, mqtt_ca_file=ca, mqtt_username=username, mqtt_password=secret
        )

    async with (
        make_client(as_user(a, password), f"{a}-pw") as ven_a,
        connected_as(tls_broker, pki, DISPATCHER_IDENTITY) as dispatcher,
    ):
        for topic in (mqtt_topics.cmd(a), mqtt_topics.cmd(b)):
            await ven_a.subscribe(topic, qos=1)
        inbox = Inbox(ven_a)
        await dispatcher.publish(mqtt_topics.cmd(b), b'{"op":"event","for":"b"}', qos=1)
        await dispatcher.publish(mqtt_topics.cmd(a), b'{"op":"event","for":"a"}', qos=1)
        await wait_for(lambda: inbox.messages, DEADLINE_S, message="a's command")
        await inbox.close()
    assert inbox.topics() == {mqtt_topics.cmd(a)}, inbox.messages
    for username, secret in ((a, "wrong-password"), (b, password)):
        with pytest.raises(aiomqtt.MqttError, match=r"[Nn]ot authorized|[Bb]ad user name or password"):
            async with make_client(as_user(username, secret), f"{username}-pw"):
                pass
