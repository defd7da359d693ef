package scheduling_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/refusal"
	"examd/internal/testkit"
	"examd/scheduling"
)

// allocFixture is a store with a venue, for SetAllocation's tests.
type allocFixture struct {
	s     *scheduling.Store
	db    *sqlx.DB
	staff int64
	venue int64
	now   time.Time
	n     atomic.Int64
}

func newAllocFixture(t *testing.T) *allocFixture {
	t.Helper()
	s, db, staff := storeWithStaff(t)
	v, err := s.CreateVenue(context.Background(), scheduling.Venue{Name: "一号考场"})
	if err != nil {
		t.Fatal(err)
	}
	return &allocFixture{s: s, db: db, staff: staff, venue: v.ID, now: time.Now()}
}

// slot publishes a subject 2 slot d days ahead (each call an hour later,
// so that none overlaps another), with its window closing at closes (the
// default when zero).
func (f *allocFixture) slot(t *testing.T, allocation string, capacity, reserved int, closes time.Time) int64 {
	t.Helper()
	i := f.n.Add(1)
	start := scheduling.StartOfDay(scheduling.Day(f.now).AddDate(0, 0, 5)).Add(time.Duration(i) * time.Hour)
	n := scheduling.NewSlot{VenueID: f.venue, Subject: 2, LicenceClass: "C1", StartsAt: start, EndsAt: start.Add(time.Hour),
		Capacity: capacity, PriorityReserved: reserved, Allocation: allocation}
	if !closes.IsZero() {
		opens := closes.Add(-48 * time.Hour)
		n.BookingOpensAt, n.BookingClosesAt = &opens, &closes
	}
	sl, err := n.Slot(f.now)
	if err != nil {
		t.Fatal(err)
	}
	if sl, err = f.s.CreateSlot(context.Background(), sl, f.staff); err != nil {
		t.Fatal(err)
	}
	return sl.ID
}

