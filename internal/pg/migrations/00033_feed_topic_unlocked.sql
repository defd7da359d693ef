-- +goose Up
-- An appended event no longer locks its topic's counter row. The foreign
-- key feed_events.topic -> feed_topics made every INSERT of an event take a
-- KEY SHARE lock on its venue's counter row, held to its commit: the
-- concurrent writers of a busy venue all shared that one row's lock (a new
-- MultiXact for every locker joining, and a WAL record each), and every
-- append first looked the row up to create it when missing. Now the
-- numberer creates a topic's counter row when it first numbers an event of
-- it, as feed_append_numbered does (an upsert), and feed_events checks the
-- topic itself, as feed_topics does, so that no event can hold a topic the
-- numberer could not count (a batch would fail on it for ever).
ALTER TABLE feed_events DROP CONSTRAINT feed_events_topic_fkey;
ALTER TABLE feed_events ADD CONSTRAINT feed_events_topic_check CHECK (topic <> '' AND length(topic) <= 200);

-- feed_number_batch as in 00022, its counters upserted.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION feed_number_batch(max_rows int, wait boolean,
    OUT got boolean, OUT numbered int, OUT lag_seconds double precision)
LANGUAGE plpgsql AS $$
DECLARE
    r       record;
    want    bigint := 0;
    payload text;
BEGIN
    numbered := 0;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(feed_number_lock());
        got := true;
    ELSE
        got := pg_try_advisory_xact_lock(feed_number_lock());
    END IF;
    IF got THEN
        -- One statement, its snapshot taken after the lock (every batch
        -- committed before is seen): each topic's counter moves once by the
        -- number of its events in the batch, which take the seqs after the
        -- old value in id order.
        FOR r IN
            WITH todo AS (
                SELECT id, topic FROM feed_events WHERE seq IS NULL ORDER BY id LIMIT max_rows
            ), ranked AS (
                SELECT id, topic, row_number() OVER (PARTITION BY topic ORDER BY id) AS n,
                       count(*) OVER (PARTITION BY topic) AS c
                FROM todo
            ), bumped AS (
                -- A topic's counter row is created when its first events
                -- are numbered (sorted: two numberers never run at once,
                -- but feed_append_numbered inserts too).
                INSERT INTO feed_topics AS t (topic, seq)
                SELECT DISTINCT topic, c FROM ranked ORDER BY topic
                ON CONFLICT (topic) DO UPDATE SET seq = t.seq + excluded.seq
                RETURNING t.topic, t.seq AS top
            ), done AS (
                UPDATE feed_events e SET seq = b.top - x.c + x.n, body = e.body || jsonb_build_object('seq', b.top - x.c + x.n)
                FROM ranked x JOIN bumped b ON b.topic = x.topic
                WHERE e.id = x.id AND e.seq IS NULL
                RETURNING e.topic, e.seq, e.body::text AS msg
            )
            SELECT topic, seq, msg, (SELECT count(*) FROM todo) AS want FROM done ORDER BY topic, seq
        LOOP
            payload := r.topic || ' ' || r.seq;
            IF octet_length(payload) + 1 + octet_length(r.msg) < 8000 THEN
                payload := payload || E'\n' || r.msg;
            END IF;
            PERFORM pg_notify('examd_feed', payload);
            numbered := numbered + 1;
            want := r.want;
        END LOOP;
        IF numbered <> want THEN
            RAISE EXCEPTION 'feed events were numbered by someone else during a batch'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    SELECT coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::double precision INTO lag_seconds
    FROM feed_events WHERE seq IS NULL;
    lag_seconds := greatest(lag_seconds, 0);
END $$;
-- +goose StatementEnd
