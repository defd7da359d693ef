package scheduling_test

import (
	"examd/internal/server/servertest"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestPriorityLane covers PL-RESERVE (seats held for the lane until the
// release time), the seats each caller sees, and PL-ORDER on the roster.
func TestPriorityLane(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	examiner := a.Staff("examiner")
	venue := a.NewVenue(sched, true)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 3, "priority_reserved": 2})
	released := a.NewSlot(sched, venue, 2, 6, 9, map[string]any{"capacity": 2, "priority_reserved": 2,
		"reserve_release_at": time.Now().Add(-time.Minute).Format(time.RFC3339)})

	regular1 := a.NewCandidate(sched, map[string]any{"name": "王小明"})
	regular2 := a.NewCandidate(sched, nil)
	lane := a.NewCandidate(sched, map[string]any{"name": "李<script>"})
	a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", lane.ID), sched,
		map[string]any{"reason": "elderly", "needs": []string{}, "note": ""})

	seats := func(token string, id int64) (float64, float64) {
		r := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d", id), token, nil)
		return r.Body["seats_left"].(float64), r.Body["priority_seats_left"].(float64)
	}
	if s, p := seats(regular1.Token, slot); s != 1 || p != 2 {
		t.Fatalf("regular view before booking: seats_left %v priority %v, want 1 and 2", s, p)
	}
	if s, _ := seats(lane.Token, slot); s != 3 {
		t.Fatalf("lane view: seats_left %v, want 3", s)
	}
	if s, _ := seats(sched, slot); s != 3 {
		t.Fatalf("staff view: seats_left %v, want 3", s)
	}

	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", regular1.Token, map[string]any{"slot_ids": []int64{slot}})
	r := a.Do("POST", "/api/v1/bookings", regular2.Token, map[string]any{"slot_ids": []int64{slot}})
	if r.Status != 409 || r.Code() != "slot_full" {
		t.Fatalf("regular taking a reserved seat: got %d %s, want 409 slot_full", r.Status, r.Raw)
	}
	r = a.Must(http.StatusCreated, "POST", "/api/v1/bookings", lane.Token, map[string]any{"slot_ids": []int64{slot}})
	if l := r.Body["bookings"].([]any)[0].(map[string]any)["lane"]; l != "priority" {
		t.Fatalf("lane booking: lane %v", l)
	}
	// After the release time the reserve is everyone's.
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", regular2.Token, map[string]any{"slot_ids": []int64{released}})

	// PL-ORDER: the lane first, then booking time; examiners see masked data.
	roster := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", slot), examiner, nil)
	list := roster.Body["candidates"].([]any)
	if len(list) != 2 {
		t.Fatalf("roster: %s", roster.Raw)
	}
	first, second := list[0].(map[string]any), list[1].(map[string]any)
	if first["lane"] != "priority" || int64(first["candidate_id"].(float64)) != lane.ID {
		t.Fatalf("roster order: %s", roster.Raw)
	}
	if first["name"] != "李********" || second["name"] != "王**" || first["id_number"] != lane.IDNo[:3]+"***********"+lane.IDNo[14:] {
		t.Fatalf("examiner roster not masked: %s", roster.Raw)
	}
	full := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d/roster", slot), sched, nil)
	if n := full.Body["candidates"].([]any)[1].(map[string]any)["name"]; n != "王小明" {
		t.Fatalf("scheduler roster: name %v, want unmasked", n)
	}
	if r := a.Do("GET", fmt.Sprintf("/api/v1/slots/%d/roster", slot), lane.Token, nil); r.Status != 403 {
		t.Fatalf("candidate reading a roster: got %d, want 403", r.Status)
	}

	// Revoking the lane: the candidate's next view counts only unreserved seats.
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/candidates/%d/priority", lane.ID), sched, nil)
	var actions []string
	if err := a.DB.Select(&actions, `SELECT action FROM audit_log WHERE subject = $1 ORDER BY id`, fmt.Sprintf("candidate:%d", lane.ID)); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(actions) != "[priority.granted priority.revoked]" {
		t.Fatalf("audit of the grant: %v", actions)
	}
	other := a.NewSlot(sched, venue, 2, 7, 9, map[string]any{"capacity": 3, "priority_reserved": 1})
	if s, _ := seats(lane.Token, other); s != 2 {
		t.Fatalf("after revoke: seats_left %v, want 2", s)
	}
	cand := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/candidates/%d", lane.ID), sched, nil)
	if cand.Body["priority"] != nil {
		t.Fatalf("after revoke: %s", cand.Raw)
	}

	// Grants are validated.
	for _, body := range []map[string]any{{"reason": "vip"}, {"reason": "other", "needs": []string{"chauffeur"}}} {
		if r := a.Do("POST", fmt.Sprintf("/api/v1/candidates/%d/priority", lane.ID), sched, body); r.Status != 422 {
			t.Fatalf("grant %v: got %d, want 422", body, r.Status)
		}
	}
	if r := a.Do("POST", "/api/v1/candidates/999999/priority", sched, map[string]any{"reason": "other"}); r.Status != 404 {
		t.Fatalf("grant to nobody: got %d, want 404", r.Status)
	}
}

