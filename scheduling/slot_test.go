package scheduling_test

import (
	"testing"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// newSlot returns a valid request for a C1 subject 2 slot on 2026-12-10
// from 08:30 to 11:30 with 20 seats, 2 of them reserved, changed by opts.
func newSlot(tb testing.TB, opts ...func(*scheduling.NewSlot)) scheduling.NewSlot {
	tb.Helper()
	n := scheduling.NewSlot{
		VenueID:          1,
		Subject:          2,
		LicenceClass:     "C1",
		StartsAt:         instant(tb, "2026-12-10T08:30:00+08:00"),
		EndsAt:           instant(tb, "2026-12-10T11:30:00+08:00"),
		Capacity:         20,
		PriorityReserved: 2,
	}
	for _, opt := range opts {
		opt(&n)
	}
	return n
}

func timePtr(t time.Time) *time.Time { return &t }

func TestNewSlot(t *testing.T) {
	at := func(s string) time.Time { return instant(t, s) }
	// between sets the slot's start and end.
	between := func(starts, ends string) func(*scheduling.NewSlot) {
		return func(n *scheduling.NewSlot) { n.StartsAt, n.EndsAt = at(starts), at(ends) }
	}
	subject := func(s int) func(*scheduling.NewSlot) {
		return func(n *scheduling.NewSlot) { n.Subject = s }
	}

	t.Run("Defaults", func(t *testing.T) {
		for _, tt := range []struct {
			name                  string
			n                     scheduling.NewSlot
			release, opens, close time.Time
		}{
			{
				name:    "BK-WINDOW/subject 2 closes at midnight starting its day",
				n:       newSlot(t),
				release: at("2026-12-09T08:30:00+08:00"), opens: now, close: at("2026-12-10T00:00:00+08:00"),
			},
			{
				name:    "BK-WINDOW/subject 3 closes at midnight starting its day",
				n:       newSlot(t, subject(3)),
				release: at("2026-12-09T08:30:00+08:00"), opens: now, close: at("2026-12-10T00:00:00+08:00"),
			},
			{
				name:    "BK-WINDOW/subject 4 closes when it starts",
				n:       newSlot(t, subject(4), between("2026-12-10T14:00:00+08:00", "2026-12-10T15:00:00+08:00")),
				release: at("2026-12-09T14:00:00+08:00"), opens: now, close: at("2026-12-10T14:00:00+08:00"),
			},
			{
				name:    "BK-WINDOW/early morning slot closes at Shanghai midnight, not UTC",
				n:       newSlot(t, between("2026-12-10T07:00:00+08:00", "2026-12-10T08:00:00+08:00")),
				release: at("2026-12-09T07:00:00+08:00"), opens: now, close: at("2026-12-09T16:00:00Z"),
			},
			{
				name:    "BK-WINDOW/subject 2 today is published closed",
				n:       newSlot(t, between("2026-12-01T14:00:00+08:00", "2026-12-01T15:00:00+08:00")),
				release: at("2026-11-30T14:00:00+08:00"), opens: at("2026-12-01T00:00:00+08:00"), close: at("2026-12-01T00:00:00+08:00"),
			},
			{
				name:    "BK-WINDOW/subject 4 today is still open",
				n:       newSlot(t, subject(4), between("2026-12-01T14:00:00+08:00", "2026-12-01T15:00:00+08:00")),
				release: at("2026-11-30T14:00:00+08:00"), opens: now, close: at("2026-12-01T14:00:00+08:00"),
			},
			{
				name: "explicit values kept",
				n: newSlot(t, func(n *scheduling.NewSlot) {
					n.ReserveReleaseAt = timePtr(at("2026-12-08T12:00:00+08:00"))
					n.BookingOpensAt = timePtr(at("2026-11-20T09:00:00+08:00"))
					n.BookingClosesAt = timePtr(at("2026-12-05T17:00:00+08:00"))
				}),
				release: at("2026-12-08T12:00:00+08:00"), opens: at("2026-11-20T09:00:00+08:00"), close: at("2026-12-05T17:00:00+08:00"),
			},
			{
				name: "explicit times at their limits kept",
				n: newSlot(t, func(n *scheduling.NewSlot) {
					n.ReserveReleaseAt = timePtr(n.StartsAt)
					n.BookingClosesAt = timePtr(n.StartsAt)
					n.BookingOpensAt = timePtr(n.StartsAt.Add(-time.Second))
				}),
				release: at("2026-12-10T08:30:00+08:00"), opens: at("2026-12-10T08:29:59+08:00"), close: at("2026-12-10T08:30:00+08:00"),
			},
			{
				name: "explicit opening in a window that closed by default",
				n: newSlot(t, between("2026-12-01T14:00:00+08:00", "2026-12-01T15:00:00+08:00"), func(n *scheduling.NewSlot) {
					n.BookingOpensAt = timePtr(at("2026-11-25T00:00:00+08:00"))
				}),
				release: at("2026-11-30T14:00:00+08:00"), opens: at("2026-11-25T00:00:00+08:00"), close: at("2026-12-01T00:00:00+08:00"),
			},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s, err := tt.n.Slot(now)
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				for _, c := range []struct {
					field     string
					got, want time.Time
				}{
					{"ReserveReleaseAt", s.ReserveReleaseAt, tt.release},
					{"BookingOpensAt", s.BookingOpensAt, tt.opens},
					{"BookingClosesAt", s.BookingClosesAt, tt.close},
				} {
					if !c.got.Equal(c.want) {
						t.Errorf("%s: got %v, want %v", c.field, c.got, c.want)
					}
				}
			})
		}
	})

	t.Run("CopiesFields", func(t *testing.T) {
		n := newSlot(t, subject(3), func(n *scheduling.NewSlot) { n.VenueID, n.LicenceClass, n.AdaptedVehicle = 7, "C5", true })
		s, err := n.Slot(now)
		if err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		if s.VenueID != 7 || s.Subject != 3 || s.LicenceClass != "C5" || s.Capacity != 20 || s.PriorityReserved != 2 || !s.AdaptedVehicle || s.Booked != 0 {
			t.Errorf("got %+v, want venue 7, subject 3, C5, capacity 20, reserved 2, adapted, none booked", s)
		}
		if !s.StartsAt.Equal(n.StartsAt) || !s.EndsAt.Equal(n.EndsAt) {
			t.Errorf("got %v–%v, want %v–%v", s.StartsAt, s.EndsAt, n.StartsAt, n.EndsAt)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			n     scheduling.NewSlot
			field string // "" for a valid request
		}{
			{name: "venue_id 0", n: newSlot(t, func(n *scheduling.NewSlot) { n.VenueID = 0 }), field: "venue_id"},
			{name: "venue_id negative", n: newSlot(t, func(n *scheduling.NewSlot) { n.VenueID = -1 }), field: "venue_id"},
			{name: "subject 1", n: newSlot(t, subject(1)), field: "subject"},
			{name: "subject 5", n: newSlot(t, subject(5)), field: "subject"},
			{name: "licence_class empty", n: newSlot(t, func(n *scheduling.NewSlot) { n.LicenceClass = "" }), field: "licence_class"},
			{name: "ends_at before starts_at", n: newSlot(t, between("2026-12-10T08:30:00+08:00", "2026-12-10T08:00:00+08:00")), field: "ends_at"},
			{name: "ends_at at starts_at", n: newSlot(t, between("2026-12-10T08:30:00+08:00", "2026-12-10T08:30:00+08:00")), field: "ends_at"},
			{name: "ends on another day", n: newSlot(t, between("2026-12-10T23:00:00+08:00", "2026-12-11T00:30:00+08:00")), field: "ends_at"},
			{name: "crosses UTC midnight on one Shanghai day OK", n: newSlot(t, between("2026-12-10T07:00:00+08:00", "2026-12-10T09:00:00+08:00"))},
			{name: "slot already over", n: newSlot(t, between("2026-11-30T08:30:00+08:00", "2026-11-30T11:30:00+08:00")), field: "ends_at"},
			{name: "slot ending now is over", n: newSlot(t, between("2026-12-01T08:00:00+08:00", "2026-12-01T09:00:00+08:00")), field: "ends_at"},
			{name: "slot under way OK", n: newSlot(t, between("2026-12-01T08:00:00+08:00", "2026-12-01T09:00:01+08:00"))},
			{name: "capacity 0", n: newSlot(t, func(n *scheduling.NewSlot) { n.Capacity, n.PriorityReserved = 0, 0 }), field: "capacity"},
			{name: "capacity 10001", n: newSlot(t, func(n *scheduling.NewSlot) { n.Capacity = 10001 }), field: "capacity"},
			{name: "capacity 1 OK", n: newSlot(t, func(n *scheduling.NewSlot) { n.Capacity, n.PriorityReserved = 1, 0 })},
			{name: "capacity 10000 OK", n: newSlot(t, func(n *scheduling.NewSlot) { n.Capacity = 10000 })},
			{name: "priority_reserved -1", n: newSlot(t, func(n *scheduling.NewSlot) { n.PriorityReserved = -1 }), field: "priority_reserved"},
			{name: "priority_reserved above capacity", n: newSlot(t, func(n *scheduling.NewSlot) { n.PriorityReserved = 21 }), field: "priority_reserved"},
			{name: "priority_reserved equal to capacity OK", n: newSlot(t, func(n *scheduling.NewSlot) { n.PriorityReserved = 20 })},
			{name: "reserve_release_at after starts_at", n: newSlot(t, func(n *scheduling.NewSlot) { n.ReserveReleaseAt = timePtr(n.StartsAt.Add(time.Second)) }), field: "reserve_release_at"},
			{name: "booking_closes_at after starts_at", n: newSlot(t, func(n *scheduling.NewSlot) { n.BookingClosesAt = timePtr(n.StartsAt.Add(time.Second)) }), field: "booking_closes_at"},
			{name: "booking_opens_at at closing", n: newSlot(t, func(n *scheduling.NewSlot) { n.BookingOpensAt = timePtr(at("2026-12-10T00:00:00+08:00")) }), field: "booking_opens_at"},
			{name: "booking_opens_at after closing", n: newSlot(t, func(n *scheduling.NewSlot) { n.BookingOpensAt = timePtr(at("2026-12-10T08:00:00+08:00")) }), field: "booking_opens_at"},
			{name: "booking_opens_at after an explicit closing", n: newSlot(t, func(n *scheduling.NewSlot) {
				n.BookingClosesAt = timePtr(at("2026-12-05T00:00:00+08:00"))
				n.BookingOpensAt = timePtr(at("2026-12-06T00:00:00+08:00"))
			}), field: "booking_opens_at"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := tt.n.Slot(now)
				if tt.field == "" {
					if err != nil {
						t.Fatalf("got %v, want nil", err)
					}
					return
				}
				fe, ok := refusal.As(err)
				if !ok || fe.Code != refusal.InvalidField {
					t.Fatalf("got %v (%T), want an invalid_field refusal", err, err)
				}
				if fe.Field != tt.field {
					t.Errorf("field: got %q, want %q (%v)", fe.Field, tt.field, err)
				}
			})
		}
	})
}

