package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"examd/internal/pg/pgtest"
	"examd/realtime"
)

// numbered returns the events of topic as stored, numbered or not, in seq
// order (unnumbered last), and how many are unnumbered.
func numbered(tb testing.TB, db *sqlx.DB, topic string) ([]realtime.Message, int) {
	tb.Helper()
	var ms []struct {
		Seq  *int64 `db:"seq"`
		Body []byte `db:"body"`
	}
	if err := db.Select(&ms, `SELECT seq, body FROM feed_events WHERE topic = $1 ORDER BY seq NULLS LAST, id`, topic); err != nil {
		tb.Fatal(err)
	}
	var out []realtime.Message
	left := 0
	for _, m := range ms {
		if m.Seq == nil {
			left++
			continue
		}
		out = append(out, realtime.Message{Seq: *m.Seq, Data: m.Body})
	}
	return out, left
}

// checkGapFree fails unless ms are seqs 1..want, each body carrying its own
// seq, and each writer's events (n = w*1000 + i) in the order it committed
// them.
func checkGapFree(tb testing.TB, ms []realtime.Message, want int) {
	tb.Helper()
	if len(ms) != want {
		tb.Fatalf("%d numbered events, want %d", len(ms), want)
	}
	last := map[int]int{}
	for i, m := range ms {
		var e struct {
			Seq int64 `json:"seq"`
			N   int   `json:"n"`
		}
		if err := json.Unmarshal(m.Data, &e); err != nil {
			tb.Fatal(err)
		}
		if m.Seq != int64(i+1) || e.Seq != m.Seq {
			tb.Fatalf("event %d: seq %d, body's %d; want %d", i, m.Seq, e.Seq, i+1)
		}
		w, n := e.N/1000, e.N%1000
		if prev, ok := last[w]; ok && n <= prev {
			tb.Fatalf("writer %d: event %d numbered after its event %d", w, n, prev)
		}
		last[w] = n
	}
}

// twoReplicas returns two Feeds on db (two replicas), each numbering every
// 5 ms until ctx ends.
func twoReplicas(ctx context.Context, db *sqlx.DB) []*realtime.Feed {
	log := slog.New(slog.DiscardHandler)
	feeds := []*realtime.Feed{realtime.NewFeed(db), realtime.NewFeed(db)}
	for _, f := range feeds {
		go f.RunNumbering(ctx, 5*time.Millisecond, log)
	}
	return feeds
}

// checkAllNumbered numbers what is left through feed and fails unless
// every event of topic is numbered, 1..want as checkGapFree checks.
func checkAllNumbered(tb testing.TB, ctx context.Context, feed *realtime.Feed, db *sqlx.DB, topic string, want int) {
	tb.Helper()
	if err := feed.Number(ctx); err != nil {
		tb.Fatal(err)
	}
	ms, left := numbered(tb, db, topic)
	if left != 0 {
		tb.Fatalf("%s: %d events left unnumbered", topic, left)
	}
	checkGapFree(tb, ms, want)
}

