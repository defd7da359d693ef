-- +goose Up
-- Accounts: every person who logs in, staff and candidates alike.
CREATE TABLE venues (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    address    text NOT NULL DEFAULT '',
    step_free  boolean NOT NULL DEFAULT false, -- PL-ACCESS: a ground-floor exam room
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL CONSTRAINT users_username_key UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'scheduler', 'examiner', 'issuer', 'candidate')),
    venue_id      bigint REFERENCES venues (id),
    desk          text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Tokens are random; only their SHA-256 is stored.
CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    user_id    bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Licence classes are data: BK-WAIT waiting periods per class (days after the permit's issue).
CREATE TABLE licence_classes (
    code                        text PRIMARY KEY,
    name_zh                     text NOT NULL,
    subject2_wait_days          integer NOT NULL CHECK (subject2_wait_days >= 0),
    subject3_wait_days          integer NOT NULL CHECK (subject3_wait_days >= 0),
    -- BK-WAIT: A and B classes wait 30 days instead of 40 when the candidate already holds a car licence.
    subject3_wait_days_licensed integer CHECK (subject3_wait_days_licensed >= 0)
);
INSERT INTO licence_classes (code, name_zh, subject2_wait_days, subject3_wait_days, subject3_wait_days_licensed) VALUES
    ('A1', '大型客车', 20, 40, 30),
    ('A2', '重型牵引挂车', 20, 40, 30),
    ('A3', '城市公交车', 20, 40, 30),
    ('B1', '中型客车', 20, 40, 30),
    ('B2', '大型货车', 20, 40, 30),
    ('C1', '小型汽车', 10, 30, NULL),
    ('C2', '小型自动挡汽车', 10, 20, NULL),
    ('C3', '低速载货汽车', 10, 20, NULL),
    ('C4', '三轮汽车', 10, 20, NULL),
    ('C5', '残疾人专用小型自动挡载客汽车', 10, 20, NULL),
    ('C6', '轻型牵引挂车', 10, 20, NULL),
    ('D', '普通三轮摩托车', 10, 20, NULL),
    ('E', '普通二轮摩托车', 10, 20, NULL),
    ('F', '轻便摩托车', 10, 20, NULL);

-- A candidate is a user (id = users.id) with a learning permit.
CREATE TABLE candidates (
    id                 bigint PRIMARY KEY REFERENCES users (id),
    id_number          text NOT NULL CONSTRAINT candidates_id_number_key UNIQUE,
    name               text NOT NULL CHECK (name <> ''),
    phone              text NOT NULL,
    licence_class      text NOT NULL REFERENCES licence_classes (code),
    permit_issued_on   date NOT NULL,
    permit_expires_on  date NOT NULL,
    subject1_passed_on date,
    holds_car_licence  boolean NOT NULL DEFAULT false,
    created_by         bigint REFERENCES users (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (permit_expires_on > permit_issued_on),
    CHECK (subject1_passed_on IS NULL OR subject1_passed_on <= permit_expires_on)
);

-- PL-GRANT: every grant records who granted it and why; at most one grant is active.
CREATE TABLE priority_grants (
    id           bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidates (id),
    reason       text NOT NULL CHECK (reason IN ('disability', 'elderly', 'pregnancy', 'military_service', 'school_term', 'permit_expiring', 'other')),
    needs        text[] NOT NULL DEFAULT '{}'
                 CHECK (needs <@ ARRAY['step_free', 'adapted_vehicle', 'escort', 'sign_language', 'extra_time']),
    note         text NOT NULL DEFAULT '',
    granted_by   bigint NOT NULL REFERENCES users (id),
    granted_at   timestamptz NOT NULL DEFAULT now(),
    revoked_by   bigint REFERENCES users (id),
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX priority_grants_one_active ON priority_grants (candidate_id) WHERE revoked_at IS NULL;

CREATE TABLE slots (
    id                 bigserial PRIMARY KEY,
    venue_id           bigint NOT NULL REFERENCES venues (id),
    subject            smallint NOT NULL CHECK (subject IN (2, 3, 4)),
    licence_class      text NOT NULL REFERENCES licence_classes (code),
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL,
    capacity           integer NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    priority_reserved  integer NOT NULL DEFAULT 0,
    reserve_release_at timestamptz NOT NULL,
    booking_opens_at   timestamptz NOT NULL,
    booking_closes_at  timestamptz NOT NULL,
    adapted_vehicle    boolean NOT NULL DEFAULT false,
    -- booked counts confirmed and finished bookings; cancelled ones give their seat back.
    booked             integer NOT NULL DEFAULT 0,
    created_by         bigint REFERENCES users (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (priority_reserved BETWEEN 0 AND capacity),
    CHECK (booking_opens_at <= booking_closes_at),
    CHECK (booking_closes_at <= starts_at),
    -- No overbooking, ever: the last guard under the conditional update.
    CONSTRAINT slots_booked_within_capacity CHECK (booked BETWEEN 0 AND capacity)
);
CREATE INDEX slots_starts_at_idx ON slots (starts_at);

CREATE TABLE bookings (
    id            bigserial PRIMARY KEY,
    candidate_id  bigint NOT NULL REFERENCES candidates (id),
    slot_id       bigint NOT NULL REFERENCES slots (id),
    subject       smallint NOT NULL CHECK (subject IN (2, 3, 4)),
    exam_day      date NOT NULL, -- the slot's day in Asia/Shanghai, for BK-COOLDOWN
    status        text NOT NULL DEFAULT 'confirmed'
                  CHECK (status IN ('confirmed', 'cancelled', 'passed', 'failed', 'no_show')),
    lane          text NOT NULL CHECK (lane IN ('priority', 'regular')),
    pair_id       bigint REFERENCES bookings (id), -- BK-COMBINED: the other half of a combined booking
    booked_by     bigint NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    cancelled_at  timestamptz,
    cancelled_by  bigint REFERENCES users (id),
    cancel_reason text,
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
-- BK-ONE: one active booking per candidate and subject.
CREATE UNIQUE INDEX bookings_one_active ON bookings (candidate_id, subject) WHERE status = 'confirmed';
CREATE INDEX bookings_candidate_idx ON bookings (candidate_id);
CREATE INDEX bookings_slot_idx ON bookings (slot_id);

-- Idempotency-Key: the first request with a key owns it; repeats answer with the same bookings.
CREATE TABLE idempotency_keys (
    user_id     bigint NOT NULL REFERENCES users (id),
    key         text NOT NULL,
    request     text NOT NULL, -- a fingerprint of the request, so a key cannot be reused for another one
    booking_ids bigint[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