func TestSlotSeatsLeft(t *testing.T) {
	release := instant(t, "2026-12-09T08:30:00+08:00")
	before := release.Add(-time.Second)

	for _, tt := range []struct {
		name                string
		capacity, reserved  int
		booked              int
		now                 time.Time
		released            bool // the release job marked the reserve released at release
		regular, lane, held int
	}{
		{name: "PL-RESERVE/before release 7 of 10 booked", capacity: 10, reserved: 2, booked: 7, now: before, regular: 1, lane: 3, held: 2},
		{name: "PL-RESERVE/before release 9 of 10 booked", capacity: 10, reserved: 2, booked: 9, now: before, regular: 0, lane: 1, held: 1},
		{name: "PL-RESERVE/before release full", capacity: 10, reserved: 2, booked: 10, now: before, regular: 0, lane: 0, held: 0},
		{name: "PL-RESERVE/before release none booked", capacity: 10, reserved: 2, booked: 0, now: before, regular: 8, lane: 10, held: 2},
		{name: "PL-RESERVE/no reserve", capacity: 10, reserved: 0, booked: 7, now: before, regular: 3, lane: 3, held: 0},
		{name: "PL-RESERVE/at release 7 of 10 booked", capacity: 10, reserved: 2, booked: 7, now: release, released: true, regular: 3, lane: 3, held: 0},
		{name: "PL-RESERVE/after release 9 of 10 booked", capacity: 10, reserved: 2, booked: 9, now: release.Add(time.Hour), released: true, regular: 1, lane: 1, held: 0},
		// Held until the job released it, whatever the clock says.
		{name: "PL-RESERVE/at release time not yet released", capacity: 10, reserved: 2, booked: 7, now: release, regular: 1, lane: 3, held: 2},
		{name: "PL-RESERVE/a second before the job's mark", capacity: 10, reserved: 2, booked: 7, now: release.Add(-time.Second), released: true, regular: 1, lane: 3, held: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := scheduling.Slot{Capacity: tt.capacity, PriorityReserved: tt.reserved, Booked: tt.booked, ReserveReleaseAt: release}
			if tt.released {
				s.ReserveReleasedAt = &release
			}
			if got := s.SeatsLeft(false, tt.now); got != tt.regular {
				t.Errorf("SeatsLeft(regular): got %d, want %d", got, tt.regular)
			}
			if got := s.SeatsLeft(true, tt.now); got != tt.lane {
				t.Errorf("SeatsLeft(lane): got %d, want %d", got, tt.lane)
			}
			if got := s.HeldForLane(tt.now); got != tt.held {
				t.Errorf("HeldForLane: got %d, want %d", got, tt.held)
			}
			if got, want := s.Free(), tt.capacity-tt.booked; got != want {
				t.Errorf("Free: got %d, want %d", got, want)
			}
		})
	}
}

