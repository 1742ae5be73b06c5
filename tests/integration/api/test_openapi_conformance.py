"""`st run --checks all` against the live API over HTTP: the served OpenAPI document tells
the truth (security, bounds, nullability, methods) of an API on the real broker, Postgres and
projector, configured with a token as production is.

schemathesis runs as its CLI in a subprocess, as a person checking the document would. This
module is also its hooks module (SCHEMATHESIS_HOOKS): it narrows one check, see below.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from fastapi import FastAPI
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.bootstrap import create_app
from api.settings import Settings
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.integration

TOKEN = "conformance-token"
#: Per operation and phase: bounded so the run stays well under 90 s on a loaded 2-core box.
EXAMPLES = 5
ROOT = Path(__file__).resolve().parents[3]

#: 422s for rules JSON Schema cannot state, as (field, code), by operation. They relate two
#: fields (end after start, at most 7 days), a field to the clock (not in the past), or to
#: what is registered (venIds); and a pattern cannot relate a time to its zone offset (the
#: instant must lie in 2000-2100 UTC). The operations' descriptions say so in words.
_WINDOW = {("end", "end_before_start"), ("start", "out_of_range"), ("end", "out_of_range")}
UNSTATABLE: dict[str, set[tuple[str, str]]] = {
    "POST /api/events": {
        ("startTime", "in_past"),
        ("startTime", "out_of_range"),
        ("endTime", "in_past"),
        ("endTime", "end_before_start"),
        ("endTime", "out_of_range"),
        ("venIds", "unknown_ven"),
    },
    "GET /api/events/history": _WINDOW,
    "GET /api/vens/{ven_id}/telemetry": _WINDOW,
    "GET /api/vens/{ven_id}/events": _WINDOW,
    "GET /api/vens/{ven_id}/circuits/history": _WINDOW,
}


def positive_data_acceptance_beyond_schema(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance, except a 422 whose every problem is one of
    the operation's `UNSTATABLE` rules, or a 413 (no JSON Schema keyword bounds a body's
    size in bytes; the document lists the 413): schema-valid data may break only those."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        if response.status_code == 413:
            return None
        allowed = UNSTATABLE.get(case.operation.label, set())
        if response.status_code != 422 or not allowed:
            raise
        problems = {(p["field"], p["code"]) for p in response.json()["detail"]}
        if not problems <= allowed:
            raise
        return None


if os.environ.get("SCHEMATHESIS_HOOKS") == __name__:  # only inside the `st` subprocess
    schemathesis.check(positive_data_acceptance_beyond_schema)


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` served by uvicorn on this event loop, on a free loopback port; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await wait_for(lambda: server.started or task.done(), 60, message="uvicorn never started")
        assert server.started, "uvicorn stopped while starting"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def st_run(base_url: str, *args: str) -> tuple[int, str]:
    """`st run <served document> --checks all ...` with this module's hooks; (exit code, output)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",  # narrowed above, never dropped
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "14",
        "--workers",
        "1",
        "--request-timeout",
        "60",
        *args,
        cwd=ROOT,
        env=os.environ | {"SCHEMATHESIS_HOOKS": __name__},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


async def test_st_run_all_checks_finds_nothing(api_settings: Settings, projector: None) -> None:
    settings = api_settings.model_copy(update={"api_tokens": TOKEN})
    async with serving(create_app(settings)) as base_url:
        code, output = await st_run(base_url, "--header", f"Authorization: Bearer {TOKEN}")
    print(output[-3000:])
    assert code == 0, output[-20_000:]
    tested = re.search(r"Tested: (\d+)", output)
    generated = re.search(r"(\d+) generated", output)
    assert tested and int(tested.group(1)) >= 20, output[-3000:]
    assert generated and int(generated.group(1)) >= 20 * EXAMPLES, output[-3000:]
