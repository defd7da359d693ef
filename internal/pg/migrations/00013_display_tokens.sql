-- +goose Up
-- The hall screens (大厅屏, package web): a read-only board in a venue's
-- waiting room, opened with a display token an admin creates for it. Like a
-- device key (00003), the token is shown once and only its SHA-256 is kept;
-- revoking it stops the screen at once. A revoked token stays on the list.
CREATE TABLE display_tokens (
    id         bigserial PRIMARY KEY,
    venue_id   bigint NOT NULL REFERENCES venues (id),
    label      text NOT NULL CHECK (label <> '' AND char_length(label) <= 60), -- 候考大厅 1号屏
    token_hash bytea NOT NULL CONSTRAINT display_tokens_token_hash_key UNIQUE,
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_by bigint REFERENCES users (id),
    revoked_at timestamptz,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX display_tokens_venue_idx ON display_tokens (venue_id, id);
