-- +goose Up
-- The audit chain off the commit path (package audit, chainer.go). Until
-- now a deferred trigger chained every audit row at COMMIT under the row
-- lock of audit_head, held through the WAL flush: every audited write of the
-- database committed one at a time. Now a business transaction only INSERTs
-- its rows, unchained (chain_seq, prev_hash and hash NULL), and one chainer
-- at a time (pg_advisory_xact_lock(audit_chain_lock()), whichever replica
-- gets it) links the committed rows in batches, one short transaction each
-- (audit_chain_batch). The chain, its content and its hash are 00011's:
-- chain_seq 1, 2, 3 ... gap-free, in the order the chainer links rows, hash =
-- sha256(audit_content(row) || prev_hash).
DROP TRIGGER audit_log_chain ON audit_log;
DROP FUNCTION audit_chain();

-- The rows waiting for the chainer, oldest insert first.
CREATE INDEX audit_log_unchained_idx ON audit_log (id) WHERE chain_seq IS NULL;

-- The key of the chainer's advisory lock ('audit' in ASCII).
-- +goose StatementBegin
CREATE FUNCTION audit_chain_lock() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT x'6175646974'::bigint
$$;
-- +goose StatementEnd

-- Append-only, whoever tries. The one change allowed is linking an
-- unchained row, its content untouched, as the next row of the chain:
-- chain_seq the head's seq + 1, prev_hash the head's hash, hash the row's
-- own; the guard then moves the head on (under its row lock, which
-- serialises linkers). A transaction could link its own uncommitted row
-- correctly, and nothing would be lost (a rollback takes the link back),
-- but it would take the head's lock into its commit: examd never does.
-- A superuser can still disable the triggers; audit.Verify is there for that.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_head;
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.action, NEW.subject, NEW.before, NEW.after)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.action, OLD.subject, OLD.before, OLD.after)
    THEN
        SELECT id, seq, hash INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
        IF FOUND AND NEW.chain_seq = head.seq + 1 AND NEW.prev_hash = head.hash
           AND NEW.hash = sha256(audit_content(NEW) || NEW.prev_hash)
        THEN
            UPDATE audit_head SET seq = NEW.chain_seq, hash = NEW.hash WHERE id = 1;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_log row % is not the next link of the chain', OLD.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
-- +goose StatementEnd

-- audit_chain_batch links at most max_rows committed unchained rows, oldest
-- insert (lowest id) first, in the one transaction of the statement that
-- calls it, if it gets the chainer's lock: at once (wait false; another
-- chainer holds it: got is false, nothing done) or waiting for it. It
-- returns how many rows it linked, the chain_seq of the first and the last,
-- and the age in seconds of the oldest row still unchained when it is done
-- (0 when none).
--
-- Ids come from a sequence and are not committed in id order: a row with a
-- lower id can commit after higher ones were linked. It is simply linked in
-- a later batch: the chain's order is the order in which the chainer saw
-- rows committed, never the ids'. Within a batch, ids order the rows, so one
-- transaction's rows keep the order it recorded them in, and a transaction
-- that committed before another began is linked before it (its ids are lower,
-- and a snapshot that sees the later one sees it).
-- +goose StatementBegin
CREATE FUNCTION audit_chain_batch(max_rows int, wait boolean,
    OUT got boolean, OUT linked int, OUT first_seq bigint, OUT last_seq bigint, OUT lag_seconds double precision)
LANGUAGE plpgsql AS $$
DECLARE
    head audit_head;
    r    audit_log;
BEGIN
    linked := 0;
    IF wait THEN
        PERFORM pg_advisory_xact_lock(audit_chain_lock());
        got := true;
    ELSE
        got := pg_try_advisory_xact_lock(audit_chain_lock());
    END IF;
    IF got THEN
        SELECT id, seq, hash INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'audit_head has no row: the audit log cannot be chained'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        -- A snapshot taken now, after the head's lock: every link committed
        -- before is seen.
        FOR r IN SELECT * FROM audit_log WHERE chain_seq IS NULL ORDER BY id LIMIT max_rows LOOP
            r.chain_seq := head.seq + 1;
            r.prev_hash := head.hash;
            r.hash := sha256(audit_content(r) || head.hash);
            UPDATE audit_log SET chain_seq = r.chain_seq, prev_hash = r.prev_hash, hash = r.hash
            WHERE id = r.id AND chain_seq IS NULL;
            IF NOT FOUND THEN
                RAISE EXCEPTION 'audit_log row % was linked by someone else', r.id
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            head.seq := r.chain_seq;
            head.hash := r.hash;
            linked := linked + 1;
            IF linked = 1 THEN
                first_seq := r.chain_seq;
            END IF;
            last_seq := r.chain_seq;
        END LOOP;
    END IF;
    SELECT coalesce(extract(epoch FROM clock_timestamp() - min(at)), 0)::double precision INTO lag_seconds
    FROM audit_log WHERE chain_seq IS NULL;
    lag_seconds := greatest(lag_seconds, 0);
END $$;
-- +goose StatementEnd
