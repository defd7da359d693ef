package exam

import (
	"slices"
	"strings"
)

// Attempt statuses.
const (
	InProgress = "in_progress"
	Passed     = "passed"
	Failed     = "failed"
)

// FailOutright is the points of a rule that fails the attempt at once (不合格).
const FailOutright = 100

// Rule is one entry of the deduction catalogue (SC-RULES).
type Rule struct {
	Code       string `db:"code" json:"code"`
	Subject    *int   `db:"subject" json:"subject"` // nil: a general rule for every subject
	Item       string `db:"item" json:"item"`
	TextZh     string `db:"text_zh" json:"text_zh"`
	TextEn     string `db:"text_en" json:"text_en"`
	Points     int    `db:"points" json:"points"`
	Repeatable bool   `db:"repeatable" json:"repeatable"`
}

// AppliesTo reports whether the rule can be applied in an exam of subject.
func (r Rule) AppliesTo(subject int) bool { return r.Subject == nil || *r.Subject == subject }

// Score is the running state of an attempt that scoring changes.
type Score struct {
	Points   int    // what is left of 100 (SC-SCALE)
	PassMark int    // SC-PASS
	Status   string // in_progress, passed or failed
}

// NewScore starts an attempt at 100.
func NewScore(passMark int) Score {
	return Score{Points: FullScore, PassMark: passMark, Status: InProgress}
}

// Deduct applies rule r and returns the points it took. A once-only rule
// already deducted in this attempt is recorded by the caller but deducts
// nothing. SC-END: a fail-outright rule, or a score below the pass mark,
// ends the attempt as failed at once.
func (s *Score) Deduct(r Rule, deductedBefore bool) int {
	points := r.Points
	if deductedBefore && !r.Repeatable {
		points = 0
	}
	s.Points = max(0, s.Points-points)
	if points >= FailOutright || s.Points < s.PassMark {
		s.Status = Failed
	}
	return points
}

// Finish ends an attempt that reached its end: passed at or above the mark.
func (s *Score) Finish() {
	if s.Status != InProgress {
		return
	}
	s.Status = Passed
	if s.Points < s.PassMark {
		s.Status = Failed
	}
}

// Theory scores a subject 4 result from the theory terminal.
func Theory(points int) Score {
	s := Score{Points: points, PassMark: PassMark(4, ""), Status: InProgress}
	s.Finish()
	return s
}

// SC-ITEMS: the items of subject 2 by class and of subject 3.
var (
	subject2C1    = []string{"reverse_parking", "hill_start", "parallel_parking", "curve_driving", "right_angle_turn"}
	subject2Items = map[string][]string{
		"C1": subject2C1,
		// C2 and C5 drive the same course without the hill start.
		"C2": {"reverse_parking", "parallel_parking", "curve_driving", "right_angle_turn"},
		"C5": {"reverse_parking", "parallel_parking", "curve_driving", "right_angle_turn"},
	}
	subject3Items = []string{"vehicle_check", "start", "straight_driving", "gear_change", "lane_change", "pull_over",
		"intersection_straight", "left_turn", "right_turn", "crosswalk", "school_zone", "bus_stop",
		"meeting", "overtaking", "u_turn", "night_driving", "lights_simulation"}
)

// Items lists the exam items of a subject for a licence class. Classes
// whose subject 2 course docs/DOMAIN.md does not list get the C1 course.
func Items(subject int, class string) []string {
	switch subject {
	case 2:
		if items, ok := subject2Items[class]; ok {
			return items
		}
		return subject2C1
	case 3:
		return subject3Items
	}
	return nil
}

// ValidItem reports whether item belongs to the subject's exam for class.
func ValidItem(subject int, class, item string) bool {
	return slices.Contains(Items(subject, class), item)
}

// RuleFitsExam reports whether a rule's item is part of the exam: a C2
// candidate drives no hill start, so HS rules cannot apply to them.
func RuleFitsExam(r Rule, subject int, class string) bool {
	if r.Item == "any" {
		return true
	}
	for _, item := range strings.Split(r.Item, ",") {
		if ValidItem(subject, class, item) {
			return true
		}
	}
	return false
}
