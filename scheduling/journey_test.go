package scheduling_test

import (
	"strings"
	"testing"

	"examd/scheduling"
)

func TestJourneyOf(t *testing.T) {
	permit := func(history ...scheduling.PastBooking) scheduling.Candidate {
		s1 := date(t, "2026-08-01")
		return scheduling.Candidate{
			LicenceClass: classC1, PermitIssuedOn: date(t, "2026-08-02"), PermitExpiresOn: date(t, "2029-08-02"),
			Subject1PassedOn: &s1, History: history,
		}
	}
	past := func(subject int, status, day string) scheduling.PastBooking {
		return scheduling.PastBooking{Subject: subject, Status: status, ExamDay: date(t, day)}
	}
	tests := []struct {
		name     string
		c        scheduling.Candidate
		next     string
		states   string // subjects 1..4
		subject2 scheduling.SubjectState
	}{
		{"Fresh", permit(), "book_road_tests", "passed not_yet not_yet not_yet",
			scheduling.SubjectState{Subject: 2, State: "not_yet", BookingsCap: 5}},
		{"Subject1Missing", scheduling.Candidate{LicenceClass: classC1, PermitIssuedOn: date(t, "2026-08-02"), PermitExpiresOn: date(t, "2029-08-02")},
			"subject1", "not_yet not_yet not_yet not_yet", scheduling.SubjectState{Subject: 2, State: "not_yet", BookingsCap: 5}},
		{"FailedInCooldown", permit(past(2, "failed", "2026-11-25"), past(2, "no_show", "2026-11-10")), "book_road_tests",
			"passed failed not_yet not_yet",
			scheduling.SubjectState{Subject: 2, State: "failed", Date: "2026-11-25", CooldownUntil: "2026-12-05", BookingsUsed: 2, BookingsCap: 5}},
		{"FailedThenBooked", permit(past(2, "failed", "2026-11-10"), past(2, "confirmed", "2026-12-03")), "attend",
			"passed booked not_yet not_yet",
			scheduling.SubjectState{Subject: 2, State: "booked", Date: "2026-12-03", BookingsUsed: 2, BookingsCap: 5}},
		{"PassedStands", permit(past(2, "failed", "2026-11-10"), past(2, "passed", "2026-11-21"), past(3, "passed", "2026-11-21")),
			"book_subject4", "passed passed passed not_yet",
			scheduling.SubjectState{Subject: 2, State: "passed", Date: "2026-11-21", BookingsUsed: 2, BookingsCap: 5}},
		{"AllPassed", permit(past(2, "passed", "2026-11-21"), past(3, "passed", "2026-11-21"), past(4, "passed", "2026-11-30")),
			"issuance", "passed passed passed passed",
			scheduling.SubjectState{Subject: 2, State: "passed", Date: "2026-11-21", BookingsUsed: 1, BookingsCap: 5}},
		{"PermitSpent", permit(past(3, "passed", "2026-09-01"), past(2, "failed", "2026-09-01"), past(2, "failed", "2026-09-20"),
			past(2, "failed", "2026-10-01"), past(2, "no_show", "2026-10-20"), past(2, "failed", "2026-11-01")),
			"permit_spent", "void failed void not_yet",
			scheduling.SubjectState{Subject: 2, State: "failed", Date: "2026-11-01", BookingsUsed: 5, BookingsCap: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := scheduling.JourneyOf(tt.c, now)
			var states string
			for i, s := range j.Subjects {
				if i > 0 {
					states += " "
				}
				states += s.State
			}
			if j.Next.Code != tt.next || states != tt.states || j.Subjects[1] != tt.subject2 {
				t.Errorf("next %s, states %s, subject 2 %+v; want %s, %s, %+v", j.Next.Code, states, j.Subjects[1], tt.next, tt.states, tt.subject2)
			}
			if j.Next.TextZh == "" || j.Next.TextEn == "" {
				t.Errorf("next step without its texts: %+v", j.Next)
			}
			// A day in the next step is said with its weekday.
			if d := j.Subjects[1].Date; j.Next.Code == "attend" && (!strings.Contains(j.Next.TextZh, d+"（星期") || !strings.Contains(j.Next.TextEn, d+" (")) {
				t.Errorf("next step %q / %q: want %s with its weekday", j.Next.TextZh, j.Next.TextEn, d)
			}
		})
	}
}
