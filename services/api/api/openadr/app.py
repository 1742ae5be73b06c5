"""The facade as a FastAPI sub-application, mounted by api.bootstrap at MOUNT.

It has its own error handlers (the spec's `problem`, api.openadr.problems) and its own
OpenAPI document; the parent's lifespan wires `state.facade` once Kafka and Postgres are up
(a mounted app's lifespan does not run).
"""

from __future__ import annotations

from fastapi import FastAPI

from api.entrypoints.metrics import ApiMetrics
from api.openadr import problems, routes
from api.openadr.clients import ClientRegistry
from api.settings import Settings

MOUNT = "/openadr3/3.1.0"


def create_facade(settings: Settings, metrics: ApiMetrics) -> FastAPI:
    app = FastAPI(
        title="OpenADR 3.1.0 VTN facade",
        version="3.1.0",
        description="docs/openadr.md: programs, events and VENs over the platform's event-sourced core.",
        redirect_slashes=False,
        max_body_size=settings.max_body_bytes,
    )
    app.state.tokens = settings.token_verifier()
    app.state.clients = ClientRegistry(settings.oadr_clients_file)
    app.state.token_ttl_s = settings.oadr_token_ttl_s
    app.state.token_url = settings.oadr_token_url
    app.state.callbacks = settings.callback_guard()
    problems.install(app, metrics)
    app.include_router(routes.router)
    return app
