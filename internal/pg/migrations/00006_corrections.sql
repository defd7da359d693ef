-- +goose Up
-- ED-SIGN: a final result is never edited; a correction is a new record that
-- points at the attempt it corrects, with a reason and who made it.
CREATE TABLE attempt_corrections (
    id           bigserial PRIMARY KEY,
    attempt_id   bigint NOT NULL REFERENCES attempts (id),
    score        integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    status       text NOT NULL CHECK (status IN ('passed', 'failed')),
    reason       text NOT NULL CHECK (reason <> ''),
    corrected_by bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attempt_corrections_attempt_idx ON attempt_corrections (attempt_id, id);
CREATE TRIGGER attempt_corrections_append_only BEFORE UPDATE OR DELETE ON attempt_corrections
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
