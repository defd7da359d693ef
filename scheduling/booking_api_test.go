package scheduling_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

func TestCandidateValidation(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	good := func(over map[string]any) map[string]any {
		b := map[string]any{
			"id_number": testkit.IDNumber(1), "name": "张三", "phone": "13800138000", "licence_class": "C1",
			"permit_issued_on": a.Day(-60).Format(time.DateOnly), "permit_expires_on": a.Day(-60).AddDate(3, 0, 0).Format(time.DateOnly),
			"subject1_passed_on": a.Day(-61).Format(time.DateOnly), "password": "candidate-pw",
		}
		for k, v := range over {
			b[k] = v
		}
		return b
	}
	badCheck := testkit.IDNumber(1)[:17] + map[bool]string{true: "0", false: "1"}[testkit.IDNumber(1)[17] != '0']
	cases := []struct {
		name  string
		over  map[string]any
		field string
	}{
		{"CheckDigit", map[string]any{"id_number": badCheck}, "id_number"},
		{"ShortID", map[string]any{"id_number": "11010119900101123"}, "id_number"},
		{"Phone", map[string]any{"phone": "1380013800"}, "phone"},
		{"PhonePrefix", map[string]any{"phone": "12800138000"}, "phone"},
		{"Class", map[string]any{"licence_class": "Z9"}, "licence_class"},
		{"DateFormat", map[string]any{"permit_issued_on": "2026/01/01"}, "permit_issued_on"},
		{"DatesOutOfOrder", map[string]any{"permit_expires_on": a.Day(-70).Format(time.DateOnly)}, "permit_expires_on"},
		{"MissingName", map[string]any{"name": nil}, "name"},
		{"MissingPassword", map[string]any{"password": nil}, "password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := good(tc.over)
			for k, v := range body {
				if v == nil {
					delete(body, k)
				}
			}
			r := a.Do("POST", "/api/v1/candidates", sched, body)
			if r.Status != 422 || r.Code() != "invalid_field" || r.Field() != tc.field {
				t.Fatalf("got %d %s, want 422 invalid_field %s", r.Status, r.Raw, tc.field)
			}
		})
	}
	a.Must(http.StatusCreated, "POST", "/api/v1/candidates", sched, good(nil))
	r := a.Do("POST", "/api/v1/candidates", sched, good(map[string]any{"name": "李四"}))
	if r.Status != 409 || r.Code() != "duplicate_candidate" {
		t.Fatalf("duplicate: got %d %s, want 409 duplicate_candidate", r.Status, r.Raw)
	}
	// The candidate logs in with the ID number.
	a.Login(testkit.IDNumber(1), "candidate-pw")
}

func TestBookAndCancel(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, nil)
	c := a.NewCandidate(sched, nil)
	other := a.NewCandidate(sched, nil)

	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	bs := r.Body["bookings"].([]any)
	b := bs[0].(map[string]any)
	if b["status"] != "confirmed" || b["lane"] != "regular" || int64(b["slot_id"].(float64)) != slot || b["subject"] != 2.0 {
		t.Fatalf("booking: %s", r.Raw)
	}
	id := int64(b["id"].(float64))

	mine := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c.Token, nil)
	if n := len(mine.Body["bookings"].([]any)); n != 1 {
		t.Fatalf("me/bookings: %d bookings, want 1", n)
	}
	if got := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/candidates/%d/bookings", c.ID), sched, nil); len(got.Body["bookings"].([]any)) != 1 {
		t.Fatalf("staff view: %s", got.Raw)
	}
	// Someone else's booking does not exist for another candidate.
	for _, req := range [][2]string{{"GET", fmt.Sprintf("/api/v1/bookings/%d", id)}, {"DELETE", fmt.Sprintf("/api/v1/bookings/%d", id)}} {
		if r := a.Do(req[0], req[1], other.Token, nil); r.Status != 404 {
			t.Fatalf("%s by another candidate: got %d, want 404", req[0], r.Status)
		}
	}
	if r := a.Do("GET", fmt.Sprintf("/api/v1/candidates/%d/bookings", c.ID), other.Token, nil); r.Status != 403 {
		t.Fatalf("candidate reading staff route: got %d, want 403", r.Status)
	}
	seats := func() float64 {
		s := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/slots/%d", slot), c.Token, nil)
		return s.Body["seats_left"].(float64)
	}
	if got := seats(); got != 9 {
		t.Fatalf("seats_left after booking: got %v, want 9", got)
	}
	// Staff need a reason.
	if r := a.Do("DELETE", fmt.Sprintf("/api/v1/bookings/%d", id), sched, nil); r.Status != 422 || r.Field() != "reason" {
		t.Fatalf("staff cancel without reason: got %d %s", r.Status, r.Raw)
	}
	r = a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", id), c.Token, nil)
	if st := r.Body["bookings"].([]any)[0].(map[string]any)["status"]; st != "cancelled" {
		t.Fatalf("cancel: %s", r.Raw)
	}
	if got := seats(); got != 10 {
		t.Fatalf("seats_left after cancel: got %v, want 10 (the seat returns at once)", got)
	}
	if r := a.Do("DELETE", fmt.Sprintf("/api/v1/bookings/%d", id), c.Token, nil); r.Status != 409 || r.Code() != "not_confirmed" {
		t.Fatalf("second cancel: got %d %s", r.Status, r.Raw)
	}
	// A cancellation in time does not count: the candidate books again.
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
}

