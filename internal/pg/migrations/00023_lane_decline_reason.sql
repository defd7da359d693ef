-- +goose Up
-- The staff's reason for declining a priority-lane request, shown to the
-- candidate on their journey (optional; at most 500 characters).
ALTER TABLE priority_requests ADD COLUMN decline_reason text
    CHECK (decline_reason IS NULL OR char_length(decline_reason) BETWEEN 1 AND 500);

