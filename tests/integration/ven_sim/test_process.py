"""`python -m ven_sim` as its own process: settings from the environment and flags, clean stop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from dr_contracts.commands import simple_command
from dr_contracts.topics import MqttTopics
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer

pytestmark = pytest.mark.integration


async def test_process_runs_from_env_and_flags_and_stops_on_sigterm(
    observer: Observer, mqtt_url: str, mqtt_topics: MqttTopics, tmp_path: Path
) -> None:
    status_file = tmp_path / "status.json"
    env = os.environ | {
        "MQTT_URL": mqtt_url,
        "MQTT_TOPIC_ROOT": mqtt_topics.root,
        "VEN_SIM_VENS": "50",  # the flag below wins
        "VEN_SIM_INTERVAL_S": "1",
        "VEN_SIM_ACK_SHAPE": "B",
        "VEN_SIM_STATUS_FILE": str(status_file),
        "LOG_LEVEL": "WARNING",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ven_sim", "--vens", "2", "--prefix", "site-", env=env
    )
    try:
        await wait_for(
            lambda: {r.venId for r in observer.readings()} == {"site-001", "site-002"},
            timeout=30,
            message="readings from both VENs",
        )
        await observer.send("site-002", simple_command("ping", ven_id="site-002", correlation_id="p-1"))
        await wait_for(lambda: observer.acks("site-002"), timeout=20, message="the pong")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 30)
    assert code == 0
    (pong,) = observer.acks("site-002")
    assert pong.pong is True and pong.shape == "B"
    final = json.loads(status_file.read_text())
    assert final["vens"] == 2 and final["acks_sent"] == 1