func TestDay(t *testing.T) {
	for _, tt := range []struct {
		name string
		at   string
		want time.Time
	}{
		{"BeforeShanghaiMidnight", "2026-12-01T15:59:59Z", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"AtShanghaiMidnight", "2026-12-01T16:00:00Z", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{"AfterShanghaiMidnight", "2026-12-01T16:30:00Z", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{"ShanghaiOffset", "2026-12-02T00:30:00+08:00", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{"LastInstantOfTheYear", "2026-12-31T23:59:59+08:00", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := instant(t, tt.at)
			got := scheduling.Day(at)
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Day: got %v, want %v", got, tt.want)
			}
			if got := (scheduling.Slot{StartsAt: at}).Day(); !got.Equal(tt.want) {
				t.Errorf("Slot.Day: got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("StartOfDay", func(t *testing.T) {
		for _, tt := range []struct {
			day  string
			want string
		}{
			{"2026-12-02", "2026-12-01T16:00:00Z"},
			{"2027-01-01", "2026-12-31T16:00:00Z"},
		} {
			got := scheduling.StartOfDay(date(t, tt.day))
			if want := instant(t, tt.want); !got.Equal(want) {
				t.Errorf("StartOfDay(%s): got %v, want %v", tt.day, got, want)
			}
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		// 16:30 UTC on 1 December is already 2 December in Shanghai, whose
		// day started at 16:00 UTC.
		at := instant(t, "2026-12-01T16:30:00Z")
		if got, want := scheduling.StartOfDay(scheduling.Day(at)), instant(t, "2026-12-01T16:00:00Z"); !got.Equal(want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}
