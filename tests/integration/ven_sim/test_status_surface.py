"""The local status surface: HTTP endpoints and the status file, read while the VENs run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dr_contracts.commands import simple_command
from dr_infra import free_port
from tests.fixtures.waiting import wait_for
from tests.integration.ven_sim.conftest import Observer
from ven_sim.bootstrap import running_simulator
from ven_sim.settings import Settings

pytestmark = pytest.mark.integration


async def test_http_status_and_status_file(
    observer: Observer, sim_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    port, status_file = free_port(), tmp_path / "status.json"
    async with running_simulator(sim_settings(vens=2, status_port=port, status_file=str(status_file))):
        await observer.send("ven-001", simple_command("ping", ven_id="ven-001", correlation_id="p-1"))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:

            async def counted() -> bool:
                status = (await http.get("/status")).json()
                return bool(status["acks_sent"] == 1 and status["telemetry_sent"] >= 2)

            await wait_for(counted, timeout=20, message="counts on /status")
            assert (await http.get("/status/applied")).json() == {"p-1": 1}
            telemetry = (await http.get("/status/telemetry")).json()
            assert telemetry["sent"] >= 2 and sum(telemetry["lateness_counts"]) == telemetry["sent"]
            assert len(telemetry["lateness_bounds_s"]) + 1 == len(telemetry["lateness_counts"])
            assert (await http.get("/health")).json() == {"ok": True, "running": True}
            assert (await http.get("/nope")).status_code == 404
            assert (await http.post("/status")).status_code == 405
        await wait_for(
            lambda: status_file.exists() and json.loads(status_file.read_text())["acks_sent"] == 1,
            timeout=20,
            message="the status file",
        )
    final = json.loads(status_file.read_text())
    assert final["vens"] == 2 and final["commands_applied"] == 1 and final["received_by_op"] == {"ping": 1}
