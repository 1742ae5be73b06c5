"""The local status surface: a tiny read-only HTTP server and/or a JSON status file.

HTTP without a framework (asyncio streams, GET only, `Connection: close`): a few requests
a second from tests, the demo or the bench, from the same event loop as the simulation.
Exact paths answer JSON; a prefix route owns a subtree (`/site/...`) and answers whatever
it renders, HTML included.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from dr_contracts import jsonio

JSON = "application/json"
Response = tuple[int, str, bytes]
"""(status, content type, body)."""
Routes = Mapping[str, Callable[[], Any]]
"""Exact path -> the document to answer as JSON."""
PrefixRoutes = Mapping[str, Callable[[str], Response]]
"""Prefix -> handler of `<prefix>` and `<prefix>/...`, given the rest of the path ("" or "/...")."""
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
_READ_TIMEOUT_S = 5.0


async def start_status_server(
    host: str, port: int, routes: Routes, prefixes: PrefixRoutes | None = None
) -> asyncio.Server:
    """Serve `GET <path>` -> JSON of `routes[path]()`, else a prefix's answer; port 0 picks a free one."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, content_type, body = await _answer(reader, routes, prefixes or {})
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


async def _answer(reader: asyncio.StreamReader, routes: Routes, prefixes: PrefixRoutes) -> Response:
    request = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT_S)
    while (await asyncio.wait_for(reader.readline(), _READ_TIMEOUT_S)).strip():
        pass  # headers: nothing in them matters here
    parts = request.decode("latin-1").split()
    if len(parts) < 2:
        return json_response(400, {"error": "bad request line"})
    method, path = parts[0], parts[1].split("?", 1)[0]
    handler = _handler(path, routes, prefixes)
    if handler is None:
        return json_response(404, {"error": f"no {path}", "paths": sorted([*routes, *prefixes])})
    if method != "GET":
        return json_response(405, {"error": "GET only"})
    return handler()


def _handler(path: str, routes: Routes, prefixes: PrefixRoutes) -> Callable[[], Response] | None:
    """An exact route first, else the prefix owning `path` (a whole segment: `/site`, not `/sites`)."""
    route = routes.get(path)
    if route is not None:
        return lambda: json_response(200, route())
    for prefix, answer in prefixes.items():
        if path == prefix or path.startswith(f"{prefix}/"):
            return partial(answer, path[len(prefix) :])
    return None


def json_response(status: int, document: Any) -> Response:
    return status, JSON, jsonio.dumps(document)


def write_status_file(path: str | Path, status: Any) -> None:
    """Replace the file atomically, so a reader never sees half a document."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(jsonio.dumps(status))
    tmp.replace(target)
