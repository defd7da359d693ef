package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/notify"
	"examd/internal/pg/pgtest"
	"examd/internal/testkit"
	"examd/realtime"
)

// gateway is a fake SMS gateway that deduplicates by idempotency key: the
// first POST of some keys fails (500), of others times out (it answers
// after the sender's timeout, having delivered the message), the rest
// succeed.
type gateway struct {
	mu        sync.Mutex
	posts     map[string]int  // POSTs per key
	delivered map[string]int  // messages handed to the phone network per key
	timedOut  map[string]bool // keys whose delivery the sender did not hear of
	bad       []string
	mode      func(key string, post int) string // "fail", "slow" or "ok"
	slow      time.Duration
}

func newGateway(mode func(key string, post int) string, slow time.Duration) *gateway {
	return &gateway{posts: map[string]int{}, delivered: map[string]int{}, timedOut: map[string]bool{}, mode: mode, slow: slow}
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m notify.Message
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &m); err != nil || m.IdempotencyKey == "" || m.Text == "" || m.Kind == "" ||
		r.Header.Get("Idempotency-Key") != m.IdempotencyKey || m.Phone != "13800138000" {
		g.mu.Lock()
		g.bad = append(g.bad, string(body))
		g.mu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.posts[m.IdempotencyKey]++
	mode := g.mode(m.IdempotencyKey, g.posts[m.IdempotencyKey])
	if mode != "fail" && g.delivered[m.IdempotencyKey] == 0 {
		g.delivered[m.IdempotencyKey]++ // the dedup: a key is delivered once
	}
	if mode == "slow" {
		g.timedOut[m.IdempotencyKey] = true
	}
	g.mu.Unlock()
	switch mode {
	case "fail":
		w.WriteHeader(http.StatusInternalServerError)
	case "slow":
		time.Sleep(g.slow)
		w.WriteHeader(http.StatusOK)
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// addNotes adds n notes for the candidates in one transaction.
func addNotes(t *testing.T, db *sqlx.DB, notes *notify.Notes, cands []int64, n int) {
	t.Helper()
	tx := db.MustBegin()
	defer tx.Rollback()
	var ns []notify.Note
	for i := range n {
		ns = append(ns, notify.Note{CandidateID: cands[i%len(cands)], Kind: notify.KindTicketCalled,
			ZH: fmt.Sprintf("请到 %d 号窗口", i), EN: fmt.Sprintf("Go to desk %d", i)})
	}
	if err := notes.Add(context.Background(), tx, ns...); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func newSender(db *sqlx.DB, url string, clock *testkit.Clock, timeout time.Duration) *notify.Sender {
	s := notify.NewSender(db, url, slog.New(slog.DiscardHandler))
	s.Client.Timeout = timeout
	s.Backoff, s.MaxBackoff, s.Batch, s.Now = time.Second, 8*time.Second, 7, clock.Now
	return s
}

// TestNotificationsDeliveredOnce: two senders (two replicas) deliver an
// outbox through a gateway that fails, times out and succeeds: in the end
// every notification is delivered once on the gateway's side and marked
// sent, and a key was posted again only after a failure or a timeout.
func TestNotificationsDeliveredOnce(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	notes := notify.New(realtime.NewFeed(db))
	cands := []int64{candidate(t, db, 1), candidate(t, db, 2), candidate(t, db, 3)}
	const total = 60
	addNotes(t, db, notes, cands, total/2)
	addNotes(t, db, notes, cands, total/2)

	gw := newGateway(func(key string, post int) string {
		var id int
		fmt.Sscanf(key, "examd-notification-%d", &id)
		switch {
		case post == 1 && id%3 == 0:
			return "fail"
		case post == 1 && id%3 == 1:
			return "slow"
		case post == 2 && id%3 == 0 && id%5 == 0:
			return "fail"
		}
		return "ok"
	}, 300*time.Millisecond)
	srv := httptest.NewServer(gw)
	defer srv.Close()

	clock := testkit.NewClock(time.Now())
	senders := []*notify.Sender{newSender(db, srv.URL, clock, 100*time.Millisecond), newSender(db, srv.URL, clock, 100*time.Millisecond)}
	for round := 0; ; round++ {
		if round > 40 {
			t.Fatal("the outbox is not empty after 40 rounds")
		}
		var wg sync.WaitGroup
		tried := make([]int, len(senders))
		for i, s := range senders {
			wg.Go(func() {
				n, err := s.SendDue(ctx)
				if err != nil {
					t.Error(err)
				}
				tried[i] = n
			})
		}
		wg.Wait()
		if tried[0]+tried[1] == 0 {
			left, _, err := notify.Outbox(ctx, db, clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if left == 0 {
				break
			}
			clock.Add(time.Second)
		}
	}

	gw.mu.Lock()
	defer gw.mu.Unlock()
	if len(gw.bad) > 0 {
		t.Errorf("bad posts: %q", gw.bad)
	}
	if len(gw.delivered) != total {
		t.Errorf("delivered keys: got %d, want %d", len(gw.delivered), total)
	}
	var ids []int64
	if err := db.Select(&ids, `SELECT id FROM notifications WHERE sent_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if len(ids) != total {
		t.Errorf("marked sent: got %d, want %d", len(ids), total)
	}
	for _, id := range ids {
		key := notify.IdempotencyKey(id)
		if gw.delivered[key] != 1 {
			t.Errorf("%s delivered %d times", key, gw.delivered[key])
		}
		// A key goes again only after a failure (id%3 == 0: 2 posts, 3
		// when the second fails too) or a timeout (id%3 == 1: 2 posts).
		want := 1
		switch {
		case id%3 == 0 && id%5 == 0:
			want = 3
		case id%3 != 2:
			want = 2
		}
		if gw.posts[key] != want {
			t.Errorf("%s posted %d times, want %d", key, gw.posts[key], want)
		}
		if id%3 == 1 && !gw.timedOut[key] {
			t.Errorf("%s never timed out", key)
		}
	}
	var lastErrors int
	if err := db.Get(&lastErrors, `SELECT count(*) FROM notifications WHERE last_error IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if lastErrors != 0 {
		t.Errorf("%d sent notifications keep a last error", lastErrors)
	}
}

// TestSenderBackoff: a notification the gateway keeps refusing waits twice
// as long after each failure, up to the longest wait; its attempts and last
// error are recorded.
func TestSenderBackoff(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	notes := notify.New(realtime.NewFeed(db))
	addNotes(t, db, notes, []int64{candidate(t, db, 1)}, 1)
	srv := httptest.NewServer(newGateway(func(string, int) string { return "fail" }, 0))
	defer srv.Close()
	clock := testkit.NewClock(time.Now())
	s := newSender(db, srv.URL, clock, time.Second)
	for i, want := range []time.Duration{1, 2, 4, 8, 8} {
		if n, err := s.SendDue(ctx); err != nil || n != 1 {
			t.Fatalf("attempt %d: sent %d, %v", i+1, n, err)
		}
		var row struct {
			Attempts int       `db:"attempts"`
			Next     time.Time `db:"next_send_at"`
			Err      string    `db:"last_error"`
		}
		if err := db.Get(&row, `SELECT attempts, next_send_at, last_error FROM notifications`); err != nil {
			t.Fatal(err)
		}
		if got := row.Next.Sub(clock.Now()).Round(time.Millisecond); row.Attempts != i+1 || got != want*time.Second {
			t.Errorf("attempt %d: attempts %d, next in %s, want %d, %s", i+1, row.Attempts, got, i+1, want*time.Second)
		}
		if row.Err != "gateway answered 500 Internal Server Error" {
			t.Errorf("attempt %d: last error %q", i+1, row.Err)
		}
		if n, _ := s.SendDue(ctx); n != 0 {
			t.Errorf("attempt %d: sent again before its time", i+1)
		}
		clock.Set(row.Next)
	}
	n, age, err := notify.Outbox(ctx, db, clock.Now())
	if err != nil || n != 1 || age < 22 {
		t.Errorf("outbox: %d, oldest %.0fs, %v; want 1, 23s", n, age, err)
	}
}

// TestSenderWithoutGateway: with no endpoint nothing is sent and the outbox
// is kept.
func TestSenderWithoutGateway(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	addNotes(t, db, notify.New(realtime.NewFeed(db)), []int64{candidate(t, db, 1)}, 3)
	s := notify.NewSender(db, "", slog.New(slog.DiscardHandler))
	if n, err := s.SendDue(ctx); n != 0 || err != nil {
		t.Errorf("sent %d, %v", n, err)
	}
	if n, _, err := notify.Outbox(ctx, db, time.Now()); n != 3 || err != nil {
		t.Errorf("outbox: %d, %v; want 3", n, err)
	}
}
