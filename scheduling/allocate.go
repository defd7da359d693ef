package scheduling

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// MaxPreferences is how many options an application may list (RA-PREF).
const MaxPreferences = 3

// Application statuses after allocation.
const (
	StatusApplied      = "applied"
	StatusNotAllocated = "not_allocated"
)

// Bases of a rank: the RA rule that put the application where it stands.
const (
	BasisPriorityLane   = "priority_lane"
	BasisPermitExpiring = "permit_expiring"
	BasisSortTime       = "sort_time"
)

// Reasons of a placement.
const (
	ReasonAllocated       = "allocated"
	ReasonPreferencesFull = "preferences_full"
	ReasonNoStepFree      = "no_step_free_seat"
	ReasonNoAdapted       = "no_adapted_vehicle"
)

// Application is one candidate's request for a seat in a ranked slot, as the
// allocation sees it: eligibility (docs/DOMAIN.md §Booking) is checked by
// the caller before, only seats and PL-ACCESS are decided here.
type Application struct {
	CandidateID int64
	// PriorityLane is true when the office granted the candidate the lane (PL-GRANT).
	PriorityLane bool
	// PermitExpiresOn is the permit's last day, a date as lib/pq returns it.
	PermitExpiresOn time.Time
	// SortTime is the application's 排序时间 (RA-SORT).
	SortTime time.Time
	// StepFree and AdaptedVehicle are the lane's needs (PL-ACCESS).
	StepFree       bool
	AdaptedVehicle bool
	// Preferences are the options, best first: each one slot id for a single
	// subject, or two ([subject 2, subject 3]) for a combined application,
	// placed both or neither.
	Preferences [][]int64
}

// SlotSeats is what a slot has left to allocate.
type SlotSeats struct {
	SlotID int64
	// Left is the number of free seats.
	Left int
	// ReserveLeft is how many of the free seats are still held for the
	// priority lane (PL-RESERVE); 0 once the reserve is released.
	ReserveLeft    int
	StepFree       bool
	AdaptedVehicle bool
}

// Placement is the outcome of one application.
type Placement struct {
	CandidateID int64
	// Rank is the application's place in the ranking, from 1.
	Rank int
	// Basis is the RA rule that ranked it: BasisPriorityLane, BasisPermitExpiring or BasisSortTime.
	Basis string
	// Status is StatusConfirmed or StatusNotAllocated.
	Status string
	// Preference is the option placed, from 1; 0 when not allocated.
	Preference int
	// Slots are the slots of the option placed, nil when not allocated.
	Slots []int64
	// Reason is a code; ReasonZH and ReasonEN say it in words.
	Reason   string
	ReasonZH string
	ReasonEN string
}

// Draw is the RA-TIE draw of a candidate in an allocation seeded by seed: a
// splitmix64 hash of both, so that the same seed and candidate always draw
// the same number, whatever else is allocated, with no shared random state.
func Draw(seed, candidateID int64) uint64 {
	return mix(uint64(seed) ^ mix(uint64(candidateID)))
}

