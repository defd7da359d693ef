package scheduling_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestBookingRefusals checks each rule's refusal through the API: 409, the
// code, a Chinese message, and nothing booked.
func TestBookingRefusals(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	stepFree := a.NewVenue(sched, true)

	open := a.NewSlot(sched, venue, 2, 5, 9, nil)
	c2slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"licence_class": "C2"})
	closed := a.NewSlot(sched, venue, 2, 5, 13, map[string]any{"booking_closes_at": time.Now().Add(-time.Minute).Format(time.RFC3339), "booking_opens_at": time.Now().Add(-time.Hour).Format(time.RFC3339)})
	notYet := a.NewSlot(sched, venue, 2, 5, 15, map[string]any{"booking_opens_at": time.Now().Add(time.Hour).Format(time.RFC3339)})
	road := a.NewSlot(sched, venue, 3, 5, 9, nil)
	theory := a.NewSlot(sched, venue, 4, 5, 15, nil)
	sfSlot := a.NewSlot(sched, stepFree, 2, 5, 9, map[string]any{"adapted_vehicle": true})
	fullSlot := a.NewSlot(sched, venue, 2, 6, 9, map[string]any{"capacity": 1})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", a.NewCandidate(sched, nil).Token, map[string]any{"slot_ids": []int64{fullSlot}})

	fresh := a.NewCandidate(sched, map[string]any{"permit_issued_on": a.Day(-4).Format(time.DateOnly), "permit_expires_on": a.Day(-4).AddDate(3, 0, 0).Format(time.DateOnly), "subject1_passed_on": a.Day(-4).Format(time.DateOnly)})
	noSubj1 := a.NewCandidate(sched, map[string]any{"subject1_passed_on": nil})
	expiring := a.NewCandidate(sched, map[string]any{"permit_issued_on": a.Day(-1000).Format(time.DateOnly), "permit_expires_on": a.Day(2).Format(time.DateOnly), "subject1_passed_on": a.Day(-1000).Format(time.DateOnly)})
	booked := a.NewCandidate(sched, nil)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", booked.Token, map[string]any{"slot_ids": []int64{open}})
	needy := a.NewCandidate(sched, nil)
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", needy.ID), sched,
		map[string]any{"reason": "disability", "needs": []string{"step_free", "adapted_vehicle"}, "note": "轮椅"})
	plain := a.NewCandidate(sched, nil)

	cases := []struct {
		name string
		c    servertest.Candidate
		slot int64
		code string
	}{
		{"BK-WINDOW/Closed", plain, closed, "booking_closed"},
		{"BK-WINDOW/NotYetOpen", plain, notYet, "booking_closed"},
		{"BK-ORDER/ClassMismatch", plain, c2slot, "class_mismatch"},
		{"BK-PERMIT/Expired", expiring, open, "permit_expired"},
		{"BK-SUBJ1/Missing", noSubj1, open, "subject1_missing"},
		{"BK-SUBJ1/Subject4NeedsRoadTests", plain, theory, "road_tests_missing"},
		{"BK-WAIT/Subject2", fresh, open, "waiting_period"},
		{"BK-WAIT/Subject3", a.NewCandidate(sched, map[string]any{"permit_issued_on": a.Day(-20).Format(time.DateOnly), "permit_expires_on": a.Day(-20).AddDate(3, 0, 0).Format(time.DateOnly), "subject1_passed_on": a.Day(-20).Format(time.DateOnly)}), road, "waiting_period"},
		{"BK-ONE/AlreadyBooked", booked, sfSlot, "already_booked"},
		{"PL-ACCESS/StepFree", needy, open, "not_accessible"},
		{"PL-RESERVE/Full", plain, fullSlot, "slot_full"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Do("POST", "/api/v1/bookings", tc.c.Token, map[string]any{"slot_ids": []int64{tc.slot}})
			if r.Status != 409 || r.Code() != tc.code {
				t.Fatalf("got %d %s, want 409 %s", r.Status, r.Raw, tc.code)
			}
			if msg, _ := r.Body["error"].(map[string]any)["message"].(string); !hasHan(msg) {
				t.Errorf("message %q is not Chinese", msg)
			}
		})
	}
	// The step-free, adapted slot takes the candidate who needs it, in the lane.
	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", needy.Token, map[string]any{"slot_ids": []int64{sfSlot}})
	if lane := r.Body["bookings"].([]any)[0].(map[string]any)["lane"]; lane != "priority" {
		t.Fatalf("lane: got %v, want priority", lane)
	}
	// Only the bookings made above exist.
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM bookings`); err != nil || n != 3 {
		t.Fatalf("bookings: got %d (%v), want 3", n, err)
	}
}

// TestBookingHistoryRules covers BK-CAP and BK-COOLDOWN, whose history of
// finished bookings is written straight into the database here (exam
// results arrive with the live-results issue).
func TestBookingHistoryRules(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	soon := a.NewSlot(sched, venue, 2, 5, 9, nil)
	later := a.NewSlot(sched, venue, 2, 12, 9, nil)
	past := a.NewSlot(sched, venue, 2, 1, 9, nil) // stands in for past exams

	addHistory := func(c servertest.Candidate, status string, examDay time.Time) {
		t.Helper()
		_, err := a.DB.Exec(`INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, status, lane, booked_by)
			VALUES ($1, $2, 2, $3, $4, 'regular', $1)`, c.ID, past, examDay.Format(time.DateOnly), status)
		if err != nil {
			t.Fatal(err)
		}
	}
	failedYesterday := a.NewCandidate(sched, nil)
	addHistory(failedYesterday, "failed", a.Day(-1))
	noShow := a.NewCandidate(sched, nil)
	addHistory(noShow, "no_show", a.Day(-1))
	fiveTimes := a.NewCandidate(sched, nil)
	for i := 5; i > 0; i-- {
		addHistory(fiveTimes, "failed", a.Day(-12*i))
	}
	fourTimes := a.NewCandidate(sched, nil)
	for i := 4; i > 0; i-- {
		addHistory(fourTimes, "failed", a.Day(-12*i))
	}
	passed := a.NewCandidate(sched, nil)
	addHistory(passed, "passed", a.Day(-3))

	cases := []struct {
		name   string
		c      servertest.Candidate
		slot   int64
		status int
		code   string
	}{
		{"BK-COOLDOWN/Day4", failedYesterday, soon, 409, "cooldown"},
		{"BK-COOLDOWN/Day11", failedYesterday, later, 201, ""},
		{"BK-NOSHOW/CountsAsFailed", noShow, soon, 409, "cooldown"},
		{"BK-CAP/Exhausted", fiveTimes, later, 409, "attempts_exhausted"},
		{"BK-CAP/FifthAllowed", fourTimes, later, 201, ""},
		{"BK-ONE/Passed", passed, later, 409, "already_passed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := a.Do("POST", "/api/v1/bookings", tc.c.Token, map[string]any{"slot_ids": []int64{tc.slot}})
			if r.Status != tc.status || r.Code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}
