package scheduling

import (
	"fmt"
	"slices"
	"time"
)

// BK-CAP: bookings of subject 2, and of subject 3, per learning permit.
const MaxBookingsPerSubject = 5

// BK-COOLDOWN: days between a failed booking and the next exam of that subject.
const CooldownDays = 10

// BK-PERMIT: a learning permit is valid for 3 years from issue.
const PermitYears = 3

// Priority-lane reasons and needs (PL-GRANT).
var (
	PriorityReasons = []string{"disability", "elderly", "pregnancy", "military_service", "school_term", "permit_expiring", "other"}
	PriorityNeeds   = []string{"step_free", "adapted_vehicle", "escort", "sign_language", "extra_time"}
)

// LicenceClass is a class of licence with its BK-WAIT waiting periods, from data.
type LicenceClass struct {
	Code                     string `db:"code"`
	Subject2WaitDays         int    `db:"subject2_wait_days"`
	Subject3WaitDays         int    `db:"subject3_wait_days"`
	Subject3WaitDaysLicensed *int   `db:"subject3_wait_days_licensed"`
}

// Grant is a priority-lane grant (PL-GRANT).
type Grant struct {
	Reason    string    `db:"reason" json:"reason"`
	Needs     []string  `db:"-" json:"needs"`
	Note      string    `db:"note" json:"note"`
	GrantedBy int64     `db:"granted_by" json:"granted_by"`
	GrantedAt time.Time `db:"granted_at" json:"granted_at"`
}

// Has reports whether the grant lists need; a nil grant has no needs.
func (g *Grant) Has(need string) bool {
	return g != nil && slices.Contains(g.Needs, need)
}

// Candidate is a person with a learning permit, as the booking rules see them.
type Candidate struct {
	ID               int64
	LicenceClass     LicenceClass
	PermitIssuedOn   time.Time
	PermitExpiresOn  time.Time
	Subject1PassedOn *time.Time
	HoldsCarLicence  bool
	// Priority is the active priority-lane grant, nil without one.
	Priority *Grant
	// HoldsPackage says the candidate holds a package grant in force
	// (BK-PACKAGE).
	HoldsPackage bool
	// History holds the candidate's bookings that were not cancelled.
	History []PastBooking
}

// Lane is the lane the candidate books in.
func (c Candidate) Lane() string {
	if c.Priority != nil {
		return LanePriority
	}
	return LaneRegular
}

// CheckBooking applies the eligibility rules of docs/DOMAIN.md §Booking and
// PL-ACCESS to one slot at now. Seats (PL-RESERVE) are checked by the
// booking transaction itself. It returns the first rule refused, or nil.
func CheckBooking(c Candidate, s Slot, now time.Time) error {
	return checkBooking(c, s, now, false)
}

// checkBooking is CheckBooking; roadTestsBooked says that subjects 2 and 3
// are booked for the slot's day in the same request (BK-PACKAGE), which
// BK-SUBJ1 takes as enough for subject 4.
func checkBooking(c Candidate, s Slot, now time.Time, roadTestsBooked bool) error {
	day := s.Day()
	// BK-WINDOW: the slot takes bookings between its opening and closing.
	if !s.Open(now) {
		return ErrBookingClosed
	}
	// BK-ORDER: the subjects come in either order, but always for the
	// candidate's own licence class.
	if s.LicenceClass != c.LicenceClass.Code {
		return ErrClassMismatch
	}
	if err := checkSubject(c, s.Subject, day, roadTestsBooked); err != nil {
		return err
	}
	// PL-ACCESS: step-free venues and adapted cars for those who need them.
	if c.Priority.Has("step_free") && !s.VenueStepFree {
		return ErrNotAccessible
	}
	if c.Priority.Has("adapted_vehicle") && !s.AdaptedVehicle {
		return ErrNotAccessible
	}
	return nil
}

