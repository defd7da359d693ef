package scheduling

import "time"

// Subject states on a candidate's journey.
const (
	SubjectNotYet = "not_yet"
	SubjectBooked = "booked"
	SubjectPassed = "passed"
	SubjectFailed = "failed"
	// SubjectVoid is a subject passed on a permit that BK-CAP has spent, or
	// that ran out before both road subjects were passed (BK-PERMIT): the
	// pass no longer counts, and the candidate starts again.
	SubjectVoid = "void"
)

// SubjectState is where a candidate stands on one subject of their permit.
type SubjectState struct {
	Subject int    `json:"subject"`
	State   string `json:"state"`
	// Date is the day of the exam booked, passed or failed.
	Date string `json:"date,omitempty"`
	// CooldownUntil is the first day a failed road subject may be sat again
	// (BK-COOLDOWN), while it lies ahead.
	CooldownUntil string `json:"cooldown_until,omitempty"`
	// BookingsUsed counts the bookings that count under BK-CAP (subjects 2
	// and 3), of BookingsCap.
	BookingsUsed int `json:"bookings_used"`
	BookingsCap  int `json:"bookings_cap,omitempty"`
}

// NextStep is what the candidate should do next, in both languages.
type NextStep struct {
	Code   string `json:"code"`
	TextZh string `json:"text_zh"`
	TextEn string `json:"text_en"`
}

// Journey is a candidate's path from the learning permit to the licence,
// as the booking rules see it.
type Journey struct {
	LicenceClass    string `json:"licence_class"`
	PermitExpiresOn string `json:"permit_expires_on"`
	PermitSpent     bool   `json:"permit_spent"`
	// PermitLapsed: the permit ran out before both road subjects were
	// passed (BK-PERMIT), so whatever was passed is void.
	PermitLapsed bool           `json:"permit_lapsed"`
	Subjects     []SubjectState `json:"subjects"`
	Next         NextStep       `json:"next"`
}

// JourneyOf tells where candidate c stands at now: each subject's state on
// the current permit, and the next step.
func JourneyOf(c Candidate, now time.Time) Journey {
	today := Day(now)
	history := c.historyOnPermit()
	j := Journey{
		LicenceClass:    c.LicenceClass.Code,
		PermitExpiresOn: c.PermitExpiresOn.Format(time.DateOnly),
		PermitSpent:     permitSpent(history),
		PermitLapsed:    c.permitLapsed(history, today),
	}
	s1 := SubjectState{Subject: 1, State: SubjectNotYet}
	if c.Subject1PassedOn != nil {
		s1.State, s1.Date = SubjectPassed, c.Subject1PassedOn.Format(time.DateOnly)
	}
	j.Subjects = append(j.Subjects, s1)
	for subject := 2; subject <= 4; subject++ {
		j.Subjects = append(j.Subjects, subjectState(history, subject, today))
	}
	if j.PermitSpent || j.PermitLapsed {
		// BK-CAP, BK-PERMIT: every subject already passed is void.
		for i := range j.Subjects {
			if j.Subjects[i].State == SubjectPassed {
				j.Subjects[i].State = SubjectVoid
			}
		}
	}
	j.Next = nextStep(j, today, c.PermitExpiresOn)
	return j
}

// subjectState sums up the permit's bookings of subject.
func subjectState(history []PastBooking, subject int, today time.Time) SubjectState {
	s := SubjectState{Subject: subject, State: SubjectNotYet}
	if subject == 2 || subject == 3 {
		s.BookingsCap = MaxBookingsPerSubject
	}
	var latest time.Time
	for _, b := range history {
		if b.Subject != subject {
			continue
		}
		s.BookingsUsed++
		state := SubjectFailed
		switch b.Status {
		case StatusPassed:
			state = SubjectPassed
		case StatusConfirmed:
			state = SubjectBooked
		}
		// A pass stands; otherwise the latest booking tells.
		if s.State == SubjectPassed || state != SubjectPassed && b.ExamDay.Before(latest) {
			continue
		}
		s.State, latest = state, b.ExamDay
		s.Date = b.ExamDay.Format(time.DateOnly)
	}
	if s.State == SubjectFailed && (subject == 2 || subject == 3) {
		if until := latest.AddDate(0, 0, CooldownDays); until.After(today) {
			s.CooldownUntil = until.Format(time.DateOnly)
		}
	}
	if s.BookingsCap == 0 {
		s.BookingsUsed = 0
	}
	return s
}

