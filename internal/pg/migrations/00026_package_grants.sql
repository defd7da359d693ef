-- +goose Up
-- The all-subjects day (套餐定制, BK-PACKAGE): staff grant a candidate the
-- package, with who granted it, when and why (the note is required for
-- 'other'); revocable, one in force per candidate.
CREATE TABLE package_grants (
    id           bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidates (id),
    reason       text NOT NULL CHECK (reason IN ('permit_expiring', 'military_service', 'school_term', 'other')),
    note         text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    granted_by   bigint NOT NULL REFERENCES users (id),
    granted_at   timestamptz NOT NULL DEFAULT now(),
    revoked_by   bigint REFERENCES users (id),
    revoked_at   timestamptz,
    CHECK (reason <> 'other' OR btrim(note) <> ''),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX package_grants_one_active ON package_grants (candidate_id) WHERE revoked_at IS NULL;
