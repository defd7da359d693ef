// Package realtime carries live events to websocket screens. Every event is
// stored first, in the transaction of the change it describes, then numbered
// per topic (1, 2, 3 ... gap-free, in commit order) by the numberer in a
// transaction of its own (a background writer's, such as the notes' feeder,
// are stored numbered, under the numberer's lock: AppendNumbered), and
// announced with pg_notify; a Hub in each examd process listens and fans the
// stored events out to its websocket clients, one reader and one writer per
// connection (the hub writes an event itself to an idle, up-to-date one).
// A client that reconnects with since=N gets every event after N from the
// table, then the live ones. The package knows topics ("venue:12",
// "issuance"), never what the events mean.
package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// notifyChannel is the PostgreSQL NOTIFY channel of every feed; the payload
// is "<topic> <seq>\n<event>", the event as stored (its "seq" included), or
// "<topic> <seq>" for an event too big for a notification (8000 bytes).
const notifyChannel = "examd_feed"

// Message is one stored event: its seq and its body, the JSON object sent to
// clients as it is, "seq" included.
type Message struct {
	Seq  int64  `db:"seq"`
	Data []byte `db:"body"`
}

// Feed appends events to the stored feeds and reads them back.
type Feed struct {
	db  *sqlx.DB
	num numberer
}

// NewFeed returns the feeds stored in db.
func NewFeed(db *sqlx.DB) *Feed { return &Feed{db: db, num: numberer{db: db}} }

// Append stores event under topic inside the caller's transaction tx and
// returns the event's id (feed_events.id). The event must marshal to a JSON
// object. It is stored unnumbered: once tx has committed, the numberer
// (number.go) gives it its seq (in its "seq", replacing one the event may
// have), after the events committed before and in the order tx appended its
// own, and announces it with pg_notify, the notification carrying the event
// when it fits. Nothing is locked at tx's commit. Call Wake after the commit
// for the screens to get the event at once, Number for its seq.
func (f *Feed) Append(ctx context.Context, tx sqlx.ExtContext, topic string, event any) (int64, error) {
	body, err := eventBody(topic, event)
	if err != nil {
		return 0, err
	}
	// The body goes as a string: lib/pq sends []byte parameters in binary,
	// which jsonb would refuse. The topic's counter row is not touched: the
	// numberer creates it with the topic's first seq (migration 00033).
	var id int64
	err = sqlx.GetContext(ctx, tx, &id, `
		INSERT INTO feed_events (topic, body) VALUES ($1, $2::jsonb - 'seq')
		RETURNING id`,
		topic, body)
	if err != nil {
		return 0, fmt.Errorf("append to feed %s: %w", topic, err)
	}
	markAppended(ctx)
	return id, nil
}

// Since returns up to limit events of topic with a seq above after, in
// order.
func (f *Feed) Since(ctx context.Context, topic string, after int64, limit int) ([]Message, error) {
	ms := []Message{}
	err := f.db.SelectContext(ctx, &ms, `
		SELECT seq, body FROM feed_events
		WHERE topic = $1 AND seq > $2
		ORDER BY seq LIMIT $3`, topic, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read feed %s after %d: %w", topic, after, err)
	}
	return ms, nil
}

// Current returns the seq of topic's last committed event, 0 for a topic
// without events.
func (f *Feed) Current(ctx context.Context, topic string) (int64, error) {
	var seq int64
	err := f.db.GetContext(ctx, &seq, `
		SELECT coalesce(max(seq), 0) FROM feed_topics WHERE topic = $1`, topic)
	if err != nil {
		return 0, fmt.Errorf("read the seq of feed %s: %w", topic, err)
	}
	return seq, nil
}

// SeqBefore returns the seq after which topic's events stored from t on
// begin (its current seq when there are none, 0 for a topic without
// events): a screen that shows one day replays the feed from there. An
// event is stamped when its transaction writes it but numbered when it
// commits, so one stored just before t may be numbered after one stored
// later: the answer errs towards replaying it, and the screen skips seqs it
// has shown.
func (f *Feed) SeqBefore(ctx context.Context, topic string, t time.Time) (int64, error) {
	var seq int64
	err := f.db.GetContext(ctx, &seq, `
		SELECT coalesce(
		    (SELECT min(seq) - 1 FROM feed_events WHERE topic = $1 AND seq IS NOT NULL AND created_at >= $2),
		    (SELECT seq FROM feed_topics WHERE topic = $1),
		    0)`, topic, t)
	if err != nil {
		return 0, fmt.Errorf("read the seq of feed %s before %s: %w", topic, t.Format(time.RFC3339), err)
	}
	return seq, nil
}

// currents returns the current seq of each of topics that has events.
func (f *Feed) currents(ctx context.Context, topics []string) (map[string]int64, error) {
	var rows []struct {
		Topic string `db:"topic"`
		Seq   int64  `db:"seq"`
	}
	err := f.db.SelectContext(ctx, &rows, `
		SELECT topic, seq FROM feed_topics WHERE topic = ANY($1)`, pq.Array(topics))
	if err != nil {
		return nil, fmt.Errorf("read the seqs of %d feeds: %w", len(topics), err)
	}
	seqs := make(map[string]int64, len(rows))
	for _, r := range rows {
		seqs[r.Topic] = r.Seq
	}
	return seqs, nil
}

// AppendNumbered stores events[i] under topics[i] inside the caller's
// transaction tx, in one statement whatever their number, already numbered:
// it takes the numberer's lock until tx ends (migration 00032), numbers
// first the events committed before and still unnumbered (so seqs stay in
// commit order), then gives each of its own its topic's next seq, in the
// order given; all are announced when tx commits, with no numbering batch
// after it. It is for a background writer whose transaction is as short as a
// numbering batch and that takes no lock a business transaction may hold
// after calling it (the notes' feeder); a business transaction appends with
// Append, which locks nothing.
func (f *Feed) AppendNumbered(ctx context.Context, tx sqlx.ExtContext, topics []string, events []any) error {
	if len(topics) != len(events) {
		return fmt.Errorf("append to the feeds: %d topics for %d events", len(topics), len(events))
	}
	if len(events) == 0 {
		return nil
	}
	bodies := make([]string, len(events))
	for i, ev := range events {
		body, err := eventBody(topics[i], ev)
		if err != nil {
			return err
		}
		bodies[i] = body
	}
	if _, err := tx.ExecContext(ctx, `SELECT feed_append_numbered($1, $2)`, pq.Array(topics), pq.Array(bodies)); err != nil {
		return fmt.Errorf("append %d events to the feeds: %w", len(events), err)
	}
	return nil
}

// eventBody checks topic and encodes event, which must marshal to a JSON
// object, as a feed stores it.
func eventBody(topic string, event any) (string, error) {
	if topic == "" || strings.ContainsRune(topic, '\n') {
		return "", fmt.Errorf("append to the feed: topic %q: empty or with a newline", topic)
	}
	body, err := json.Marshal(event)
	if err != nil {
		return "", fmt.Errorf("append to feed %s: %w", topic, err)
	}
	if !bytes.HasPrefix(body, []byte("{")) {
		return "", fmt.Errorf("append to feed %s: the event must be a JSON object, not %.20s", topic, body)
	}
	return string(body), nil
}