// nextStep is the first thing left to do on the journey.
func nextStep(j Journey, today, permitExpires time.Time) NextStep {
	state := func(subject int) SubjectState { return j.Subjects[subject-1] }
	switch {
	case j.PermitSpent:
		return NextStep{"permit_spent", "科目考试预约次数已用完，已通过的科目成绩作废，请重新申请驾驶证（从科目一开始）",
			"The bookings of a road test are used up and the subjects passed are void: apply again, starting with subject 1"}
	case j.PermitLapsed:
		return NextStep{"permit_expired", "学习驾驶证明已过期，科目二、科目三未全部通过，已通过的科目成绩作废，请重新申请驾驶证（从科目一开始）",
			"Your learning permit expired before subjects 2 and 3 were both passed, so the subjects passed are void: apply again, starting with subject 1"}
	case state(1).State != SubjectPassed:
		return NextStep{"subject1", "请先参加并通过科目一考试", "Sit and pass subject 1 first"}
	}
	for _, s := range j.Subjects[1:] {
		if s.State == SubjectBooked {
			return NextStep{"attend", "请按时参加" + s.Date + weekdayZh(s.Date) + "的科目" + subjectZh(s.Subject) + "考试，携带下列材料",
				"Attend your subject " + subjectEn(s.Subject) + " exam on " + s.Date + weekdayEn(s.Date) + " with the papers listed"}
		}
	}
	s2, s3 := state(2), state(3)
	switch {
	case s2.State != SubjectPassed && s3.State != SubjectPassed:
		return bookStep("book_road_tests", "请预约科目二、科目三考试（可预约二三联考，同日完成）",
			"Book subjects 2 and 3 (the combined exam does both on one day)", s2, s3)
	case s2.State != SubjectPassed:
		return bookStep("book_subject2", "请预约科目二考试", "Book subject 2", s2)
	case s3.State != SubjectPassed:
		return bookStep("book_subject3", "请预约科目三考试", "Book subject 3", s3)
	case state(4).State != SubjectPassed && today.After(permitExpires):
		// BK-PERMIT: the road tests stand, but no slot can be booked on an
		// expired permit, subject 4 included.
		return NextStep{"permit_expired_road_passed", "学习驾驶证明已过期：科目二、科目三成绩有效，但无法再预约科目四考试，请到车管所窗口咨询",
			"Your learning permit has expired: subjects 2 and 3 stand, but subject 4 can no longer be booked; ask at the office"}
	case state(4).State != SubjectPassed:
		return NextStep{"book_subject4", "请预约科目四（安全文明驾驶常识）考试", "Book subject 4 (safety and civility theory)"}
	}
	return NextStep{"issuance", "全部科目已通过：请在各科成绩单上签字，到制证窗口取号领证（当日可领）",
		"Every subject is passed: sign every score sheet, then take a ticket at the issuing desk (same day)"}
}

// bookStep is a booking step, naming the cool-down of a failed subject.
func bookStep(code, zh, en string, subjects ...SubjectState) NextStep {
	for _, s := range subjects {
		if s.CooldownUntil != "" {
			zh += "（科目" + subjectZh(s.Subject) + "最早可约 " + s.CooldownUntil + weekdayZh(s.CooldownUntil) + " 的考试）"
			en += " (subject " + subjectEn(s.Subject) + " from " + s.CooldownUntil + weekdayEn(s.CooldownUntil) + ")"
		}
	}
	return NextStep{code, zh, en}
}

// weekdayZh is the weekday of a day written YYYY-MM-DD, as "（星期三）"
// ("" for a day it cannot read): dates shown to candidates carry it.
func weekdayZh(day string) string {
	d, err := ParseDate(day)
	if err != nil {
		return ""
	}
	return "（" + [...]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}[d.Weekday()] + "）"
}

// weekdayEn is weekdayZh in English, as " (Wed)".
func weekdayEn(day string) string {
	d, err := ParseDate(day)
	if err != nil {
		return ""
	}
	return " (" + d.Weekday().String()[:3] + ")"
}

func subjectZh(n int) string { return SubjectZh(n) }

// SubjectZh is subject n's number as Chinese writes it ("二" for 科目二).
func SubjectZh(n int) string { return [...]string{"", "一", "二", "三", "四"}[n] }
func subjectEn(n int) string { return [...]string{"", "1", "2", "3", "4"}[n] }
