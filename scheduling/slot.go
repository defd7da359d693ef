package scheduling

import (
	"cmp"
	"strings"
	"time"

	"examd/internal/refusal"
)

// MaxCapacity is the largest slot the office publishes.
const MaxCapacity = 10000

// Venue is an exam field or road-test centre.
type Venue struct {
	ID       int64  `db:"id" json:"id"`
	Name     string `db:"name" json:"name"`
	Address  string `db:"address" json:"address"`
	StepFree bool   `db:"step_free" json:"step_free"`
}

// Validate checks a venue to publish and trims its name.
func (v *Venue) Validate() error {
	v.Name = strings.TrimSpace(v.Name)
	var bad refusal.List
	if v.Name == "" || len(v.Name) > 200 {
		bad = append(bad, refusal.Invalid("name", "required, at most 200 bytes"))
	}
	if len(v.Address) > 500 {
		bad = append(bad, refusal.Invalid("address", "at most 500 bytes"))
	}
	return bad.Err()
}

// Slot is a published exam plan (场次): one subject and licence class at one
// venue in one time window of one day.
type Slot struct {
	ID               int64     `db:"id"`
	VenueID          int64     `db:"venue_id"`
	Subject          int       `db:"subject"`
	LicenceClass     string    `db:"licence_class"`
	StartsAt         time.Time `db:"starts_at"`
	EndsAt           time.Time `db:"ends_at"`
	Capacity         int       `db:"capacity"`
	PriorityReserved int       `db:"priority_reserved"`
	ReserveReleaseAt time.Time `db:"reserve_release_at"`
	// ReserveReleasedAt is when the release job released the reserve
	// (PL-RESERVE), nil until then: the reserve is held until this mark,
	// not merely until ReserveReleaseAt.
	ReserveReleasedAt *time.Time `db:"reserve_released_at"`
	BookingOpensAt    time.Time  `db:"booking_opens_at"`
	BookingClosesAt   time.Time  `db:"booking_closes_at"`
	AdaptedVehicle    bool       `db:"adapted_vehicle"`
	Booked            int        `db:"booked"`
	// VenueStepFree is the venue's step-free flag, needed by PL-ACCESS.
	VenueStepFree bool `db:"venue_step_free"`
	// Allocation is AllocationInstant (also when empty) or AllocationRanked.
	Allocation string `db:"allocation"`
	// AllocatedAt is when a ranked slot was allocated, nil before.
	AllocatedAt *time.Time `db:"allocated_at"`
	// VenueName is the venue's name, for the candidate's notes; only the
	// booking's read fills it.
	VenueName string `db:"-"`
}

// How a slot gives its seats: to whoever books first, or by ranking the
// applications of its window (RA-*).
const (
	AllocationInstant = "instant"
	AllocationRanked  = "ranked"
)

// Ranked reports whether the slot collects applications (RA-*).
func (s Slot) Ranked() bool { return s.Allocation == AllocationRanked }

// CheckAllocation refuses an allocation that is neither AllocationInstant
// nor AllocationRanked (the API's "allocation" field, given).
func CheckAllocation(allocation string) error {
	if allocation != AllocationInstant && allocation != AllocationRanked {
		return refusal.Invalid("allocation", `"instant" or "ranked"`)
	}
	return nil
}

func (s Slot) allocation() string {
	if s.Allocation == "" {
		return AllocationInstant
	}
	return s.Allocation
}

// NewSlot is a slot a scheduler wants to publish. The optional times are nil
// when the scheduler leaves them to their defaults.
type NewSlot struct {
	VenueID          int64
	Subject          int
	LicenceClass     string
	StartsAt         time.Time
	EndsAt           time.Time
	Capacity         int
	PriorityReserved int
	ReserveReleaseAt *time.Time
	BookingOpensAt   *time.Time
	BookingClosesAt  *time.Time
	AdaptedVehicle   bool
	// Allocation is "instant" (the default, when empty) or "ranked".
	Allocation string
}

