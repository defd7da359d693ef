package scheduling_test

import (
	"errors"
	"testing"
	"time"

	"examd/internal/refusal"
	"examd/scheduling"
)

// now is the clock of every test: a morning at the exam hall.
var now = time.Date(2026, 12, 1, 9, 0, 0, 0, scheduling.Shanghai)

// Licence classes with their BK-WAIT periods, as the data seeds them.
var (
	classC1 = scheduling.LicenceClass{Code: "C1", Subject2WaitDays: 10, Subject3WaitDays: 30}
	classC2 = scheduling.LicenceClass{Code: "C2", Subject2WaitDays: 10, Subject3WaitDays: 20}
	classC5 = scheduling.LicenceClass{Code: "C5", Subject2WaitDays: 10, Subject3WaitDays: 20}
	classB2 = scheduling.LicenceClass{Code: "B2", Subject2WaitDays: 20, Subject3WaitDays: 40, Subject3WaitDaysLicensed: intPtr(30)}
)

// examDay is the day of the slots that slot builds.
const examDay = "2026-12-10"

func intPtr(n int) *int { return &n }

// date parses a calendar day (YYYY-MM-DD) the way the store returns it.
func date(tb testing.TB, s string) time.Time {
	tb.Helper()
	d, err := scheduling.ParseDate(s)
	if err != nil {
		tb.Fatalf("date %q: %v", s, err)
	}
	return d
}

// instant parses an RFC 3339 time.
func instant(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("instant %q: %v", s, err)
	}
	return t
}

// candidate returns a C1 candidate who may book a subject 2 slot on examDay
// at now (permit issued 2026-06-01, subject 1 passed, no history), changed by opts.
func candidate(tb testing.TB, opts ...func(*scheduling.Candidate)) scheduling.Candidate {
	tb.Helper()
	subject1 := date(tb, "2026-05-20")
	c := scheduling.Candidate{
		ID:               1,
		LicenceClass:     classC1,
		PermitIssuedOn:   date(tb, "2026-06-01"),
		PermitExpiresOn:  date(tb, "2029-05-31"),
		Subject1PassedOn: &subject1,
	}
	for _, opt := range opts {
		opt(&c)
	}
	return c
}

// slot returns a slot of subject and class on examDay, open for booking at
// now: subjects 2 and 3 from 08:30 to 11:30, subject 4 from 14:00 to 15:00,
// with the default closing of BK-WINDOW. opts change it.
func slot(tb testing.TB, subject int, class string, opts ...func(*scheduling.Slot)) scheduling.Slot {
	tb.Helper()
	midnight := scheduling.StartOfDay(date(tb, examDay))
	s := scheduling.Slot{
		ID:               int64(subject),
		VenueID:          1,
		Subject:          subject,
		LicenceClass:     class,
		StartsAt:         midnight.Add(8*time.Hour + 30*time.Minute),
		EndsAt:           midnight.Add(11*time.Hour + 30*time.Minute),
		Capacity:         10,
		BookingOpensAt:   instant(tb, "2026-11-20T00:00:00+08:00"),
		BookingClosesAt:  midnight,
		ReserveReleaseAt: midnight.Add(8*time.Hour + 30*time.Minute - 24*time.Hour),
	}
	if subject == 4 {
		s.StartsAt = midnight.Add(14 * time.Hour)
		s.EndsAt = midnight.Add(15 * time.Hour)
		s.BookingClosesAt = s.StartsAt
	}
	for _, opt := range opts {
		opt(&s)
	}
	return s
}

// wantRule fails unless got is the sentinel want (nil for no error) and
// carries the API code.
func wantRule(tb testing.TB, got, want error, code string) {
	tb.Helper()
	if want == nil {
		if got != nil {
			tb.Fatalf("got %v, want nil", got)
		}
		return
	}
	if !errors.Is(got, want) {
		tb.Fatalf("got %v, want %v", got, want)
	}
	re, ok := refusal.As(got)
	if !ok {
		tb.Fatalf("got %T, want *refusal.Error", got)
	}
	if re.Code != code {
		tb.Errorf("code: got %q, want %q", re.Code, code)
	}
}

