"""The local status surface: a tiny read-only HTTP server and/or a JSON status file.

HTTP without a framework (asyncio streams, GET only, `Connection: close`): a few requests
a second from tests, the demo or the bench, from the same event loop as the simulation.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dr_contracts import jsonio

Routes = Mapping[str, Callable[[], Any]]
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
_READ_TIMEOUT_S = 5.0


async def start_status_server(host: str, port: int, routes: Routes) -> asyncio.Server:
    """Serve `GET <path>` -> JSON of `routes[path]()`; port 0 picks a free one."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await _answer(reader, routes)
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


async def _answer(reader: asyncio.StreamReader, routes: Routes) -> tuple[int, bytes]:
    request = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT_S)
    while (await asyncio.wait_for(reader.readline(), _READ_TIMEOUT_S)).strip():
        pass  # headers: nothing in them matters here
    parts = request.decode("latin-1").split()
    if len(parts) < 2:
        return 400, jsonio.dumps({"error": "bad request line"})
    method, path = parts[0], parts[1].split("?", 1)[0]
    route = routes.get(path)
    if route is None:
        return 404, jsonio.dumps({"error": f"no {path}", "paths": sorted(routes)})
    if method != "GET":
        return 405, jsonio.dumps({"error": "GET only"})
    return 200, jsonio.dumps(route())


def write_status_file(path: str | Path, status: Any) -> None:
    """Replace the file atomically, so a reader never sees half a document."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(jsonio.dumps(status))
    tmp.replace(target)
