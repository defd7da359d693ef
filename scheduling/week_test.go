package scheduling_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// week is a valid publication at venue of the five days from the day after now.
func week(venue int64, now time.Time) scheduling.Week {
	first := scheduling.Day(now).AddDate(0, 0, 1)
	w := scheduling.Week{
		VenueID: venue, Subjects: []int{2}, LicenceClass: "C1", Capacity: 20, PriorityReserved: 2,
		Sessions: []scheduling.Session{{Start: 8 * 60, End: 10 * 60}, {Start: 13*60 + 30, End: 15*60 + 30}},
	}
	for i := range 5 {
		w.Days = append(w.Days, first.AddDate(0, 0, i))
	}
	return w
}

func fields(err error) []string {
	var fs []string
	for _, r := range refusal.All(err) {
		fs = append(fs, r.Field)
	}
	return fs
}

func TestWeekSlots(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, scheduling.Shanghai)

	t.Run("OK", func(t *testing.T) {
		slots, err := week(1, now).Slots(now)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(slots), 10; got != want {
			t.Fatalf("got %d slots, want %d", got, want)
		}
		first, last := slots[0], slots[9]
		if got, want := first.StartsAt, time.Date(2026, 3, 3, 8, 0, 0, 0, scheduling.Shanghai); !got.Equal(want) {
			t.Errorf("first starts %v, want %v", got, want)
		}
		if got, want := last.EndsAt, time.Date(2026, 3, 7, 15, 30, 0, 0, scheduling.Shanghai); !got.Equal(want) {
			t.Errorf("last ends %v, want %v", got, want)
		}
		// BK-WINDOW and PL-RESERVE defaults, as one slot has them.
		if got, want := first.BookingClosesAt, time.Date(2026, 3, 3, 0, 0, 0, 0, scheduling.Shanghai); !got.Equal(want) {
			t.Errorf("closes %v, want %v", got, want)
		}
		if first.Capacity != 20 || first.PriorityReserved != 2 || first.LicenceClass != "C1" {
			t.Errorf("got %+v", first)
		}
	})

	t.Run("DayEdges", func(t *testing.T) {
		// Asia/Shanghai keeps no daylight saving time: a session from
		// midnight to the last minute is one day's, whatever the date.
		w := week(1, now)
		w.Days = []time.Time{time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		w.Sessions = []scheduling.Session{{Start: 0, End: 60}, {Start: 22*60 + 59, End: 23*60 + 59}}
		slots, err := w.Slots(now)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slots {
			if got := s.EndsAt.Sub(s.StartsAt); got != time.Hour {
				t.Errorf("%v–%v lasts %v, want 1h", s.StartsAt, s.EndsAt, got)
			}
		}
		if got, want := slots[3].EndsAt, time.Date(2026, 11, 1, 23, 59, 0, 0, scheduling.Shanghai); !got.Equal(want) {
			t.Errorf("last ends %v, want %v (the day's last minute)", got, want)
		}
		if got, want := slots[0].StartsAt.UTC(), time.Date(2026, 3, 7, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
			t.Errorf("first starts %v UTC, want %v", got, want)
		}
	})

	for _, tc := range []struct {
		name string
		edit func(*scheduling.Week)
		want []string
	}{
		{"NoDays", func(w *scheduling.Week) { w.Days = nil }, []string{"days"}},
		{"PastDay", func(w *scheduling.Week) { w.Days[0] = scheduling.Day(now).AddDate(0, 0, -1) }, []string{"days"}},
		{"TooManyDays", func(w *scheduling.Week) {
			for i := range 10 {
				w.Days = append(w.Days, w.Days[4].AddDate(0, 0, i+1))
			}
		}, []string{"days"}},
		{"TodayOver", func(w *scheduling.Week) {
			w.Days[0], w.Sessions[0] = scheduling.Day(now), scheduling.Session{Start: 6 * 60, End: 8 * 60}
		}, []string{"days"}},
		{"PastMidnight", func(w *scheduling.Week) { w.Sessions[1] = scheduling.Session{Start: 23 * 60, End: 24 * 60} }, []string{"sessions"}},
		{"NoSessions", func(w *scheduling.Week) { w.Sessions = nil }, []string{"sessions"}},
		{"SessionBackwards", func(w *scheduling.Week) { w.Sessions[1] = scheduling.Session{Start: 12 * 60, End: 11 * 60} }, []string{"sessions"}},
		{"SessionsOverlap", func(w *scheduling.Week) { w.Sessions[1] = scheduling.Session{Start: 9 * 60, End: 11 * 60} }, []string{"sessions"}},
		{"NoSubject", func(w *scheduling.Week) { w.Subjects = nil }, []string{"subjects"}},
		{"BadSubject", func(w *scheduling.Week) { w.Subjects = []int{1} }, []string{"subjects"}},
		{"ReserveOverCapacity", func(w *scheduling.Week) { w.PriorityReserved = 30 }, []string{"priority_reserved"}},
		{"All", func(w *scheduling.Week) {
			w.VenueID, w.Days, w.Sessions, w.Subjects, w.LicenceClass, w.Capacity, w.PriorityReserved = 0, nil, nil, nil, "", 0, -1
		}, []string{"venue_id", "days", "sessions", "subjects", "licence_class", "capacity", "priority_reserved"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := week(1, now)
			tc.edit(&w)
			slots, err := w.Slots(now)
			if got := fields(err); !slices.Equal(got, tc.want) {
				t.Errorf("got fields %v (%v), want %v", got, err, tc.want)
			}
			if slots != nil {
				t.Errorf("got %d slots with a refusal", len(slots))
			}
			if r, ok := refusal.As(err); !ok || r.Field != tc.want[0] {
				t.Errorf("As: got %v, want the first, %s", r, tc.want[0])
			}
		})
	}
}

