-- +goose Up
-- The login throttle (package internal/auth, throttle.go): failed logins
-- counted per key, shared by every replica. A key is a client address
-- (scope 'address'), a username from one address (scope 'pair': the address,
-- a space, the username) or a username from anywhere (scope 'username').
-- The rule that reads and moves a count is Go's (auth.Throttle); a login
-- locks the rows of its keys while it applies it.
CREATE TABLE login_throttle (
    scope         text NOT NULL CHECK (scope IN ('address', 'pair', 'username')),
    key           text NOT NULL,
    failures      integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    -- The failures are forgotten from then on.
    window_ends   timestamptz NOT NULL DEFAULT 'epoch',
    -- No login of the key is tried before then.
    blocked_until timestamptz NOT NULL DEFAULT 'epoch',
    PRIMARY KEY (scope, key)
);
CREATE INDEX login_throttle_window_ends_idx ON login_throttle (window_ends);

-- The addresses a username logged in from: a username failing from many
-- addresses is slowed everywhere but there.
CREATE TABLE login_addresses (
    username   text NOT NULL,
    address    text NOT NULL,
    last_login timestamptz NOT NULL,
    PRIMARY KEY (username, address)
);
