-- +goose Up
-- Judging devices (电子评判设备) in the exam cars, and the theory terminals.
CREATE TABLE devices (
    id              bigserial PRIMARY KEY,
    venue_id        bigint NOT NULL REFERENCES venues (id),
    name            text NOT NULL CHECK (name <> ''),
    vehicle_plate   text NOT NULL DEFAULT '',
    licence_classes text[] NOT NULL DEFAULT '{}',
    adapted_vehicle boolean NOT NULL DEFAULT false,
    key_hash        bytea NOT NULL CONSTRAINT devices_key_hash_key UNIQUE, -- SHA-256 of the key, shown once
    created_by      bigint REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    retired_at      timestamptz
);

-- SC-RULES: the deduction catalogue is data, versioned; each attempt records
-- the version it was scored with.
CREATE TABLE rule_catalogues (
    version      integer PRIMARY KEY,
    published_at timestamptz NOT NULL DEFAULT now(),
    note         text NOT NULL DEFAULT ''
);
CREATE TABLE rules (
    version    integer NOT NULL REFERENCES rule_catalogues (version),
    code       text NOT NULL,
    subject    smallint CHECK (subject IN (2, 3)), -- NULL: a general rule for every subject
    item       text NOT NULL,                      -- an SC-ITEMS item, several joined by ',', or 'any'
    text_zh    text NOT NULL,
    text_en    text NOT NULL,
    points     integer NOT NULL CHECK (points BETWEEN 1 AND 100), -- 100: fail outright (不合格)
    repeatable boolean NOT NULL DEFAULT false,                  -- "each": deducts every time
    PRIMARY KEY (version, code)
);
INSERT INTO rule_catalogues (version, note) VALUES (1, 'GA 1026 as compiled in DOMAIN.md, 2026');
INSERT INTO rules (version, code, subject, item, text_zh, text_en, points, repeatable) VALUES
 (1, 'GEN.SEATBELT', NULL, 'any', '不按规定使用安全带', 'Seat belt not worn as required', 100, false),
 (1, 'GEN.IGNORE_EXAMINER', NULL, 'any', '不按考试员指令驾驶', 'Not driving as the examiner instructs', 100, false),
 (1, 'GEN.START_IN_GEAR', NULL, 'any', '启动发动机时挡位未置于空挡(驻车挡)', 'Engine started with the gear not in neutral (park)', 100, false),
 (1, 'GEN.HANDBRAKE_UNCORRECTED', NULL, 'any', '不松驻车制动器起步，未及时纠正', 'Moving off with the parking brake on, not corrected', 100, false),
 (1, 'GEN.HANDBRAKE_CORRECTED', NULL, 'any', '不松驻车制动器起步，能及时纠正', 'Moving off with the parking brake on, corrected in time', 10, false),
 (1, 'GEN.STALL', NULL, 'any', '因操作不当造成发动机熄火', 'Engine stalled through poor control', 10, true),
 (1, 'GEN.ROLLBACK_OVER_30CM', NULL, 'any', '起步时车辆后溜距离大于30cm', 'Rolled back more than 30 cm when moving off', 100, false),
 (1, 'RP.ROUTE', 2, 'reverse_parking', '不按规定路线、顺序行驶', 'Not following the set route and order', 100, false),
 (1, 'RP.BODY_OUT', 2, 'reverse_parking', '车身出线', 'Vehicle body crossed the line', 100, false),
 (1, 'RP.NOT_IN_BAY', 2, 'reverse_parking', '倒库不入', 'Failed to reverse into the bay', 100, false),
 (1, 'RP.CONTROL_LINE', 2, 'reverse_parking', '倒车前两前轮触地点未均驶过控制线', 'Both front wheels had not passed the control line before reversing', 100, false),
 (1, 'RP.TIMEOUT', 2, 'reverse_parking', '项目完成时间超过210秒', 'Item took longer than 210 seconds', 100, false),
 (1, 'RP.STOP', 2, 'reverse_parking', '中途停车超过2秒', 'Stopped for more than 2 seconds on the way', 5, true),
 (1, 'HS.BUMPER_OVER_50CM', 2, 'hill_start', '停车后前保险杠未定于桩杆线上，且前后超出50cm', 'Front bumper not on the stop line, off by more than 50 cm', 100, false),
 (1, 'HS.BUMPER_WITHIN_50CM', 2, 'hill_start', '停车后前保险杠未定于桩杆线上，前后未超出50cm', 'Front bumper not on the stop line, off by no more than 50 cm', 10, false),
 (1, 'HS.EDGE_30_50CM', 2, 'hill_start', '停车后车身距离路边缘线超出30cm未超出50cm', 'Stopped 30 to 50 cm from the road edge line', 10, false),
 (1, 'HS.EDGE_OVER_50CM', 2, 'hill_start', '停车后车身距离路边缘线超出50cm', 'Stopped more than 50 cm from the road edge line', 100, false),
 (1, 'HS.START_OVER_30S', 2, 'hill_start', '停车后起步时间超过30秒', 'Took more than 30 seconds to move off after stopping', 100, false),
 (1, 'HS.ROLLBACK_10_30CM', 2, 'hill_start', '起步时车辆后溜距离10cm至30cm', 'Rolled back 10 to 30 cm when moving off', 10, false),
 (1, 'HS.WHEEL_ON_EDGE', 2, 'hill_start', '行驶中车轮轧道路边缘线', 'Wheel touched the road edge line while driving', 100, false),
 (1, 'PP.BODY_OUT', 2, 'parallel_parking', '车辆入库停止后车身出线', 'Vehicle body over the line after parking', 100, false),
 (1, 'PP.TIMEOUT', 2, 'parallel_parking', '项目完成时间超过90秒', 'Item took longer than 90 seconds', 100, false),
 (1, 'PP.WHEEL_ON_LANE_EDGE', 2, 'parallel_parking', '行驶中车轮触轧车道边线', 'Wheel touched the lane edge line while driving', 10, true),
 (1, 'PP.EXIT_SIGNAL', 2, 'parallel_parking', '出库不使用或错误使用转向灯', 'Turn signal not used or used wrongly when leaving the bay', 10, false),
 (1, 'CD.WHEEL_ON_EDGE', 2, 'curve_driving', '车轮轧道路边缘线', 'Wheel touched the road edge line', 100, false),
 (1, 'CD.STOP', 2, 'curve_driving', '中途停车', 'Stopped on the way', 100, false),
 (1, 'RT.WHEEL_ON_EDGE', 2, 'right_angle_turn', '车轮轧道路边缘线', 'Wheel touched the road edge line', 100, false),
 (1, 'RT.SIGNAL', 2, 'right_angle_turn', '转弯时不使用或错误使用转向灯，转弯后不关闭转向灯', 'Turn signal not used, used wrongly, or left on after the turn', 10, false),
 (1, 'RT.STOP', 2, 'right_angle_turn', '中途停车', 'Stopped on the way', 5, true),
 (1, 'S3.DOOR_OPEN', 3, 'start', '车门未完全关闭起步', 'Moved off with a door not fully closed', 100, false),
 (1, 'S3.NO_REAR_CHECK', 3, 'start', '起步前未观察内、外后视镜，未侧头观察后方交通情况', 'No mirror and over-the-shoulder check before moving off', 100, false),
 (1, 'S3.ROLLBACK_UNDER_30CM', 3, 'start', '起步时车辆后溜，但后溜距离小于30cm', 'Rolled back less than 30 cm when moving off', 10, false),
 (1, 'S3.SIGNAL', 3, 'any', '起步、转向、变更车道、超车、停车前不使用或错误使用转向灯', 'Turn signal not used or used wrongly before moving off, turning, changing lanes, overtaking or stopping', 10, false),
 (1, 'S3.HANDS_OFF', 3, 'any', '双手同时离开转向盘', 'Both hands off the steering wheel', 100, false),
 (1, 'S3.EYES_OFF', 3, 'any', '视线离开行驶方向超过2秒', 'Eyes off the road for more than 2 seconds', 100, false),
 (1, 'S3.COASTING', 3, 'any', '行驶中空挡滑行', 'Coasting in neutral', 100, false),
 (1, 'S3.SOLID_LINE', 3, 'any', '骑轧车道中心实线或者车道边缘实线', 'Driving on a solid centre or edge line', 100, false),
 (1, 'S3.TWO_LANES', 3, 'lane_change', '连续变更两条或两条以上车道', 'Changed two or more lanes in one go', 100, false),
 (1, 'S3.GEAR_MISMATCH', 3, 'gear_change', '车速与挡位不匹配', 'Gear does not match the speed', 10, true),
 (1, 'S3.PEDESTRIAN', 3, 'crosswalk,school_zone,bus_stop', '遇行人通过人行横道等不停车让行，或不按规定减速慢行', 'Did not stop for pedestrians or slow down as required', 100, false),
 (1, 'S3.PULL_OVER_DISTANCE', 3, 'pull_over', '停车后车身距离道路右侧边缘线或者人行道边缘超出30cm', 'Stopped more than 30 cm from the right edge line or kerb', 10, false);