// Slot validates the request and fills in the defaults as of now. Every
// instant is cut to PostgreSQL's microseconds first, so that the slot
// answered on creation is the slot stored: the database rounds a default
// booking_opens_at of now up half of the time, past now, and the creation's
// answer said booking_open false where every read after said true.
func (n NewSlot) Slot(now time.Time) (Slot, error) {
	now = now.Truncate(time.Microsecond)
	n.StartsAt, n.EndsAt = n.StartsAt.Truncate(time.Microsecond), n.EndsAt.Truncate(time.Microsecond)
	cut := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		c := t.Truncate(time.Microsecond)
		return &c
	}
	n.ReserveReleaseAt, n.BookingOpensAt, n.BookingClosesAt = cut(n.ReserveReleaseAt), cut(n.BookingOpensAt), cut(n.BookingClosesAt)
	s := Slot{
		VenueID: n.VenueID, Subject: n.Subject, LicenceClass: n.LicenceClass,
		StartsAt: n.StartsAt, EndsAt: n.EndsAt, Capacity: n.Capacity,
		PriorityReserved: n.PriorityReserved, AdaptedVehicle: n.AdaptedVehicle,
		Allocation: cmp.Or(n.Allocation, AllocationInstant),
	}
	var bad refusal.List
	refuse := func(field, message string) { bad = append(bad, refusal.Invalid(field, message)) }
	if err, ok := refusal.As(CheckAllocation(s.Allocation)); ok {
		bad = append(bad, err)
	}
	if n.VenueID <= 0 {
		refuse("venue_id", "required")
	}
	if n.Subject != 2 && n.Subject != 3 && n.Subject != 4 {
		refuse("subject", "must be 2, 3 or 4")
	}
	if n.LicenceClass == "" {
		refuse("licence_class", "required")
	}
	switch {
	case !n.EndsAt.After(n.StartsAt):
		refuse("ends_at", "must be after starts_at")
	case !Day(n.EndsAt).Equal(Day(n.StartsAt)):
		refuse("ends_at", "a slot starts and ends on the same day (Asia/Shanghai)")
	case !n.EndsAt.After(now):
		refuse("ends_at", "the slot is already over")
	}
	capacityOK := n.Capacity >= 1 && n.Capacity <= MaxCapacity
	if !capacityOK {
		refuse("capacity", "must be between 1 and 10000")
	}
	if n.PriorityReserved < 0 || n.PriorityReserved > MaxCapacity || capacityOK && n.PriorityReserved > n.Capacity {
		refuse("priority_reserved", "must be between 0 and capacity")
	}

	// PL-RESERVE: reserved seats open to everyone 24 h before the start by default.
	s.ReserveReleaseAt = n.StartsAt.Add(-24 * time.Hour)
	if n.ReserveReleaseAt != nil {
		if n.ReserveReleaseAt.After(n.StartsAt) {
			refuse("reserve_release_at", "must not be after starts_at")
		}
		s.ReserveReleaseAt = *n.ReserveReleaseAt
	}
	if !s.ReserveReleaseAt.After(now) {
		// A slot published after its release time is released from the
		// start: no seat was ever held, nobody waits for it yet.
		s.ReserveReleasedAt = &now
	}
	// BK-WINDOW: subjects 2 and 3 close at the end of the day before the
	// exam; subject 4 stays open until it starts, so that a candidate who
	// passes the road tests in the morning can sit it the same afternoon.
	s.BookingClosesAt = StartOfDay(Day(n.StartsAt))
	if n.Subject == 4 {
		s.BookingClosesAt = n.StartsAt
	}
	if n.BookingClosesAt != nil {
		if n.BookingClosesAt.After(n.StartsAt) {
			refuse("booking_closes_at", "must not be after starts_at")
		}
		s.BookingClosesAt = *n.BookingClosesAt
	}
	s.BookingOpensAt = now
	if s.BookingOpensAt.After(s.BookingClosesAt) {
		// A slot whose default window has already closed is published closed.
		s.BookingOpensAt = s.BookingClosesAt
	}
	if n.BookingOpensAt != nil {
		if !n.BookingOpensAt.Before(s.BookingClosesAt) {
			refuse("booking_opens_at", "must be before booking_closes_at")
		}
		s.BookingOpensAt = *n.BookingOpensAt
	}
	// Every bad field at once, in the order of the API (the first is the
	// API's answer).
	return s, bad.Err()
}

// Day is the slot's calendar day in Asia/Shanghai.
func (s Slot) Day() time.Time { return Day(s.StartsAt) }

// Free is the number of unbooked seats.
func (s Slot) Free() int { return s.Capacity - s.Booked }

// HeldForLane is the number of unbooked seats that only priority-lane
// candidates may take now. PL-RESERVE: the last priority_reserved unbooked
// seats are the lane's until the release job released them (at the release
// time, after offering them to the waitlist), then everyone's.
func (s Slot) HeldForLane(now time.Time) int {
	if s.Released(now) {
		return 0
	}
	return min(s.PriorityReserved, s.Free())
}

// Released reports whether the reserve was released at now.
func (s Slot) Released(now time.Time) bool {
	return s.ReserveReleasedAt != nil && !now.Before(*s.ReserveReleasedAt)
}

// SeatsLeft is the number of seats a caller may still book: every unbooked
// seat for the lane (and for staff), the unreserved ones for everyone else.
// The booking transaction enforces the same condition in SQL.
func (s Slot) SeatsLeft(lane bool, now time.Time) int {
	if lane {
		return s.Free()
	}
	return s.Free() - s.HeldForLane(now)
}

// Open reports whether the slot takes bookings at now (BK-WINDOW).
func (s Slot) Open(now time.Time) bool {
	return !now.Before(s.BookingOpensAt) && now.Before(s.BookingClosesAt)
}

// SlotFilter selects slots for GET /slots. From and To are calendar days in
// Asia/Shanghai, both included.
type SlotFilter struct {
	Subject      int
	LicenceClass string
	VenueID      int64
	From, To     time.Time
}
