-- +goose Up
-- A candidate's request for the priority lane (绿色通道), made on their own
-- page (package web). Staff decide it: granting the lane records a
-- priority_grants row (PL-GRANT) as before; the request only says who asked,
-- why and for what. A candidate has at most one pending request, which they
-- may revise while it waits.
CREATE TABLE priority_requests (
    id           bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidates (id),
    reason       text NOT NULL CHECK (reason IN ('disability', 'elderly', 'pregnancy', 'military_service', 'school_term', 'permit_expiring', 'other')),
    needs        text[] NOT NULL DEFAULT '{}'
                 CHECK (needs <@ ARRAY['step_free', 'adapted_vehicle', 'escort', 'sign_language', 'extra_time']),
    note         text NOT NULL DEFAULT '' CHECK (char_length(note) <= 500),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'granted', 'declined')),
    requested_at timestamptz NOT NULL DEFAULT now(),
    decided_by   bigint REFERENCES users (id),
    decided_at   timestamptz,
    CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE UNIQUE INDEX priority_requests_one_pending ON priority_requests (candidate_id) WHERE status = 'pending';
