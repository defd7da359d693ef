package scheduling_test

import (
	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// Regression tests of the rule defects of issue 10, §6: each failed before
// its fix.

// TestRosterFollowsTheGrant (PL-ORDER): the exam order follows the priority
// grant in force, not the lane stored when the candidate booked.
func TestRosterFollowsTheGrant(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, true)
	slot := a.NewSlot(sched, venue, 2, 5, 9, nil)
	grant := func(c servertest.Candidate) {
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c.ID), sched,
			map[string]any{"reason": "elderly", "needs": []string{}, "note": ""})
	}
	early, late := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	grant(early)
	var bookings []int64
	for _, c := range []servertest.Candidate{early, a.NewCandidate(sched, nil), late} {
		r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
		bookings = append(bookings, int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64)))
	}
	roster := func() (ids []int64, lanes []string) {
		r := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", slot), sched, nil)
		for _, e := range r.Body["candidates"].([]any) {
			e := e.(map[string]any)
			ids = append(ids, int64(e["candidate_id"].(float64)))
			lanes = append(lanes, e["lane"].(string))
		}
		return ids, lanes
	}
	lane := func(booking int64) any {
		return a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/bookings/%d", booking), sched, nil).Body["lane"]
	}

	grant(late) // after booking
	ids, lanes := roster()
	if ids[0] != early.ID || ids[1] != late.ID || fmt.Sprint(lanes) != "[priority priority regular]" {
		t.Fatalf("roster after a late grant: %v %v, want %d then %d on the lane", ids, lanes, early.ID, late.ID)
	}
	if l := lane(bookings[2]); l != "priority" {
		t.Fatalf("booking after a late grant: lane %v", l)
	}

	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/candidates/%d/priority", early.ID), sched, nil)
	ids, lanes = roster()
	if ids[0] != late.ID || ids[1] != early.ID || fmt.Sprint(lanes) != "[priority regular regular]" {
		t.Fatalf("roster after a revoke: %v %v, want %d first and %d, no longer on the lane, by booking time", ids, lanes, late.ID, early.ID)
	}
	if l := lane(bookings[0]); l != "regular" {
		t.Fatalf("booking after a revoke: lane %v", l)
	}
}

// TestSubject1BeforePermit: the permit follows subject 1, so subject 1's
// date may not be after the permit's issue.
func TestSubject1BeforePermit(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	issued := a.Day(-60)
	for _, tt := range []struct {
		name string
		s1   time.Time
		ok   bool
	}{{"DayBefore", issued.AddDate(0, 0, -1), true}, {"SameDay", issued, true}, {"DayAfter", issued.AddDate(0, 0, 1), false}} {
		t.Run(tt.name, func(t *testing.T) {
			n := int(servertest.Next())
			r := a.Do("POST", "/api/v1/candidates", sched, map[string]any{
				"id_number": testkit.IDNumber(n), "name": "考生", "phone": "13800138000", "licence_class": "C1",
				"permit_issued_on": issued.Format(time.DateOnly), "permit_expires_on": issued.AddDate(3, 0, 0).Format(time.DateOnly),
				"subject1_passed_on": tt.s1.Format(time.DateOnly), "password": "candidate-pw",
			})
			if tt.ok && r.Status != http.StatusCreated || !tt.ok && (r.Status != 422 || r.Code() != "invalid_field" || r.Field() != "subject1_passed_on") {
				t.Fatalf("subject 1 on %s, permit on %s: %d %s", tt.s1.Format(time.DateOnly), issued.Format(time.DateOnly), r.Status, r.Raw)
			}
		})
	}
}

// TestJourneyAfterPermitSpent (BK-CAP): once the 5th booking of a road test
// has failed, the subjects passed on the permit are void.
func TestJourneyAfterPermitSpent(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	d := servertest.NewExamDay(t, a, 3)
	c, first := d.Book(t, d.Slot, 3)
	passed := d.TodaySlot(t, 2)
	var sub2 int64
	if err := a.DB.Get(&sub2, `
		INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by, status)
		SELECT $1, id, subject, (starts_at AT TIME ZONE 'Asia/Shanghai')::date, 'regular', $1, 'passed' FROM slots WHERE id = $2
		RETURNING id`, c.ID, passed); err != nil {
		t.Fatal(err)
	}
	// Five failed bookings of subject 3 on the permit: the first today, four more before.
	if _, err := a.DB.Exec(`UPDATE bookings SET status = 'failed' WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 4; i++ {
		if _, err := a.DB.Exec(`
			INSERT INTO bookings (candidate_id, slot_id, subject, exam_day, lane, booked_by, status)
			VALUES ($1, $2, 3, $3, 'regular', $1, 'failed')`, c.ID, d.Slot, a.Day(-11*i).Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
	}
	j := a.Must(http.StatusOK, "GET", "/api/v1/me/journey", c.Token, nil)
	var states []string
	for _, s := range j.Body["subjects"].([]any) {
		states = append(states, s.(map[string]any)["state"].(string))
	}
	next := j.Body["next"].(map[string]any)
	if fmt.Sprint(states) != "[void void failed not_yet]" || j.Body["permit_spent"] != true || next["code"] != "permit_spent" {
		t.Fatalf("journey of a spent permit: %v, next %v, spent %v", states, next["code"], j.Body["permit_spent"])
	}
}

// TestSlotCreationAgreesOnBookingOpen: the creation answer and a read right
// after agree that a slot published with the default window is open.
func TestSlotCreationAgreesOnBookingOpen(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	for i := 0; i < 30; i++ {
		start := a.Day(10).Add(time.Duration(8+i%10) * time.Hour)
		r := a.Must(http.StatusCreated, "POST", "/api/v1/slots", sched, map[string]any{
			"venue_id": venue, "subject": 3, "licence_class": "C1",
			"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339),
			"capacity": 5,
		})
		got := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d", r.ID()), sched, nil)
		if r.Body["booking_open"] != true || got.Body["booking_open"] != true || r.Body["booking_opens_at"] != got.Body["booking_opens_at"] {
			t.Fatalf("slot %d: created open=%v opens %v, read open=%v opens %v", r.ID(),
				r.Body["booking_open"], r.Body["booking_opens_at"], got.Body["booking_open"], got.Body["booking_opens_at"])
		}
	}
}
