package exam_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"examd/exam"
	"examd/internal/pg/pgtest"
	"examd/internal/testkit"
	"examd/scheduling"
)

// slotAt inserts a C1 slot of subject at venue, from start to the end of its day.
func (f *hallFixture) slotAt(t *testing.T, subject int, start time.Time) (id int64) {
	t.Helper()
	end := scheduling.StartOfDay(scheduling.Day(start)).Add(24*time.Hour - time.Second)
	mustGet(t, f.db, &id, `
		INSERT INTO slots (venue_id, subject, licence_class, starts_at, ends_at, capacity, reserve_release_at, booking_opens_at, booking_closes_at)
		VALUES ($1, $2, 'C1', $3, $4, 50, $3, $3, $3) RETURNING id`, f.venue, subject, start, end)
	return id
}

// combined books a new candidate on the combined exam of slot2 (subject 2)
// and slot3 (subject 3), the halves pointing at each other.
func (f *hallFixture) combined(t *testing.T, slot2, slot3 int64) (b2, b3 int64) {
	t.Helper()
	b2 = f.book(t, slot2, "马超")
	mustGet(t, f.db, &b3, `
		INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by, pair_id)
		SELECT candidate_id, $2, 3, exam_day, 'regular', booked_by, id FROM bookings WHERE id = $1
		RETURNING id`, b2, slot3)
	mustExec(t, f.db, `UPDATE bookings SET pair_id = $2 WHERE id = $1`, b2, b3)
	mustExec(t, f.db, `UPDATE slots SET booked = booked + 1 WHERE id = ANY(ARRAY[$1, $2]::bigint[])`, slot2, slot3)
	return b2, b3
}

func (f *hallFixture) status(t *testing.T, booking int64) (s string) {
	t.Helper()
	mustGet(t, f.db, &s, `SELECT status FROM bookings WHERE id = $1`, booking)
	return s
}

// TestCloseReleasesWhicheverSlotFirst: with BK-COMBINED-FAIL set to release,
// the subject 3 half of a combined booking whose subject 2 half is a no-show
// is released (cancelled, its seat freed, not counted under BK-CAP), whether
// the subject 3 slot has the lower id or the higher, and whether the day's
// close or an examiner closes the slots, subject 3 first.
func TestCloseReleasesWhicheverSlotFirst(t *testing.T) {
	ctx := context.Background()
	day := scheduling.StartOfDay(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	for _, tt := range []struct {
		name        string
		subject3Low bool // the subject 3 slot is created first: lower id
		byHand      bool // CloseSlot on the day, subject 3 first; else CloseEndedDays the next day
	}{
		{name: "DayClose/Subject2SlotLowerID"},
		{name: "DayClose/Subject3SlotLowerID", subject3Low: true},
		{name: "ByHand/Subject2SlotLowerID", byHand: true},
		{name: "ByHand/Subject3SlotLowerID", subject3Low: true, byHand: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := pgtest.NewDB(t)
			f := newHallFixture(t, db, day)
			f.store.ReleasePairOnSubject2Fail = true
			var slot2, slot3 int64
			if tt.subject3Low {
				slot3 = f.slotAt(t, 3, day.Add(13*time.Hour))
				slot2 = f.slotAt(t, 2, day.Add(8*time.Hour))
			} else {
				slot2 = f.slotAt(t, 2, day.Add(8*time.Hour))
				slot3 = f.slotAt(t, 3, day.Add(13*time.Hour))
			}
			b2, b3 := f.combined(t, slot2, slot3)
			if tt.byHand {
				at := day.Add(18 * time.Hour)
				for _, slot := range []int64{slot3, slot2} {
					if _, err := f.store.CloseSlot(ctx, slot, f.venue, at); err != nil {
						t.Fatalf("close slot %d: %v", slot, err)
					}
				}
			} else if _, err := f.store.CloseEndedDays(ctx, day.Add(34*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got := f.status(t, b2); got != scheduling.StatusNoShow {
				t.Errorf("subject 2 half: got %s, want no_show", got)
			}
			if got := f.status(t, b3); got != scheduling.StatusCancelled {
				t.Errorf("subject 3 half: got %s, want cancelled (released)", got)
			}
			var booked int
			mustGet(t, db, &booked, `SELECT booked FROM slots WHERE id = $1`, slot3)
			if booked != 0 {
				t.Errorf("subject 3 slot: %d seats booked, want 0", booked)
			}
		})
	}
}

// TestCloseKeepsSubject3 (BK-COMBINED-FAIL=keep): the subject 3 half is a
// no-show of its own, whichever slot closes first.
func TestCloseKeepsSubject3(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	day := scheduling.StartOfDay(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	f := newHallFixture(t, db, day)
	slot3 := f.slotAt(t, 3, day.Add(13*time.Hour))
	slot2 := f.slotAt(t, 2, day.Add(8*time.Hour))
	b2, b3 := f.combined(t, slot2, slot3)
	if _, err := f.store.CloseEndedDays(ctx, day.Add(34*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got2, got3 := f.status(t, b2), f.status(t, b3); got2 != scheduling.StatusNoShow || got3 != scheduling.StatusNoShow {
		t.Errorf("halves: got %s, %s; want no_show, no_show", got2, got3)
	}
}

// TestExamStartsWithItsSlot: an exam_started a second before its slot
// starts is refused with slot_not_started (the day is right: not_today
// would be wrong); at the start it is accepted. A slot is not closed before
// it starts either, with the same code.
func TestExamStartsWithItsSlot(t *testing.T) {
	ctx := context.Background()
	db, _ := pgtest.NewDB(t)
	day := scheduling.StartOfDay(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	f := newHallFixture(t, db, day)
	start := day.Add(8*time.Hour + 30*time.Minute)
	slot := f.slotAt(t, 2, start)
	booking := f.book(t, slot, "张伟")
	ev := exam.Event{EventID: testkit.UUID(), BookingID: booking, Type: exam.ExamStarted, At: start.Add(-time.Second)}
	_, _, err := f.store.Ingest(ctx, f.device, ev, start.Add(-time.Second))
	if !errors.Is(err, exam.ErrSlotNotStarted) {
		t.Fatalf("a second before the start: got %v, want 409 slot_not_started", err)
	}
	if _, err := f.store.CloseSlot(ctx, slot, f.venue, start.Add(-time.Second)); !errors.Is(err, exam.ErrSlotNotStarted) {
		t.Fatalf("close a second before the start: got %v, want slot_not_started", err)
	}
	ev.EventID, ev.At = testkit.UUID(), start
	if _, fresh, err := f.store.Ingest(ctx, f.device, ev, start); err != nil || !fresh {
		t.Fatalf("at the start: got %v (new %v), want accepted", err, fresh)
	}
}
