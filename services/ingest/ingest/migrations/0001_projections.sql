-- Read models projected from Kafka facts. Forward-only: never edit a migration that shipped;
-- add 0002_..., 0003_... instead. Every table here can be rebuilt by replaying the topics.

-- Where each projector consumer group is in each partition; written in the same
-- transaction as the rows, so each fact takes effect exactly once.
CREATE TABLE projection_offsets (
    group_id     text    NOT NULL,
    topic        text    NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint  NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- Demand-response events (dr.events).
CREATE TABLE events (
    event_id                text PRIMARY KEY,
    status                  text NOT NULL,          -- scheduled|active|completed|stopped|cancelled
    start_time              timestamptz NOT NULL,
    end_time                timestamptz NOT NULL,
    requested_reduction_kw  double precision NOT NULL,
    ven_ids                 text[],                 -- targeted VENs; NULL = every online VEN
    start_now               boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL,
    activated_at            timestamptz,
    stop_requested_at       timestamptz,
    ended_at                timestamptz,            -- completed, stopped or cancelled
    allocated_kw            double precision,
    unallocated_kw          double precision,
    ven_count               integer NOT NULL DEFAULT 0,   -- VENs allocated at activation
    acked_count             integer NOT NULL DEFAULT 0,   -- VENs whose event command was acked ok
    actual_reduction_kw     double precision NOT NULL DEFAULT 0,  -- sum of acked actualShedKw
    updated_at              timestamptz NOT NULL
);
CREATE INDEX events_start_time ON events (start_time);
CREATE INDEX events_status ON events (status) WHERE status IN ('scheduled', 'active');

-- Per-VEN allocation of an event (EventActivated) and its outcome.
CREATE TABLE event_vens (
    event_id        text NOT NULL,
    ven_id          text NOT NULL,
    allocated_kw    double precision NOT NULL,
    capability_kw   double precision,
    PRIMARY KEY (event_id, ven_id)
);
CREATE INDEX event_vens_ven ON event_vens (ven_id);

-- VENs: registration (ven.registry) plus the latest telemetry (ven.telemetry).
CREATE TABLE vens (
    ven_id                text PRIMARY KEY,
    name                  text NOT NULL,
    source                text NOT NULL,           -- api | telemetry (auto-registered)
    admin_status          text,                    -- status given over REST, if any
    location_lat          double precision,
    location_lon          double precision,
    created_at            timestamptz NOT NULL,
    deleted_at            timestamptz,
    last_seen             timestamptz,
    report_interval_s     double precision NOT NULL DEFAULT 5,
    current_power_kw      double precision,
    shed_power_kw         double precision,
    baseline_power_kw     double precision,
    shed_availability_kw  double precision,        -- sum of shedCapabilityKw of enabled loads
    battery_soc           double precision,
    active_event_id       text,
    shed_load_ids         text[] NOT NULL DEFAULT '{}',
    loads                 jsonb NOT NULL DEFAULT '[]',
    panel                 jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX vens_last_seen ON vens (last_seen);

-- Commands (dr.commands) joined with their acks: correlationId -> issued, acked, latency.
CREATE TABLE ven_commands (
    correlation_id   text PRIMARY KEY,
    event_id         text,
    ven_id           text NOT NULL,
    op               text NOT NULL,
    payload          jsonb,
    first_issued_at  timestamptz,
    last_issued_at   timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    acked_at         timestamptz,
    latency_ms       double precision,             -- first issue -> first ack
    outcome          text NOT NULL DEFAULT 'pending',  -- pending|acked|rejected|failed|timed_out
    ack_status       text,
    actual_shed_kw   double precision
);
CREATE INDEX ven_commands_event ON ven_commands (event_id);
CREATE INDEX ven_commands_ven ON ven_commands (ven_id, first_issued_at);

-- Every ack as received (ven.acks); `matched` is false for correlationIds never issued.
CREATE TABLE ven_acks (
    fact_id             text PRIMARY KEY,
    ven_id              text NOT NULL,
    correlation_id      text,
    op                  text NOT NULL,
    ok                  boolean NOT NULL,
    status              text NOT NULL,
    ts                  timestamptz NOT NULL,
    received_at         timestamptz NOT NULL,
    event_id            text,
    requested_shed_kw   double precision,
    actual_shed_kw      double precision,
    circuits_curtailed  jsonb NOT NULL DEFAULT '[]',
    shape               text NOT NULL,
    matched             boolean NOT NULL,
    raw                 jsonb NOT NULL
);
CREATE INDEX ven_acks_ven_ts ON ven_acks (ven_id, ts);
CREATE INDEX ven_acks_correlation ON ven_acks (correlation_id);
CREATE INDEX ven_acks_event ON ven_acks (event_id);

-- Telemetry time series: one row per (ven_id, ts); the same reading from a second topic
-- is absorbed by the primary key. Range-partitioned by day (see README: Telemetry storage).
CREATE TABLE ven_telemetry (
    ven_id                  text NOT NULL,
    ts                      timestamptz NOT NULL,
    used_power_kw           double precision NOT NULL,
    shed_power_kw           double precision,
    requested_reduction_kw  double precision,
    event_id                text,
    baseline_power_kw       double precision,
    battery_soc             double precision,
    extras                  jsonb,
    PRIMARY KEY (ven_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE ven_telemetry_default PARTITION OF ven_telemetry DEFAULT;
CREATE INDEX ven_telemetry_event ON ven_telemetry (event_id, ts) WHERE event_id IS NOT NULL;

-- Per-circuit samples from each reading.
CREATE TABLE ven_load_samples (
    ven_id              text NOT NULL,
    ts                  timestamptz NOT NULL,
    load_id             text NOT NULL,
    current_power_kw    double precision,
    shed_capability_kw  double precision,
    enabled             boolean,
    PRIMARY KEY (ven_id, load_id, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE ven_load_samples_default PARTITION OF ven_load_samples DEFAULT;

-- Payloads the bridge refused (ingest.rejected), for operators.
CREATE TABLE ingest_rejections (
    fact_id      text PRIMARY KEY,
    mqtt_topic   text NOT NULL,
    code         text NOT NULL,
    field        text,
    reason       text NOT NULL,
    received_at  timestamptz NOT NULL,
    size_bytes   integer NOT NULL
);
CREATE INDEX ingest_rejections_received ON ingest_rejections (received_at);
