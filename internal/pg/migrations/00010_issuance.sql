-- +goose Up
-- Issuance (package issuance): a candidate who is ready (IS-READY) is taken
-- through the desk's three steps (IS-STEPS) to a licence the same day
-- (IS-SAMEDAY). One row per candidate, made ready in the transaction that
-- makes the last result final; each step is a conditional update from the
-- step before, and records who did it at which desk.
CREATE TABLE issuances (
    id                bigserial PRIMARY KEY,
    candidate_id      bigint NOT NULL CONSTRAINT issuances_candidate_key UNIQUE REFERENCES candidates (id),
    day               date NOT NULL,                            -- the day it became ready (Asia/Shanghai)
    ticket            text NOT NULL,                            -- A012; P003 on the priority lane
    priority_lane     boolean NOT NULL,
    ready_at          timestamptz NOT NULL,
    step              text NOT NULL DEFAULT 'ready' CHECK (step IN ('ready', 'accepted', 'reviewed', 'issued')),
    called_at         timestamptz,                              -- 叫号, the latest call
    called_desk       text,
    called_by         bigint REFERENCES users (id),
    accepted_at       timestamptz,                              -- 预受理
    accepted_by       bigint REFERENCES users (id),
    accepted_desk     text,
    accepted_note     text,
    reviewed_at       timestamptz,                              -- 审核缴费
    reviewed_by       bigint REFERENCES users (id),
    reviewed_desk     text,
    reviewed_note     text,
    fee_yuan          integer CHECK (fee_yuan >= 0),
    issued_at         timestamptz,                              -- 制证
    issued_by         bigint REFERENCES users (id),
    issued_desk       text,
    issued_note       text,
    licence_number    text,                                     -- IS-NUMBER: the holder's ID number
    file_number       text CONSTRAINT issuances_file_number_key UNIQUE CHECK (file_number ~ '^[0-9]{12}$'),
    valid_from        date,                                     -- IS-VALIDITY
    valid_until       date,
    probation_until   date,
    CONSTRAINT issuances_ticket_key UNIQUE (day, ticket),
    CHECK ((step IN ('accepted', 'reviewed', 'issued')) = (accepted_at IS NOT NULL AND accepted_by IS NOT NULL)),
    CHECK ((step IN ('reviewed', 'issued')) = (reviewed_at IS NOT NULL AND reviewed_by IS NOT NULL AND fee_yuan IS NOT NULL)),
    CHECK ((step = 'issued') = (issued_at IS NOT NULL AND issued_by IS NOT NULL AND licence_number IS NOT NULL
                                AND file_number IS NOT NULL AND valid_from IS NOT NULL AND valid_until IS NOT NULL
                                AND probation_until IS NOT NULL))
);
CREATE INDEX issuances_day_idx ON issuances (day, priority_lane DESC, ready_at);

-- The day's ticket counters, one per prefix.
CREATE TABLE issuance_tickets (
    day    date NOT NULL,
    prefix text NOT NULL CHECK (prefix ~ '^[A-Z]$'),
    last   integer NOT NULL CHECK (last > 0),
    PRIMARY KEY (day, prefix)
);

-- IS-NUMBER: 档案编号, 12 digits, unique by construction.
CREATE SEQUENCE licence_file_numbers MINVALUE 1 MAXVALUE 999999999999 NO CYCLE;

-- IS-NOTICE: 一次性告知, what a candidate must bring or do, as data.
-- classes NULL: every licence class; otherwise the classes it applies to.
CREATE TABLE notice_items (
    code    text PRIMARY KEY,
    ord     integer NOT NULL,
    text_zh text NOT NULL,
    text_en text NOT NULL,
    classes text[],
    for_issuance boolean NOT NULL DEFAULT false -- only once the candidate is ready
);
INSERT INTO notice_items (code, ord, text_zh, text_en, classes, for_issuance) VALUES
    ('id_card', 1, '本人居民身份证原件', 'Your resident ID card (original)', NULL, false),
    ('permit', 2, '驾驶技能准考证明（学习驾驶证明）', 'Your learning permit', NULL, false),
    ('medical', 3, '县级或部队团级以上医疗机构出具的《机动车驾驶人身体条件证明》', 'A medical certificate of fitness to drive from a county-level (or army regiment-level) hospital', ARRAY['A1','A2','A3','B1','B2','C5'], false),
    ('photos', 4, '近期一寸白底免冠彩色照片两张（已采集数码照片的可免）', 'Two recent 1-inch colour photos on a white background (not needed if your digital photo was taken)', NULL, true),
    ('fee', 5, '制证工本费 {fee} 元（现场微信、支付宝或银行卡缴纳）', 'The licence fee of {fee} yuan (WeChat Pay, Alipay or bank card at the desk)', NULL, true),
    ('sign', 6, '本人到场，核对各科目成绩单签名', 'Come in person and check that every score sheet is signed', NULL, true);

-- SA-RATE: one rating per completed service: a licence issued, or a booking
-- that staff cancelled. The staff member and desk rated are the ones who
-- completed it.
CREATE TABLE feedback (
    id           bigserial PRIMARY KEY,
    candidate_id bigint NOT NULL REFERENCES candidates (id),
    issuance_id  bigint CONSTRAINT feedback_issuance_key UNIQUE REFERENCES issuances (id),
    booking_id   bigint CONSTRAINT feedback_booking_key UNIQUE REFERENCES bookings (id),
    staff_id     bigint NOT NULL REFERENCES users (id),
    desk         text,
    score        integer NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment      text CHECK (length(comment) <= 500),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((issuance_id IS NULL) <> (booking_id IS NULL))
);
CREATE INDEX feedback_created_idx ON feedback (created_at);
