"""`make run` (python -m dr_infra.run): the demo completes, Ctrl-C leaves nothing behind, and a
process that dies by itself (here the in-memory broker, whose log dies with it) stops everything
with a message naming it."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from dr_infra.ports import is_port_free
from dr_infra.process import alive, descendants
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.e2e


@dataclass
class MakeRun:
    process: asyncio.subprocess.Process
    log: Path

    def text(self) -> str:
        return self.log.read_text()

    async def ready(self) -> str:
        """Wait for the "platform running" line (after the demo, if any); -> the output so far."""

        def up() -> bool:
            assert self.process.returncode is None, f"make run exited:\n{self.text()[-3000:]}"
            return "Ctrl-C to stop" in self.text()

        await wait_for(
            up,
            timeout=180,
            message=lambda: f"make run to be up:\n{self.text()[-3000:]}",
        )
        return self.text()

    async def exits_with(self, code: int, children: list[int]) -> None:
        """It exits with `code`, and so does every process it started."""
        assert await asyncio.wait_for(self.process.wait(), timeout=60) == code, self.text()[-3000:]
        await wait_for(
            lambda: not any(alive(pid) for pid in children),
            timeout=30,
            message="every process make run started has exited",
        )


def unassigned_port() -> int:
    """A free port below the kernel's ephemeral range. `make run` binds its API and MQTT ports
    only after starting Tansu and Postgres on ephemeral ports of their own, so a port from
    `free_port()` here could be handed to one of them first (seen once: Tansu took the API's)."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for port in random.sample(range(10_000, low), 500):
        if is_port_free(port):
            return port
    raise OSError("no free port below the ephemeral range")


@asynccontextmanager
async def make_run(tmp_path: Path, *args: str) -> AsyncIterator[MakeRun]:
    """`python -m dr_infra.run` on free ports in `tmp_path`; killed at the end if still running."""
    log = tmp_path / "run.log"
    ports = ["--api-port", str(unassigned_port()), "--mqtt-port", str(unassigned_port())]
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *["-m", "dr_infra.run", *args, *ports],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
    try:
        yield MakeRun(process, log)
    finally:
        if process.returncode is None:
            process.kill()


async def test_demo_event_completes_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    async with make_run(tmp_path, "--vens", "3", "--lead-s", "2", "--duration-s", "6") as run:
        text = await run.ready()
        assert "summary of evt-" in text and ": completed" in text
        assert "(100%)" in text and "VENs responding 3 of 3" in text
        # The dashboard it prints is served, and the token it prints is an operator's.
        found = re.search(r"Dashboard on (\S+): log in with the operator token (\S+) ", text)
        assert found is not None, text[-3000:]
        dashboard, token = found.groups()
        async with httpx.AsyncClient(timeout=10) as http:
            assert (await http.get(dashboard)).status_code == 200
            me = await http.get(
                urljoin(dashboard, "/api/whoami"), headers={"Authorization": f"Bearer {token}"}
            )
            assert me.json()["role"] == "operator" and me.json()["authenticated"]
            assert (await http.get(urljoin(dashboard, "/api/events"))).status_code == 401  # reads protected
        assert f"{dashboard}#/events/evt-" in text  # the demo event's page
        # The OpenADR facade's BL client it prints gets a token.
        oadr = re.search(r"OpenADR 3.1 VTN on (\S+): clients bl / (\S+),", text)
        assert oadr is not None, text[-3000:]
        vtn, secret = oadr.groups()
        async with httpx.AsyncClient(timeout=10) as http:
            form = {"grant_type": "client_credentials"}
            token = await http.post(f"{vtn}/auth/token", data=form, auth=("bl", secret))
            assert token.status_code == 200 and token.json()["token_type"] == "Bearer", token.text
        children = descendants(run.process.pid)
        assert len(children) >= 8  # three brokers and five services
        run.process.send_signal(signal.SIGINT)
        await run.exits_with(0, children)
        assert (tmp_path / ".run" / "logs" / "api.log").exists()


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


async def test_a_broker_that_dies_stops_make_run_with_its_name(tmp_path: Path) -> None:
    """The local broker keeps its log in memory: carrying on after it died would leave the
    projections ahead of an empty log. make run stops instead, and says why."""
    async with make_run(tmp_path, "--vens", "0") as run:
        await run.ready()
        children = descendants(run.process.pid)
        [broker] = [pid for pid in children if " broker --listener-url" in cmdline(pid)]
        os.kill(broker, signal.SIGKILL)
        await run.exits_with(2, children)
        assert "make run: kafka exited by itself (code -9)" in run.text(), run.text()[-3000:]
