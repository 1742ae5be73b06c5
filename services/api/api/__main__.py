"""`python -m api` (console script `dr-api`): serve the REST API with uvicorn.

`python -m api token --role reader --subject dashboard [--ttl-s 3600]` prints a JWT signed
with API_JWT_SECRET instead (docs/security.md#api-roles).
`python -m api openadr-client --client-id ven-17 --role ven [--file PATH]` adds an OAuth2
client of the OpenADR facade to OADR_CLIENTS_FILE and prints its secret, once (docs/openadr.md).
`python -m api notifier` runs the OpenADR webhook notifier (its own process).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

import uvicorn

from api.bootstrap import create_app
from api.domain.access import ROLES
from api.entrypoints.slow_requests import request_deadline_protocol
from api.openadr import metrics as oadr_metrics
from api.openadr.clients import add_client
from api.openadr.notifier import serve_notifier
from api.settings import Settings
from dr_contracts.logging import configure_logging


def serve(settings: Settings) -> None:
    configure_logging("api", settings.log_level, settings.log_json)
    app = create_app(settings)
    uvicorn.run(
        app,
        http=request_deadline_protocol(settings.api_request_read_timeout_s, app.state.metrics.rejected),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_keep_alive=settings.api_keep_alive_s,
        access_log=False,
        server_header=False,
    )


def issue_token(settings: Settings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m api token", description="print a signed API token")
    parser.add_argument("--role", choices=ROLES, required=True)
    parser.add_argument("--subject", required=True, help="who holds it (the `sub` claim)")
    parser.add_argument("--ttl-s", type=int, default=3600, help="lifetime in seconds (default 3600)")
    args = parser.parse_args(argv)
    try:
        print(settings.token_verifier().issue(args.subject, args.role, args.ttl_s))
    except ValueError as err:
        print(f"python -m api token: {err}", file=sys.stderr)
        return 2
    return 0


def add_openadr_client(settings: Settings, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api openadr-client",
        description="add an OAuth2 client of the OpenADR facade; its secret is printed once, stored hashed",
    )
    parser.add_argument("--client-id", required=True, help="the OpenADR clientID (letters, digits, _ and -)")
    parser.add_argument(
        "--role", choices=ROLES, required=True, help="operator: a BL; ven: an OpenADR VEN; reader: read_all"
    )
    parser.add_argument(
        "--file", type=Path, default=settings.oadr_clients_file, help="default: OADR_CLIENTS_FILE"
    )
    args = parser.parse_args(argv)
    if args.file is None:
        print("python -m api openadr-client: set OADR_CLIENTS_FILE or pass --file", file=sys.stderr)
        return 2
    try:
        print(add_client(args.file, args.client_id, args.role))
    except ValueError as err:
        print(f"python -m api openadr-client: {err}", file=sys.stderr)
        return 2
    return 0


def notify(settings: Settings) -> int:
    configure_logging("api-notifier", settings.log_level, settings.log_json)
    oadr_metrics.serve(settings.oadr_notifier_metrics_port)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve_notifier(settings, stop)

    asyncio.run(run())
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    settings = Settings()
    if argv[:1] == ["token"]:
        return issue_token(settings, argv[1:])
    if argv[:1] == ["openadr-client"]:
        return add_openadr_client(settings, argv[1:])
    if argv[:1] == ["notifier"]:
        return notify(settings)
    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