// CheckSubject applies the rules of docs/DOMAIN.md §Booking that depend on
// the candidate, the subject and the exam day, not on a slot: whether the
// candidate may book subject for day. It returns the first rule refused,
// or nil. CheckBooking applies it to every slot; pages use it to tell which
// subjects can be booked now, and why not.
func CheckSubject(c Candidate, subject int, day time.Time) error {
	return checkSubject(c, subject, day, false)
}

func checkSubject(c Candidate, subject int, day time.Time, roadTestsBooked bool) error {
	// BK-PERMIT: the permit must still be valid on the exam day.
	if day.After(c.PermitExpiresOn) {
		return ErrPermitExpired
	}
	history := c.historyOnPermit()
	// BK-CAP: once the 5th booking of a road subject has ended failed, every
	// subject passed on this permit is void, subject 1 included: the permit
	// takes no more bookings, and the candidate starts again from subject 1.
	if permitSpent(history) {
		return ErrAttemptsExhausted
	}
	// BK-SUBJ1: every subject here needs subject 1, and subject 4 needs the road tests too.
	if c.Subject1PassedOn == nil || c.Subject1PassedOn.After(day) {
		return ErrSubject1Missing
	}
	// BK-PACKAGE: with the package, subject 4 is booked with the road tests
	// of its day, which must be passed before it is sat (else it is
	// released, exam's releasePackage).
	if subject == 4 && !roadTestsBooked && !(passed(history, 2) && passed(history, 3)) {
		return ErrRoadTestsMissing
	}
	// BK-WAIT: the first exam day comes a class-dependent number of days after the permit's issue.
	if daysBetween(c.PermitIssuedOn, day) < c.waitDays(subject) {
		return ErrWaitingPeriod
	}
	// BK-ONE: one active booking per subject; a passed subject is not booked again.
	for _, b := range history {
		if b.Subject == subject && b.Status == StatusConfirmed {
			return ErrAlreadyBooked
		}
	}
	if passed(history, subject) {
		return ErrAlreadyPassed
	}
	if subject == 2 || subject == 3 {
		// BK-CAP: at most 5 bookings of the subject per permit; a
		// cancellation in time does not count (cancelled bookings are not in
		// the history), a no-show does.
		n := 0
		var lastFail time.Time
		for _, b := range history {
			if b.Subject != subject {
				continue
			}
			n++
			if (b.Status == StatusFailed || b.Status == StatusNoShow) && b.ExamDay.After(lastFail) {
				lastFail = b.ExamDay
			}
		}
		if n >= MaxBookingsPerSubject {
			return ErrAttemptsExhausted
		}
		// BK-COOLDOWN: the next exam of a failed subject is at least 10 days later.
		if !lastFail.IsZero() && daysBetween(lastFail, day) < CooldownDays {
			return ErrCooldown
		}
	}
	return nil
}

// FirstBookableDay tells whether candidate c can book subject for an exam
// on some day from first to last (the days a booking page offers): it
// returns the first day CheckSubject accepts, or, when it accepts none,
// CheckSubject's refusal for first. Pages use it to offer only the subjects
// that can be booked now, and to say why the others cannot.
func FirstBookableDay(c Candidate, subject int, first, last time.Time) (time.Time, error) {
	var refused error
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		err := CheckSubject(c, subject, d)
		if err == nil {
			return d, nil
		}
		if refused == nil {
			refused = err
		}
	}
	if refused == nil {
		refused = ErrBookingClosed // no day at all
	}
	return time.Time{}, refused
}

// CheckCombined checks that two slots form a combined exam (BK-COMBINED):
// a subject 2 slot and a subject 3 slot of the same day, subject 2 ending
// no later than subject 3 starts. It returns them in that order.
func CheckCombined(a, b Slot) (Slot, Slot, error) {
	if a.Subject == 3 && b.Subject == 2 {
		a, b = b, a
	}
	if a.Subject != 2 || b.Subject != 3 || !a.Day().Equal(b.Day()) || a.EndsAt.After(b.StartsAt) {
		return a, b, ErrCombinedInvalid
	}
	return a, b, nil
}