// candidate registers a C1 candidate who may book subject 2.
func (f *allocFixture) candidate(t *testing.T) int64 {
	t.Helper()
	today := scheduling.Day(f.now)
	passed := today.AddDate(0, 0, -61)
	n := scheduling.NewCandidate{
		IDNumber: testkit.IDNumber(int(7000 + f.n.Add(1))), Name: "王五", Phone: "13800138000", LicenceClass: "C1",
		PermitIssuedOn: today.AddDate(0, 0, -60), PermitExpiresOn: today.AddDate(2, 0, 0), Subject1PassedOn: &passed,
		Password: "candidate-pw",
	}
	if err := n.Validate(today); err != nil {
		t.Fatal(err)
	}
	id, err := f.s.CreateCandidate(context.Background(), n, "x", f.staff)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// state is the slot's allocation and booked seats as stored, and the
// number of its audited allocation changes.
func (f *allocFixture) state(t *testing.T, id int64) (string, int, int) {
	t.Helper()
	var st struct {
		Allocation string `db:"allocation"`
		Booked     int    `db:"booked"`
		Audited    int    `db:"audited"`
	}
	err := f.db.Get(&st, `SELECT allocation, booked,
		(SELECT count(*) FROM audit_log WHERE action = 'slot.allocation_changed' AND subject = 'slot:' || $1::bigint) AS audited
		FROM slots WHERE id = $1::bigint`, id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Allocation, st.Booked, st.Audited
}

func TestSetAllocation(t *testing.T) {
	f := newAllocFixture(t)
	ctx := context.Background()
	want := func(t *testing.T, id int64, allocation string, booked, audited int) {
		t.Helper()
		if a, b, n := f.state(t, id); a != allocation || b != booked || n != audited {
			t.Errorf("slot %d: %s, %d booked, %d audited; want %s, %d, %d", id, a, b, n, allocation, booked, audited)
		}
	}

	t.Run("NoBookingsSwitched", func(t *testing.T) {
		id := f.slot(t, "", 5, 0, time.Time{})
		sl, err := f.s.SetAllocation(ctx, id, scheduling.AllocationRanked, f.staff, f.now)
		if err != nil || !sl.Ranked() || sl.ID != id {
			t.Fatalf("to ranked: %+v, %v", sl, err)
		}
		if got, err := f.s.Slot(ctx, id); err != nil || !got.Ranked() {
			t.Errorf("read after: %+v, %v", got, err)
		}
		want(t, id, "ranked", 0, 1)
		var before, after string
		if err := f.db.QueryRow(`SELECT before::text, after::text FROM audit_log
			WHERE action = 'slot.allocation_changed' AND subject = $1`, "slot:"+itoa(id)).Scan(&before, &after); err != nil {
			t.Fatal(err)
		}
		if before != `{"allocation": "instant"}` || after != `{"allocation": "ranked"}` {
			t.Errorf("audited %s → %s", before, after)
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationInstant, f.staff, f.now); err != nil {
			t.Fatalf("back to instant: %v", err)
		}
		want(t, id, "instant", 0, 2)
	})

	t.Run("SameAllocationChangesNothing", func(t *testing.T) {
		id := f.slot(t, "ranked", 5, 0, time.Time{})
		if sl, err := f.s.SetAllocation(ctx, id, scheduling.AllocationRanked, f.staff, f.now); err != nil || !sl.Ranked() {
			t.Fatalf("ranked again: %+v, %v", sl, err)
		}
		want(t, id, "ranked", 0, 0)
	})

	t.Run("OneBookingRefused", func(t *testing.T) {
		id := f.slot(t, "", 5, 0, time.Time{})
		c := f.candidate(t)
		bk, err := f.s.Book(ctx, scheduling.BookRequest{CandidateID: c, SlotIDs: []int64{id}, By: f.staff}, f.now)
		bs := bk.Bookings
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationRanked, f.staff, f.now); !errors.Is(err, scheduling.ErrSlotInUse) {
			t.Fatalf("got %v, want slot_in_use", err)
		}
		want(t, id, "instant", 1, 0)
		// A cancelled booking holds nothing: the switch goes through.
		if _, err := f.s.Cancel(ctx, scheduling.CancelRequest{BookingID: bs[0].ID, By: f.staff, Reason: "考生改期"}, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationRanked, f.staff, f.now); err != nil {
			t.Fatalf("after the cancellation: %v", err)
		}
		want(t, id, "ranked", 0, 1)
	})

	t.Run("ApplicationRefused", func(t *testing.T) {
		id := f.slot(t, "ranked", 5, 0, time.Time{})
		c := f.candidate(t)
		app, err := f.s.Apply(ctx, scheduling.ApplyRequest{CandidateID: c, Preferences: [][]int64{{id}}, By: f.staff}, f.now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationInstant, f.staff, f.now); !errors.Is(err, scheduling.ErrSlotInUse) {
			t.Fatalf("got %v, want slot_in_use", err)
		}
		want(t, id, "ranked", 0, 0)
		if _, err := f.s.Withdraw(ctx, app.ID, 0, f.staff, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationInstant, f.staff, f.now); err != nil {
			t.Fatalf("after the withdrawal: %v", err)
		}
	})

	t.Run("WaitlistRefused", func(t *testing.T) {
		// No seat booked, but every seat held for the lane: a regular
		// candidate waits for one.
		id := f.slot(t, "", 1, 1, time.Time{})
		c := f.candidate(t)
		if _, err := f.s.JoinWaitlist(ctx, c, id, f.staff, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationRanked, f.staff, f.now); !errors.Is(err, scheduling.ErrSlotInUse) {
			t.Fatalf("got %v, want slot_in_use", err)
		}
		want(t, id, "instant", 0, 0)
	})

	t.Run("WindowClosedRefused", func(t *testing.T) {
		closes := f.now.Add(time.Hour).Truncate(time.Microsecond)
		id := f.slot(t, "", 5, 0, closes)
		for _, at := range []time.Time{closes, closes.Add(time.Minute)} {
			if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationRanked, f.staff, at); !errors.Is(err, scheduling.ErrBookingClosed) {
				t.Errorf("at %s: got %v, want booking_closed", at, err)
			}
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationRanked, f.staff, closes.Add(-time.Microsecond)); err != nil {
			t.Errorf("just before the close: %v", err)
		}
	})

	t.Run("AllocatedRefused", func(t *testing.T) {
		id := f.slot(t, "ranked", 5, 0, time.Time{})
		if _, err := f.s.AllocateSlot(ctx, id, f.staff, f.now); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SetAllocation(ctx, id, scheduling.AllocationInstant, f.staff, f.now); !errors.Is(err, scheduling.ErrAlreadyAllocated) {
			t.Fatalf("got %v, want already_allocated", err)
		}
		want(t, id, "ranked", 0, 0)
	})

	t.Run("NotFoundAndInvalid", func(t *testing.T) {
		if _, err := f.s.SetAllocation(ctx, 1<<40, scheduling.AllocationRanked, f.staff, f.now); !errors.Is(err, refusal.ErrNotFound) {
			t.Errorf("unknown slot: %v", err)
		}
		id := f.slot(t, "", 5, 0, time.Time{})
		if _, err := f.s.SetAllocation(ctx, id, "lottery", f.staff, f.now); !errors.Is(err, refusal.Invalid("allocation", "")) {
			t.Errorf("lottery: %v", err)
		}
	})
}

