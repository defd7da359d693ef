-- +goose Up
-- Notifications to candidates (package internal/notify): every decision
-- about a candidate, written in the transaction that makes it. The row is
-- what the candidate's pages list (read_at marks it read) and the outbox of
-- the office's SMS gateway (sent_at, attempts, next_send_at); the live copy
-- travels on the feed topic "candidate:<id>" (realtime), whose seq the
-- candidate's channel replays from.
CREATE TABLE notifications (
    id           bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidates (id),
    kind         text NOT NULL CHECK (kind ~ '^[a-z_]+(\.[a-z_]+)+$'),
    text_zh      text NOT NULL CHECK (text_zh <> '' AND char_length(text_zh) <= 500),
    text_en      text NOT NULL CHECK (text_en <> '' AND char_length(text_en) <= 500),
    -- link is the candidate's page that the notification is about.
    link         text CHECK (link IS NULL OR link ~ '^/'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    -- The outbox: delivered once sent_at is set; attempts and next_send_at
    -- pace the retries, last_error says why the last one failed.
    sent_at      timestamptz,
    attempts     integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_send_at timestamptz NOT NULL DEFAULT now(),
    last_error   text
);
CREATE INDEX notifications_candidate_idx ON notifications (candidate_id, id);
CREATE INDEX notifications_outbox_idx ON notifications (next_send_at) WHERE sent_at IS NULL;
