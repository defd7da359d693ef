package exam_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
)

// queueOf is c's GET /me/queue, which must answer 200.
func queueOf(t *testing.T, a *servertest.App, c servertest.Candidate) map[string]any {
	t.Helper()
	return a.Must(http.StatusOK, "GET", "/api/v1/me/queue", c.Token, nil).Body
}

// checkWaiting checks that q waits at place with an estimate at want
// (within 5 seconds, the server's clock read a moment later; in +08:00) on basis "minutes/measured/cars".
func checkWaiting(t *testing.T, who string, q map[string]any, place int, want time.Time, basis string) {
	t.Helper()
	b := q["basis"].(map[string]any)
	gotBasis := fmt.Sprintf("%v/%v/%v", b["minutes_per_attempt"], b["measured_attempts"], b["cars"])
	at, _ := q["estimated_at"].(string)
	est, err := time.Parse(time.RFC3339, at)
	if q["status"] != "waiting" || q["place"] != float64(place) || q["ahead"] != float64(place-1) || gotBasis != basis ||
		err != nil || est.Sub(want).Abs() > 5*time.Second || at[len(at)-6:] != "+08:00" {
		t.Errorf("%s: got %v, want waiting at place %d, estimated %s, basis %s", who, q, place, want.Format(time.RFC3339), basis)
	}
}