// TestNumberingTwoWritersTwoReplicas: two writers append to one topic, each
// event in its own transaction, while two numberers (two replicas: two
// Feeds on the same database) poll and are woken: every event is numbered
// exactly once, 1..N without a gap, each writer's in its commit order.
func TestNumberingTwoWritersTwoReplicas(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feeds := twoReplicas(ctx, db)
	const each = 150
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range each {
				if err := appendOne(db, feeds[w], "venue:9", event{N: w*1000 + i}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkAllNumbered(t, ctx, feeds[0], db, "venue:9", 2*each)
	if got, err := feeds[1].Current(ctx, "venue:9"); err != nil || got != 2*each {
		t.Fatalf("Current = %d, %v; want %d", got, err, 2*each)
	}
}

// TestNumberingOneAtATime: while one numberer holds the lock (another
// replica mid-batch), no other numbers anything: a try gets nothing, and
// Number waits; once the holder is done, Number numbers what is left.
func TestNumberingOneAtATime(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	feed := realtime.NewFeed(db)
	ctx := context.Background()
	appendEvents(t, db, feed, "venue:3", 2)
	holder, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec(`SELECT pg_advisory_xact_lock(feed_number_lock())`); err != nil {
		t.Fatal(err)
	}
	if err := appendOne(db, feed, "venue:3", event{N: 2}); err != nil { // wakes the numberer, which waits
		t.Fatal(err)
	}
	var got bool
	var n int
	if err := db.QueryRow(`SELECT got, numbered FROM feed_number_batch(1000, false)`).Scan(&got, &n); err != nil {
		t.Fatal(err)
	}
	if got || n != 0 {
		t.Fatalf("a try while another numberer holds the lock: got %v, numbered %d; want false, 0", got, n)
	}
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := feed.Number(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Number while another numberer holds the lock: %v, want it to wait", err)
	}
	if _, left := numbered(t, db, "venue:3"); left != 1 {
		t.Fatalf("%d unnumbered while the lock is held, want 1", left)
	}
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := feed.Number(ctx); err != nil {
		t.Fatal(err)
	}
	ms, left := numbered(t, db, "venue:3")
	if left != 0 {
		t.Fatalf("%d left unnumbered", left)
	}
	checkGapFree(t, ms, 3)
}

// TestNumbererKilledMidBatch: a numberer whose backend dies in the middle
// of a batch (after numbering, before its commit) leaves nothing numbered
// and nothing announced; the next numberer numbers every event once. Events
// committed unnumbered before a restart are numbered by a new process's
// poll, and replay from any since sees them in order.
func TestNumbererKilledMidBatch(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	feed := realtime.NewFeed(db)
	appendEvents(t, db, feed, "venue:8", 3) // numbered 1..3
	// Committed, and the process dies before it wakes its numberer.
	for i := range 4 {
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := feed.Append(ctx, tx, "venue:8", event{N: 10 + i}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	// Replay sees the numbered events only, and the topic's seq stays.
	if ms, err := feed.Since(ctx, "venue:8", 1, 10); err != nil || len(ms) != 2 || ms[1].Seq != 3 {
		t.Fatalf("Since(1) before numbering = %v, %v; want seqs 2, 3", ms, err)
	}

	batch, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Rollback()
	var n int
	if err := batch.Get(&n, `SELECT numbered FROM feed_number_batch(1000, true)`); err != nil || n != 4 {
		t.Fatalf("the doomed batch numbered %d, %v; want 4", n, err)
	}
	var pid int
	if err := batch.Get(&pid, `SELECT pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	if err := batch.Commit(); err == nil {
		t.Fatal("the killed batch committed")
	}
	if _, left := numbered(t, db, "venue:8"); left != 4 {
		t.Fatalf("%d unnumbered after the kill, want 4", left)
	}

	// A new process: its poll numbers them without anyone waking it.
	restarted := realtime.NewFeed(db)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go restarted.RunNumbering(pctx, 10*time.Millisecond, slog.New(slog.DiscardHandler))
	waitFor(t, func() bool { _, left := numbered(t, db, "venue:8"); return left == 0 })
	ms, _ := numbered(t, db, "venue:8")
	checkGapFree(t, ms, 7)
	replay, err := restarted.Since(ctx, "venue:8", 3, 10)
	if err != nil || len(replay) != 4 || replay[0].Seq != 4 || replay[3].Seq != 7 {
		t.Fatalf("Since(3) after numbering = %v, %v; want seqs 4..7", replay, err)
	}
	if lag := restarted.NumberingLag(); lag != 0 {
		t.Errorf("lag %v with nothing left, want 0", lag)
	}
}

// TestWakeAfterARoundThatCountedTheEvent: a writer's event is appended, then
// a round runs (woken by another writer) before the first one commits, so
// it cannot see the event; the writer's Wake after its commit still numbers
// it at once, with no poll running. (It used to be skipped as nothing new,
// the event left for the poll, or for ever where none ran.)
func TestWakeAfterARoundThatCountedTheEvent(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	feed := realtime.NewFeed(db)
	// The topic exists (a first event), so the writers do not wait for
	// each other's new topic row.
	if err := appendOne(db, feed, "venue:1", event{N: 0}); err != nil {
		t.Fatal(err)
	}
	if err := feed.Number(ctx); err != nil {
		t.Fatal(err)
	}
	slow, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	if _, err := feed.Append(ctx, slow, "venue:1", event{N: 1}); err != nil {
		t.Fatal(err)
	}
	if err := appendOne(db, feed, "venue:1", event{N: 2}); err != nil {
		t.Fatal(err)
	}
	if err := feed.Number(ctx); err != nil { // the round the other writer woke
		t.Fatal(err)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	feed.Wake()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ms, left := numbered(t, db, "venue:1")
		if left == 0 && len(ms) == 3 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the writer's Wake: %d numbered, %d left unnumbered", len(ms), left)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAppendNumbered: a background writer's batches, stored numbered
// (AppendNumbered), share a topic with a business writer's events, stored
// unnumbered (Append) and numbered by two numberers: every event is
// numbered once, 1..N without a gap, each writer's in its order; the
// batches' events of a topic of their own are 1..n in the order given; each
// is announced once its transaction commits, with its body, and not before.
func TestAppendNumbered(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feeds := twoReplicas(ctx, db)
	l := pq.NewListener(url, 10*time.Millisecond, time.Second, nil)
	defer l.Close()
	if err := l.Listen("examd_feed"); err != nil {
		t.Fatal(err)
	}

	// One batch held open: nothing is announced before its commit.
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := feeds[1].AppendNumbered(ctx, tx, []string{"candidate:7", "venue:9"},
		[]any{event{N: 2000}, event{N: 1000}}); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-l.Notify:
		t.Fatalf("announced before the commit: %+v", n)
	case <-time.After(100 * time.Millisecond):
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"candidate:7 1\n" + `{"n": 2000, "seq": 1}`, "venue:9 1\n" + `{"n": 1000, "seq": 1}`} {
		select {
		case n := <-l.Notify:
			if n == nil || n.Extra != want {
				t.Fatalf("notification %+v, want %q", n, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification %q", want)
		}
	}

	const each = 150
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range each {
			if err := appendOne(db, feeds[0], "venue:9", event{N: i}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for i := 1; i < each; i += 3 {
			tx, err := db.BeginTxx(ctx, nil)
			if err != nil {
				t.Error(err)
				return
			}
			topics := []string{"venue:9", "candidate:7", "venue:9", "venue:9"}
			evs := []any{event{N: 1000 + i}, event{N: 2000 + i}, event{N: 1000 + i + 1}, event{N: 1000 + i + 2}}
			if err := feeds[1].AppendNumbered(ctx, tx, topics, evs); err != nil {
				tx.Rollback()
				t.Error(err)
				return
			}
			if err := tx.Commit(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	checkAllNumbered(t, ctx, feeds[0], db, "venue:9", 2*each+1)
	checkAllNumbered(t, ctx, feeds[0], db, "candidate:7", 1+(each+1)/3)

	// A batch of mismatched lengths is refused; one of none does nothing.
	if err := feeds[0].AppendNumbered(ctx, db, []string{"venue:9"}, nil); err == nil {
		t.Fatal("AppendNumbered of 1 topic and 0 events succeeded")
	}
	if err := feeds[0].AppendNumbered(ctx, db, nil, nil); err != nil {
		t.Fatal(err)
	}
}

// TestAppendNumberedAfterPending: an event committed by Append and not
// numbered yet (no numberer has run) is numbered before a later
// AppendNumbered's event on the same topic, by that call: seqs stay in
// commit order.
func TestAppendNumberedAfterPending(t *testing.T) {
	t.Parallel()
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	feed := realtime.NewFeed(db)
	for i, appendNumbered := range []bool{false, true} {
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if appendNumbered {
			err = feed.AppendNumbered(ctx, tx, []string{"candidate:3"}, []any{event{N: i}})
		} else {
			_, err = feed.Append(ctx, tx, "candidate:3", event{N: i})
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	ms, left := numbered(t, db, "candidate:3")
	if left != 0 {
		t.Fatalf("%d events left unnumbered", left)
	}
	checkGapFree(t, ms, 2)
	var first event
	if err := json.Unmarshal(ms[0].Data, &first); err != nil || first.N != 0 {
		t.Fatalf("seq 1 is %s (%v), want the event committed first", ms[0].Data, err)
	}
}
