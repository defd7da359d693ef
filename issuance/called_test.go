package issuance_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"examd/internal/notify"
	"examd/internal/pg/pgtest"
	"examd/issuance"
	"examd/realtime"
	"examd/scheduling"
)

// TestCalled: the board's calls are the day's, the latest first, a ticket
// called again once at its latest call, at most the limit; tickets not yet
// called and other days' calls stay off.
func TestCalled(t *testing.T) {
	db, _ := pgtest.NewDB(t)
	ctx := context.Background()
	store := issuance.NewStore(db, realtime.NewFeed(db), notify.New(realtime.NewFeed(db)))
	now := time.Now()
	today := scheduling.Day(now)

	var staff int64
	if err := db.Get(&staff, `INSERT INTO users (username, password_hash, role, desk) VALUES ('desk', 'x', 'issuer', '2号窗口') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	ready := func(n int, day time.Time, ticket string) int64 {
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
		if _, err := db.Exec(`INSERT INTO issuances (candidate_id, day, ticket, priority_lane, ready_at) VALUES ($1, $2, $3, false, $4)`,
			id, day, ticket, now); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a1, a2, a3 := ready(1, today, "A001"), ready(2, today, "A002"), ready(3, today, "P001")
	ready(4, today, "A003") // never called
	yesterday := ready(5, today.AddDate(0, 0, -1), "A001")
	call := func(c int64, desk string, at time.Time) {
		t.Helper()
		if _, err := store.Call(ctx, c, issuance.Staff{UserID: staff, Desk: desk}, at); err != nil {
			t.Fatal(err)
		}
	}
	call(yesterday, "1号窗口", now.Add(-24*time.Hour))
	call(a1, "2号窗口", now.Add(-4*time.Minute))
	call(a2, "", now.Add(-3*time.Minute))
	call(a3, "1号窗口", now.Add(-2*time.Minute))
	call(a1, "3号窗口", now.Add(-time.Minute)) // called again, at another desk

	got, err := store.Called(ctx, today, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []issuance.Called{{Ticket: "A001", Desk: "3号窗口"}, {Ticket: "P001", Desk: "1号窗口"}, {Ticket: "A002", Desk: ""}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Ticket != want[i].Ticket || got[i].Desk != want[i].Desk {
			t.Errorf("call %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	// PostgreSQL keeps microseconds, rounded.
	if d := got[0].CalledAt.Sub(now.Add(-time.Minute)); d.Abs() > time.Microsecond {
		t.Errorf("A001 called at %s, want its latest call", got[0].CalledAt)
	}
	if got, err := store.Called(ctx, today, 2); err != nil || len(got) != 2 || got[1].Ticket != "P001" {
		t.Errorf("limit 2: %+v %v", got, err)
	}

	for _, c := range got {
		if c.Served {
			t.Errorf("%s is served before any step", c.Ticket)
		}
	}

	// A step after the call serves it; a later call is new again.
	if _, err := db.Exec(`UPDATE issuances SET step = 'accepted', accepted_at = $2, accepted_by = $3 WHERE candidate_id = $1`,
		a3, now.Add(-30*time.Second), staff); err != nil {
		t.Fatal(err)
	}
	served := func() map[string]bool {
		t.Helper()
		got, err := store.Called(ctx, today, 10)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, c := range got {
			m[c.Ticket] = c.Served
		}
		return m
	}
	if got := served(); !got["P001"] || got["A001"] || got["A002"] {
		t.Errorf("after P001's step: served %v, want P001 only", got)
	}
	call(a3, "1号窗口", now)
	if got := served(); got["P001"] {
		t.Errorf("P001 called again after its step: served %v", got)
	}
}
