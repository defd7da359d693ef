package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/pg/pgtest"
)

// commit appends one event per n in ns to topic, all in one transaction.
func commit(t *testing.T, db *sqlx.DB, feed *Feed, topic string, ns ...int) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, n := range ns {
		if _, err := feed.Append(ctx, tx, topic, map[string]any{"n": n}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := feed.Number(ctx); err != nil {
		t.Fatal(err)
	}
}

// runHub runs a hub on db until the test ends, and returns it once it
// listens.
func runHub(t *testing.T, db *sqlx.DB, url string) *Hub {
	t.Helper()
	h := NewHub(NewFeed(db), url, nil)
	ran := make(chan error, 1)
	go func() { ran <- h.Run(context.Background()) }()
	select {
	case <-h.listening:
	case err := <-ran:
		t.Fatalf("Run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the hub does not listen")
	}
	t.Cleanup(func() {
		h.Close()
		if err := <-ran; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

// fakeClient is a client without a connection: the test reads what the hub
// queues for it. leave must be called before the hub closes.
func fakeClient(topic string) *client {
	return &client{topic: topic, since: -1, send: newSendQueue()}
}

// receive reads batches queued for c until it has n events, and returns the
// events' seqs and the number of batches.
func receive(t *testing.T, c *client, n int) (seqs []int64, batches int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for len(seqs) < n {
		select {
		case <-c.send.wake:
			bs, _ := c.send.take(nil)
			for _, b := range bs {
				if b == pingBatch {
					continue
				}
				batches++
				for _, m := range b.msgs {
					var body struct{ Seq int64 }
					if err := json.Unmarshal(m.Data, &body); err != nil || body.Seq != m.Seq {
						t.Fatalf("event %d: %s (%v)", m.Seq, m.Data, err)
					}
					seqs = append(seqs, m.Seq)
				}
			}
		case <-timeout:
			t.Fatalf("received %v, want %d events", seqs, n)
		}
	}
	return seqs, batches
}

func seqsFrom(first, last int64) []int64 {
	var s []int64
	for i := first; i <= last; i++ {
		s = append(s, i)
	}
	return s
}

// TestIdleTopicDeliveredFromNotification: an event of a quiet topic is
// handed to its clients straight from its notification, which carries it:
// the hub does not read it back from the table, and nothing holds it back
// (the hub has no timer of its own to wait for).
func TestIdleTopicDeliveredFromNotification(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	h := runHub(t, db, url)
	c := fakeClient("idle")
	reply := make(chan registered, 1)
	h.register <- registration{c, reply}
	if r := <-reply; r.err != nil || r.seq != 0 {
		t.Fatalf("registered at %d: %v", r.seq, r.err)
	}
	defer h.leave(c)
	for i := int64(1); i <= 3; i++ {
		commit(t, db, h.feed, "idle", int(i))
		seqs, batches := receive(t, c, 1)
		if !slices.Equal(seqs, []int64{i}) || batches != 1 {
			t.Fatalf("event %d: got %v in %d batches", i, seqs, batches)
		}
	}
	if n := h.reads.Load(); n != 0 {
		t.Errorf("the hub read the table %d times, want 0: the notifications carry the events", n)
	}
}

// TestBurstBatched: the events that queue while the hub is busy go to the
// clients in fewer batches than events (each batch leaves in one write per
// screen, client.stream), in order, each once.
func TestBurstBatched(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	h := runHub(t, db, url)
	// A first client puts the topic's position in the hub's memory, so
	// that c's registration reads no table: the hub has its answer before
	// the events below commit, and waits for the test to take it.
	first := fakeClient("burst")
	firstReply := make(chan registered, 1)
	h.register <- registration{first, firstReply}
	if r := <-firstReply; r.err != nil || r.seq != 0 {
		t.Fatalf("first registered at %d: %v", r.seq, r.err)
	}
	defer h.leave(first)
	c := fakeClient("burst")
	reply := make(chan registered) // unbuffered: the hub waits for the test
	h.register <- registration{c, reply}
	const n = 20
	ns := make([]int, n)
	for i := range ns {
		ns[i] = i
	}
	commit(t, db, h.feed, "burst", ns...) // 20 notifications queue while the hub is busy
	time.Sleep(200 * time.Millisecond)    // for them to reach the listener: not a bound on anything
	if r := <-reply; r.err != nil || r.seq != 0 {
		t.Fatalf("registered at %d: %v", r.seq, r.err)
	}
	defer h.leave(c)
	seqs, batches := receive(t, c, n)
	if !slices.Equal(seqs, seqsFrom(1, n)) {
		t.Fatalf("seqs %v, want 1..%d", seqs, n)
	}
	if batches >= n {
		t.Errorf("%d events in %d batches, want fewer batches", n, batches)
	}
	if r := h.reads.Load(); r != 0 {
		t.Errorf("the hub read the table %d times, want 0", r)
	}
}

// TestNotificationGapReadsTheTable: a notification that skips seqs (one
// lost) makes the hub hand out what it has, then read the rest from the
// table; a late copy of a skipped notification and one without its event
// (too big) change nothing and read the table, respectively. Every event
// reaches the client once, in order.
func TestNotificationGapReadsTheTable(t *testing.T) {
	t.Parallel()
	db, url := pgtest.NewDB(t)
	ctx := context.Background()
	h := NewHub(NewFeed(db), url, nil) // not running: the test plays Run's goroutine
	h.retry = time.NewTimer(time.Hour)
	h.retry.Stop()
	c := fakeClient("gap")
	h.topics["gap"] = &topic{name: "gap", clients: map[*client]struct{}{c: {}}}
	var ms []Message
	stored := func(ns ...int) {
		commit(t, db, h.feed, "gap", ns...)
		var err error
		if ms, err = h.feed.Since(ctx, "gap", 0, 10); err != nil {
			t.Fatal(err)
		}
	}
	payload := func(i int) string { return "gap " + strconv.FormatInt(ms[i].Seq, 10) + "\n" + string(ms[i].Data) }
	stored(1, 2, 3)

	h.notified(ctx, payload(0))
	h.notified(ctx, payload(2)) // 2 was lost
	h.notified(ctx, payload(1)) // late: already read
	h.flushPending()
	stored(4, 5)
	h.notified(ctx, "gap 4") // too big to carry its event
	h.notified(ctx, payload(4))
	h.flushPending()
	seqs, batches := receive(t, c, 5)
	if !slices.Equal(seqs, seqsFrom(1, 5)) {
		t.Fatalf("seqs %v, want 1..5 once each", seqs)
	}
	if batches != 3 || h.reads.Load() != 2 {
		t.Errorf("%d batches and %d reads, want 3 ([1] [2 3] [4 5]) and 2", batches, h.reads.Load())
	}
	if bs, _ := c.send.take(nil); len(bs) > 0 {
		t.Fatalf("another batch: %v", bs[0].msgs)
	}
}
