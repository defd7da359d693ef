-- +goose Up
-- The audit log (package audit): one row per state change that matters,
-- appended in the transaction of the change. It is append-only, and
-- hash-chained when its transaction commits: a row is inserted unchained;
-- a deferred trigger then takes the row lock of audit_head, gives the row
-- the next chain_seq (1, 2, 3 ... gap-free, in commit order), the hash of
-- the row before it as prev_hash, and
--
--     hash = sha256(content || prev_hash)
--
-- and moves the head on. The lock is held for the commit alone, never across
-- round trips to Go. The first row's prev_hash is 32 zero bytes.
--
-- The content of a row is the concatenation of these eight fields, in this
-- order, each as a netstring (its length in bytes in decimal, ':', its UTF-8
-- bytes, ','), where NULL is the empty string:
--
--     chain_seq, at as integer microseconds since 1970-01-01 00:00 UTC,
--     actor_kind, actor_id, action, subject, before::text, after::text
--
-- e.g. 1:1,16:1767225600000000,4:user,1:3,15:booking.created,10:booking:12,0:,11:{"slot": 4},
-- Netstrings rather than a separator: action and subject are free text, and
-- a joined "a|b" could not tell action "a|b" from subject "b". jsonb's text
-- output is deterministic, so `examd audit verify` (audit.Verify) recomputes
-- every hash in Go from the stored fields. Keep audit_content and Go's
-- audit.content identical.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    -- When Record ran (clock_timestamp, not the transaction's start), to the
    -- microsecond as timestamptz keeps it.
    at         timestamptz NOT NULL DEFAULT clock_timestamp() CHECK (isfinite(at)),
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'device', 'system')),
    actor_id   bigint CHECK (actor_id > 0),                -- users.id or devices.id; NULL for the system
    action     text NOT NULL CHECK (action <> ''),         -- booking.created
    subject    text NOT NULL CHECK (subject <> ''),        -- booking:12
    before     jsonb,
    after      jsonb,
    chain_seq  bigint CONSTRAINT audit_log_chain_seq_key UNIQUE CHECK (chain_seq > 0),
    prev_hash  bytea CHECK (octet_length(prev_hash) = 32),
    hash       bytea CHECK (octet_length(hash) = 32),
    CHECK ((actor_kind = 'system') = (actor_id IS NULL)),
    CHECK ((chain_seq IS NULL) = (hash IS NULL) AND (hash IS NULL) = (prev_hash IS NULL))
);
-- The filters of GET /api/v1/audit, newest first.
CREATE INDEX audit_log_actor_idx ON audit_log (actor_kind, actor_id, chain_seq);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, chain_seq);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- The end of the chain: the last row's chain_seq and hash.
CREATE TABLE audit_head (
    id   int PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL CHECK (seq >= 0),
    hash bytea NOT NULL CHECK (octet_length(hash) = 32)
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- audit_field is one field of the content: a netstring, NULL as empty.
-- +goose StatementBegin
CREATE FUNCTION audit_field(v text) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT convert_to(octet_length(convert_to(coalesce(v, ''), 'UTF8'))::text || ':', 'UTF8')
        || convert_to(coalesce(v, ''), 'UTF8') || convert_to(',', 'UTF8')
$$;
-- +goose StatementEnd

-- audit_content is the content of a row, hashed with its prev_hash.
-- +goose StatementBegin
CREATE FUNCTION audit_content(r audit_log) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT audit_field(r.chain_seq::text)
        || audit_field((extract(epoch FROM r.at) * 1000000)::bigint::text)
        || audit_field(r.actor_kind)
        || audit_field(r.actor_id::text)
        || audit_field(r.action)
        || audit_field(r.subject)
        || audit_field(r.before::text)
        || audit_field(r.after::text)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head audit_head;
    r    audit_log := NEW;
BEGIN
    SELECT id, seq, hash INTO head FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_head has no row: the audit log cannot be chained'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    r.chain_seq := head.seq + 1;
    r.prev_hash := head.hash;
    r.hash := sha256(audit_content(r) || head.hash);
    UPDATE audit_log SET chain_seq = r.chain_seq, prev_hash = r.prev_hash, hash = r.hash
    WHERE id = NEW.id AND hash IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'audit_log row % is chained already', NEW.id
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    UPDATE audit_head SET seq = r.chain_seq, hash = r.hash WHERE id = 1;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- Deferred triggers fire at COMMIT in the order their rows were inserted:
-- a transaction's entries are chained in the order it recorded them.
CREATE CONSTRAINT TRIGGER audit_log_chain AFTER INSERT ON audit_log
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain();

-- Append-only, whoever tries: the one change allowed is audit_chain's
-- (pg_trigger_depth 2: a trigger's statement) filling in the chain columns
-- of an unchained row, its content untouched. A superuser can still disable
-- the triggers; audit.Verify is there for that.
-- +goose StatementBegin
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
       AND OLD.chain_seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
       AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
       AND (NEW.id, NEW.at, NEW.actor_kind, NEW.actor_id, NEW.action, NEW.subject, NEW.before, NEW.after)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.actor_kind, OLD.actor_id, OLD.action, OLD.subject, OLD.before, OLD.after)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The head moves only under audit_chain, one row at a time.
-- +goose StatementBegin
CREATE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 AND NEW.id = OLD.id AND NEW.seq = OLD.seq + 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_head moves only with the audit log' USING ERRCODE = 'integrity_constraint_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