-- ED-ATTEMPT: one sitting of one subject on a confirmed booking: attempt 1,
-- or the same-day retake 2 (BK-RETAKE).
CREATE TABLE attempts (
    id           bigserial PRIMARY KEY,
    booking_id   bigint NOT NULL REFERENCES bookings (id),
    attempt_no   smallint NOT NULL CHECK (attempt_no IN (1, 2)),
    device_id    bigint NOT NULL REFERENCES devices (id),
    rule_version integer NOT NULL REFERENCES rule_catalogues (version),
    pass_mark    integer NOT NULL CHECK (pass_mark BETWEEN 1 AND 100),
    score        integer NOT NULL DEFAULT 100 CHECK (score BETWEEN 0 AND 100),
    status       text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'passed', 'failed')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    CONSTRAINT attempts_booking_attempt_no_key UNIQUE (booking_id, attempt_no),
    CHECK ((status = 'in_progress') = (finished_at IS NULL))
);
CREATE UNIQUE INDEX attempts_one_in_progress ON attempts (booking_id) WHERE status = 'in_progress';

-- Every accepted device event; event_id is the device's own id, so that a
-- retried event is answered from here and changes nothing.
CREATE TABLE attempt_events (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL CONSTRAINT attempt_events_event_id_key UNIQUE,
    attempt_id  bigint NOT NULL REFERENCES attempts (id),
    device_id   bigint NOT NULL REFERENCES devices (id),
    type        text NOT NULL,
    item        text,
    rule        text,
    points      integer NOT NULL DEFAULT 0, -- what the event deducted: 0 for a repeat of a once-only rule
    score       integer NOT NULL,           -- the attempt's score after the event
    text        text,
    at          timestamptz NOT NULL,       -- the device's clock
    received_at timestamptz NOT NULL DEFAULT now(),
    seq         bigint NOT NULL,            -- the venue feed's seq
    response    json NOT NULL               -- the answer given, byte for byte, repeated to a retry
);
CREATE INDEX attempt_events_attempt_idx ON attempt_events (attempt_id, id);

-- ED-SIGN: a result is final when the examiner and the candidate have both
-- signed its score sheet. A candidate may sign on the examiner's tablet
-- (in_person).
CREATE TABLE attempt_signatures (
    attempt_id bigint NOT NULL REFERENCES attempts (id),
    signer     text NOT NULL CHECK (signer IN ('examiner', 'candidate')),
    signed_by  bigint NOT NULL REFERENCES users (id),
    in_person  boolean NOT NULL DEFAULT false,
    signed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attempt_id, signer)
);
