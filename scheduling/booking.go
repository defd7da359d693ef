package scheduling

import "time"

// Booking statuses.
const (
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"
	StatusPassed    = "passed"
	StatusFailed    = "failed"
	StatusNoShow    = "no_show"
)

// Booking lanes.
const (
	LanePriority = "priority"
	LaneRegular  = "regular"
)

// Booking is one candidate's seat in one slot.
type Booking struct {
	ID          int64     `db:"id" json:"id"`
	CandidateID int64     `db:"candidate_id" json:"candidate_id"`
	SlotID      int64     `db:"slot_id" json:"slot_id"`
	Subject     int       `db:"subject" json:"subject"`
	Status      string    `db:"status" json:"status"`
	Lane        string    `db:"lane" json:"lane"`
	PairID      *int64    `db:"pair_id" json:"pair_id,omitempty"`
	StartsAt    time.Time `db:"starts_at" json:"starts_at"`
	EndsAt      time.Time `db:"ends_at" json:"ends_at"`
	VenueID     int64     `db:"venue_id" json:"venue_id"`
	ExamDay     time.Time `db:"exam_day" json:"-"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// BookedWith reports whether bookings a and b were booked in one request:
// the halves of a combined exam (BK-COMBINED) point at each other, and the
// subject 4 booking of an all-subjects day (BK-PACKAGE) points at its
// subject 2 one, whose subject 3 points there too.
func BookedWith(a, b Booking) bool {
	if a.ID == b.ID || a.PairID == nil && b.PairID == nil {
		return false
	}
	return a.PairID != nil && *a.PairID == b.ID || b.PairID != nil && *b.PairID == a.ID ||
		a.PairID != nil && b.PairID != nil && *a.PairID == *b.PairID
}

// inShanghai returns b with its instants in Asia/Shanghai, as answers, feeds
// and the audit log show them; the database gives them in its own zone.
// ExamDay, a date, stays as it is.
func (b Booking) inShanghai() Booking {
	b.StartsAt, b.EndsAt, b.CreatedAt = b.StartsAt.In(Shanghai), b.EndsAt.In(Shanghai), b.CreatedAt.In(Shanghai)
	return b
}

// inShanghai puts the bookings' instants in Asia/Shanghai.
func inShanghai(bs []Booking) {
	for i := range bs {
		bs[i] = bs[i].inShanghai()
	}
}

// PastBooking is what the eligibility rules need to know of a candidate's
// earlier bookings.
type PastBooking struct {
	Subject int       `db:"subject"`
	Status  string    `db:"status"`
	ExamDay time.Time `db:"exam_day"`
}

// RosterEntry is one booked candidate of a slot, in exam order.
type RosterEntry struct {
	BookingID   int64     `db:"booking_id" json:"booking_id"`
	CandidateID int64     `db:"candidate_id" json:"candidate_id"`
	Name        string    `db:"name" json:"name"`
	IDNumber    string    `db:"id_number" json:"id_number"`
	Lane        string    `db:"lane" json:"lane"`
	Needs       []string  `db:"-" json:"needs"`
	Status      string    `db:"status" json:"status"`
	BookedAt    time.Time `db:"created_at" json:"booked_at"`
	// PairID is the other half of a combined booking, for the counter's
	// forms (not in the API's roster).
	PairID *int64 `db:"pair_id" json:"-"`
	// Rank, Basis and Reason are set for a seat given by a ranked slot's
	// allocation (RA-*): the application's rank, the rule that ranked it
	// and the reason's code, with ReasonZH and ReasonEN saying it.
	Rank     *int    `db:"rank" json:"rank,omitempty"`
	Basis    *string `db:"basis" json:"basis,omitempty"`
	Reason   *string `db:"reason" json:"reason,omitempty"`
	ReasonZH string  `db:"-" json:"reason_zh,omitempty"`
	ReasonEN string  `db:"-" json:"reason_en,omitempty"`
	// preference is the allocated application's preference placed.
	Preference *int `db:"preference" json:"-"`
}

// Allocated reports whether e's seat was given by a ranked slot's
// allocation; RankN and BasisCode then say its rank and rule.
func (e RosterEntry) Allocated() bool { return e.Rank != nil && e.Basis != nil }

// RankN is e's rank, 0 when not allocated.
func (e RosterEntry) RankN() int {
	if e.Rank == nil {
		return 0
	}
	return *e.Rank
}

// ReasonIn says e's allocation reason in lang ("en", else Chinese).
func (e RosterEntry) ReasonIn(lang string) string {
	if lang == "en" {
		return e.ReasonEN
	}
	return e.ReasonZH
}

// BasisCode is the RA rule that ranked e, "" when not allocated.
func (e RosterEntry) BasisCode() string {
	if e.Basis == nil {
		return ""
	}
	return *e.Basis
}
