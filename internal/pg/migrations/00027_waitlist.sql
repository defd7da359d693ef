-- +goose Up
-- Waitlists of full instant slots (package scheduling, waitlist.go). A
-- candidate joins a full slot's waitlist; when a seat frees (a cancellation,
-- BK-COMBINED-FAIL's release, the priority reserve's release) the
-- transaction that frees it books the seat for the best-ranked eligible
-- waiting candidate (the RA ranking), whose entry becomes an offer they may
-- decline.
CREATE TABLE waitlist (
    id           bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidates (id),
    slot_id      bigint NOT NULL REFERENCES slots (id),
    -- joined_at is the entry's sort time (RA-SORT).
    joined_at    timestamptz NOT NULL,
    -- waiting: in the queue; offered: a seat was booked for the candidate
    -- (booking_id), who may decline it; booked: the offer kept; declined:
    -- the candidate gave the seat back; left: the candidate left the queue;
    -- skipped: passed over as ineligible when a seat freed (skip_reason, a
    -- refusal's code).
    state        text NOT NULL DEFAULT 'waiting'
                 CHECK (state IN ('waiting', 'offered', 'booked', 'declined', 'left', 'skipped')),
    skip_reason  text CHECK ((state = 'skipped') = (skip_reason IS NOT NULL)),
    booking_id   bigint REFERENCES bookings (id),
    CHECK ((state IN ('offered', 'booked', 'declined')) = (booking_id IS NOT NULL)),
    ended_at     timestamptz
);
-- One live entry per candidate and slot.
CREATE UNIQUE INDEX waitlist_one_live ON waitlist (candidate_id, slot_id) WHERE state IN ('waiting', 'offered');
CREATE INDEX waitlist_waiting_idx ON waitlist (slot_id) WHERE state = 'waiting';
CREATE INDEX waitlist_candidate_idx ON waitlist (candidate_id);
CREATE UNIQUE INDEX waitlist_booking_idx ON waitlist (booking_id);

-- PL-RESERVE: the reserve is released by an explicit step (the release job,
-- exactly once per slot), which offers the released seats to the waitlist in
-- its own transaction before anyone else can book them; until it is set the
-- booking counts the reserve as held.
ALTER TABLE slots ADD COLUMN reserve_released_at timestamptz;
UPDATE slots SET reserve_released_at = reserve_release_at WHERE reserve_release_at <= now();
CREATE INDEX slots_reserve_due_idx ON slots (reserve_release_at) WHERE reserve_released_at IS NULL;
