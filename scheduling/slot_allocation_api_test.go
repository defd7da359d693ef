package scheduling_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestSetAllocationAPI: PATCH /slots/{id} switches an unused slot's
// allocation for a scheduler or an admin (and GET shows it), refuses a
// slot with a booking (409 slot_in_use), a closed window (409
// booking_closed), a bad value (422), and anyone else (403).
func TestSetAllocationAPI(t *testing.T) {
	t.Parallel()
	a, clock, sched, closes := rankedSetup(t)
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{
		"booking_closes_at": closes.Format(time.RFC3339)})
	path := fmt.Sprintf("/api/v1/slots/%d", slot)
	c := a.NewCandidate(sched, nil)

	r := a.Must(http.StatusOK, "PATCH", path, sched, map[string]any{"allocation": "ranked"})
	if r.Body["allocation"] != "ranked" || r.ID() != slot {
		t.Fatalf("switch to ranked: %s", r.Raw)
	}
	if r := a.Must(http.StatusOK, "GET", path, c.Token, nil); r.Body["allocation"] != "ranked" {
		t.Errorf("read after the switch: %s", r.Raw)
	}
	if r := a.Must(http.StatusOK, "PATCH", path, a.Admin, map[string]any{"allocation": "instant"}); r.Body["allocation"] != "instant" {
		t.Errorf("the admin switches back: %s", r.Raw)
	}

	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
		code   string
	}{
		{"Candidate", c.Token, map[string]any{"allocation": "ranked"}, 403, "forbidden"},
		{"Issuer", a.Staff("issuer"), map[string]any{"allocation": "ranked"}, 403, "forbidden"},
		{"Missing", sched, map[string]any{}, 422, "invalid_field"},
		{"Unknown", sched, map[string]any{"allocation": "lottery"}, 422, "invalid_field"},
		{"OtherField", sched, map[string]any{"allocation": "ranked", "capacity": 3}, 422, "invalid_field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := a.Do("PATCH", path, tc.token, tc.body); r.Status != tc.status || r.Code() != tc.code {
				t.Errorf("got %d %s, want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
	if r := a.Do("PATCH", "/api/v1/slots/999999", sched, map[string]any{"allocation": "ranked"}); r.Status != 404 {
		t.Errorf("unknown slot: got %d %s, want 404", r.Status, r.Raw)
	}

	a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	if r := a.Do("PATCH", path, sched, map[string]any{"allocation": "ranked"}); r.Status != 409 || r.Code() != "slot_in_use" {
		t.Errorf("booked slot: got %d %s, want 409 slot_in_use", r.Status, r.Raw)
	}
	if r := a.Must(http.StatusOK, "GET", path, sched, nil); r.Body["allocation"] != "instant" || r.Body["booked"] != 1.0 {
		t.Errorf("the refused switch changed the slot: %s", r.Raw)
	}

	empty := a.NewSlot(sched, venue, 2, 6, 9, map[string]any{"booking_closes_at": closes.Format(time.RFC3339)})
	clock.Set(closes)
	if r := a.Do("PATCH", fmt.Sprintf("/api/v1/slots/%d", empty), sched, map[string]any{"allocation": "ranked"}); r.Status != 409 || r.Code() != "booking_closed" {
		t.Errorf("closed window: got %d %s, want 409 booking_closed", r.Status, r.Raw)
	}
}
