package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// bookingOutcomes reads examd_bookings_total by result from /metrics.
func bookingOutcomes(a *app) map[string]int {
	a.t.Helper()
	m := a.must(http.StatusOK, "GET", "/metrics", "", nil)
	out := map[string]int{}
	for _, l := range regexp.MustCompile(`(?m)^examd_bookings_total\{result="([^"]+)"\} (\d+)$`).FindAllStringSubmatch(string(m.Raw), -1) {
		out[l[1]], _ = strconv.Atoi(l[2])
	}
	return out
}

// TestBookingDoors: the page and the API book through one function, with
// one Idempotency-Key rule and one outcome count.
func TestBookingDoors(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	sched := a.staff("scheduler")
	venue := a.newVenue(sched, false)
	s2 := a.newSlot(sched, venue, 2, 5, 8, nil)
	s3 := a.newSlot(sched, venue, 3, 5, 13, nil)
	c := a.newCandidate(sched, nil)
	b := a.browser(t)
	b.logIn(c.IDNo, "candidate-pw", "/candidate")
	b.get("/candidate/slots")

	t.Run("KeyRefusedByBoth", func(t *testing.T) {
		p := b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(s2)}, "key": {"钥匙"}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Errorf("page with a non-ASCII key: %d at %s, want 422 as the API answers", p.Status, p.URL)
		}
		r := a.do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2}}, "Idempotency-Key", "钥匙")
		if r.Status != http.StatusUnprocessableEntity {
			t.Errorf("API with a non-ASCII key: %d", r.Status)
		}
	})

	t.Run("KeySharedByBoth", func(t *testing.T) {
		// A key the API accepts (70 characters) is the page's key too: the
		// API's repeat of the page's booking is a replay, not a new try.
		key := strings.Repeat("k", 70)
		before := bookingOutcomes(a)
		p := b.post("/candidate/slots", url.Values{"slot_id": {fmt.Sprint(s3)}, "key": {key}})
		if p.URL != "/candidate/bookings?done=booked" {
			t.Fatalf("page booking: %d at %s", p.Status, p.URL)
		}
		r := a.do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s3}}, "Idempotency-Key", key)
		if r.Status != http.StatusOK {
			t.Errorf("API repeat of the page's booking: %d %s, want 200 (replayed)", r.Status, r.Raw)
		}
		after := bookingOutcomes(a)
		if after["confirmed"]-before["confirmed"] != 1 || after["replayed"]-before["replayed"] != 1 {
			t.Errorf("outcomes: before %v, after %v; want one confirmed (page) and one replayed (API)", before, after)
		}
	})
}
