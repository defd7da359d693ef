-- +goose Up
-- The notification of a feed event carries the event itself:
-- "<topic> <seq>\n<body>", the body as clients receive it (its "seq"
-- included). The hubs hand it to their screens without reading it back from
-- feed_events. A payload that NOTIFY cannot carry (8000 bytes or more) is
-- sent as "<topic> <seq>" alone, and the hubs read that event from the table,
-- as they do on any gap in seq. jsonb's text never holds a newline, so the
-- last one ends the header.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION feed_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next    bigint;
    msg     text;
    payload text;
BEGIN
    UPDATE feed_topics SET seq = seq + 1 WHERE topic = NEW.topic RETURNING seq INTO next;
    UPDATE feed_events SET seq = next, body = body || jsonb_build_object('seq', next) WHERE id = NEW.id
        RETURNING body::text INTO msg;
    payload := NEW.topic || ' ' || next;
    IF octet_length(payload) + 1 + octet_length(msg) < 8000 THEN
        payload := payload || E'\n' || msg;
    END IF;
    PERFORM pg_notify('examd_feed', payload);
    RETURN NULL;
END $$;
-- +goose StatementEnd