func TestOverlap(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 3, 3, h, 0, 0, 0, scheduling.Shanghai) }
	base := scheduling.Slot{VenueID: 1, Subject: 2, StartsAt: at(8), EndsAt: at(10)}
	for _, tc := range []struct {
		name string
		edit func(*scheduling.Slot)
		want bool
	}{
		{"Same", func(*scheduling.Slot) {}, true},
		{"Inside", func(s *scheduling.Slot) { s.StartsAt, s.EndsAt = at(8).Add(30*time.Minute), at(9) }, true},
		{"StraddlesStart", func(s *scheduling.Slot) { s.StartsAt, s.EndsAt = at(7), at(9) }, true},
		{"Touching", func(s *scheduling.Slot) { s.StartsAt, s.EndsAt = at(10), at(12) }, false},
		{"Before", func(s *scheduling.Slot) { s.StartsAt, s.EndsAt = at(6), at(8) }, false},
		{"OtherSubject", func(s *scheduling.Slot) { s.Subject = 3 }, false},
		{"OtherVenue", func(s *scheduling.Slot) { s.VenueID = 2 }, false},
		{"OtherClassStillOverlaps", func(s *scheduling.Slot) { s.LicenceClass = "C2" }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			if got := scheduling.Overlap(base, o); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if got := scheduling.Overlap(o, base); got != tc.want {
				t.Errorf("reversed: got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCreateSlots(t *testing.T) {
	s, db, staff := storeWithStaff(t)
	ctx := context.Background()
	now := time.Now()
	venue, err := s.CreateVenue(ctx, scheduling.Venue{Name: "一号考场"})
	if err != nil {
		t.Fatal(err)
	}
	count := func(t *testing.T) int {
		t.Helper()
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM slots`); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("OK", func(t *testing.T) {
		slots, err := week(venue.ID, now).Slots(now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.CreateSlots(ctx, slots, staff)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 10 || got[0].ID == 0 || !got[0].StartsAt.Equal(slots[0].StartsAt) {
			t.Fatalf("got %d slots, first %+v", len(got), got[0])
		}
		if n := count(t); n != 10 {
			t.Errorf("stored %d slots, want 10", n)
		}
	})

	t.Run("OverlapRefusedAllOrNothing", func(t *testing.T) {
		// The next week, and one session that overlaps last week's first
		// day by half an hour: nothing of it is stored.
		w := week(venue.ID, now)
		for i := range w.Days {
			w.Days[i] = w.Days[i].AddDate(0, 0, 7)
		}
		w.Days = append(w.Days, week(venue.ID, now).Days[0])
		w.Sessions = []scheduling.Session{{Start: 9*60 + 30, End: 11 * 60}}
		slots, err := w.Slots(now)
		if err != nil {
			t.Fatal(err)
		}
		before := count(t)
		_, err = s.CreateSlots(ctx, slots, staff)
		if !errors.Is(err, scheduling.ErrSlotOverlap) {
			t.Fatalf("got %v, want slot_overlap", err)
		}
		if n := count(t); n != before {
			t.Errorf("stored %d slots, want %d: all or nothing", n, before)
		}
		clash, err := s.Overlapping(ctx, slots)
		if err != nil || len(clash) != 1 {
			t.Fatalf("Overlapping: got %d, %v; want the one 08:00 slot", len(clash), err)
		}
	})

	t.Run("TouchingOtherSubjectOtherVenue", func(t *testing.T) {
		other, err := s.CreateVenue(ctx, scheduling.Venue{Name: "二号考场"})
		if err != nil {
			t.Fatal(err)
		}
		w := week(venue.ID, now)
		w.Sessions = []scheduling.Session{{Start: 10 * 60, End: 12 * 60}} // starts as 08:00–10:00 ends
		a, _ := w.Slots(now)
		w.Sessions, w.Subjects = []scheduling.Session{{Start: 8 * 60, End: 10 * 60}}, []int{3}
		b, _ := w.Slots(now)
		w.Subjects, w.VenueID = []int{2}, other.ID
		c, _ := w.Slots(now)
		if _, err := s.CreateSlots(ctx, append(append(a, b...), c...), staff); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("OverlapWithinTheBatch", func(t *testing.T) {
		w := week(venue.ID, now)
		w.Days = w.Days[:1]
		w.Days[0] = w.Days[0].AddDate(0, 0, 20)
		slots, _ := w.Slots(now)
		before := count(t)
		if _, err := s.CreateSlots(ctx, append(slots, slots[0]), staff); !errors.Is(err, scheduling.ErrSlotOverlap) {
			t.Fatalf("got %v, want slot_overlap", err)
		}
		if n := count(t); n != before {
			t.Errorf("stored %d, want %d", n, before)
		}
	})

	t.Run("UnknownVenue", func(t *testing.T) {
		slots, _ := week(venue.ID+100, now).Slots(now)
		if _, err := s.CreateSlots(ctx, slots, staff); !errors.Is(err, refusal.Invalid("venue_id", "")) {
			t.Fatalf("got %v, want invalid venue_id", err)
		}
	})

	t.Run("RacingPublicationsOneWins", func(t *testing.T) {
		// Two schedulers publish the same new week at once: the venue's
		// lock makes the second see the first's slots.
		w := week(venue.ID, now)
		for i := range w.Days {
			w.Days[i] = w.Days[i].AddDate(0, 0, 30)
		}
		slots, _ := w.Slots(now)
		before := count(t)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { _, errs[i] = s.CreateSlots(ctx, slots, staff) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, scheduling.ErrSlotOverlap):
				t.Errorf("got %v, want slot_overlap", err)
			}
		}
		if n := count(t); ok != 1 || n != before+len(slots) {
			t.Errorf("%d won, %d stored; want 1 and %d", ok, n-before, len(slots))
		}
	})
}

func TestValidationRefusesEveryField(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, scheduling.Shanghai)
	start := now.Add(48 * time.Hour)
	late := start.Add(time.Hour)
	_, err := scheduling.NewSlot{Subject: 5, StartsAt: start, EndsAt: start.Add(-time.Hour), Capacity: 0, PriorityReserved: -1,
		ReserveReleaseAt: &late, BookingClosesAt: &late}.Slot(now)
	if got, want := fields(err), []string{"venue_id", "subject", "licence_class", "ends_at", "capacity", "priority_reserved", "reserve_release_at", "booking_closes_at"}; !slices.Equal(got, want) {
		t.Errorf("slot: got %v, want %v", got, want)
	}
	v := scheduling.Venue{Name: " ", Address: string(make([]byte, 501))}
	if got, want := fields(v.Validate()), []string{"name", "address"}; !slices.Equal(got, want) {
		t.Errorf("venue: got %v, want %v", got, want)
	}
	c := scheduling.NewCandidate{IDNumber: "1", Phone: "2", PermitIssuedOn: scheduling.Day(now), PermitExpiresOn: scheduling.Day(now)}
	if got, want := fields(c.Validate(scheduling.Day(now))), []string{"id_number", "name", "phone", "licence_class", "permit_expires_on", "password"}; !slices.Equal(got, want) {
		t.Errorf("candidate: got %v, want %v", got, want)
	}
}
