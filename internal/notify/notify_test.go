package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/notify"
	"examd/internal/pg/pgtest"
	"examd/realtime"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// candidate inserts a candidate numbered n and returns its id.
func candidate(t *testing.T, db *sqlx.DB, n int) int64 {
	t.Helper()
	var id int64
	if err := db.Get(&id, `INSERT INTO users (username, password_hash, role) VALUES ($1, 'x', 'candidate') RETURNING id`, fmt.Sprintf("c%d", n)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO candidates (id, id_number, name, phone, licence_class, permit_issued_on, permit_expires_on)
		VALUES ($1, $2, '张三', '13800138000', 'C1', '2020-01-01', '2099-01-01')`, id, fmt.Sprintf("11010119900101%04d", n)); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestAdd: notes added in a transaction exist, and go out on each
// candidate's feed in the order they were added, only when it commits;
// by Add (one INSERT) and by AddMany (COPY) alike.
func TestAdd(t *testing.T) {
	t.Run("Add", func(t *testing.T) { testAdd(t, false) })
	t.Run("AddMany", func(t *testing.T) { testAdd(t, true) })
}

func testAdd(t *testing.T, many bool) {
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	feed := realtime.NewFeed(db)
	notes := notify.New(feed)
	a, b := candidate(t, db, 1), candidate(t, db, 2)

	add := func(commit bool, ns ...notify.Note) error {
		t.Helper()
		tx, err := db.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var stored error
		if many {
			stored = notes.AddMany(ctx, tx, ns)
		} else {
			stored = notes.Add(ctx, tx, ns...)
		}
		if stored != nil {
			return stored
		}
		if commit {
			return tx.Commit()
		}
		return nil
	}
	note := func(c int64, n int) notify.Note {
		return notify.Note{CandidateID: c, Kind: notify.KindBookingConfirmed,
			ZH: fmt.Sprintf("预约成功 %d", n), EN: fmt.Sprintf("Booked %d", n), Link: "/candidate"}
	}
	if err := add(false, note(a, 0)); err != nil {
		t.Fatal(err)
	}
	if err := add(true, note(a, 1), note(b, 2), note(a, 3)); err != nil {
		t.Fatal(err)
	}
	if err := add(true, note(b, 4)); err != nil {
		t.Fatal(err)
	}
	if err := add(true, notify.Note{CandidateID: a, Kind: notify.KindBookingConfirmed}); err == nil {
		t.Error("a note without text was added")
	}
	// Nothing is live before the feeder has run.
	if ms, err := feed.Since(ctx, notify.Topic(a), 0, 10); err != nil || len(ms) != 0 {
		t.Fatalf("before the feeder: %d events on the feed, %v", len(ms), err)
	}
	if n, err := notes.FeedLive(ctx, db); err != nil || n != 4 {
		t.Fatalf("feeder: %d fed, %v; want 4", n, err)
	}
	if n, err := notes.FeedLive(ctx, db); err != nil || n != 0 {
		t.Fatalf("feeder again: %d fed, %v; want 0", n, err)
	}
	if err := feed.Number(ctx); err != nil {
		t.Fatal(err)
	}

	var stored int
	if err := db.Get(&stored, `SELECT count(*) FROM notifications`); err != nil {
		t.Fatal(err)
	}
	if stored != 4 {
		t.Errorf("stored notifications: got %d, want 4 (the rolled-back one gone)", stored)
	}
	for _, tc := range []struct {
		cand int64
		want []string
	}{{a, []string{"预约成功 1", "预约成功 3"}}, {b, []string{"预约成功 2", "预约成功 4"}}} {
		ms, err := feed.Since(ctx, notify.Topic(tc.cand), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i, m := range ms {
			var ev struct {
				notify.Event
				Seq int64 `json:"seq"`
			}
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Fatal(err)
			}
			if ev.Seq != int64(i+1) || ev.Type != "notification" || ev.ID == 0 || ev.Link != "/candidate" {
				t.Errorf("candidate %d event %d: %s", tc.cand, i, m.Data)
			}
			var text string
			if err := db.Get(&text, `SELECT text_zh FROM notifications WHERE id = $1 AND candidate_id = $2`, ev.ID, tc.cand); err != nil {
				t.Fatalf("event %s: its notification: %v", m.Data, err)
			}
			if text != ev.ZH {
				t.Errorf("event %s: stored text %q", m.Data, text)
			}
			got = append(got, ev.ZH)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("candidate %d's feed: got %q, want %q", tc.cand, got, tc.want)
		}
	}
}

// TestFeederWaitsWithoutTheNumberersLock: while another transaction holds a
// lock on an unfed note (the SMS sender posting it), the feeder waits for
// it without holding the feed numberer's lock: every replica's numbering
// goes on meanwhile; once the lock is released the note goes live.
func TestFeederWaitsWithoutTheNumberersLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	feed := realtime.NewFeed(db)
	notes := notify.New(feed)
	c := candidate(t, db, 1)
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := notes.Add(ctx, tx, notify.Note{CandidateID: c, Kind: notify.KindBookingConfirmed, ZH: "预约成功", EN: "Booked"}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	sender, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Rollback()
	if _, err := sender.Exec(`SELECT id FROM notifications WHERE candidate_id = $1 FOR UPDATE`, c); err != nil {
		t.Fatal(err)
	}
	fed := make(chan error, 1)
	go func() {
		n, err := notes.FeedLive(ctx, db)
		if err == nil && n != 1 {
			err = fmt.Errorf("fed %d notes, want 1", n)
		}
		fed <- err
	}()
	// The feeder is waiting for the row (its round's transaction exists).
	deadline := time.Now().Add(5 * time.Second)
	for {
		var waiting int
		if err := db.Get(&waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%fed_at = now()%'`); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the feeder never waited for the locked note")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var got bool
	if err := db.Get(&got, `SELECT got FROM feed_number_batch(1, false)`); err != nil || !got {
		t.Fatalf("a numbering batch while the feeder waits: got the lock %v (%v), want true", got, err)
	}
	sender.Rollback()
	if err := <-fed; err != nil {
		t.Fatal(err)
	}
	if ms, err := feed.Since(ctx, notify.Topic(c), 0, 10); err != nil || len(ms) != 1 {
		t.Fatalf("the note's feed: %d events (%v), want 1", len(ms), err)
	}
}