func TestSlots(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	start := a.Day(5).Add(9 * time.Hour)
	r := a.Must(http.StatusCreated, "POST", "/api/v1/slots", sched, map[string]any{
		"venue_id": venue, "subject": 2, "licence_class": "C1", "capacity": 20, "priority_reserved": 2,
		"starts_at": start.UTC().Format(time.RFC3339), "ends_at": start.Add(3 * time.Hour).UTC().Format(time.RFC3339), "adapted_vehicle": false,
	})
	want := map[string]any{
		"starts_at":          start.Format(time.RFC3339), // shown in Asia/Shanghai
		"reserve_release_at": start.Add(-24 * time.Hour).Format(time.RFC3339),
		"booking_closes_at":  a.Day(5).Format(time.RFC3339), // end of the day before (BK-WINDOW)
		"seats_left":         20.0,
		"booked":             0.0,
	}
	for k, v := range want {
		if r.Body[k] != v {
			t.Errorf("%s: got %v, want %v", k, r.Body[k], v)
		}
	}
	theory := a.Must(http.StatusCreated, "POST", "/api/v1/slots", sched, map[string]any{
		"venue_id": venue, "subject": 4, "licence_class": "C1", "capacity": 20, "priority_reserved": 0,
		"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339), "adapted_vehicle": false,
	})
	if theory.Body["booking_closes_at"] != start.Format(time.RFC3339) {
		t.Errorf("subject 4 closes at %v, want its start", theory.Body["booking_closes_at"])
	}
	a.NewSlot(sched, venue, 3, 40, 9, nil) // beyond the default 30 days

	bad := []struct {
		over  map[string]any
		field string
	}{
		{map[string]any{"capacity": 10001}, "capacity"},
		{map[string]any{"capacity": 0}, "capacity"},
		{map[string]any{"priority_reserved": 11}, "priority_reserved"},
		{map[string]any{"subject": 1}, "subject"},
		{map[string]any{"venue_id": 999999}, "venue_id"},
		{map[string]any{"licence_class": "Q"}, "licence_class"},
		{map[string]any{"starts_at": "tomorrow"}, "starts_at"},
		{map[string]any{"ends_at": start.Add(-time.Hour).Format(time.RFC3339)}, "ends_at"},
		{map[string]any{"booking_closes_at": start.Add(time.Hour).Format(time.RFC3339)}, "booking_closes_at"},
	}
	for _, tc := range bad {
		body := map[string]any{"venue_id": venue, "subject": 2, "licence_class": "C1", "capacity": 10, "priority_reserved": 0,
			"starts_at": start.Format(time.RFC3339), "ends_at": start.Add(time.Hour).Format(time.RFC3339), "adapted_vehicle": false}
		for k, v := range tc.over {
			body[k] = v
		}
		if r := a.Do("POST", "/api/v1/slots", sched, body); r.Status != 422 || r.Field() != tc.field {
			t.Errorf("%v: got %d %s, want 422 field %s", tc.over, r.Status, r.Raw, tc.field)
		}
	}
	list := func(q string) int {
		r := a.Must(http.StatusOK, "GET", "/api/v1/slots"+q, sched, nil)
		return len(r.Body["slots"].([]any))
	}
	for q, n := range map[string]int{
		"":                  2,
		"?subject=4":        1,
		"?licence_class=C2": 0,
		"?from=" + a.Day(30).Format(time.DateOnly) + "&to=" + a.Day(45).Format(time.DateOnly): 1,
		fmt.Sprintf("?venue_id=%d&subject=2", venue):                                          1,
	} {
		if got := list(q); got != n {
			t.Errorf("GET /slots%s: %d slots, want %d", q, got, n)
		}
	}
	if r := a.Do("GET", "/api/v1/slots?from=yesterday", sched, nil); r.Status != 422 || r.Field() != "from" {
		t.Errorf("bad from: got %d %s", r.Status, r.Raw)
	}
}
