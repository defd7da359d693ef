-- +goose Up
-- ED-SIGN: a correction (00006) is a new result, and like the score sheet it
-- corrects it is final only when the examiner and the candidate have both
-- signed it. A signature on a corrected attempt signs its latest correction;
-- the original's signatures stay as they were. Append-only, as they are.
CREATE TABLE correction_signatures (
    correction_id bigint NOT NULL REFERENCES attempt_corrections (id),
    signer        text NOT NULL CHECK (signer IN ('examiner', 'candidate')),
    signed_by     bigint NOT NULL REFERENCES users (id),
    in_person     boolean NOT NULL DEFAULT false,
    signed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (correction_id, signer)
);
CREATE TRIGGER correction_signatures_append_only BEFORE UPDATE OR DELETE ON correction_signatures
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
