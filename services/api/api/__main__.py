"""`python -m api` (console script `dr-api`): serve the REST API with uvicorn.

`python -m api token --role reader --subject dashboard [--ttl-s 3600]` prints a JWT signed
with API_JWT_SECRET instead (docs/security.md#api-roles).
"""

from __future__ import annotations

import argparse
import sys

import uvicorn

from api.bootstrap import create_app
from api.domain.access import ROLES
from api.entrypoints.slow_requests import request_deadline_protocol
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    settings = Settings()
    if argv[:1] == ["token"]:
        return issue_token(settings, argv[1:])
    serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
