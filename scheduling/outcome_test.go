package scheduling_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"examd/internal/refusal"
	"examd/scheduling"
)

// examReads is a venue with a C1 slot of subject 2 and one of subject 3 on
// day, and a way to write bookings straight into the database.
type examReads struct {
	db    *sqlx.DB
	staff int64
	venue int64
	slots map[int]int64 // by subject
}

func newExamReads(t *testing.T, db *sqlx.DB, staff int64, venue string, day time.Time) *examReads {
	t.Helper()
	f := &examReads{db: db, staff: staff, slots: map[int]int64{}}
	if err := db.Get(&f.venue, `INSERT INTO venues (name) VALUES ($1) RETURNING id`, venue); err != nil {
		t.Fatal(err)
	}
	start := scheduling.StartOfDay(day).Add(8 * time.Hour)
	for _, subject := range []int{2, 3} {
		var id int64
		if err := db.Get(&id, `
			INSERT INTO slots (venue_id, subject, licence_class, starts_at, ends_at, capacity, reserve_release_at, booking_opens_at, booking_closes_at)
			VALUES ($1, $2, 'C1', $3, $4, 50, $3, $3, $3) RETURNING id`,
			f.venue, subject, start, start.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		f.slots[subject] = id
	}
	return f
}

// book writes a booking of candidate on the slot of subject, for exam day
// day (which need not be the slot's, to place it before the permit).
func (f *examReads) book(t *testing.T, candidate int64, subject int, day time.Time, status string) int64 {
	t.Helper()
	var cancelledAt *time.Time
	if status == "cancelled" {
		now := time.Now()
		cancelledAt = &now
	}
	var id int64
	if err := f.db.Get(&id, `
		INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, status, lane, booked_by, cancelled_at)
		VALUES ($1, $2, $3, $4, $5, 'regular', $6, $7) RETURNING id`,
		candidate, f.slots[subject], subject, day, status, f.staff, cancelledAt); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestBookingForSheet: a booking comes with its venue and class, and its
// number n under BK-CAP counts the candidate's bookings of the subject up to
// it, leaving out cancellations, other subjects and bookings made under an
// earlier permit.
func TestBookingForSheet(t *testing.T) {
	s, db, staff := storeWithStaff(t)
	ctx := context.Background()
	today := scheduling.Day(time.Now())
	f := newExamReads(t, db, staff, "第一考场", today)
	cid := registered(t, s, staff, "11010519491231002X") // permit issued 30 days ago

	f.book(t, cid, 2, today.AddDate(0, 0, -60), "failed") // under an earlier permit
	f.book(t, cid, 2, today.AddDate(0, 0, -20), "cancelled")
	first := f.book(t, cid, 2, today.AddDate(0, 0, -10), "failed")
	f.book(t, cid, 3, today.AddDate(0, 0, -5), "failed")
	second := f.book(t, cid, 2, today, "confirmed")

	for _, c := range []struct {
		name    string
		booking int64
		subject int
		want    int
	}{{"First", first, 2, 1}, {"Second", second, 2, 2}} {
		t.Run(c.name, func(t *testing.T) {
			b, err := scheduling.BookingForSheet(ctx, db, c.booking)
			if err != nil {
				t.Fatal(err)
			}
			want := scheduling.SheetBooking{ID: c.booking, CandidateID: cid, VenueID: f.venue, Subject: c.subject, LicenceClass: "C1", Count: c.want}
			if b != want {
				t.Errorf("got %+v, want %+v", b, want)
			}
		})
	}
	t.Run("NotFound", func(t *testing.T) {
		if _, err := scheduling.BookingForSheet(ctx, db, second+100); !errors.Is(err, refusal.ErrNotFound) {
			t.Errorf("got %v, want refusal.ErrNotFound", err)
		}
	})
}

// TestHallBookings: a venue's day lists its bookings of every subject and
// status in id order, with the candidate's name; other venues and days stay
// off.
func TestHallBookings(t *testing.T) {
	s, db, staff := storeWithStaff(t)
	ctx := context.Background()
	today := scheduling.Day(time.Now())
	f := newExamReads(t, db, staff, "第一考场", today)
	other := newExamReads(t, db, staff, "第二考场", today)
	a := registered(t, s, staff, "11010519491231002X")
	b := registered(t, s, staff, "110101199001010015")

	want := []scheduling.HallBooking{
		{ID: f.book(t, a, 2, today, "passed"), Subject: 2, Name: "李四"},
		{ID: f.book(t, a, 3, today, "confirmed"), Subject: 3, Name: "李四"},
		{ID: f.book(t, b, 2, today, "cancelled"), Subject: 2, Name: "李四"},
	}
	f.book(t, b, 2, today.AddDate(0, 0, -1), "failed")
	other.book(t, b, 3, today, "confirmed")

	got, err := scheduling.HallBookings(ctx, db, f.venue, today)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("booking %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	t.Run("Empty", func(t *testing.T) {
		got, err := scheduling.HallBookings(ctx, db, f.venue, today.AddDate(0, 0, 1))
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("got %+v, %v; want an empty list", got, err)
		}
	})
}
