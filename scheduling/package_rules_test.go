package scheduling_test

import (
	"testing"
	"time"

	"examd/scheduling"
)

func TestCheckPackage(t *testing.T) {
	midnight := scheduling.StartOfDay(date(t, examDay))
	// at sets a slot's hours on examDay (plus days), from h1:m1 to h2:m2.
	at := func(days int, from, to time.Duration) func(*scheduling.Slot) {
		return func(s *scheduling.Slot) {
			s.StartsAt = midnight.AddDate(0, 0, days).Add(from)
			s.EndsAt = midnight.AddDate(0, 0, days).Add(to)
		}
	}
	hm := func(h, m int) time.Duration { return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute }
	granted := func(c *scheduling.Candidate) { c.HoldsPackage = true }
	s2 := slot(t, 2, "C1", at(0, hm(8, 30), hm(10, 0)))
	s3 := slot(t, 3, "C1", at(0, hm(10, 30), hm(12, 0)))
	s4 := slot(t, 4, "C1", at(0, hm(14, 0), hm(15, 0)))
	past := func(subject int, status, d string) scheduling.PastBooking {
		return scheduling.PastBooking{Subject: subject, Status: status, ExamDay: date(t, d)}
	}

	for _, tt := range []struct {
		name  string
		c     scheduling.Candidate
		slots []scheduling.Slot
		want  error
		code  string
	}{
		{name: "BK-PACKAGE/2, 3, 4 of one day allowed", c: candidate(t, granted), slots: []scheduling.Slot{s2, s3, s4}},
		{name: "BK-PACKAGE/given in any order, returned 2, 3, 4", c: candidate(t, granted), slots: []scheduling.Slot{s4, s2, s3}},
		{name: "BK-PACKAGE/each ends at the exact minute the next starts allowed", c: candidate(t, granted),
			slots: []scheduling.Slot{s2, slot(t, 3, "C1", at(0, hm(10, 0), hm(14, 0))), s4}},
		{name: "BK-PACKAGE/no package refused", c: candidate(t), slots: []scheduling.Slot{s2, s3, s4},
			want: scheduling.ErrPackageRequired, code: "package_required"},
		{name: "BK-PACKAGE/subject 2 overlapping subject 3 by a minute refused", c: candidate(t, granted),
			slots: []scheduling.Slot{slot(t, 2, "C1", at(0, hm(8, 30), hm(10, 31))), s3, s4},
			want:  scheduling.ErrPackageInvalid, code: "package_invalid"},
		{name: "BK-PACKAGE/subject 3 overlapping subject 4 by a minute refused", c: candidate(t, granted),
			slots: []scheduling.Slot{s2, slot(t, 3, "C1", at(0, hm(10, 30), hm(14, 1))), s4},
			want:  scheduling.ErrPackageInvalid, code: "package_invalid"},
		{name: "BK-PACKAGE/subject 4 before the road tests refused", c: candidate(t, granted),
			slots: []scheduling.Slot{s2, s3, slot(t, 4, "C1", at(0, hm(7, 0), hm(8, 0)))},
			want:  scheduling.ErrPackageInvalid, code: "package_invalid"},
		{name: "BK-PACKAGE/subject 3 before subject 2 refused", c: candidate(t, granted),
			slots: []scheduling.Slot{slot(t, 2, "C1", at(0, hm(10, 30), hm(12, 0))), slot(t, 3, "C1", at(0, hm(8, 30), hm(10, 0))), s4},
			want:  scheduling.ErrPackageInvalid, code: "package_invalid"},
		{name: "BK-PACKAGE/subject 4 on the next day refused", c: candidate(t, granted),
			slots: []scheduling.Slot{s2, s3, slot(t, 4, "C1", at(1, hm(14, 0), hm(15, 0)))},
			want:  scheduling.ErrPackageInvalid, code: "package_invalid"},
		{name: "BK-PACKAGE/two subject 2 slots refused", c: candidate(t, granted),
			slots: []scheduling.Slot{s2, slot(t, 2, "C1", at(0, hm(10, 30), hm(12, 0))), s4},
			want:  scheduling.ErrPackageInvalid, code: "package_invalid"},
		{name: "BK-PACKAGE/the licence class applies to subject 4", c: candidate(t, granted),
			slots: []scheduling.Slot{s2, s3, slot(t, 4, "C2")},
			want:  scheduling.ErrClassMismatch, code: "class_mismatch"},
		{name: "BK-PACKAGE/BK-WAIT applies to subject 3", c: candidate(t, granted, func(c *scheduling.Candidate) {
			c.PermitIssuedOn = date(t, examDay).AddDate(0, 0, -20)
		}), slots: []scheduling.Slot{s2, s3, s4}, want: scheduling.ErrWaitingPeriod, code: "waiting_period"},
		{name: "BK-PACKAGE/BK-ONE applies to subject 4", c: candidate(t, granted, func(c *scheduling.Candidate) {
			c.History = []scheduling.PastBooking{past(4, scheduling.StatusConfirmed, "2026-12-20")}
		}), slots: []scheduling.Slot{s2, s3, s4}, want: scheduling.ErrAlreadyBooked, code: "already_booked"},
		{name: "BK-PACKAGE/subject 2 passed already refused", c: candidate(t, granted, func(c *scheduling.Candidate) {
			c.History = []scheduling.PastBooking{past(2, scheduling.StatusPassed, "2026-11-20")}
		}), slots: []scheduling.Slot{s2, s3, s4}, want: scheduling.ErrAlreadyPassed, code: "already_passed"},
		{name: "BK-PACKAGE/BK-COOLDOWN applies to subject 2", c: candidate(t, granted, func(c *scheduling.Candidate) {
			c.History = []scheduling.PastBooking{past(2, scheduling.StatusFailed, "2026-12-05")}
		}), slots: []scheduling.Slot{s2, s3, s4}, want: scheduling.ErrCooldown, code: "cooldown"},
		{name: "BK-PACKAGE/BK-WINDOW applies to subject 2", c: candidate(t, granted),
			slots: []scheduling.Slot{slot(t, 2, "C1", at(0, hm(8, 30), hm(10, 0)), func(s *scheduling.Slot) { s.BookingClosesAt = now }), s3, s4},
			want:  scheduling.ErrBookingClosed, code: "booking_closed"},
		{name: "BK-PACKAGE/PL-ACCESS applies to subject 4", c: candidate(t, granted, func(c *scheduling.Candidate) {
			c.Priority = &scheduling.Grant{Reason: "disability", Needs: []string{"step_free"}}
		}), slots: func() []scheduling.Slot {
			free := func(s *scheduling.Slot) { s.VenueStepFree = true }
			a, b, c := s2, s3, s4
			free(&a)
			free(&b)
			return []scheduling.Slot{a, b, c}
		}(), want: scheduling.ErrNotAccessible, code: "not_accessible"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scheduling.CheckPackage(tt.c, tt.slots, now)
			wantRule(t, err, tt.want, tt.code)
			if tt.want != nil {
				return
			}
			for i, s := range got {
				if s.Subject != i+2 {
					t.Fatalf("slot %d: got subject %d, want %d", i, s.Subject, i+2)
				}
			}
		})
	}

	t.Run("BK-SUBJ1/subject 4 alone still needs the road tests passed", func(t *testing.T) {
		wantRule(t, scheduling.CheckBooking(candidate(t, granted), s4, now), scheduling.ErrRoadTestsMissing, "road_tests_missing")
	})
}