func TestCheckBooking(t *testing.T) {
	day := func(s string) time.Time { return date(t, s) }
	past := func(subject int, status, d string) scheduling.PastBooking {
		return scheduling.PastBooking{Subject: subject, Status: status, ExamDay: day(d)}
	}
	history := func(bs ...scheduling.PastBooking) func(*scheduling.Candidate) {
		return func(c *scheduling.Candidate) { c.History = bs }
	}
	// class sets the licence class and a permit issued n days before examDay.
	class := func(lc scheduling.LicenceClass, n int) func(*scheduling.Candidate) {
		return func(c *scheduling.Candidate) {
			c.LicenceClass = lc
			c.PermitIssuedOn = day(examDay).AddDate(0, 0, -n)
		}
	}
	licensed := func(c *scheduling.Candidate) { c.HoldsCarLicence = true }
	grant := func(needs ...string) func(*scheduling.Candidate) {
		return func(c *scheduling.Candidate) {
			c.Priority = &scheduling.Grant{Reason: "disability", Needs: needs, GrantedBy: 7, GrantedAt: now}
		}
	}
	stepFree := func(s *scheduling.Slot) { s.VenueStepFree = true }
	adapted := func(s *scheduling.Slot) { s.AdaptedVehicle = true }
	roadPassed := history(past(2, scheduling.StatusPassed, "2026-11-02"), past(3, scheduling.StatusPassed, "2026-11-20"))
	const (
		failed = scheduling.StatusFailed
		noShow = scheduling.StatusNoShow
	)

	for _, tt := range []struct {
		name string
		c    scheduling.Candidate
		s    scheduling.Slot
		at   time.Time // zero: now
		want error
		code string
	}{
		{name: "OK", c: candidate(t), s: slot(t, 2, "C1")},

		// BK-WINDOW
		{name: "BK-WINDOW/before opening refused", c: candidate(t), s: slot(t, 2, "C1"), at: instant(t, "2026-11-19T23:59:59+08:00"), want: scheduling.ErrBookingClosed, code: "booking_closed"},
		{name: "BK-WINDOW/at opening instant allowed", c: candidate(t), s: slot(t, 2, "C1"), at: instant(t, "2026-11-20T00:00:00+08:00")},
		{name: "BK-WINDOW/one second before closing allowed", c: candidate(t), s: slot(t, 2, "C1"), at: instant(t, "2026-12-09T23:59:59+08:00")},
		{name: "BK-WINDOW/at closing instant refused", c: candidate(t), s: slot(t, 2, "C1"), at: instant(t, "2026-12-10T00:00:00+08:00"), want: scheduling.ErrBookingClosed, code: "booking_closed"},
		{name: "BK-WINDOW/subject 4 open the morning of the exam", c: candidate(t, roadPassed), s: slot(t, 4, "C1"), at: instant(t, "2026-12-10T13:59:59+08:00")},
		{name: "BK-WINDOW/subject 4 closed once started", c: candidate(t, roadPassed), s: slot(t, 4, "C1"), at: instant(t, "2026-12-10T14:00:00+08:00"), want: scheduling.ErrBookingClosed, code: "booking_closed"},

		// BK-ORDER
		{name: "BK-ORDER/class mismatch refused", c: candidate(t), s: slot(t, 2, "C2"), want: scheduling.ErrClassMismatch, code: "class_mismatch"},
		{name: "BK-ORDER/subject 3 before subject 2 allowed", c: candidate(t), s: slot(t, 3, "C1")},

		// BK-PERMIT
		{name: "BK-PERMIT/exam day after expiry refused", c: candidate(t, func(c *scheduling.Candidate) { c.PermitExpiresOn = day("2026-12-09") }), s: slot(t, 2, "C1"), want: scheduling.ErrPermitExpired, code: "permit_expired"},
		{name: "BK-PERMIT/exam on the expiry day allowed", c: candidate(t, func(c *scheduling.Candidate) { c.PermitExpiresOn = day(examDay) }), s: slot(t, 2, "C1")},

		// BK-SUBJ1
		{name: "BK-SUBJ1/no subject 1 refused", c: candidate(t, func(c *scheduling.Candidate) { c.Subject1PassedOn = nil }), s: slot(t, 2, "C1"), want: scheduling.ErrSubject1Missing, code: "subject1_missing"},
		{name: "BK-SUBJ1/subject 1 passed after the exam day refused", c: candidate(t, func(c *scheduling.Candidate) { d := day("2026-12-11"); c.Subject1PassedOn = &d }), s: slot(t, 2, "C1"), want: scheduling.ErrSubject1Missing, code: "subject1_missing"},
		{name: "BK-SUBJ1/subject 4 without subject 1 refused", c: candidate(t, roadPassed, func(c *scheduling.Candidate) { c.Subject1PassedOn = nil }), s: slot(t, 4, "C1"), want: scheduling.ErrSubject1Missing, code: "subject1_missing"},
		{name: "BK-SUBJ1/subject 4 with no road test passed refused", c: candidate(t), s: slot(t, 4, "C1"), want: scheduling.ErrRoadTestsMissing, code: "road_tests_missing"},
		{name: "BK-SUBJ1/subject 4 with only subject 2 passed refused", c: candidate(t, history(past(2, scheduling.StatusPassed, "2026-11-02"))), s: slot(t, 4, "C1"), want: scheduling.ErrRoadTestsMissing, code: "road_tests_missing"},
		{name: "BK-SUBJ1/subject 4 with only subject 3 passed refused", c: candidate(t, history(past(3, scheduling.StatusPassed, "2026-11-20"))), s: slot(t, 4, "C1"), want: scheduling.ErrRoadTestsMissing, code: "road_tests_missing"},
		{name: "BK-SUBJ1/subject 4 with subject 3 only confirmed refused", c: candidate(t, history(past(2, scheduling.StatusPassed, "2026-11-02"), past(3, scheduling.StatusConfirmed, examDay))), s: slot(t, 4, "C1"), want: scheduling.ErrRoadTestsMissing, code: "road_tests_missing"},
		{name: "BK-SUBJ1/subject 4 with subjects 2 and 3 passed allowed", c: candidate(t, roadPassed), s: slot(t, 4, "C1")},
		{name: "BK-SUBJ1/subject 4 the day the road tests were passed allowed", c: candidate(t, history(past(2, scheduling.StatusPassed, "2026-11-02"), past(3, scheduling.StatusPassed, examDay))), s: slot(t, 4, "C1"), at: instant(t, "2026-12-10T12:00:00+08:00")},

		// BK-WAIT: exactly at the boundary allowed, one day before refused.
		{name: "BK-WAIT/C1 subject 2 day 10 allowed", c: candidate(t, class(classC1, 10)), s: slot(t, 2, "C1")},
		{name: "BK-WAIT/C1 subject 2 day 9 refused", c: candidate(t, class(classC1, 9)), s: slot(t, 2, "C1"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/C1 subject 3 day 30 allowed", c: candidate(t, class(classC1, 30)), s: slot(t, 3, "C1")},
		{name: "BK-WAIT/C1 subject 3 day 29 refused", c: candidate(t, class(classC1, 29)), s: slot(t, 3, "C1"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/C1 subject 3 day 29 refused with a car licence", c: candidate(t, class(classC1, 29), licensed), s: slot(t, 3, "C1"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/C2 subject 2 day 10 allowed", c: candidate(t, class(classC2, 10)), s: slot(t, 2, "C2")},
		{name: "BK-WAIT/C2 subject 2 day 9 refused", c: candidate(t, class(classC2, 9)), s: slot(t, 2, "C2"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/C2 subject 3 day 20 allowed", c: candidate(t, class(classC2, 20)), s: slot(t, 3, "C2")},
		{name: "BK-WAIT/C2 subject 3 day 19 refused", c: candidate(t, class(classC2, 19)), s: slot(t, 3, "C2"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/B2 subject 2 day 20 allowed", c: candidate(t, class(classB2, 20)), s: slot(t, 2, "B2")},
		{name: "BK-WAIT/B2 subject 2 day 19 refused", c: candidate(t, class(classB2, 19)), s: slot(t, 2, "B2"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/B2 subject 3 day 40 allowed", c: candidate(t, class(classB2, 40)), s: slot(t, 3, "B2")},
		{name: "BK-WAIT/B2 subject 3 day 39 refused", c: candidate(t, class(classB2, 39)), s: slot(t, 3, "B2"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/B2 subject 3 day 30 refused without a car licence", c: candidate(t, class(classB2, 30)), s: slot(t, 3, "B2"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/B2 subject 3 day 30 allowed with a car licence", c: candidate(t, class(classB2, 30), licensed), s: slot(t, 3, "B2")},
		{name: "BK-WAIT/B2 subject 3 day 29 refused with a car licence", c: candidate(t, class(classB2, 29), licensed), s: slot(t, 3, "B2"), want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-WAIT/subject 4 has no waiting period", c: candidate(t, class(classB2, 0), history(past(2, scheduling.StatusPassed, examDay), past(3, scheduling.StatusPassed, examDay))), s: slot(t, 4, "B2"), at: instant(t, "2026-12-10T12:00:00+08:00")},

		// BK-ONE
		{name: "BK-ONE/confirmed booking of the same subject refused", c: candidate(t, history(past(2, scheduling.StatusConfirmed, "2026-12-20"))), s: slot(t, 2, "C1"), want: scheduling.ErrAlreadyBooked, code: "already_booked"},
		{name: "BK-ONE/confirmed booking of the other subject allowed", c: candidate(t, history(past(3, scheduling.StatusConfirmed, "2026-12-20"))), s: slot(t, 2, "C1")},
		{name: "BK-ONE/passed subject refused", c: candidate(t, history(past(2, scheduling.StatusPassed, "2026-11-02"))), s: slot(t, 2, "C1"), want: scheduling.ErrAlreadyPassed, code: "already_passed"},
		{name: "BK-ONE/passed subject 4 refused", c: candidate(t, roadPassed, func(c *scheduling.Candidate) {
			c.History = append(c.History, past(4, scheduling.StatusPassed, "2026-11-20"))
		}), s: slot(t, 4, "C1"), want: scheduling.ErrAlreadyPassed, code: "already_passed"},
		{name: "BK-ONE/passed on an earlier permit does not count", c: candidate(t, history(past(2, scheduling.StatusPassed, "2025-11-02"))), s: slot(t, 2, "C1")},

		// BK-CAP
		{name: "BK-CAP/5th booking after 4 failed allowed", c: candidate(t, history(
			past(2, failed, "2026-07-01"), past(2, failed, "2026-08-01"), past(2, failed, "2026-09-01"), past(2, failed, "2026-10-01"),
		)), s: slot(t, 2, "C1")},
		{name: "BK-CAP/6th booking after 5 failed refused", c: candidate(t, history(
			past(2, failed, "2026-07-01"), past(2, failed, "2026-08-01"), past(2, failed, "2026-09-01"), past(2, failed, "2026-10-01"), past(2, failed, "2026-11-01"),
		)), s: slot(t, 2, "C1"), want: scheduling.ErrAttemptsExhausted, code: "attempts_exhausted"},
		{name: "BK-CAP/no-shows count", c: candidate(t, history(
			past(3, failed, "2026-07-01"), past(3, noShow, "2026-08-01"), past(3, failed, "2026-09-01"), past(3, noShow, "2026-10-01"), past(3, noShow, "2026-11-01"),
		)), s: slot(t, 3, "C1"), want: scheduling.ErrAttemptsExhausted, code: "attempts_exhausted"},
		{name: "BK-CAP/bookings on an earlier permit do not count", c: candidate(t, history(
			past(2, failed, "2025-07-01"), past(2, failed, "2025-08-01"), past(2, failed, "2025-09-01"), past(2, failed, "2025-10-01"), past(2, failed, "2026-05-31"),
		)), s: slot(t, 2, "C1")},
		{name: "BK-CAP/a booking on the permit's issue day counts", c: candidate(t, history(
			past(2, failed, "2026-06-01"), past(2, failed, "2026-08-01"), past(2, failed, "2026-09-01"), past(2, failed, "2026-10-01"), past(2, failed, "2026-11-01"),
		)), s: slot(t, 2, "C1"), want: scheduling.ErrAttemptsExhausted, code: "attempts_exhausted"},
		{name: "BK-CAP/counted per subject", c: candidate(t, history(
			past(3, failed, "2026-07-01"), past(3, failed, "2026-08-01"), past(3, failed, "2026-09-01"), past(2, failed, "2026-10-01"), past(2, failed, "2026-11-01"),
		)), s: slot(t, 2, "C1")},
		{name: "BK-CAP/subject 4 has no cap", c: candidate(t, roadPassed, func(c *scheduling.Candidate) {
			for _, d := range []string{"2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25", "2026-12-09"} {
				c.History = append(c.History, past(4, failed, d))
			}
		}), s: slot(t, 4, "C1")},
		{name: "BK-CAP/5 failed subject 3 void a passed subject 2", c: candidate(t, history(
			past(2, scheduling.StatusPassed, "2026-07-01"),
			past(3, failed, "2026-07-20"), past(3, failed, "2026-08-01"), past(3, failed, "2026-09-01"), past(3, failed, "2026-10-01"), past(3, failed, "2026-11-01"),
		)), s: slot(t, 4, "C1"), want: scheduling.ErrAttemptsExhausted, code: "attempts_exhausted"},
		{name: "BK-CAP/the voided subject 2 cannot be booked again", c: candidate(t, history(
			past(2, scheduling.StatusPassed, "2026-07-01"),
			past(3, failed, "2026-07-20"), past(3, failed, "2026-08-01"), past(3, failed, "2026-09-01"), past(3, failed, "2026-10-01"), past(3, noShow, "2026-11-01"),
		)), s: slot(t, 2, "C1"), want: scheduling.ErrAttemptsExhausted, code: "attempts_exhausted"},
		{name: "BK-CAP/5 failed subject 2 void subject 1: no subject 3 either", c: candidate(t, history(
			past(2, failed, "2026-07-01"), past(2, failed, "2026-08-01"), past(2, failed, "2026-09-01"), past(2, failed, "2026-10-01"), past(2, failed, "2026-11-01"),
		)), s: slot(t, 3, "C1"), want: scheduling.ErrAttemptsExhausted, code: "attempts_exhausted"},
		{name: "BK-CAP/4 failed then passed subject 3 still stands", c: candidate(t, history(
			past(2, scheduling.StatusPassed, "2026-07-01"),
			past(3, failed, "2026-07-20"), past(3, failed, "2026-08-01"), past(3, failed, "2026-09-01"), past(3, failed, "2026-10-01"), past(3, scheduling.StatusPassed, "2026-11-01"),
		)), s: slot(t, 4, "C1")},

		// BK-COOLDOWN: failed on day F, the next exam of that subject from F+10.
		{name: "BK-COOLDOWN/F+10 allowed", c: candidate(t, history(past(2, failed, "2026-11-30"))), s: slot(t, 2, "C1")},
		{name: "BK-COOLDOWN/F+9 refused", c: candidate(t, history(past(2, failed, "2026-12-01"))), s: slot(t, 2, "C1"), want: scheduling.ErrCooldown, code: "cooldown"},
		{name: "BK-COOLDOWN/no-show F+9 refused", c: candidate(t, history(past(2, noShow, "2026-12-01"))), s: slot(t, 2, "C1"), want: scheduling.ErrCooldown, code: "cooldown"},
		{name: "BK-COOLDOWN/counted from the latest failure, listed first", c: candidate(t, history(past(3, failed, "2026-12-01"), past(3, failed, "2026-10-01"))), s: slot(t, 3, "C1"), want: scheduling.ErrCooldown, code: "cooldown"},
		{name: "BK-COOLDOWN/counted from the latest failure, listed last", c: candidate(t, history(past(3, failed, "2026-10-01"), past(3, noShow, "2026-12-01"))), s: slot(t, 3, "C1"), want: scheduling.ErrCooldown, code: "cooldown"},
		{name: "BK-COOLDOWN/failed other subject does not apply", c: candidate(t, history(past(3, failed, "2026-12-09"))), s: slot(t, 2, "C1")},
		{name: "BK-COOLDOWN/failed subject 4 does not apply", c: candidate(t, roadPassed, func(c *scheduling.Candidate) {
			c.History = append(c.History, past(4, failed, "2026-12-09"))
		}), s: slot(t, 4, "C1")},

		// PL-ACCESS
		{name: "PL-ACCESS/step_free at a venue with steps refused", c: candidate(t, grant("step_free")), s: slot(t, 2, "C1"), want: scheduling.ErrNotAccessible, code: "not_accessible"},
		{name: "PL-ACCESS/step_free at a step-free venue allowed", c: candidate(t, grant("step_free")), s: slot(t, 2, "C1", stepFree)},
		{name: "PL-ACCESS/adapted_vehicle with a plain car refused", c: candidate(t, class(classC5, 60), grant("adapted_vehicle")), s: slot(t, 2, "C5"), want: scheduling.ErrNotAccessible, code: "not_accessible"},
		{name: "PL-ACCESS/adapted_vehicle with an adapted car allowed", c: candidate(t, class(classC5, 60), grant("adapted_vehicle")), s: slot(t, 2, "C5", adapted)},
		{name: "PL-ACCESS/both needs with only a step-free venue refused", c: candidate(t, class(classC5, 60), grant("step_free", "adapted_vehicle")), s: slot(t, 2, "C5", stepFree), want: scheduling.ErrNotAccessible, code: "not_accessible"},
		{name: "PL-ACCESS/both needs met allowed", c: candidate(t, class(classC5, 60), grant("step_free", "adapted_vehicle")), s: slot(t, 2, "C5", stepFree, adapted)},
		{name: "PL-ACCESS/grant without these needs no checks", c: candidate(t, grant("escort", "sign_language", "extra_time")), s: slot(t, 2, "C1")},
		{name: "PL-ACCESS/no grant no checks", c: candidate(t), s: slot(t, 2, "C1")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			if at.IsZero() {
				at = now
			}
			wantRule(t, scheduling.CheckBooking(tt.c, tt.s, at), tt.want, tt.code)
		})
	}
}

func TestCandidateLane(t *testing.T) {
	for _, tt := range []struct {
		name     string
		priority *scheduling.Grant
		want     string
	}{
		{"NoGrant", nil, "regular"},
		{"Grant", &scheduling.Grant{Reason: "elderly", Needs: []string{}}, "priority"},
		{"GrantWithNeeds", &scheduling.Grant{Reason: "disability", Needs: []string{"step_free"}}, "priority"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := (scheduling.Candidate{Priority: tt.priority}).Lane(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckCombined(t *testing.T) {
	at := func(s string) time.Time { return instant(t, s) }
	mk := func(id int64, subject int, starts, ends string) scheduling.Slot {
		return scheduling.Slot{ID: id, Subject: subject, LicenceClass: "C1", StartsAt: at(starts), EndsAt: at(ends)}
	}
	s2 := mk(2, 2, "2026-12-10T08:30:00+08:00", "2026-12-10T11:30:00+08:00")
	s3 := mk(3, 3, "2026-12-10T13:00:00+08:00", "2026-12-10T14:00:00+08:00")

	for _, tt := range []struct {
		name         string
		a, b         scheduling.Slot
		want         error
		code         string
		first, secnd int64 // IDs returned in order when allowed
	}{
		{name: "BK-COMBINED/2 then 3 allowed", a: s2, b: s3, first: 2, secnd: 3},
		{name: "BK-COMBINED/3 then 2 returned as 2, 3", a: s3, b: s2, first: 2, secnd: 3},
		{name: "BK-COMBINED/subject 2 ends exactly at the subject 3 start allowed", a: mk(2, 2, "2026-12-10T10:00:00+08:00", "2026-12-10T13:00:00+08:00"), b: s3, first: 2, secnd: 3},
		{name: "BK-COMBINED/same Shanghai day across UTC midnight allowed", a: mk(2, 2, "2026-12-10T06:00:00+08:00", "2026-12-10T07:30:00+08:00"), b: s3, first: 2, secnd: 3},
		{name: "BK-COMBINED/different days refused", a: s2, b: mk(3, 3, "2026-12-11T13:00:00+08:00", "2026-12-11T14:00:00+08:00"), want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
		{name: "BK-COMBINED/same UTC day but different Shanghai days refused", a: mk(2, 2, "2026-12-10T21:00:00+08:00", "2026-12-10T22:00:00+08:00"), b: mk(3, 3, "2026-12-11T07:00:00+08:00", "2026-12-11T07:30:00+08:00"), want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
		{name: "BK-COMBINED/subject 2 ends after the subject 3 start refused", a: mk(2, 2, "2026-12-10T10:00:00+08:00", "2026-12-10T13:00:01+08:00"), b: s3, want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
		{name: "BK-COMBINED/subject 3 before subject 2 refused", a: mk(3, 3, "2026-12-10T07:00:00+08:00", "2026-12-10T08:00:00+08:00"), b: s2, want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
		{name: "BK-COMBINED/two subject 2 slots refused", a: s2, b: mk(4, 2, "2026-12-10T13:00:00+08:00", "2026-12-10T14:00:00+08:00"), want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
		{name: "BK-COMBINED/two subject 3 slots refused", a: mk(4, 3, "2026-12-10T08:30:00+08:00", "2026-12-10T11:30:00+08:00"), b: s3, want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
		{name: "BK-COMBINED/subject 2 and subject 4 refused", a: s2, b: mk(4, 4, "2026-12-10T13:00:00+08:00", "2026-12-10T14:00:00+08:00"), want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
		{name: "BK-COMBINED/subject 4 and subject 3 refused", a: mk(4, 4, "2026-12-10T08:30:00+08:00", "2026-12-10T11:30:00+08:00"), b: s3, want: scheduling.ErrCombinedInvalid, code: "combined_invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first, second, err := scheduling.CheckCombined(tt.a, tt.b)
			wantRule(t, err, tt.want, tt.code)
			if tt.want != nil {
				return
			}
			if first.ID != tt.first || second.ID != tt.secnd {
				t.Errorf("got slots %d, %d, want %d, %d", first.ID, second.ID, tt.first, tt.secnd)
			}
		})
	}
}

func TestCheckCancel(t *testing.T) {
	at := func(s string) time.Time { return instant(t, s) }
	exam := date(t, examDay)

	for _, tt := range []struct {
		name    string
		status  string
		byStaff bool
		now     time.Time
		want    error
		code    string
	}{
		{name: "BK-CANCEL/candidate the day before allowed", status: scheduling.StatusConfirmed, now: at("2026-12-09T10:00:00+08:00")},
		{name: "BK-CANCEL/candidate one second before midnight allowed", status: scheduling.StatusConfirmed, now: at("2026-12-09T23:59:59+08:00")},
		{name: "BK-CANCEL/candidate at midnight starting the exam day refused", status: scheduling.StatusConfirmed, now: at("2026-12-10T00:00:00+08:00"), want: scheduling.ErrCancelClosed, code: "cancel_closed"},
		{name: "BK-CANCEL/candidate after Shanghai midnight, still the day before in UTC, refused", status: scheduling.StatusConfirmed, now: at("2026-12-09T16:30:00Z"), want: scheduling.ErrCancelClosed, code: "cancel_closed"},
		{name: "BK-CANCEL/candidate during the exam day refused", status: scheduling.StatusConfirmed, now: at("2026-12-10T08:00:00+08:00"), want: scheduling.ErrCancelClosed, code: "cancel_closed"},
		{name: "BK-CANCEL/candidate after the exam day refused", status: scheduling.StatusConfirmed, now: at("2026-12-12T08:00:00+08:00"), want: scheduling.ErrCancelClosed, code: "cancel_closed"},
		{name: "BK-CANCEL/staff on the exam day allowed", status: scheduling.StatusConfirmed, byStaff: true, now: at("2026-12-10T08:00:00+08:00")},
		{name: "BK-CANCEL/staff the day before allowed", status: scheduling.StatusConfirmed, byStaff: true, now: at("2026-12-09T10:00:00+08:00")},
		{name: "BK-CANCEL/cancelled refused", status: scheduling.StatusCancelled, now: at("2026-12-01T10:00:00+08:00"), want: scheduling.ErrNotConfirmed, code: "not_confirmed"},
		{name: "BK-CANCEL/passed refused", status: scheduling.StatusPassed, now: at("2026-12-11T10:00:00+08:00"), want: scheduling.ErrNotConfirmed, code: "not_confirmed"},
		{name: "BK-CANCEL/failed refused", status: scheduling.StatusFailed, now: at("2026-12-11T10:00:00+08:00"), want: scheduling.ErrNotConfirmed, code: "not_confirmed"},
		{name: "BK-CANCEL/no-show refused by staff too", status: scheduling.StatusNoShow, byStaff: true, now: at("2026-12-11T10:00:00+08:00"), want: scheduling.ErrNotConfirmed, code: "not_confirmed"},
		{name: "BK-CANCEL/cancelled refused by staff too", status: scheduling.StatusCancelled, byStaff: true, now: at("2026-12-01T10:00:00+08:00"), want: scheduling.ErrNotConfirmed, code: "not_confirmed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantRule(t, scheduling.CheckCancel(tt.status, exam, tt.byStaff, tt.now), tt.want, tt.code)
		})
	}
}

// TestFirstBookableDay: a subject is offered from the first day of the
// window that CheckSubject accepts; with none, the window's first day says
// why (subject 4 before the road tests, a waiting period beyond the window,
// an expired permit).
func TestFirstBookableDay(t *testing.T) {
	first, last := date(t, "2026-12-01"), date(t, "2026-12-31")
	for _, tc := range []struct {
		name    string
		c       scheduling.Candidate
		subject int
		want    string // the day, or "" when refused
		err     error
	}{
		{"open", candidate(t), 2, "2026-12-01", nil},
		{"subject 4 before 2 and 3", candidate(t), 4, "", scheduling.ErrRoadTestsMissing},
		{"waiting period ends in the window", candidate(t, func(c *scheduling.Candidate) {
			c.PermitIssuedOn = date(t, "2026-11-01") // subject 3 waits 30 days for C1
		}), 3, "2026-12-01", nil},
		{"waiting period ends mid-window", candidate(t, func(c *scheduling.Candidate) {
			c.PermitIssuedOn = date(t, "2026-11-10")
		}), 3, "2026-12-10", nil},
		{"waiting period beyond the window", candidate(t, func(c *scheduling.Candidate) {
			c.PermitIssuedOn = date(t, "2026-12-05")
		}), 3, "", scheduling.ErrWaitingPeriod},
		{"cool-down ends mid-window", candidate(t, func(c *scheduling.Candidate) {
			c.History = []scheduling.PastBooking{{Subject: 2, Status: scheduling.StatusFailed, ExamDay: date(t, "2026-11-28")}}
		}), 2, "2026-12-08", nil},
		{"permit lapsed", candidate(t, func(c *scheduling.Candidate) {
			c.PermitExpiresOn = date(t, "2026-11-30")
		}), 2, "", scheduling.ErrPermitExpired},
		{"permit lapses mid-window", candidate(t, func(c *scheduling.Candidate) {
			c.PermitExpiresOn = date(t, "2026-12-05")
		}), 2, "2026-12-01", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := scheduling.FirstBookableDay(tc.c, tc.subject, first, last)
			if !errors.Is(err, tc.err) {
				t.Fatalf("refusal %v, want %v", err, tc.err)
			}
			if got := d.Format(time.DateOnly); tc.want != "" && got != tc.want {
				t.Errorf("first day %s, want %s", got, tc.want)
			}
		})
	}
}
