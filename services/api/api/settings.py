"""API settings: plain environment variables (API_TOKENS, MAX_REDUCTION_KW, ...)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dr_runtime.settings import (
    FleetSettings,
    KafkaSettings,
    PostgresSettings,
    ServiceSettings,
    TelemetryRetention,
)


class Settings(ServiceSettings, KafkaSettings, PostgresSettings, FleetSettings, TelemetryRetention):
    """Everything the API process needs; nothing here connects."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=0, le=65535)
    #: Idle keep-alive connections are kept this long: longer than a load balancer's (60 s),
    #: so the server never closes a connection the balancer is about to reuse.
    api_keep_alive_s: int = Field(default=75, ge=1)
    #: Comma-separated bearer tokens; empty: no authentication.
    api_tokens: str = Field(default="", repr=False)
    #: Require a token on reads too (writes always need one when tokens are set).
    protect_reads: bool = False
    #: Largest requestedReductionKw / shedKw accepted (anything above is a typo).
    max_reduction_kw: float = Field(default=100_000, gt=0)
    #: How far in the past a `scheduled` event may start (clock skew, slow clients).
    past_start_tolerance_s: float = Field(default=300, ge=0)
    #: Consumer group whose stored offsets say how far the read model has got.
    projector_group_id: str = "projector"
    #: How long a write waits for the read model before answering anyway.
    read_your_writes_timeout_s: float = Field(default=2.0, ge=0)
    read_your_writes_poll_s: float = Field(default=0.005, gt=0)
    default_page_size: int = Field(default=500, ge=1)
    max_page_size: int = Field(default=5000, ge=1)
    #: Largest request body (bytes); beyond it: 413.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    #: Producer linger for the API: each request waits for its own write, so batching buys little.
    api_kafka_linger_ms: int = Field(default=1, ge=0)
    #: The producer's own request timeout; a request gives up sooner (kafka_answer_timeout_s).
    kafka_request_timeout_ms: int = Field(default=5000, ge=100)
    #: Longest wait for Kafka's acknowledgement of one write (and for a readiness probe):
    #: beyond it the request answers 503 (docs/api.md, "When a dependency is down").
    kafka_answer_timeout_s: float = Field(default=1.5, gt=0)
    #: Longest wait for a pooled connection and for each Postgres round trip (also the
    #: server's statement_timeout): beyond it the request answers 503.
    pg_timeout_s: float = Field(default=1.0, gt=0)
    pg_pool_min_size: int = Field(default=2, ge=1)
    pg_pool_max_size: int = Field(default=10, ge=1)

    @property
    def tokens(self) -> frozenset[str]:
        """The accepted bearer tokens (empty: open API)."""
        return frozenset(t.strip() for t in self.api_tokens.split(",") if t.strip())
