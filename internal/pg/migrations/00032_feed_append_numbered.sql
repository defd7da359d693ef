-- +goose Up
-- Events stored already numbered, for a background writer (the notes'
-- feeder: package notify, feeder.go) whose own transaction is as short as a
-- numbering batch. Its events were stored unnumbered (feed_events INSERT),
-- then numbered by feed_number_batch (an UPDATE of every row, and of the
-- unnumbered index, in another transaction): a booking's note cost two
-- writes of its feed event. feed_append_numbered takes the numberer's lock
-- (waiting, until the caller's transaction ends), so that it is the one
-- numberer meanwhile, and stores each event with its seq: the topic's
-- counter + 1 in the order given, gap-free, announced with pg_notify as
-- feed_number_batch announces (the notifications go out at the commit).
-- Events committed before and still unnumbered (another writer's to the
-- same topics, or an older replica's feeder during a rolling upgrade) are
-- numbered first, by feed_number_batch in this transaction, so that seqs
-- stay in commit order.
-- +goose StatementBegin
CREATE FUNCTION feed_append_numbered(topics text[], bodies text[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    r        record;
    numbered int := 0;
    pending  int;
    payload  text;
BEGIN
    IF cardinality(topics) IS DISTINCT FROM cardinality(bodies) THEN
        RAISE EXCEPTION 'feed_append_numbered: % topics for % bodies', cardinality(topics), cardinality(bodies)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(feed_number_lock());
    LOOP
        SELECT b.numbered INTO pending FROM feed_number_batch(1000, true) b;
        EXIT WHEN pending < 1000;
    END LOOP;
    -- Each topic's counter moves once, by its events' number: a new topic's
    -- row is inserted with it (in a sorted order, so that two writers
    -- creating the same topics do not deadlock), an existing one updated.
    FOR r IN
        WITH e AS (
            SELECT e.topic, e.body, e.ord,
                   row_number() OVER (PARTITION BY e.topic ORDER BY e.ord) AS n,
                   count(*) OVER (PARTITION BY e.topic) AS c
            FROM unnest(topics, bodies) WITH ORDINALITY AS e (topic, body, ord)
        ), bumped AS (
            INSERT INTO feed_topics AS t (topic, seq)
            SELECT DISTINCT topic, c FROM e ORDER BY topic
            ON CONFLICT (topic) DO UPDATE SET seq = t.seq + excluded.seq
            RETURNING t.topic, t.seq
        ), ins AS (
            INSERT INTO feed_events (topic, seq, body)
            SELECT e.topic, b.seq - e.c + e.n, (e.body::jsonb - 'seq') || jsonb_build_object('seq', b.seq - e.c + e.n)
            FROM e JOIN bumped b ON b.topic = e.topic
            ORDER BY e.ord
            RETURNING topic, seq, body::text AS msg
        )
        SELECT topic, seq, msg FROM ins ORDER BY topic, seq
    LOOP
        payload := r.topic || ' ' || r.seq;
        IF octet_length(payload) + 1 + octet_length(r.msg) < 8000 THEN
            payload := payload || E'\n' || r.msg;
        END IF;
        PERFORM pg_notify('examd_feed', payload);
        numbered := numbered + 1;
    END LOOP;
    IF numbered <> coalesce(cardinality(topics), 0) THEN
        RAISE EXCEPTION 'feed_append_numbered: % of % events stored', numbered, cardinality(topics)
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN numbered;
END $$;
-- +goose StatementEnd
