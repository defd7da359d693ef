package scheduling

import (
	"fmt"
	"slices"
	"time"

	"examd/internal/refusal"
)

// Refusals of applications to ranked slots (RA-*). Each code means one condition.
var (
	// ErrRankedSlot says that a slot allocates by ranking: a booking request
	// for it is recorded as an application (the API does so).
	ErrRankedSlot = refusal.New("ranked_slot", "该场次按排序分配，请提交预约申请")
	// ErrNotRanked refuses an application option that is an instant slot.
	ErrNotRanked = refusal.New("not_ranked", "所选场次不接受预约申请，请直接预约")
	// ErrPreferenceMismatch refuses options that are not all of the same
	// subject(s): one subject, or every option a subject 2 + 3 pair.
	ErrPreferenceMismatch = refusal.New("preference_mismatch", "各志愿须为同一科目的场次（联考须每个志愿都是同一天的科目二和科目三场次）")
	// ErrAlreadyApplied refuses a second live application of a subject.
	ErrAlreadyApplied = refusal.New("already_applied", "该科目已有待分配的预约申请")
	// ErrApplicationClosed refuses to withdraw an application once the
	// window of one of its slots has closed or the slot was allocated.
	ErrApplicationClosed = refusal.New("application_closed", "申请受理时间已结束，不能再撤回")
	// ErrNotApplied refuses to withdraw an application already withdrawn or decided.
	ErrNotApplied = refusal.New("not_applied", "该申请已撤回或已分配，不能再撤回")
	// ErrAlreadyAllocated refuses to allocate a slot allocated before.
	ErrAlreadyAllocated = refusal.New("already_allocated", "该场次已完成分配")
)

// Application statuses besides StatusApplied, StatusConfirmed and StatusNotAllocated.
const StatusWithdrawn = "withdrawn"

// ApplyRequest asks for a seat in ranked slots: up to MaxPreferences
// options, best first, each one slot or a subject 2 and a subject 3 slot of
// one day (a combined application).
type ApplyRequest struct {
	CandidateID int64
	Preferences [][]int64
	// By is the user applying: the candidate or a scheduler.
	By int64
}

// Validate checks the request's shape; the slots are judged by the store.
func (r ApplyRequest) Validate() error {
	if r.CandidateID <= 0 {
		return invalid("candidate_id", "required: the candidate to apply for")
	}
	if len(r.Preferences) < 1 || len(r.Preferences) > MaxPreferences {
		return invalid("preferences", "1 to 3 options, best first")
	}
	seen := map[int64]bool{}
	for _, opt := range r.Preferences {
		if len(opt) != len(r.Preferences[0]) || len(opt) < 1 || len(opt) > 2 {
			return invalid("preferences", "each option one slot, or every option a subject 2 and a subject 3 slot")
		}
		for _, id := range opt {
			if id <= 0 {
				return invalid("preferences", "positive slot ids")
			}
			if seen[id] {
				return invalid("preferences", "a slot appears once")
			}
			seen[id] = true
		}
	}
	return nil
}

// slotIDs returns every slot of r, in order.
func (r ApplyRequest) slotIDs() []int64 {
	var ids []int64
	for _, opt := range r.Preferences {
		ids = append(ids, opt...)
	}
	return ids
}