// TestSetAllocationRaces runs a switch against a booking (instant → ranked)
// and against an application (ranked → instant) on fresh slots, many times,
// both at once: whichever wins, no ranked slot ends with a booking and no
// instant slot with a live application.
func TestSetAllocationRaces(t *testing.T) {
	f := newAllocFixture(t)
	ctx := context.Background()
	const rounds = 40
	var mu sync.Mutex
	outcomes := map[string]int{}
	count := func(what string, err error) {
		mu.Lock()
		defer mu.Unlock()
		code := "ok"
		if r, ok := refusal.As(err); ok {
			code = r.Code
		} else if err != nil {
			t.Errorf("%s: %v", what, err)
		}
		outcomes[what+" "+code]++
	}
	var wg sync.WaitGroup
	for range rounds {
		toRanked, toInstant := f.slot(t, "", 5, 0, time.Time{}), f.slot(t, "ranked", 5, 0, time.Time{})
		booker, applicant := f.candidate(t), f.candidate(t)
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			_, err := f.s.Book(ctx, scheduling.BookRequest{CandidateID: booker, SlotIDs: []int64{toRanked}, By: f.staff}, f.now)
			count("book", err)
		})
		wg.Go(func() {
			<-start
			_, err := f.s.SetAllocation(ctx, toRanked, scheduling.AllocationRanked, f.staff, f.now)
			count("to_ranked", err)
		})
		wg.Go(func() {
			<-start
			_, err := f.s.Apply(ctx, scheduling.ApplyRequest{CandidateID: applicant, Preferences: [][]int64{{toInstant}}, By: f.staff}, f.now)
			count("apply", err)
		})
		wg.Go(func() {
			<-start
			_, err := f.s.SetAllocation(ctx, toInstant, scheduling.AllocationInstant, f.staff, f.now)
			count("to_instant", err)
		})
		close(start)
	}
	wg.Wait()
	t.Logf("outcomes: %v", outcomes)

	var bad []string
	err := f.db.Select(&bad, `
		SELECT 'ranked slot ' || s.id || ' with ' || s.booked || ' seats booked' FROM slots s
		WHERE s.allocation = 'ranked'
		  AND (s.booked > 0 OR EXISTS (SELECT FROM bookings b WHERE b.slot_id = s.id AND b.status <> 'cancelled'))
		UNION ALL
		SELECT 'instant slot ' || s.id || ' with a live application' FROM slots s
		WHERE s.allocation = 'instant'
		  AND EXISTS (SELECT FROM application_options o JOIN applications a ON a.id = o.application_id
		              WHERE o.slot_id = s.id AND a.status = 'applied')`)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("invariant broken: %v", bad)
	}
	// Each pair ends one way or the other: a booking made and the switch
	// refused, or the switch made and the booking refused.
	if outcomes["book ok"]+outcomes["to_ranked ok"] != rounds || outcomes["apply ok"]+outcomes["to_instant ok"] != rounds {
		t.Errorf("outcomes %v: each round should have exactly one winner per pair", outcomes)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
