-- +goose Up
-- The live feeds (package realtime). The stored feed is the truth; websockets
-- are a view of it. Each topic ("venue:12", "issuance") numbers its events
-- 1, 2, 3 ... gap-free and in commit order: appending takes the row lock on
-- the topic's counter, in the transaction of the change the event describes.
CREATE TABLE feed_topics (
    topic text PRIMARY KEY CHECK (topic <> '' AND length(topic) <= 200), -- NOTIFY payloads are short
    seq   bigint NOT NULL DEFAULT 0 CHECK (seq >= 0)                      -- the topic's last event
);

-- Every event as clients receive it: one JSON object that carries its seq.
CREATE TABLE feed_events (
    topic      text NOT NULL REFERENCES feed_topics (topic),
    seq        bigint NOT NULL CHECK (seq > 0),
    body       jsonb NOT NULL CHECK (jsonb_typeof(body) = 'object' AND body -> 'seq' = to_jsonb(seq)),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, seq)
);
