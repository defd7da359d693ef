package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Sender defaults: the client's timeout, the back-off's first and longest
// waits, the batch size and the pause between polls of the outbox.
const (
	DefaultSendTimeout = 5 * time.Second
	DefaultBackoff     = 5 * time.Second
	DefaultMaxBackoff  = time.Hour
	DefaultSendBatch   = 20
	DefaultSendPoll    = 2 * time.Second
)

// Message is what the gateway receives for one notification: the JSON body
// of the POST, its IdempotencyKey also in the Idempotency-Key header.
type Message struct {
	IdempotencyKey string `json:"idempotency_key"`
	// Phone is the candidate's full number: the gateway needs it. It is
	// never logged unmasked.
	Phone string `json:"phone"`
	Text  string `json:"text"`
	Kind  string `json:"kind"`
}

// IdempotencyKey is the key of notification id at the gateway: the same for
// every attempt, so that a notification sent twice (a crash between the POST
// and its record) is delivered once.
func IdempotencyKey(id int64) string { return "examd-notification-" + strconv.FormatInt(id, 10) }

// Sender delivers the outbox (the unsent notifications) to the office's SMS
// gateway: at least once, retrying with exponential back-off. Each replica
// may run one; a batch is taken with FOR UPDATE SKIP LOCKED, so that a row is
// in one replica's hands at a time.
type Sender struct {
	db *sqlx.DB
	// URL is the gateway's endpoint (EXAMD_NOTIFY_WEBHOOK); empty: nothing
	// is sent.
	URL    string
	Client *http.Client
	// Backoff is the wait after the first failure, doubled after each
	// further one, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	Batch               int
	Now                 func() time.Time
	Log                 *slog.Logger
}

// NewSender returns a sender of db's outbox to url, with the defaults.
func NewSender(db *sqlx.DB, url string, log *slog.Logger) *Sender {
	return &Sender{db: db, URL: url, Client: &http.Client{Timeout: DefaultSendTimeout},
		Backoff: DefaultBackoff, MaxBackoff: DefaultMaxBackoff, Batch: DefaultSendBatch, Now: time.Now, Log: log}
}

// outboxRow is an unsent notification with its candidate's phone.
type outboxRow struct {
	ID       int64  `db:"id"`
	Kind     string `db:"kind"`
	Text     string `db:"text_zh"`
	Phone    string `db:"phone"`
	Attempts int    `db:"attempts"`
}

// SendDue sends one batch of the notifications due now, and reports how
// many it tried. The batch's rows stay locked while they are posted, and
// their outcomes are written in one statement: a crash before it commits
// leaves them unsent, to be sent again with the same key. The batch's POSTs
// go concurrently.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	if s.URL == "" {
		return 0, nil
	}
	now := s.Now()
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("begin sending notifications: %w", err)
	}
	defer tx.Rollback()
	var rows []outboxRow
	err = tx.SelectContext(ctx, &rows, `
		SELECT n.id, n.kind, n.text_zh, c.phone, n.attempts
		FROM notifications n JOIN candidates c ON c.id = n.candidate_id
		WHERE n.sent_at IS NULL AND n.next_send_at <= $1
		ORDER BY n.next_send_at, n.id
		LIMIT $2
		FOR UPDATE OF n SKIP LOCKED`, now, s.Batch)
	if err != nil {
		return 0, fmt.Errorf("read the outbox: %w", err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	ids := make([]int64, len(rows))
	sent := make([]bool, len(rows))
	next := make([]time.Time, len(rows))
	errs := make([]string, len(rows))
	// The batch's posts go at once: the rows stay locked for one client
	// timeout at most, not one per row.
	var wg sync.WaitGroup
	for i, r := range rows {
		ids[i] = r.ID
		wg.Go(func() {
			if err := s.post(ctx, r); err != nil {
				next[i] = now.Add(s.backoff(r.Attempts + 1))
				errs[i] = err.Error()
				s.Log.Warn("notification not delivered", "notification", r.ID, "phone", maskPhone(r.Phone),
					"attempts", r.Attempts+1, "retry_at", next[i], "err", errs[i])
				return
			}
			sent[i], next[i] = true, now
		})
	}
	wg.Wait()
	_, err = tx.ExecContext(ctx, `
		UPDATE notifications n
		SET attempts = n.attempts + 1,
		    sent_at = CASE WHEN r.sent THEN $5::timestamptz END,
		    next_send_at = r.next,
		    last_error = nullif(r.err, '')
		FROM unnest($1::bigint[], $2::bool[], $3::timestamptz[], $4::text[]) AS r (id, sent, next, err)
		WHERE n.id = r.id`, pq.Array(ids), pq.Array(sent), pq.Array(next), pq.Array(errs), now)
	if err != nil {
		return len(rows), fmt.Errorf("record %d deliveries: %w", len(rows), err)
	}
	if err := tx.Commit(); err != nil {
		return len(rows), fmt.Errorf("commit %d deliveries: %w", len(rows), err)
	}
	return len(rows), nil
}

// backoff is the wait after a notification's attempts-th failure.
func (s *Sender) backoff(attempts int) time.Duration {
	d := s.Backoff
	for i := 1; i < attempts && d < s.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, s.MaxBackoff)
}

// post sends r to the gateway: nil for a 2xx answer.
func (s *Sender) post(ctx context.Context, r outboxRow) error {
	key := IdempotencyKey(r.ID)
	body, err := json.Marshal(Message{IdempotencyKey: key, Phone: r.Phone, Text: r.Text, Kind: r.Kind})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := s.Client.Do(req)
	if err != nil {
		// The error names the URL, never the body (the phone).
		return fmt.Errorf("post: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("gateway answered %s", resp.Status)
	}
	return nil
}

// Run sends the outbox until ctx is done: batch after batch while they are
// full, then every poll. Without a URL it does nothing: the outbox is kept.
func (s *Sender) Run(ctx context.Context, poll time.Duration) {
	if s.URL == "" {
		return
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		n, err := s.SendDue(ctx)
		if err != nil && ctx.Err() == nil {
			s.Log.Error("send notifications", "err", err.Error())
		}
		if err == nil && n >= s.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Outbox returns the number of unsent notifications and the age in seconds
// of the oldest (0 when none).
func Outbox(ctx context.Context, db *sqlx.DB, now time.Time) (int, float64, error) {
	var o struct {
		N      int     `db:"n"`
		Oldest float64 `db:"oldest"`
	}
	err := db.GetContext(ctx, &o, `
		SELECT count(*) AS n, coalesce(extract(epoch FROM $1 - min(created_at)), 0)::float8 AS oldest
		FROM notifications WHERE sent_at IS NULL`, now)
	if err != nil {
		return 0, 0, fmt.Errorf("read the outbox: %w", err)
	}
	return o.N, math.Max(o.Oldest, 0), nil
}

// maskPhone keeps a phone's first 3 and last 4 digits.
func maskPhone(p string) string {
	if len(p) <= 7 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}