func TestCombinedBooking(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, nil)  // 08:00-10:00
	s3 := a.NewSlot(sched, venue, 3, 5, 10, nil) // 10:00-12:00, back to back
	s3early := a.NewSlot(sched, venue, 3, 5, 9, nil)
	s3other := a.NewSlot(sched, venue, 3, 6, 10, nil)
	c := a.NewCandidate(sched, nil)

	for name, pair := range map[string][]int64{"Overlap": {s2, s3early}, "OtherDay": {s2, s3other}, "Same": {s2, s2}, "TwoRoad": {s3, s3other}} {
		r := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": pair})
		if r.Status != 409 || r.Code() != "combined_invalid" {
			t.Fatalf("%s: got %d %s, want 409 combined_invalid", name, r.Status, r.Raw)
		}
	}
	// Subject 3 first in the request: order does not matter.
	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s3, s2}})
	bs := r.Body["bookings"].([]any)
	if len(bs) != 2 {
		t.Fatalf("combined: %s", r.Raw)
	}
	b2, b3 := bs[0].(map[string]any), bs[1].(map[string]any)
	if b2["subject"] != 2.0 || b3["subject"] != 3.0 || b2["pair_id"] != b3["id"] || b3["pair_id"] != b2["id"] {
		t.Fatalf("pair not linked: %s", r.Raw)
	}
	// Cancelling the subject 2 part alone keeps subject 3.
	r = a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%v", b2["id"]), c.Token, nil)
	if n := len(r.Body["bookings"].([]any)); n != 1 {
		t.Fatalf("cancel without pair cancelled %d", n)
	}
	mine := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c.Token, nil)
	status := map[float64]string{}
	for _, b := range mine.Body["bookings"].([]any) {
		m := b.(map[string]any)
		status[m["subject"].(float64)] = m["status"].(string)
	}
	if status[2] != "cancelled" || status[3] != "confirmed" {
		t.Fatalf("after cancelling the subject 2 part: %v", status)
	}

	// Both or neither: a full subject 3 slot refuses the pair and books nothing.
	c2 := a.NewCandidate(sched, nil)
	full := a.NewSlot(sched, venue, 3, 5, 13, map[string]any{"capacity": 1})
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", a.NewCandidate(sched, nil).Token, map[string]any{"slot_ids": []int64{full}})
	r = a.Do("POST", "/api/v1/bookings", c2.Token, map[string]any{"slot_ids": []int64{s2, full}})
	if r.Status != 409 || r.Code() != "slot_full" {
		t.Fatalf("pair with a full half: got %d %s", r.Status, r.Raw)
	}
	if mine := a.Must(http.StatusOK, "GET", "/api/v1/me/bookings", c2.Token, nil); len(mine.Body["bookings"].([]any)) != 0 {
		t.Fatalf("half a pair was booked: %s", mine.Raw)
	}

	// with_pair cancels both halves.
	r = a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c2.Token, map[string]any{"slot_ids": []int64{s2, s3}})
	id := r.Body["bookings"].([]any)[0].(map[string]any)["id"]
	r = a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%v?with_pair=true", id), c2.Token, nil)
	if n := len(r.Body["bookings"].([]any)); n != 2 {
		t.Fatalf("with_pair cancelled %d bookings, want 2: %s", n, r.Raw)
	}
}

// TestMoveAPI: POST /bookings/{id}/move moves a booking for staff, with a
// reason; a full new slot is refused slot_full and the booking stays.
func TestMoveAPI(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	from := a.NewSlot(sched, venue, 2, 5, 9, nil)
	to := a.NewSlot(sched, venue, 2, 6, 9, nil)
	full := a.NewSlot(sched, venue, 2, 7, 9, map[string]any{"capacity": 1})
	c := a.NewCandidate(sched, nil)
	filler := a.NewCandidate(sched, nil)
	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", filler.Token, map[string]any{"slot_ids": []int64{full}})
	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{from}})
	id := int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	path := fmt.Sprintf("/api/v1/bookings/%d/move", id)

	if r := a.Do("POST", path, sched, map[string]any{"slot_ids": []int64{to}}); r.Status != 422 || r.Field() != "reason" {
		t.Fatalf("without a reason: got %d %s", r.Status, r.Raw)
	}
	if r := a.Do("POST", path, c.Token, map[string]any{"slot_ids": []int64{to}, "reason": "x"}); r.Status != 403 {
		t.Fatalf("by the candidate: got %d %s", r.Status, r.Raw)
	}
	if r := a.Do("POST", path, sched, map[string]any{"slot_ids": []int64{full}, "reason": "考生改期"}); r.Status != 409 || r.Code() != "slot_full" {
		t.Fatalf("to a full slot: got %d %s", r.Status, r.Raw)
	}
	if got := a.Must(http.StatusOK, "GET", fmt.Sprintf("/api/v1/bookings/%d", id), sched, nil); got.Body["status"] != "confirmed" {
		t.Fatalf("after the refused move: %s", got.Raw)
	}
	r = a.Must(http.StatusOK, "POST", path, sched, map[string]any{"slot_ids": []int64{to}, "reason": "考生改期"})
	moved := r.Body["bookings"].([]any)[0].(map[string]any)
	if r.Body["cancelled"].([]any)[0].(map[string]any)["status"] != "cancelled" || int64(moved["slot_id"].(float64)) != to || moved["status"] != "confirmed" {
		t.Fatalf("move: %s", r.Raw)
	}
}