func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// SixMonthsAfter returns the day six calendar months after day: the same
// day of the month, or the month's last day when it is shorter (31 August →
// 28 or 29 February).
func SixMonthsAfter(day time.Time) time.Time {
	y, m, d := day.Date()
	first := time.Date(y, m+6, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// ranked is an application with its ranking keys.
type ranked struct {
	app   *Application
	tier  int       // 0 lane, 1 permit expiring, 2 everyone else (RA-PRIORITY)
	until time.Time // the permit's expiry, compared in tier 1 only
	draw  uint64
}

// rank orders applications by RA-PRIORITY, RA-SORT and RA-TIE, as of today
// (a date). It does not change apps.
func rank(seed int64, apps []Application, today time.Time) []ranked {
	limit := SixMonthsAfter(dateOf(today))
	rs := make([]ranked, len(apps))
	for i := range apps {
		a := &apps[i]
		r := ranked{app: a, tier: 2, draw: Draw(seed, a.CandidateID)}
		expires := dateOf(a.PermitExpiresOn)
		switch {
		case a.PriorityLane:
			// RA-PRIORITY: the office's lane comes first of all.
			r.tier = 0
		case expires.Before(limit):
			// RA-PRIORITY: then a permit with less than six months to run; a
			// permit expiring exactly six months from today has six to run.
			r.tier, r.until = 1, expires
		}
		rs[i] = r
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		return cmp.Or(
			cmp.Compare(a.tier, b.tier),
			// RA-PRIORITY: the soonest expiry first (zero outside tier 1).
			a.until.Compare(b.until),
			// RA-SORT: the earlier sort time, the higher the rank.
			a.app.SortTime.Compare(b.app.SortTime),
			// RA-TIE: a draw that the same seed repeats; the candidate id
			// settles the (astronomically rare) equal draws, so that the
			// order never depends on the order of the input.
			cmp.Compare(a.draw, b.draw),
			cmp.Compare(a.app.CandidateID, b.app.CandidateID),
		)
	})
	return rs
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Allocate places every application in rank order, seeded by seed (the
// slot's RA-TIE seed), as of today (a date). The result holds one placement
// per application, in rank order; the same applications and seats give the
// same result in whatever order they come. apps and slots are not changed.
// It refuses applications it cannot judge: two of one candidate, an option
// that is neither one slot nor a pair of two, a slot it was not given.
func Allocate(seed int64, apps []Application, slots []SlotSeats, today time.Time) ([]Placement, error) {
	seats := make(map[int64]*SlotSeats, len(slots))
	for i := range slots {
		s := slots[i]
		if _, dup := seats[s.SlotID]; dup {
			return nil, fmt.Errorf("allocate: slot %d given twice", s.SlotID)
		}
		// A reserve larger than the seats left holds them all.
		s.ReserveLeft = max(0, min(s.ReserveLeft, s.Left))
		seats[s.SlotID] = &s
	}
	if err := checkApplications(apps, seats); err != nil {
		return nil, err
	}
	rs := rank(seed, apps, today)
	out := make([]Placement, len(rs))
	for i, r := range rs {
		p := place(r.app, seats)
		p.CandidateID, p.Rank, p.Basis = r.app.CandidateID, i+1, basis(r.tier)
		out[i] = p
	}
	return out, nil
}

func checkApplications(apps []Application, seats map[int64]*SlotSeats) error {
	seen := make(map[int64]bool, len(apps))
	for _, a := range apps {
		if seen[a.CandidateID] {
			return fmt.Errorf("allocate: candidate %d applies twice", a.CandidateID)
		}
		seen[a.CandidateID] = true
		if len(a.Preferences) < 1 || len(a.Preferences) > MaxPreferences {
			return invalid("preferences", "1 to 3 options")
		}
		for _, opt := range a.Preferences {
			if len(opt) < 1 || len(opt) > 2 || len(opt) == 2 && opt[0] == opt[1] {
				return invalid("preferences", "each option one slot, or two different slots for a combined application")
			}
			for _, id := range opt {
				if seats[id] == nil {
					return fmt.Errorf("allocate: candidate %d prefers slot %d, which was not given", a.CandidateID, id)
				}
			}
		}
	}
	return nil
}

func basis(tier int) string {
	return [...]string{BasisPriorityLane, BasisPermitExpiring, BasisSortTime}[tier]
}

// place gives a its best option with a seat left (RA-PREF) and takes the
// seats, or tells why none could be had.
func place(a *Application, seats map[int64]*SlotSeats) Placement {
	accessible := false
	var stepFree, adapted bool // an option refused for this need
	for i, opt := range a.Preferences {
		ok := true
		for _, id := range opt {
			s := seats[id]
			// PL-ACCESS: a candidate who needs step-free is placed only at a
			// step-free venue, one who needs an adapted car only in a slot
			// with one. For a combined option, both halves.
			if a.StepFree && !s.StepFree {
				ok, stepFree = false, true
			}
			if a.AdaptedVehicle && !s.AdaptedVehicle {
				ok, adapted = false, true
			}
		}
		if !ok {
			continue
		}
		accessible = true
		if !hasSeat(opt, seats, a.PriorityLane) {
			continue
		}
		for _, id := range opt {
			s := seats[id]
			s.Left--
			// PL-RESERVE: a lane applicant takes a held seat while there is
			// one, so that the reserve is not counted twice.
			if a.PriorityLane && s.ReserveLeft > 0 {
				s.ReserveLeft--
			}
		}
		return Placement{Status: StatusConfirmed, Preference: i + 1, Slots: slices.Clone(opt),
			Reason:   ReasonAllocated,
			ReasonZH: fmt.Sprintf("已按第%d志愿分配", i+1),
			ReasonEN: fmt.Sprintf("allocated to preference %d", i+1)}
	}
	p := Placement{Status: StatusNotAllocated}
	switch {
	case accessible:
		// Some option could take the candidate, but its seats were gone
		// (for a regular applicant, the seats held for the lane are gone).
		p.Reason, p.ReasonZH, p.ReasonEN = ReasonPreferencesFull, "所选志愿均已满额", "all preferences full"
	case stepFree:
		p.Reason, p.ReasonZH, p.ReasonEN = ReasonNoStepFree, "所选志愿均无无障碍考场座位", "no step-free seat"
	case adapted:
		p.Reason, p.ReasonZH, p.ReasonEN = ReasonNoAdapted, "所选志愿均无改装考试车（C5）", "no adapted vehicle"
	}
	return p
}

// hasSeat reports whether every slot of opt has a seat open to the lane:
// BK-COMBINED, both or neither. PL-RESERVE: a regular applicant may take
// only the seats beyond those still held for the lane.
func hasSeat(opt []int64, seats map[int64]*SlotSeats, lane bool) bool {
	for _, id := range opt {
		s := seats[id]
		open := s.Left
		if !lane {
			open -= s.ReserveLeft
		}
		if open <= 0 {
			return false
		}
	}
	return true
}
