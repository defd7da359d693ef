package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"examd/internal/pg/pgtest"
	"examd/realtime"
)

func TestAppend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A topic the numberer could not count (its counter's check) is refused
	// when the event is stored, not left to fail every numbering batch; a
	// new topic's counter comes with its first numbered event.
	t.Run("Topic", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		feed := realtime.NewFeed(db)
		for _, topic := range []string{"", strings.Repeat("v", 201)} {
			tx, err := db.Beginx()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := feed.Append(ctx, tx, topic, event{N: 1}); err == nil {
				t.Errorf("Append to topic %q (%d bytes) stored", topic[:min(len(topic), 8)], len(topic))
			}
			tx.Rollback()
		}
		var counters int
		appendEvents(t, db, feed, "venue:7", 1)
		if err := db.Get(&counters, `SELECT count(*) FROM feed_topics WHERE topic = 'venue:7' AND seq = 1`); err != nil || counters != 1 {
			t.Errorf("counter of the new topic: %d rows at seq 1 (%v), want 1", counters, err)
		}
		if err := feed.Number(ctx); err != nil {
			t.Fatalf("the numberer failed after refused appends: %v", err)
		}
	})

	t.Run("PerTopic", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		feed := realtime.NewFeed(db)
		appendEvents(t, db, feed, "venue:1", 3)
		appendEvents(t, db, feed, "issuance", 2)
		for topic, want := range map[string]int64{"venue:1": 3, "issuance": 2, "venue:2": 0} {
			if got, err := feed.Current(ctx, topic); err != nil || got != want {
				t.Errorf("Current(%q) = %d, %v; want %d", topic, got, err, want)
			}
		}
		ms, err := feed.Since(ctx, "venue:1", 1, 10)
		if err != nil {
			t.Fatalf("Since: %v", err)
		}
		if len(ms) != 2 || ms[0].Seq != 2 || ms[1].Seq != 3 {
			t.Fatalf("Since(venue:1, 1) = %v, want seqs 2, 3", ms)
		}
		var body struct {
			N   int   `json:"n"`
			Seq int64 `json:"seq"`
		}
		if err := json.Unmarshal(ms[0].Data, &body); err != nil || body.Seq != 2 || body.N != 1 {
			t.Fatalf("body %s (%v): want n 1 and seq 2", ms[0].Data, err)
		}
		if ms, err := feed.Since(ctx, "venue:1", 0, 2); err != nil || len(ms) != 2 || ms[1].Seq != 2 {
			t.Fatalf("Since(venue:1, 0, limit 2) = %v, %v; want seqs 1, 2", ms, err)
		}
	})

	t.Run("SeqBefore", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		feed := realtime.NewFeed(db)
		appendEvents(t, db, feed, "venue:1", 3)
		db.MustExec(`UPDATE feed_events SET created_at = now() - interval '1 day' WHERE seq <= 2`)
		appendEvents(t, db, feed, "venue:1", 1)
		for _, tc := range []struct {
			topic string
			at    time.Time
			want  int64
		}{
			{"venue:1", time.Now().Add(-time.Hour), 2},
			{"venue:1", time.Now().Add(-48 * time.Hour), 0},
			{"venue:1", time.Now().Add(time.Hour), 4},
			{"venue:2", time.Now(), 0},
		} {
			if got, err := feed.SeqBefore(ctx, tc.topic, tc.at); err != nil || got != tc.want {
				t.Errorf("SeqBefore(%s, %s) = %d, %v; want %d", tc.topic, tc.at, got, err, tc.want)
			}
		}
	})

	t.Run("ConcurrentGapFree", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		feed := realtime.NewFeed(db)
		const writers, each = 20, 25
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Go(func() {
				for i := 0; i < each; i++ {
					tx, err := db.BeginTxx(ctx, nil)
					if err != nil {
						t.Errorf("begin: %v", err)
						return
					}
					if _, err := feed.Append(ctx, tx, "venue:7", event{N: w*each + i}); err != nil {
						tx.Rollback()
						t.Errorf("Append: %v", err)
						return
					}
					if err := tx.Commit(); err != nil {
						t.Errorf("commit: %v", err)
						return
					}
					feed.Wake()
				}
			})
		}
		wg.Wait()
		if err := feed.Number(ctx); err != nil {
			t.Fatalf("Number: %v", err)
		}
		ms, err := feed.Since(ctx, "venue:7", 0, 1000)
		if err != nil {
			t.Fatalf("Since: %v", err)
		}
		if len(ms) != writers*each {
			t.Fatalf("%d events, want %d", len(ms), writers*each)
		}
		seen := map[int]bool{}
		for i, m := range ms {
			if m.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d, want %d", i, m.Seq, i+1)
			}
			var e event
			json.Unmarshal(m.Data, &e)
			seen[e.N] = true
		}
		if len(seen) != writers*each {
			t.Errorf("%d distinct events, want %d", len(seen), writers*each)
		}
	})

	t.Run("NumberedInCommitOrder", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		feed := realtime.NewFeed(db)
		// The topic's first event creates its counter, which a second
		// transaction would wait for.
		appendBatch(t, db, feed, "venue:5", event{N: 0}, 1)
		first, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		defer first.Rollback()
		for n := 1; n <= 2; n++ {
			if _, err := feed.Append(ctx, first, "venue:5", event{N: n}); err != nil {
				t.Fatalf("Append: %v", err)
			}
		}
		// Appended later, committed earlier: numbered first.
		appendBatch(t, db, feed, "venue:5", event{N: 3}, 1)
		if got, err := feed.Current(ctx, "venue:5"); err != nil || got != 2 {
			t.Fatalf("Current = %d, %v; want 2 while the first transaction is open", got, err)
		}
		if err := first.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		if err := feed.Number(ctx); err != nil {
			t.Fatalf("Number: %v", err)
		}
		ms, err := feed.Since(ctx, "venue:5", 0, 10)
		if err != nil {
			t.Fatalf("Since: %v", err)
		}
		var got []int
		for i, m := range ms {
			var e event
			if err := json.Unmarshal(m.Data, &e); err != nil || m.Seq != int64(i+1) {
				t.Fatalf("event %d: seq %d, body %s (%v)", i, m.Seq, m.Data, err)
			}
			got = append(got, e.N)
		}
		if fmt.Sprint(got) != "[0 3 1 2]" {
			t.Fatalf("events in seq order %v, want [0 3 1 2]", got)
		}
	})

	t.Run("RollbackLeavesNoGapNorNotification", func(t *testing.T) {
		t.Parallel()
		db, url := pgtest.NewDB(t)
		feed := realtime.NewFeed(db)
		l := pq.NewListener(url, 10*time.Millisecond, time.Second, nil)
		defer l.Close()
		if err := l.Listen("examd_feed"); err != nil {
			t.Fatalf("Listen: %v", err)
		}
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		if _, err := feed.Append(ctx, tx, "venue:3", event{N: 1}); err != nil {
			t.Fatalf("Append: %v", err)
		}
		tx.Rollback()
		if seq := appendBatch(t, db, feed, "venue:3", event{N: 2}, 1); seq != 1 {
			t.Fatalf("seq after a rollback = %d, want 1", seq)
		}
		select {
		case n := <-l.Notify:
			if n == nil || n.Channel != "examd_feed" || n.Extra != "venue:3 1\n"+`{"n": 2, "seq": 1}` {
				t.Fatalf("notification %+v, want venue:3 1 and the event on examd_feed", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no notification")
		}
		select {
		case n := <-l.Notify:
			t.Fatalf("second notification %+v: want one only", n)
		case <-time.After(100 * time.Millisecond):
		}
	})

	t.Run("Refused", func(t *testing.T) {
		t.Parallel()
		db, _ := pgtest.NewDB(t)
		feed := realtime.NewFeed(db)
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatalf("begin: %v", err)
		}
		defer tx.Rollback()
		tests := []struct {
			name  string
			topic string
			event any
		}{
			{"NotAnObject", "venue:1", []int{1}},
			{"Null", "venue:1", nil},
			{"EmptyTopic", "", event{}},
			{"NewlineInTopic", "venue:1\n2", event{}}, // would end a notification's header
		}
		for _, tt := range tests {
			if _, err := feed.Append(ctx, tx, tt.topic, tt.event); err == nil {
				t.Errorf("%s: Append succeeded, want an error", tt.name)
			}
		}
	})
}
