"""Per-ven mode as in the field: client id and username = venId, per-VEN password and ACL."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dr_contracts.commands import simple_command
from dr_contracts.topics import MqttTopics
from dr_infra import Mosquitto
from dr_runtime.mqtt import make_client
from dr_runtime.settings import MqttSettings
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer
from ven_sim.bootstrap import running_simulator
from ven_sim.settings import Settings

pytestmark = pytest.mark.integration

VENS = ("ven-001", "ven-002")


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A private Mosquitto: passwords for the platform and each VEN, VENs limited to their topics."""
    passwords, acl = tmp_path / "passwd", tmp_path / "acl"
    for user, password in [("platform", "platform-pw"), *((v, f"pw-{v}") for v in VENS)]:
        subprocess.run(
            [
                "mosquitto_passwd",
                "-b",
                *(["-c"] if user == "platform" else []),
                str(passwords),
                user,
                password,
            ],
            check=True,
            capture_output=True,
        )
    acl.write_text(
        "user platform\ntopic readwrite #\n\n"
        "pattern read ven/cmd/%u\npattern write ven/ack/%u\npattern write volttron/metering\n"
    )
    # Anonymous stays allowed for dr_infra's readiness probe, but the ACL grants it nothing;
    # a user with a wrong password is refused at connect.
    extra = f"password_file {passwords}\nacl_file {acl}\n"
    with Mosquitto(extra_config=extra) as broker:
        yield broker


async def test_each_ven_connects_with_its_own_identity(secured_broker: Mosquitto) -> None:
    settings = Settings(
        mqtt_url=secured_broker.url,
        vens=2,
        mode="per-ven",
        interval_s=1.0,
        ven_password="pw-{venId}",
        log_level="WARNING",
    )
    platform = MqttSettings(
        mqtt_url=secured_broker.url, mqtt_username="platform", mqtt_password="platform-pw"
    )
    async with make_client(platform, f"platform-{uuid.uuid4().hex[:6]}") as client:
        await client.subscribe("#", qos=1)
        observer = Observer(client, MqttTopics())
        reader = asyncio.create_task(observer.run())
        try:
            async with running_simulator(settings) as sim:
                assert sorted(link.name for link in sim.links) == list(VENS)
                for ven in VENS:
                    await observer.send(ven, simple_command("ping", ven_id=ven, correlation_id=f"p-{ven}"))
                await wait_for(
                    lambda: all(observer.acks(v) for v in VENS),
                    timeout=20,
                    message="a pong from each VEN through the ACL",
                )
                await wait_for(
                    lambda: {r.venId for r in observer.readings()} == set(VENS),
                    timeout=20,
                    message="readings from each VEN",
                )
        finally:
            reader.cancel()
    assert all(observer.acks(v)[0].pong for v in VENS)
