-- +goose Up
-- The venue's feed counter is taken at COMMIT, not in the middle of the
-- transaction. An event is inserted unnumbered; a deferred trigger numbers
-- it when its transaction commits, under the row lock of the topic's
-- counter, which is then held only for the commit itself instead of across
-- the round trips that follow the append (BENCHMARKS.md, fan-out). Seqs stay
-- gap-free and in commit order: a transaction that rolls back numbers
-- nothing, and the one that numbers next commits after this one.
ALTER TABLE feed_events DROP CONSTRAINT feed_events_pkey;
ALTER TABLE feed_events ADD COLUMN id bigserial PRIMARY KEY;
ALTER TABLE feed_events ALTER COLUMN seq DROP NOT NULL;
ALTER TABLE feed_events ADD CONSTRAINT feed_events_topic_seq_key UNIQUE (topic, seq);
ALTER TABLE feed_events DROP CONSTRAINT feed_events_check; -- the body check of 00002
ALTER TABLE feed_events ADD CONSTRAINT feed_events_body_check CHECK (
    jsonb_typeof(body) = 'object'
    AND (seq IS NULL AND NOT body ? 'seq' OR body -> 'seq' = to_jsonb(seq)));

-- +goose StatementBegin
CREATE FUNCTION feed_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next bigint;
BEGIN
    UPDATE feed_topics SET seq = seq + 1 WHERE topic = NEW.topic RETURNING seq INTO next;
    UPDATE feed_events SET seq = next, body = body || jsonb_build_object('seq', next) WHERE id = NEW.id;
    PERFORM pg_notify('examd_feed', NEW.topic || ' ' || next);
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- Deferred triggers fire at COMMIT in the order their rows were inserted.
CREATE CONSTRAINT TRIGGER feed_events_number AFTER INSERT ON feed_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION feed_number();

-- A device event points at its feed event, whose seq it shows; the answer
-- stored for retries is the attempt as the event left it, and the seq is
-- added when it is read.
ALTER TABLE attempt_events ADD COLUMN feed_event_id bigint REFERENCES feed_events (id);
ALTER TABLE attempt_events DISABLE TRIGGER attempt_events_append_only;
UPDATE attempt_events e SET feed_event_id = f.id, response = e.response -> 'attempt'
FROM attempts a, bookings b, slots s, feed_events f
WHERE a.id = e.attempt_id AND b.id = a.booking_id AND s.id = b.slot_id
  AND f.topic = 'venue:' || s.venue_id AND f.seq = e.seq;
ALTER TABLE attempt_events ENABLE TRIGGER attempt_events_append_only;
ALTER TABLE attempt_events ALTER COLUMN feed_event_id SET NOT NULL;
ALTER TABLE attempt_events DROP COLUMN seq;
CREATE UNIQUE INDEX attempt_events_feed_event_idx ON attempt_events (feed_event_id);