// ApplicationView is an application as the API and the pages show it.
type ApplicationView struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"` // always "application"
	CandidateID int64     `json:"candidate_id"`
	Subjects    []int     `json:"subjects"`
	Status      string    `json:"status"`
	Preferences [][]int64 `json:"preferences"`
	SortTime    time.Time `json:"sort_time"`
	CreatedAt   time.Time `json:"created_at"`
	// Set once allocated.
	Rank       *int       `json:"rank,omitempty"`
	Basis      *string    `json:"basis,omitempty"`
	Preference *int       `json:"preference,omitempty"`
	Reason     *string    `json:"reason,omitempty"`
	ReasonZH   string     `json:"reason_zh,omitempty"`
	ReasonEN   string     `json:"reason_en,omitempty"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	// ClosesAt is when the earliest window of its slots closes: the last
	// moment to withdraw.
	ClosesAt time.Time `json:"closes_at"`
}

// eligibilityWords are the eligibility refusals that can end an application
// not_allocated at allocation, in English (Chinese: the refusal's message).
var eligibilityWords = map[string]string{
	ErrAlreadyBooked.Code:     "already booked this subject in another slot",
	ErrAlreadyPassed.Code:     "subject already passed",
	ErrAttemptsExhausted.Code: "five bookings of the subject used on this permit",
	ErrCooldown.Code:          "less than 10 days since a failed exam",
	ErrWaitingPeriod.Code:     "waiting period since the permit not over",
	ErrPermitExpired.Code:     "permit expired on the exam day",
	ErrSubject1Missing.Code:   "subject 1 not passed",
	ErrRoadTestsMissing.Code:  "subjects 2 and 3 not passed",
	ErrClassMismatch.Code:     "not the candidate's licence class",
	ErrBookingClosed.Code:     "the slot no longer takes applications",
	ErrNotAccessible.Code:     "the slot lacks the access the candidate needs",
	ErrCombinedInvalid.Code:   "not a valid combined pair",
}

var eligibilityRefusals = []*refusal.Error{ErrAlreadyBooked, ErrAlreadyPassed, ErrAttemptsExhausted,
	ErrCooldown, ErrWaitingPeriod, ErrPermitExpired, ErrSubject1Missing, ErrRoadTestsMissing,
	ErrClassMismatch, ErrBookingClosed, ErrNotAccessible, ErrCombinedInvalid}

// ReasonWords says a decided application's reason code in Chinese and
// English; preference is the option placed (from 1) for "allocated".
func ReasonWords(code string, preference int) (zh, en string) {
	switch code {
	case ReasonAllocated:
		return fmt.Sprintf("已按第%d志愿分配", preference), fmt.Sprintf("allocated to preference %d", preference)
	case ReasonPreferencesFull:
		return "所选志愿均已满额", "all preferences full"
	case ReasonNoStepFree:
		return "所选志愿均无无障碍考场座位", "no step-free seat"
	case ReasonNoAdapted:
		return "所选志愿均无改装考试车（C5）", "no adapted vehicle"
	}
	i := slices.IndexFunc(eligibilityRefusals, func(r *refusal.Error) bool { return r.Code == code })
	if i < 0 {
		return code, code
	}
	return "不符合预约条件：" + eligibilityRefusals[i].Message, "not eligible: " + eligibilityWords[code]
}

// recheck applies the eligibility rules again at allocation (docs/DOMAIN.md
// §Booking, as CheckBooking without the window, which has closed): it keeps
// the options c may still have, and returns the first refusal's code when
// none is left. slots holds the round's slots; an option with a slot outside
// the round is kept out as closed.
func recheck(c Candidate, prefs [][]int64, slots map[int64]*Slot) ([][]int64, []int, string) {
	var kept [][]int64
	var numbers []int // each kept option's preference number, from 1
	refused := ""
	for i, opt := range prefs {
		err := eligibleAtAllocation(c, opt, slots)
		if err == nil {
			kept = append(kept, opt)
			numbers = append(numbers, i+1)
			continue
		}
		if r, ok := refusal.As(err); ok && refused == "" {
			refused = r.Code
		}
	}
	if len(kept) == 0 && refused == "" {
		refused = ErrBookingClosed.Code
	}
	return kept, numbers, refused
}

func eligibleAtAllocation(c Candidate, opt []int64, slots map[int64]*Slot) error {
	for _, id := range opt {
		if slots[id] == nil {
			return ErrBookingClosed
		}
	}
	if len(opt) == 2 {
		if _, _, err := CheckCombined(*slots[opt[0]], *slots[opt[1]]); err != nil {
			return err
		}
	}
	for _, id := range opt {
		s := slots[id]
		if s.LicenceClass != c.LicenceClass.Code {
			return ErrClassMismatch
		}
		if err := CheckSubject(c, s.Subject, s.Day()); err != nil {
			return err
		}
	}
	return nil
}
