package scheduling_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// TestCancelClosesAtMidnight runs examd on a pinned clock across the night
// before an exam: BK-CANCEL lets a candidate cancel until 24:00 of the day
// before, Shanghai time, and not a second later.
func TestCancelClosesAtMidnight(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Date(2030, 6, 1, 10, 0, 0, 0, testkit.Shanghai))
	a := servertest.StartAt(t, clock)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	now := clock.Now()
	slot := a.NewSlot(sched, venue, 2, 4, 9, map[string]any{ // 2030-06-05 09:00
		"booking_opens_at": now.Add(-time.Hour).Format(time.RFC3339), "booking_closes_at": now.Add(time.Hour).Format(time.RFC3339)})
	var bookings [2]int64
	cs := [2]servertest.Candidate{a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)}
	for i, c := range cs {
		r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
		bookings[i] = int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
	}

	cancel := func(i int) testkit.Response {
		t.Helper()
		token := a.Login(cs[i].IDNo, "candidate-pw") // the first sessions expired days ago
		return a.Do("DELETE", fmt.Sprintf("/api/v1/bookings/%d", bookings[i]), token, nil)
	}
	t.Run("OK/23:59:59", func(t *testing.T) {
		clock.Set(time.Date(2030, 6, 4, 23, 59, 59, 0, testkit.Shanghai))
		if r := cancel(0); r.Status != http.StatusOK {
			t.Errorf("cancel at 23:59:59 the day before: got %d %s, want 200", r.Status, r.Raw)
		}
	})
	t.Run("CancelClosed/00:00:00", func(t *testing.T) {
		clock.Set(time.Date(2030, 6, 5, 0, 0, 0, 0, testkit.Shanghai))
		if r := cancel(1); r.Status != http.StatusConflict || r.Code() != "cancel_closed" {
			t.Errorf("cancel at 00:00:00 of the exam day: got %d %s, want 409 cancel_closed", r.Status, r.Raw)
		}
	})
}
