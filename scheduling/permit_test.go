package scheduling_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"examd/scheduling"
)

// TestJourneyPermitExpiry (BK-PERMIT): a permit that runs out before both
// road subjects are passed voids whatever was passed, and the candidate
// begins again at subject 1; once both road tests were passed by the expiry
// day, nothing is void. The second road test is passed on secondRoad; the
// permit is valid through its expiry day.
func TestJourneyPermitExpiry(t *testing.T) {
	const secondRoad = "2029-07-10"
	at := func(day string) time.Time { return scheduling.StartOfDay(date(t, day)).Add(10 * time.Hour) }
	permit := func(expires string, history ...scheduling.PastBooking) scheduling.Candidate {
		s1 := date(t, "2026-08-01")
		return scheduling.Candidate{
			LicenceClass: classC1, PermitIssuedOn: date(t, "2026-08-02"), PermitExpiresOn: date(t, expires),
			Subject1PassedOn: &s1, History: history,
		}
	}
	past := func(subject int, status, day string) scheduling.PastBooking {
		return scheduling.PastBooking{Subject: subject, Status: status, ExamDay: date(t, day)}
	}
	road2 := past(2, "passed", "2027-01-10")
	tests := []struct {
		name   string
		c      scheduling.Candidate
		now    time.Time
		states string // subjects 1..4
		next   string
		lapsed bool
	}{
		// One road test passed, the other not.
		{"OneRoadPassed/OnExpiryDay", permit("2029-08-02", road2, past(3, "failed", "2029-07-01")), at("2029-08-02"),
			"passed passed failed not_yet", "book_subject3", false},
		{"OneRoadPassed/DayAfterExpiry", permit("2029-08-02", road2, past(3, "failed", "2029-07-01")), at("2029-08-03"),
			"void void failed not_yet", "permit_expired", true},
		{"NothingPassed/DayAfterExpiry", permit("2029-08-02"), at("2029-08-03"),
			"void not_yet not_yet not_yet", "permit_expired", true},
		// The second road test passed on secondRoad; the permit expires the
		// day before, the same day, the day after.
		{"ExpiresDayBefore", permit("2029-07-09", road2, past(3, "passed", secondRoad)), at("2029-07-11"),
			"void void void not_yet", "permit_expired", true},
		{"ExpiresSameDay", permit(secondRoad, road2, past(3, "passed", secondRoad)), at("2029-07-11"),
			"passed passed passed not_yet", "permit_expired_road_passed", false},
		{"ExpiresSameDay/Subject4SameDay", permit(secondRoad, road2, past(3, "passed", secondRoad), past(4, "passed", secondRoad)), at("2029-07-11"),
			"passed passed passed passed", "issuance", false},
		{"ExpiresDayAfter", permit("2029-07-11", road2, past(3, "passed", secondRoad)), at("2029-07-12"),
			"passed passed passed not_yet", "permit_expired_road_passed", false},
		{"ExpiresDayAfter/StillValid", permit("2029-07-11", road2, past(3, "passed", secondRoad)), at("2029-07-11"),
			"passed passed passed not_yet", "book_subject4", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := scheduling.JourneyOf(tt.c, tt.now)
			var states []string
			for _, s := range j.Subjects {
				states = append(states, s.State)
			}
			if got := strings.Join(states, " "); got != tt.states || j.Next.Code != tt.next || j.PermitLapsed != tt.lapsed {
				t.Errorf("states %s, next %s, lapsed %v; want %s, %s, %v", got, j.Next.Code, j.PermitLapsed, tt.states, tt.next, tt.lapsed)
			}
			if j.Next.TextZh == "" || j.Next.TextEn == "" {
				t.Errorf("next step without its texts: %+v", j.Next)
			}
		})
	}
}

// TestCheckBookingPermitExpiry (BK-PERMIT): a slot is booked only for a day
// on which the permit is still valid, subject 4 after the road tests
// included: the exam on the expiry day is allowed, the day after refused.
func TestCheckBookingPermitExpiry(t *testing.T) {
	expires := func(day string, history ...scheduling.PastBooking) func(*scheduling.Candidate) {
		return func(c *scheduling.Candidate) { c.PermitExpiresOn, c.History = date(t, day), history }
	}
	roads := []scheduling.PastBooking{
		{Subject: 2, Status: "passed", ExamDay: date(t, "2026-11-20")},
		{Subject: 3, Status: "passed", ExamDay: date(t, "2026-11-25")},
	}
	tests := []struct {
		name    string
		subject int
		opt     func(*scheduling.Candidate)
		want    error
	}{
		{"Subject3/ExpiresDayBefore", 3, expires("2026-12-09"), scheduling.ErrPermitExpired},
		{"Subject3/ExpiresExamDay", 3, expires(examDay), nil},
		{"Subject3/ExpiresDayAfter", 3, expires("2026-12-11"), nil},
		{"Subject4/ExpiresDayBefore", 4, expires("2026-12-09", roads...), scheduling.ErrPermitExpired},
		{"Subject4/ExpiresExamDay", 4, expires(examDay, roads...), nil},
		{"Subject4/ExpiresDayAfter", 4, expires("2026-12-11", roads...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := scheduling.CheckBooking(candidate(t, tt.opt), slot(t, tt.subject, "C1"), now)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}
