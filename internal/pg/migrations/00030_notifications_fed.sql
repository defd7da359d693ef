-- +goose Up
-- A note goes live after the transaction that decided it commits, not in
-- it: the deciding transaction writes only the notifications row, and the
-- notes' feeder (package notify, feeder.go: one batch at a time across
-- replicas, under an advisory lock) appends the committed rows to their
-- candidates' feed topics in batches and marks them fed. An allocation of a
-- hundred thousand applications, or a booking on the measured rush path,
-- pays one INSERT for its notes. Rows stored before are already on the feed.
ALTER TABLE notifications ADD COLUMN fed_at timestamptz;
UPDATE notifications SET fed_at = created_at;
CREATE INDEX notifications_unfed_idx ON notifications (id) WHERE fed_at IS NULL;
