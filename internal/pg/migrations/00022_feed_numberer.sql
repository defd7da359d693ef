-- +goose Up
-- The feeds' numbering off the commit path (package realtime, number.go).
-- Until now a deferred trigger (00007, 00021) numbered each event at COMMIT
-- under the row lock of its topic's counter, held through the WAL flush: one
-- venue's events committed one at a time (130-270 events/s with fsync on).
-- Now the transaction of the change only INSERTs its events, unnumbered (seq
-- NULL), and one numberer at a time (pg_advisory_xact_lock(feed_number_lock()),
-- whichever replica gets it) numbers the committed ones in batches, one short
-- transaction each (feed_number_batch), and announces them from that
-- transaction as 00021 did: "<topic> <seq>\n<body>", or "<topic> <seq>" for a
-- body too big for NOTIFY. Seqs stay 1, 2, 3 ... gap-free per topic, in the
-- order the numberer sees events committed.
DROP TRIGGER feed_events_number ON feed_events;
DROP FUNCTION feed_number();

-- The events waiting for the numberer, oldest insert first.
CREATE INDEX feed_events_unnumbered_idx ON feed_events (id) WHERE seq IS NULL;

-- The key of the numberer's advisory lock ('feed#' in ASCII).
-- +goose StatementBegin
CREATE FUNCTION feed_number_lock() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT x'6665656423'::bigint
$$;
-- +goose StatementEnd

-- feed_number_batch numbers at most max_rows committed unnumbered events,
-- lowest id first, in the one transaction of the statement that calls it, if
-- it gets the numberer's lock: at once (wait false; another numberer holds
-- it: got is false, nothing done) or waiting for it. Each event gets its
-- topic's counter + 1, in its body too, and is announced with pg_notify; the
-- notifications go out when the batch commits, in seq order within a topic,
-- and after those of every batch before it. It returns how many events it
-- numbered and the age in seconds of the oldest one still unnumbered when it
-- is done (0 when none).
--
-- Ids come from a sequence and are not committed in id order: an event with
-- a lower id can commit after higher ones were numbered; it is numbered in a
-- later batch. Within a batch ids order the events, so one transaction's
-- events keep the order it appended them in, and a transaction that
-- committed before another began is numbered before it.
-- +goose StatementBegin
CREATE FUNCTION feed_number_batch(max_rows int, wait boolean,
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
                UPDATE feed_topics t SET seq = t.seq + k.c
                FROM (SELECT DISTINCT topic, c FROM ranked) k
                WHERE t.topic = k.topic
                RETURNING t.topic, t.seq - k.c AS base
            ), done AS (
                UPDATE feed_events e SET seq = b.base + x.n, body = e.body || jsonb_build_object('seq', b.base + x.n)
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
