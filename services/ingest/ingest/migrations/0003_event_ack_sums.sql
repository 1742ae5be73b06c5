-- Issue 16: an event's ack aggregates kept by difference (ingest/adapters/pg_ack_tally.py)
-- instead of recounted from every acked command of the event after each batch.
-- The sums are exact (numeric), so the result does not depend on how facts were batched;
-- actual_reduction_kw and avg_response_ms (what the API serves) become columns Postgres
-- derives from them. The ops are dr_contracts.commands.EVENT_OPS as of this migration.
ALTER TABLE events
    ADD COLUMN ack_kw_sum          numeric NOT NULL DEFAULT 0,  -- sum of acked actualShedKw
    ADD COLUMN ack_latency_sum_ms  numeric NOT NULL DEFAULT 0,  -- sum of acked latency_ms
    ADD COLUMN ack_latency_samples integer NOT NULL DEFAULT 0;  -- acked commands with a latency

UPDATE events e SET ack_kw_sum = s.kw, ack_latency_sum_ms = s.lat, ack_latency_samples = s.n
FROM (
    SELECT event_id, coalesce(sum(actual_shed_kw::numeric), 0) AS kw,
           coalesce(sum(latency_ms::numeric), 0) AS lat, count(latency_ms) AS n
    FROM ven_commands
    WHERE op IN ('event', 'shedPanel') AND outcome = 'acked' AND event_id IS NOT NULL
    GROUP BY event_id
) s
WHERE e.event_id = s.event_id;

ALTER TABLE events
    DROP COLUMN actual_reduction_kw,
    DROP COLUMN avg_response_ms,
    ADD COLUMN actual_reduction_kw double precision GENERATED ALWAYS AS (ack_kw_sum::float8) STORED,
    ADD COLUMN avg_response_ms double precision GENERATED ALWAYS AS (  -- NULL: no ack yet
        CASE WHEN ack_latency_samples > 0 THEN (ack_latency_sum_ms / ack_latency_samples)::float8 END
    ) STORED;

-- A command row is written when it is issued and rewritten by its ack (and by retries and
-- timeouts): room on the page lets the rewrite stay there (a HOT update), so the indexes of
-- ven_commands are not touched again. Pages written from now on keep 30 % free.
ALTER TABLE ven_commands SET (fillfactor = 70);
