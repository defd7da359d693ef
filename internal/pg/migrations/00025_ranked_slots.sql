-- +goose Up
-- Ranked slots (RA-*): a slot allocates its seats either at once to whoever
-- books first ('instant', as before) or by ranking the applications
-- collected during its window ('ranked'). allocated_at is set once, in the
-- allocating transaction: a ranked slot with allocated_at IS NULL whose
-- window has closed is still to allocate, which is what makes the job run
-- exactly once and survive restarts.
ALTER TABLE slots
    ADD COLUMN allocation text NOT NULL DEFAULT 'instant' CHECK (allocation IN ('instant', 'ranked')),
    ADD COLUMN allocated_at timestamptz,
    ADD CONSTRAINT slots_allocated_ranked CHECK (allocated_at IS NULL OR allocation = 'ranked');
CREATE INDEX slots_to_allocate ON slots (booking_closes_at) WHERE allocation = 'ranked' AND allocated_at IS NULL;

-- One candidate's application for a seat of subject(s) in ranked slots:
-- {2}, {3}, {4}, or {2,3} for a combined application (BK-COMBINED). Status
-- moves applied → withdrawn (the candidate, during the window) or applied →
-- confirmed | not_allocated (the allocation), each by a conditional UPDATE
-- on status = 'applied'.
CREATE TABLE applications (
    id           bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidates (id),
    subjects     smallint[] NOT NULL CHECK (subjects IN ('{2}', '{3}', '{4}', '{2,3}')),
    status       text NOT NULL DEFAULT 'applied'
                 CHECK (status IN ('applied', 'withdrawn', 'confirmed', 'not_allocated')),
    -- RA-SORT's 排序时间, fixed when the application is made.
    sort_time    timestamptz NOT NULL,
    applied_by   bigint NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- The allocation's result: rank from 1, the RA rule that ranked it,
    -- the preference placed (from 1, NULL when not allocated), a reason code.
    rank         integer CHECK (rank >= 1),
    basis        text CHECK (basis IN ('priority_lane', 'permit_expiring', 'sort_time')),
    preference   smallint CHECK (preference BETWEEN 1 AND 3),
    reason       text,
    decided_at   timestamptz,
    CHECK ((status = 'applied') = (decided_at IS NULL)),
    CHECK ((status IN ('confirmed', 'not_allocated')) = (rank IS NOT NULL AND basis IS NOT NULL AND reason IS NOT NULL)),
    CHECK ((status = 'confirmed') = (preference IS NOT NULL))
);
-- One live application per candidate and subject.
CREATE UNIQUE INDEX applications_one_live_2 ON applications (candidate_id) WHERE status = 'applied' AND 2 = ANY (subjects);
CREATE UNIQUE INDEX applications_one_live_3 ON applications (candidate_id) WHERE status = 'applied' AND 3 = ANY (subjects);
CREATE UNIQUE INDEX applications_one_live_4 ON applications (candidate_id) WHERE status = 'applied' AND 4 = ANY (subjects);
CREATE INDEX applications_candidate_idx ON applications (candidate_id);

-- The options of an application, best first (RA-PREF): up to 3, each one
-- slot, or a subject 2 and a subject 3 slot for a combined application
-- (half 1 and 2).
CREATE TABLE application_options (
    application_id bigint NOT NULL REFERENCES applications (id),
    preference     smallint NOT NULL CHECK (preference BETWEEN 1 AND 3),
    half           smallint NOT NULL CHECK (half IN (1, 2)),
    slot_id        bigint NOT NULL REFERENCES slots (id),
    PRIMARY KEY (application_id, preference, half)
);
CREATE INDEX application_options_slot_idx ON application_options (slot_id);
