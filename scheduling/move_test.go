package scheduling_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/refusal"
	"examd/scheduling"
)

// moveFixture is a store with a venue and a C1 candidate who may book
// subjects 2 and 3, and a way to publish slots days ahead.
type moveFixture struct {
	s     *scheduling.Store
	db    *sqlx.DB
	staff int64
	venue int64
	cid   int64
	now   time.Time
}

func newMoveFixture(t *testing.T) moveFixture {
	t.Helper()
	s, db, staff := storeWithStaff(t)
	ctx := context.Background()
	v, err := s.CreateVenue(ctx, scheduling.Venue{Name: "第一考场"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	today := scheduling.Day(now)
	passed := today.AddDate(0, 0, -70)
	n := scheduling.NewCandidate{
		IDNumber: "11010519491231002X", Name: "李四", Phone: "13800138000", LicenceClass: "C1",
		PermitIssuedOn: today.AddDate(0, 0, -60), PermitExpiresOn: today.AddDate(2, 0, 0),
		Subject1PassedOn: &passed, Password: "candidate-pw",
	}
	if err := n.Validate(today); err != nil {
		t.Fatal(err)
	}
	cid, err := s.CreateCandidate(ctx, n, "x", staff)
	if err != nil {
		t.Fatal(err)
	}
	return moveFixture{s: s, db: db, staff: staff, venue: v.ID, cid: cid, now: now}
}

// slot publishes a slot of subject, days ahead from hour to hour+1, of capacity seats.
func (f moveFixture) slot(t *testing.T, subject, days, hour, capacity int) int64 {
	t.Helper()
	day := scheduling.StartOfDay(scheduling.Day(f.now).AddDate(0, 0, days))
	n := scheduling.NewSlot{VenueID: f.venue, Subject: subject, LicenceClass: "C1",
		StartsAt: day.Add(time.Duration(hour) * time.Hour), EndsAt: day.Add(time.Duration(hour+1) * time.Hour), Capacity: capacity}
	sl, err := n.Slot(f.now)
	if err != nil {
		t.Fatal(err)
	}
	if sl, err = f.s.CreateSlot(context.Background(), sl, f.staff); err != nil {
		t.Fatal(err)
	}
	return sl.ID
}

// book books the candidate into slots and returns the bookings.
func (f moveFixture) book(t *testing.T, slots ...int64) []scheduling.Booking {
	t.Helper()
	bk, err := f.s.Book(context.Background(), scheduling.BookRequest{CandidateID: f.cid, SlotIDs: slots, By: f.staff}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	return bk.Bookings
}

// state is the status of each of the bookings and the booked count of each of the slots.
func (f moveFixture) state(t *testing.T, bookings []int64, slots []int64) string {
	t.Helper()
	out := ""
	for _, id := range bookings {
		var st string
		if err := f.db.Get(&st, `SELECT status FROM bookings WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("b%d=%s ", id, st)
	}
	for _, id := range slots {
		var n int
		if err := f.db.Get(&n, `SELECT booked FROM slots WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("s%d=%d ", id, n)
	}
	return out
}

// TestMoveBooking: a move cancels the booking and books the new slot in one
// transaction; when the new slot is full, or refused by a rule, the old
// booking stays confirmed with its seat; a combined booking moves as a pair
// to a new pair, and one slot for a pair (or a slot of another subject) is
// refused move_mismatch with nothing changed.
func TestMoveBooking(t *testing.T) {
	ctx := context.Background()
	move := func(f moveFixture, booking int64, slots ...int64) ([]scheduling.Booking, []scheduling.Booking, error) {
		return scheduling.Booker{Store: f.s}.Move(ctx, scheduling.MoveRequest{BookingID: booking, SlotIDs: slots, By: f.staff, Reason: "考生来电改期"}, f.now)
	}

	t.Run("OK", func(t *testing.T) {
		f := newMoveFixture(t)
		from, to := f.slot(t, 2, 3, 9, 5), f.slot(t, 2, 5, 9, 5)
		old := f.book(t, from)[0]
		cancelled, booked, err := move(f, old.ID, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(cancelled) != 1 || cancelled[0].ID != old.ID || cancelled[0].Status != scheduling.StatusCancelled {
			t.Errorf("cancelled %+v, want booking %d cancelled", cancelled, old.ID)
		}
		if len(booked) != 1 || booked[0].SlotID != to || booked[0].Status != scheduling.StatusConfirmed {
			t.Fatalf("booked %+v, want one in slot %d", booked, to)
		}
		want := fmt.Sprintf("b%d=cancelled b%d=confirmed s%d=0 s%d=1 ", old.ID, booked[0].ID, from, to)
		if got := f.state(t, []int64{old.ID, booked[0].ID}, []int64{from, to}); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		var reason string
		if err := f.db.Get(&reason, `SELECT cancel_reason FROM bookings WHERE id = $1`, old.ID); err != nil || reason != "考生来电改期" {
			t.Errorf("reason %q, %v", reason, err)
		}
	})

	t.Run("NewSlotFull", func(t *testing.T) {
		f := newMoveFixture(t)
		from, full := f.slot(t, 2, 3, 9, 5), f.slot(t, 2, 5, 9, 1)
		if _, err := f.db.Exec(`UPDATE slots SET booked = capacity WHERE id = $1`, full); err != nil {
			t.Fatal(err)
		}
		old := f.book(t, from)[0]
		_, _, err := move(f, old.ID, full)
		if !errors.Is(err, scheduling.ErrSlotFull) {
			t.Fatalf("got %v, want slot_full", err)
		}
		want := fmt.Sprintf("b%d=confirmed s%d=1 s%d=1 ", old.ID, from, full)
		if got := f.state(t, []int64{old.ID}, []int64{from, full}); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		// A slot of another subject, or no slot at all: the booking stays.
		f := newMoveFixture(t)
		from, other := f.slot(t, 2, 3, 9, 5), f.slot(t, 3, 5, 9, 5)
		old := f.book(t, from)[0]
		if _, _, err := move(f, old.ID, other); !errors.Is(err, scheduling.ErrMoveMismatch) {
			t.Fatalf("subject 2 to a subject 3 slot: got %v, want move_mismatch", err)
		}
		if _, _, err := move(f, old.ID, 999999); !refusalOf(err, refusal.InvalidField) {
			t.Fatalf("unknown slot: got %v, want invalid_field", err)
		}
		want := fmt.Sprintf("b%d=confirmed s%d=1 s%d=0 ", old.ID, from, other)
		if got := f.state(t, []int64{old.ID}, []int64{from, other}); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})

	t.Run("Combined", func(t *testing.T) {
		f := newMoveFixture(t)
		s2, s3 := f.slot(t, 2, 3, 8, 5), f.slot(t, 3, 3, 14, 5)
		n2, n3 := f.slot(t, 2, 6, 8, 5), f.slot(t, 3, 6, 14, 5)
		pair := f.book(t, s2, s3)
		ids := []int64{pair[0].ID, pair[1].ID}
		unchanged := fmt.Sprintf("b%d=confirmed b%d=confirmed s%d=1 s%d=1 s%d=0 s%d=0 ", ids[0], ids[1], s2, s3, n2, n3)

		// One slot for a pair: refused, the pair intact.
		if _, _, err := move(f, pair[0].ID, n2); !errors.Is(err, scheduling.ErrMoveMismatch) {
			t.Fatalf("half a pair: got %v, want move_mismatch", err)
		}
		if got := f.state(t, ids, []int64{s2, s3, n2, n3}); got != unchanged {
			t.Errorf("after the refusal: got %s, want %s", got, unchanged)
		}
		// The new pair, named from either half: both halves move.
		cancelled, booked, err := move(f, pair[1].ID, n3, n2)
		if err != nil {
			t.Fatal(err)
		}
		if len(cancelled) != 2 || len(booked) != 2 || booked[0].PairID == nil || *booked[0].PairID != booked[1].ID {
			t.Fatalf("cancelled %+v, booked %+v: want the pair moved as a pair", cancelled, booked)
		}
		want := fmt.Sprintf("b%d=cancelled b%d=cancelled s%d=0 s%d=0 s%d=1 s%d=1 ", ids[0], ids[1], s2, s3, n2, n3)
		if got := f.state(t, ids, []int64{s2, s3, n2, n3}); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	})

	t.Run("NotConfirmed", func(t *testing.T) {
		f := newMoveFixture(t)
		from, to := f.slot(t, 2, 3, 9, 5), f.slot(t, 2, 5, 9, 5)
		old := f.book(t, from)[0]
		if _, err := f.s.Cancel(ctx, scheduling.CancelRequest{BookingID: old.ID, By: f.staff, Reason: "x"}, f.now); err != nil {
			t.Fatal(err)
		}
		if _, _, err := move(f, old.ID, to); !errors.Is(err, scheduling.ErrNotConfirmed) {
			t.Errorf("got %v, want not_confirmed", err)
		}
		if _, _, err := move(f, 999999, to); !errors.Is(err, refusal.ErrNotFound) {
			t.Errorf("got %v, want not found", err)
		}
		if got := f.state(t, nil, []int64{to}); got != fmt.Sprintf("s%d=0 ", to) {
			t.Errorf("got %s", got)
		}
	})

	t.Run("Validate", func(t *testing.T) {
		for _, r := range []scheduling.MoveRequest{
			{BookingID: 1, SlotIDs: []int64{2}},
			{BookingID: 1, SlotIDs: nil, Reason: "x"},
			{BookingID: 1, SlotIDs: []int64{1, 2, 3, 4}, Reason: "x"},
			{BookingID: 1, SlotIDs: []int64{0}, Reason: "x"},
		} {
			if err := r.Validate(); !refusalOf(err, refusal.InvalidField) {
				t.Errorf("%+v: got %v, want invalid_field", r, err)
			}
		}
	})
}

// refusalOf reports whether err is a refusal with code.
func refusalOf(err error, code string) bool {
	r, ok := refusal.As(err)
	return ok && r.Code == code
}
