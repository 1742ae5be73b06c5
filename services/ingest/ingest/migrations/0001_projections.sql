-- Read models projected from Kafka facts. Forward-only: never edit a migration that shipped;
-- add 0002_..., 0003_... instead. Every table here can be rebuilt by replaying the topics
-- (`python -m ingest rebuild`); only `ingested_at` columns and `projection_offsets.updated_at`
-- record when the projector wrote, not what the facts say.

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

-- Milliseconds from a command's first issue to its first ack (never negative: clocks differ).
CREATE FUNCTION ingest_latency_ms(acked timestamptz, issued timestamptz) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN acked IS NULL OR issued IS NULL THEN NULL
                ELSE greatest(0, extract(epoch FROM acked - issued) * 1000) END
$$;

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
    -- From the event's acked `event` commands (ven_commands), each VEN counted once:
    acked_count             integer NOT NULL DEFAULT 0,   -- vensResponding
    actual_reduction_kw     double precision NOT NULL DEFAULT 0,  -- sum of acked actualShedKw
    avg_response_ms         double precision,             -- avgResponseMs (NULL: no ack yet)
    updated_at              timestamptz NOT NULL          -- occurredAt of the last fact applied
);
CREATE INDEX events_start_time ON events (start_time);
CREATE INDEX events_status ON events (status) WHERE status IN ('scheduled', 'active');

-- Per-VEN allocation of an event (EventActivated).
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
    created_at            timestamptz NOT NULL,    -- earliest fact known about the VEN
    deleted_at            timestamptz,
    last_seen             timestamptz,             -- when its latest reading was received
    last_reading_at       timestamptz,             -- device timestamp of the reading shown below
    report_interval_s     double precision NOT NULL DEFAULT 5,
    current_power_kw      double precision,
    shed_power_kw         double precision,
    baseline_power_kw     double precision,
    shed_availability_kw  double precision,        -- sum of shedCapabilityKw of enabled loads
    battery_soc           double precision,
    active_event_id       text,
    shed_load_ids         text[] NOT NULL DEFAULT '{}',  -- from the latest event/restore ack
    shed_updated_at       timestamptz,             -- ts of that ack
    loads                 jsonb NOT NULL DEFAULT '[]',
    panel                 jsonb NOT NULL DEFAULT '{}'
) WITH (fillfactor = 70);
-- Every reading rewrites its VEN's row: no index on the columns a reading changes (last_seen,
-- metrics) and free space in each page, so those updates are HOT (no index writes). Counting
-- online VENs scans this table (100k rows: milliseconds).
CREATE INDEX vens_active_event ON vens (active_event_id) WHERE active_event_id IS NOT NULL;

-- Commands (dr.commands) joined with their acks: correlationId -> issued, acked, latency.
CREATE TABLE ven_commands (
    correlation_id   text PRIMARY KEY,
    event_id         text,
    ven_id           text NOT NULL,
    op               text NOT NULL,
    payload          jsonb,
    first_issued_at  timestamptz,                  -- NULL: requested or acked, not issued (yet)
    last_issued_at   timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    acked_at         timestamptz,                  -- when the first ack was received
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
-- is absorbed by the primary key. Range-partitioned by UTC day, partitions created by the
-- projector before it writes a day (ingest_ensure_days); no default partition, so old days
-- are dropped whole (DROP TABLE ven_telemetry_pYYYYMMDD) instead of deleted row by row.
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
    received_at             timestamptz NOT NULL,
    ingested_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (ven_id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX ven_telemetry_event ON ven_telemetry (event_id, ts) WHERE event_id IS NOT NULL;
CREATE INDEX ven_telemetry_ts_brin ON ven_telemetry USING brin (ts);

-- Per-circuit samples from each reading (same partitioning).
CREATE TABLE ven_load_samples (
    ven_id              text NOT NULL,
    ts                  timestamptz NOT NULL,
    load_id             text NOT NULL,
    current_power_kw    double precision,
    shed_capability_kw  double precision,
    enabled             boolean,
    PRIMARY KEY (ven_id, load_id, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX ven_load_samples_ts_brin ON ven_load_samples USING brin (ts);

-- Create the day partitions of both time series for the given UTC days (idempotent, safe
-- when several projectors call it at once). CREATE TABLE + ATTACH PARTITION rather than
-- CREATE TABLE ... PARTITION OF: attaching takes only a SHARE UPDATE EXCLUSIVE lock on the
-- parent, so it neither waits for nor blocks the API's readers and the running writers.
CREATE FUNCTION ingest_ensure_days(days date[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    day date;
    parent text;
    part text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('ingest_ensure_days'));
    FOREACH day IN ARRAY days LOOP
        FOREACH parent IN ARRAY ARRAY['ven_telemetry', 'ven_load_samples'] LOOP
            part := parent || '_p' || to_char(day, 'YYYYMMDD');
            CONTINUE WHEN EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(part));
            EXECUTE format('CREATE TABLE IF NOT EXISTS %I (LIKE %I INCLUDING DEFAULTS)', part, parent);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           parent, part, day::timestamp AT TIME ZONE 'UTC',
                           (day + 1)::timestamp AT TIME ZONE 'UTC');
        END LOOP;
    END LOOP;
END
$$;

-- Payloads the bridge refused (ingest.rejected), for operators.
CREATE TABLE ingest_rejections (
    fact_id      text PRIMARY KEY,
    mqtt_topic   text NOT NULL,
    code         text NOT NULL,
    field        text,
    reason       text NOT NULL,
    received_at  timestamptz NOT NULL,
    size_bytes   integer NOT NULL,
    raw_b64      text NOT NULL
);
CREATE INDEX ingest_rejections_received ON ingest_rejections (received_at);
