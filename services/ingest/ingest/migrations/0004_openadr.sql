-- Issue 20: the OpenADR 3.1 facade (docs/openadr.md).
-- An event created over OpenADR keeps its program and its object as sent (EventCreated).
ALTER TABLE events
    ADD COLUMN program_id text,   -- NULL: the platform's default program
    ADD COLUMN openadr    jsonb;  -- NULL: created over /api/events (the facade renders one)
-- GET /events?programID=...
CREATE INDEX events_program ON events (program_id, start_time);

-- Programs, OpenADR VENs, resources, reports and subscriptions: one row per live object.
CREATE TABLE oadr_objects (
    object_type text NOT NULL,         -- PROGRAM | VEN | RESOURCE | REPORT | SUBSCRIPTION
    object_id   text NOT NULL,
    client_id   text NOT NULL,         -- the OAuth2 client that wrote it (a VEN's own objects)
    body        jsonb NOT NULL,        -- as sent, nulls dropped, without id, dates, objectType
    reads_all   boolean,               -- a SUBSCRIPTION's client is a BL (what its webhooks may carry)
    ven_id      text,                  -- a REPORT's platform VEN (whose readings it holds)
    created_at  timestamptz NOT NULL,
    modified_at timestamptz NOT NULL,
    PRIMARY KEY (object_type, object_id)
);
-- A VEN's own objects (read_ven_objects), and a BL's lists by clientID.
CREATE INDEX oadr_objects_client ON oadr_objects (object_type, client_id);
-- The reports on an event: GET /reports?eventID=, and the VENs responding to it (vensResponding).
CREATE INDEX oadr_objects_report_event ON oadr_objects ((body->>'eventID')) WHERE object_type = 'REPORT';
-- Names that must be unique (programName, venName; resourceName per VEN) and the name filters
-- (venName, resourceName): the expression is api.openadr.store.NAME.
CREATE INDEX oadr_objects_name ON oadr_objects (object_type, (CASE object_type
    WHEN 'PROGRAM' THEN body->>'programName' WHEN 'VEN' THEN body->>'venName'
    WHEN 'RESOURCE' THEN body->>'resourceName' END));
