"""The one place the API's clients are created: `create_app(settings)`.

Nothing connects at import or in `create_app`; the lifespan opens the Kafka broker and
the Postgres pool and closes them on shutdown. Tests pass their own `adapters` factory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from api import channels
from api.adapters.kafka_log import KafkaFactLog
from api.adapters.pg_pool import read_model_pool
from api.adapters.pg_queries import PgQueries
from api.adapters.pg_registry import PgRegistry
from api.adapters.projection_watch import PgProjectionWatch
from api.domain.limits import Limits
from api.entrypoints import dashboard, errors, events, openapi, ops, session, stats, vens
from api.entrypoints.deps import Services
from api.entrypoints.metrics import ApiMetrics, MetricsMiddleware
from api.entrypoints.slash import StripTrailingSlash
from api.openadr.app import MOUNT, create_facade
from api.openadr.service import Facade
from api.openadr.store import OadrStore
from api.ports import FactLog, ProjectionWatch, Registry
from api.service import Writer
from api.settings import Settings
from dr_runtime.brokers import kafka_broker
from dr_runtime.topics_admin import ensure_platform_topics


@dataclass
class Adapters:
    facts: FactLog
    registry: Registry
    queries: PgQueries
    watch: ProjectionWatch
    #: The OpenADR facade's reads (None: no facade, as in unit tests of the REST API).
    oadr: OadrStore | None = None


AdaptersFactory = Callable[[Settings], AbstractAsyncContextManager[Adapters]]


@asynccontextmanager
async def real_adapters(settings: Settings) -> AsyncIterator[Adapters]:
    """A FastStream Kafka broker (acks=all, topics created if missing) and a bounded psycopg pool."""
    async with AsyncExitStack() as stack:
        pool = read_model_pool(settings)
        await pool.open(wait=True, timeout=30)
        stack.push_async_callback(pool.close)
        await ensure_platform_topics(settings)
        broker = kafka_broker(
            settings,
            client_id="api",
            linger_ms=settings.api_kafka_linger_ms,
            request_timeout_ms=settings.kafka_request_timeout_ms,
        )
        publishers = channels.declare(broker, settings.topics)
        await broker.start()
        stack.push_async_callback(broker.stop)
        watch = PgProjectionWatch(pool, settings.projector_group_id, settings.read_your_writes_poll_s)
        stack.push_async_callback(watch.close)
        yield Adapters(
            KafkaFactLog(broker, publishers, settings.kafka_answer_timeout_s),
            PgRegistry(pool),
            PgQueries(pool, settings.ven_online_missed_intervals),
            watch,
            OadrStore(pool),
        )


def create_app(settings: Settings, adapters: AdaptersFactory = real_adapters) -> FastAPI:
    """The FastAPI app; connects only when its lifespan starts."""
    metrics = ApiMetrics()
    limits = Limits(settings.max_reduction_kw, timedelta(seconds=settings.past_start_tolerance_s))
    facade = create_facade(settings, metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with adapters(settings) as a:
            writer = Writer(a.facts, a.registry, a.watch, limits, settings.read_your_writes_timeout_s)
            app.state.services = Services(
                writer,
                a.registry,
                a.queries,
                a.facts,
                metrics,
                settings.default_page_size,
                settings.max_page_size,
                settings,
            )
            if a.oadr is not None:
                facade.state.facade = Facade(writer, a.oadr, facade.state.callbacks)
            yield

    app = FastAPI(
        title="Demand-response API",
        version="1.0",
        description="CONTRACT.md section 5: events, VENs, stats. Writes go to Kafka.",
        lifespan=lifespan,
        redirect_slashes=False,
        strict_content_type=False,
        max_body_size=settings.max_body_bytes,
    )
    app.state.tokens = settings.token_verifier()
    app.state.metrics = metrics
    app.state.protect_reads = settings.protect_reads
    errors.install(app, metrics)
    routers = (
        events.writes,
        events.reads,
        vens.registration,
        vens.writes,
        vens.reads,
        stats.router,
        session.router,
        ops.router,
    )
    for router in routers:
        app.include_router(router)
    openapi.install(app, routers, {"MAX_REDUCTION_KW": settings.max_reduction_kw}, settings.max_body_bytes)
    dashboard.install(
        app,
        settings.dashboard_dir or dashboard.BUILT,
        settings.dashboard_site_page_url,
        settings.dashboard_refresh_s,
    )
    app.mount(MOUNT, facade)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(StripTrailingSlash)  # outermost: before routing and metrics
    return app