// CheckPackage checks that slots form an all-subjects day (BK-PACKAGE,
// BK-COMBINED extended) for candidate c: c holds a package, and the slots
// are a subject 2, a subject 3 and a subject 4 slot of one day, each over
// no later than the next begins. Then each slot is judged by CheckBooking,
// subject 4 as if the road tests booked with it were passed (BK-SUBJ1
// accepts them passed earlier the same day). It returns the slots in
// subject order, or the first rule refused.
func CheckPackage(c Candidate, slots []Slot, now time.Time) ([]Slot, error) {
	if !c.HoldsPackage {
		return slots, ErrPackageRequired
	}
	ordered := slices.Clone(slots)
	slices.SortFunc(ordered, func(a, b Slot) int { return a.Subject - b.Subject })
	for i, sl := range ordered {
		if sl.Subject != i+2 || !sl.Day().Equal(ordered[0].Day()) {
			return slots, ErrPackageInvalid
		}
		if i > 0 && ordered[i-1].EndsAt.After(sl.StartsAt) {
			return slots, ErrPackageInvalid
		}
	}
	for _, sl := range ordered {
		if err := checkBooking(c, sl, now, true); err != nil {
			return ordered, fmt.Errorf("slot %d: %w", sl.ID, err)
		}
	}
	return ordered, nil
}

// CheckCancel applies BK-CANCEL: a candidate may cancel until the end of the
// day before the exam, staff at any time.
func CheckCancel(status string, examDay time.Time, byStaff bool, now time.Time) error {
	if status != StatusConfirmed {
		return ErrNotConfirmed
	}
	if !byStaff && !now.Before(CancelDeadline(examDay)) {
		return ErrCancelClosed
	}
	return nil
}

// historyOnPermit keeps the bookings made under the current learning permit.
func (c Candidate) historyOnPermit() []PastBooking {
	var h []PastBooking
	for _, b := range c.History {
		if !b.ExamDay.Before(c.PermitIssuedOn) {
			h = append(h, b)
		}
	}
	return h
}

// waitDays is BK-WAIT's waiting period for subject under the candidate's class.
func (c Candidate) waitDays(subject int) int {
	lc := c.LicenceClass
	switch subject {
	case 2:
		return lc.Subject2WaitDays
	case 3:
		if c.HoldsCarLicence && lc.Subject3WaitDaysLicensed != nil {
			return *lc.Subject3WaitDaysLicensed
		}
		return lc.Subject3WaitDays
	}
	return 0
}

// passed reports whether subject is passed on the permit.
func passed(history []PastBooking, subject int) bool {
	for _, b := range history {
		if b.Subject == subject && b.Status == StatusPassed {
			return true
		}
	}
	return false
}

// permitLapsed reports whether, at today, the permit has run out before
// both road subjects were passed on it (BK-PERMIT): whatever was passed is
// void and the candidate begins again at subject 1. The permit is valid
// through its expiry day, so a road test passed on that day counts.
func (c Candidate) permitLapsed(history []PastBooking, today time.Time) bool {
	if !today.After(c.PermitExpiresOn) {
		return false
	}
	return !passedBy(history, 2, c.PermitExpiresOn) || !passedBy(history, 3, c.PermitExpiresOn)
}

// passedBy reports whether subject was passed on an exam day no later than
// last.
func passedBy(history []PastBooking, subject int, last time.Time) bool {
	for _, b := range history {
		if b.Subject == subject && b.Status == StatusPassed && !b.ExamDay.After(last) {
			return true
		}
	}
	return false
}

// permitSpent reports whether the 5th booking of subject 2 or of subject 3
// has ended failed (a no-show counts, BK-NOSHOW).
func permitSpent(history []PastBooking) bool {
	failed := map[int]int{}
	for _, b := range history {
		if b.Status == StatusFailed || b.Status == StatusNoShow {
			failed[b.Subject]++
		}
	}
	return failed[2] >= MaxBookingsPerSubject || failed[3] >= MaxBookingsPerSubject
}