// turnNotes counts each candidate's "your turn is next" notifications.
func turnNotes(t *testing.T, a *servertest.App, cs ...servertest.Candidate) []int {
	t.Helper()
	n := make([]int, len(cs))
	for i, c := range cs {
		if err := a.DB.Get(&n[i], `SELECT count(*) FROM notifications WHERE candidate_id = $1 AND kind = 'turn.next'`, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// TestMyQueue plays an exam day through: the queue in booking order, a
// priority-lane grant moving its candidate ahead, a second car halving the
// wait, attempts starting (each telling the next candidate once) and one
// finishing (the day's measured pace replacing the default).
func TestMyQueue(t *testing.T) {
	t.Parallel()
	clock := testkit.RunningClock(time.Now()) // with the database's now(), which stamps the attempts' starts
	a := servertest.StartAt(t, clock)
	d := servertest.NewExamDay(t, a, 2)
	c1, b1 := d.Book(t, d.Slot, 2)
	c2, b2 := d.Book(t, d.Slot, 2)
	c3, _ := d.Book(t, d.Slot, 2)
	c4, b4 := d.Book(t, d.Slot, 2)

	t.Run("NoExamToday", func(t *testing.T) {
		a.Must(http.StatusNotFound, "GET", "/api/v1/me/queue", a.NewCandidate(d.Sched, nil).Token, nil)
	})
	t.Run("FirstOfTheDay", func(t *testing.T) { // one car, the default 15 minutes
		now := clock.Now()
		q := queueOf(t, a, c1)
		checkWaiting(t, "c1", q, 1, now, "15/0/1")
		if v := q["venue"].(map[string]any); q["subject"] != 2.0 || q["booking_id"] != float64(b1) || v["id"] != float64(d.Venue) || v["name"] != "第一考场" {
			t.Errorf("c1: %v", q)
		}
		checkWaiting(t, "c3", queueOf(t, a, c3), 3, now.Add(30*time.Minute), "15/0/1")
	})
	t.Run("LaneGoesAhead", func(t *testing.T) { // PL-ORDER: booked last, examined first
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/candidates/%d/priority", c4.ID), d.Sched,
			map[string]any{"reason": "elderly", "needs": []string{}, "note": ""})
		now := clock.Now()
		checkWaiting(t, "c4", queueOf(t, a, c4), 1, now, "15/0/1")
		checkWaiting(t, "c1", queueOf(t, a, c1), 2, now.Add(15*time.Minute), "15/0/1")
	})
	second := d.NewDevice(t, d.Venue)
	t.Run("TwoCars", func(t *testing.T) {
		now := clock.Now()
		checkWaiting(t, "c3", queueOf(t, a, c3), 4, now.Add(15*time.Minute), "15/0/2")
	})
	t.Run("AttemptsStart", func(t *testing.T) {
		if r := d.Post(d.Device, b4, "exam_started", nil); r.Status != http.StatusCreated {
			t.Fatalf("exam_started: %d %s", r.Status, r.Raw)
		}
		if got := turnNotes(t, a, c1, c2, c3, c4); fmt.Sprint(got) != "[1 0 0 0]" {
			t.Errorf("turn.next after the lane's start: %v, want c1 told", got)
		}
		if q := queueOf(t, a, c4); q["status"] != "in_exam" || q["place"] != 0.0 || q["estimated_at"] != nil {
			t.Errorf("c4 in exam: %v", q)
		}
		if r := d.Post(second, b1, "exam_started", nil); r.Status != http.StatusCreated {
			t.Fatalf("exam_started: %d %s", r.Status, r.Raw)
		}
		if got := turnNotes(t, a, c1, c2, c3, c4); fmt.Sprint(got) != "[1 1 0 0]" {
			t.Errorf("turn.next after c1's start: %v, want c1 and c2 told once", got)
		}
		var text, link string
		if err := a.DB.QueryRow(`SELECT text_zh, link FROM notifications WHERE candidate_id = $1 AND kind = 'turn.next'`, c2.ID).Scan(&text, &link); err != nil ||
			text != "下一位就是您：科目二考试即将叫号，请在候考区等候，留意叫号。" || link != "/candidate" {
			t.Errorf("c2's note: %q %q (%v)", text, link, err)
		}
	})
	t.Run("MeasuredPace", func(t *testing.T) {
		clock.Add(12 * time.Minute)
		if r := d.Post(d.Device, b4, "exam_finished", nil); r.Status != http.StatusCreated {
			t.Fatalf("exam_finished: %d %s", r.Status, r.Raw)
		}
		// c4's attempt took 12 minutes; c1's, 12 minutes old, is due: both cars free now.
		now := clock.Now()
		checkWaiting(t, "c2", queueOf(t, a, c2), 1, now, "12/1/2")
		checkWaiting(t, "c3", queueOf(t, a, c3), 2, now, "12/1/2")
		a.Must(http.StatusNotFound, "GET", "/api/v1/me/queue", c4.Token, nil) // passed: no exam left today
	})
	t.Run("TheLastOneIsToldOnce", func(t *testing.T) {
		if r := d.Post(d.Device, b2, "exam_started", nil); r.Status != http.StatusCreated {
			t.Fatalf("exam_started: %d %s", r.Status, r.Raw)
		}
		if got := turnNotes(t, a, c1, c2, c3, c4); fmt.Sprint(got) != "[1 1 1 0]" {
			t.Errorf("turn.next after c2's start: %v, want c3 told once", got)
		}
	})
}

// TestTurnNextOnceWhenAttemptsStartAtOnce starts two attempts at once on two
// cars: whichever commits first, the candidate after both is told exactly
// once and nobody twice (the queue's lock serializes the starts; without it
// each start would find the other's candidate next, and nobody would tell
// the third).
func TestTurnNextOnceWhenAttemptsStartAtOnce(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	for round := range 3 {
		d := servertest.NewExamDay(t, a, 2)
		second := d.NewDevice(t, d.Venue)
		c1, b1 := d.Book(t, d.Slot, 2)
		c2, b2 := d.Book(t, d.Slot, 2)
		c3, _ := d.Book(t, d.Slot, 2)
		c4, _ := d.Book(t, d.Slot, 2)
		var wg sync.WaitGroup
		for _, s := range []struct {
			key     string
			booking int64
		}{{d.Device, b1}, {second, b2}} {
			wg.Go(func() {
				if r := d.Post(s.key, s.booking, "exam_started", nil); r.Status != http.StatusCreated {
					t.Errorf("exam_started: %d %s", r.Status, r.Raw)
				}
			})
		}
		wg.Wait()
		got := turnNotes(t, a, c1, c2, c3, c4)
		if got[0]+got[1] != 1 || got[2] != 1 || got[3] != 0 {
			t.Errorf("round %d: turn.next per candidate %v, want one of the first two told, then the third, once each", round, got)
		}
	}
}
