-- Issue 16: fewer bytes per reading, rollups, retention (docs/ingest.md#telemetry-storage).

-- A reading's per-load values move onto its ven_telemetry row, as arrays in the order of a
-- load layout: the sorted loadIds of the reading, stored once here and shared by every
-- reading (of any VEN) with the same circuits. Rows per reading: 7 -> 1.
-- A layout is found by a digest of its ids, not by the ids: a VEN may report up to 1,000
-- circuits, far past the largest btree entry. The digest's text is each id prefixed with its
-- length ("5:hvac13:ev1"), so no choice of ids can make two layouts collide by concatenation;
-- ingest/adapters/pg_layouts.py computes the same, with ids in code-point order (COLLATE "C").
CREATE TABLE load_layouts (
    layout_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    load_ids    text[] NOT NULL,           -- sorted, distinct
    layout_key  bytea NOT NULL UNIQUE      -- sha256 of the length-prefixed ids
);

ALTER TABLE ven_telemetry
    ADD COLUMN layout_id                integer,            -- NULL: a reading without loads
    ADD COLUMN load_power_kw            float8[],           -- currentPowerKw per layout slot
    ADD COLUMN load_shed_capability_kw  float8[],
    ADD COLUMN load_enabled             boolean[];

INSERT INTO load_layouts (load_ids, layout_key)
SELECT ids, sha256(convert_to(key_text, 'UTF8')) FROM (
    SELECT DISTINCT array_agg(load_id ORDER BY load_id COLLATE "C") AS ids,
           string_agg(length(load_id) || ':' || load_id, '' ORDER BY load_id COLLATE "C") AS key_text
    FROM ven_load_samples GROUP BY ven_id, ts
) s
ORDER BY ids;

UPDATE ven_telemetry t
SET layout_id = y.layout_id, load_power_kw = s.power, load_shed_capability_kw = s.capability,
    load_enabled = s.enabled
FROM (
    SELECT ven_id, ts, array_agg(load_id ORDER BY load_id COLLATE "C") AS ids,
           array_agg(current_power_kw ORDER BY load_id COLLATE "C") AS power,
           array_agg(shed_capability_kw ORDER BY load_id COLLATE "C") AS capability,
           array_agg(enabled ORDER BY load_id COLLATE "C") AS enabled
    FROM ven_load_samples GROUP BY ven_id, ts
) s JOIN load_layouts y ON y.load_ids = s.ids
WHERE t.ven_id = s.ven_id AND t.ts = s.ts;

DROP TABLE ven_load_samples;

-- The per-load samples as rows again, for the API's circuit history and for people with psql.
CREATE VIEW ven_load_samples AS
SELECT t.ven_id, t.ts, l.load_id, l.current_power_kw, l.shed_capability_kw, l.enabled
FROM ven_telemetry t
JOIN load_layouts y USING (layout_id)
CROSS JOIN LATERAL unnest(y.load_ids, t.load_power_kw, t.load_shed_capability_kw, t.load_enabled)
    AS l(load_id, current_power_kw, shed_capability_kw, enabled);

-- Indexes earn their place (docs/ingest.md#schema names the query each one serves). No query
-- reads readings by event or by time across VENs (the API asks per VEN, through the primary
-- key), none reads event_vens by VEN, ven_acks by event or rejections by time: these cost
-- every write and served nothing.
DROP INDEX ven_telemetry_event;
DROP INDEX ven_telemetry_ts_brin;
DROP INDEX event_vens_ven;
DROP INDEX ven_acks_event;
DROP INDEX ingest_rejections_received;
-- The per-VEN command of an event (GET /api/events/{id}) is looked up by (event_id, ven_id);
-- (ven_id, first_issued_at) served no query, and (event_id) alone is this one's prefix.
DROP INDEX ven_commands_ven;
DROP INDEX ven_commands_event;
CREATE INDEX ven_commands_event_ven ON ven_commands (event_id, ven_id);

-- Per-VEN rollups, maintained by the projector from the readings each transaction newly
-- stored (so a redelivered reading, absorbed by the primary key above, is not counted
-- twice). Means are kept as sums and counts; shed and baseline may be absent from a reading.
-- Sums are numeric: a float sum depends on the order of its terms, and a rebuild (another
-- batching) must reproduce the same rollups exactly.
CREATE TABLE ven_telemetry_1m (
    ven_id        text NOT NULL,
    bucket        timestamptz NOT NULL,       -- start of the minute (UTC)
    samples       integer NOT NULL,
    used_sum      numeric NOT NULL,
    used_min      float8 NOT NULL,
    used_max      float8 NOT NULL,
    shed_samples  integer NOT NULL,
    shed_sum      numeric NOT NULL,
    shed_min      float8,
    shed_max      float8,
    baseline_samples integer NOT NULL,
    baseline_sum  numeric NOT NULL,
    PRIMARY KEY (ven_id, bucket)
) PARTITION BY RANGE (bucket);

CREATE TABLE ven_telemetry_15m (LIKE ven_telemetry_1m INCLUDING ALL) PARTITION BY RANGE (bucket);

-- Partitions: the raw readings and the 1-minute rollups by UTC day, the 15-minute rollups
-- (kept for years) by UTC month, so that the planner never faces thousands of partitions.
-- Each is named <parent>_pYYYYMMDD (for a month, its first day); retention drops whole
-- partitions (ingest/adapters/pg_retention.py).
CREATE OR REPLACE FUNCTION ingest_ensure_days(days date[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    day date;
    parent text;
    first date;
    next date;
    part text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('ingest_ensure_days'));
    FOREACH day IN ARRAY days LOOP
        FOREACH parent IN ARRAY ARRAY['ven_telemetry', 'ven_telemetry_1m', 'ven_telemetry_15m'] LOOP
            IF parent = 'ven_telemetry_15m' THEN
                first := date_trunc('month', day)::date;
                next := (first + interval '1 month')::date;
            ELSE
                first := day;
                next := day + 1;
            END IF;
            part := parent || '_p' || to_char(first, 'YYYYMMDD');
            CONTINUE WHEN EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(part));
            EXECUTE format('CREATE TABLE IF NOT EXISTS %I (LIKE %I INCLUDING DEFAULTS)', part, parent);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           parent, part, first::timestamp AT TIME ZONE 'UTC',
                           next::timestamp AT TIME ZONE 'UTC');
        END LOOP;
    END LOOP;
END
$$;

-- The rollup partitions of the days that already hold readings.
SELECT ingest_ensure_days(coalesce(array_agg(DISTINCT (ts AT TIME ZONE 'UTC')::date), '{}'))
FROM ven_telemetry;

-- Rollups of the readings already stored (the projector keeps them from here on).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES ('ven_telemetry_1m', interval '1 minute'),
                                   ('ven_telemetry_15m', interval '15 minutes')) AS v(tab, width) LOOP
        EXECUTE format(
            'INSERT INTO %I
             SELECT ven_id, date_bin(%L, ts, timestamptz ''2000-01-01 00:00+00''), count(*),
                    sum(used_power_kw::numeric), min(used_power_kw), max(used_power_kw),
                    count(shed_power_kw), coalesce(sum(shed_power_kw::numeric), 0), min(shed_power_kw),
                    max(shed_power_kw), count(baseline_power_kw),
                    coalesce(sum(baseline_power_kw::numeric), 0)
             FROM ven_telemetry GROUP BY 1, 2', r.tab, r.width);
    END LOOP;
END
$$;
