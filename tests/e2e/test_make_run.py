"""`make run` (python -m dr_infra.run): the demo completes, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dr_infra.ports import free_port
from dr_infra.process import alive, descendants
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e


async def test_demo_event_completes_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    argv = [
        "-m",
        "dr_infra.run",
        "--vens",
        "3",
        "--lead-s",
        "2",
        "--duration-s",
        "6",
        "--api-port",
        str(free_port()),
        "--mqtt-port",
        str(free_port()),
    ]
    with log.open("wb") as out:
        runner = await asyncio.create_subprocess_exec(
            sys.executable,
            *argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
    try:
        await wait_for(
            lambda: "Ctrl-C to stop" in log.read_text(),
            timeout=180,
            message=lambda: f"the demo to finish:\n{log.read_text()[-3000:]}",
        )
        text = log.read_text()
        assert "summary of evt-" in text and ": completed" in text
        assert "(100%)" in text and "VENs responding 3 of 3" in text
        children = descendants(runner.pid)
        assert len(children) >= 8  # three brokers and five services
        runner.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(runner.wait(), timeout=60) == 0
        await wait_for(
            lambda: not any(alive(pid) for pid in children),
            timeout=30,
            message="every process make run started has exited",
        )
        assert (tmp_path / ".run" / "logs" / "api.log").exists()
    finally:
        if runner.returncode is None:
            runner.kill()
