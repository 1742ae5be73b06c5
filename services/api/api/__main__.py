"""`python -m api` (console script `dr-api`): serve the REST API with uvicorn."""

from __future__ import annotations

import uvicorn

from api.bootstrap import create_app
from api.settings import Settings
from dr_contracts.logging import configure_logging


def main() -> None:
    settings = Settings()
    configure_logging("api", settings.log_level, settings.log_json)
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        timeout_keep_alive=settings.api_keep_alive_s,
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
