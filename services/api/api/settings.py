"""API settings: plain environment variables (API_TOKENS, MAX_REDUCTION_KW, ...)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from api.adapters.tokens import TokenVerifier, parse_static_tokens
from api.openadr.callbacks import CallbackGuard
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
    #: Comma-separated bearer tokens, each `role:token` (role operator, reader or registrar; a
    #: bare token is an operator's). Empty, with no JWT secret: no authentication.
    api_tokens: str = Field(default="", repr=False)
    #: A file with more such tokens (one or more a line): a container secret.
    api_tokens_file: Path | None = None
    #: The key that signs and checks the platform's JWTs (HS256, at least 32 bytes).
    api_jwt_secret: str | None = Field(default=None, repr=False, min_length=32)
    #: A file holding that key instead (a container secret).
    api_jwt_secret_file: Path | None = None
    #: The `iss` claim the platform's JWTs carry and the API requires.
    api_jwt_issuer: str = "dr-platform"
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
    #: The built dashboard (services/api/dashboard, `make dashboard`); default: inside the package.
    dashboard_dir: Path | None = None
    #: A simulated site's local page, `{venId}` replaced (ven-sim's /site/<venId>): linked from
    #: the dashboard's VEN page when set.
    dashboard_site_page_url: str | None = None
    #: How often the dashboard's pages refresh themselves.
    dashboard_refresh_s: float = Field(default=2.0, ge=0.5, le=60)
    default_page_size: int = Field(default=500, ge=1)
    max_page_size: int = Field(default=5000, ge=1)
    #: Largest request body (bytes); beyond it: 413.
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    #: A request (headers and body) must arrive in full within this many seconds of the
    #: connection or of its first byte; else 408 and the connection closed (slow-loris).
    api_request_read_timeout_s: float = Field(default=10.0, gt=0)
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

    #: The OpenADR facade's OAuth2 clients (`python -m api openadr-client`); unset: it issues no tokens.
    oadr_clients_file: Path | None = None
    #: Lifetime of the facade's tokens (clients cache them for half of it).
    oadr_token_ttl_s: int = Field(default=3600, ge=60, le=86_400)
    #: The absolute token URL `GET /auth/server` names (default: this server's, as requested).
    oadr_token_url: str | None = None
    #: Hosts webhooks may go to (`name` or `*.domain`, comma-separated); empty: none (docs/openadr.md).
    oadr_webhook_hosts: str = ""
    #: Allow plain-http callbacks (tests, a local demo); https only otherwise.
    oadr_webhook_allow_http: bool = False
    #: The notifier's Kafka group (`python -m api notifier`; its replicas share the work).
    oadr_notifier_group_id: str = "oadr-notifier"
    #: The notifier's /metrics port (0: none); its healthcheck reads oadr_notifier_ready.
    oadr_notifier_metrics_port: int = Field(default=0, ge=0, le=65535)
    #: A webhook is tried this often (tenacity, exponential backoff from first_wait to max_wait).
    oadr_webhook_attempts: int = Field(default=5, ge=1, le=20)
    oadr_webhook_timeout_s: float = Field(default=10.0, gt=0, le=30)
    oadr_webhook_first_wait_s: float = Field(default=0.5, ge=0)
    oadr_webhook_max_wait_s: float = Field(default=30.0, ge=0)

    def callback_guard(self) -> CallbackGuard:
        """Where the OpenADR facade's webhooks may go (checked by the facade and the notifier)."""
        return CallbackGuard.of(self.oadr_webhook_hosts, self.oadr_webhook_allow_http)

    def token_verifier(self) -> TokenVerifier:
        """The configured tokens (from the environment and the files), ready to check bearers."""
        static = self.api_tokens
        if self.api_tokens_file is not None:
            static += "," + self.api_tokens_file.read_text()
        secret = self.api_jwt_secret
        if self.api_jwt_secret_file is not None:
            secret = self.api_jwt_secret_file.read_text().strip()
            if len(secret) < 32:
                raise ValueError("API_JWT_SECRET_FILE: the key must be at least 32 bytes")
        return TokenVerifier(parse_static_tokens(static), secret, self.api_jwt_issuer)
