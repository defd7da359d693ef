package scheduling_test

import (
	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// candidates registers n candidates concurrently.
func candidates(a *servertest.App, token string, n int) []servertest.Candidate {
	a.T.Helper()
	cs := make([]servertest.Candidate, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			cs[i] = a.NewCandidate(token, nil)
		}()
	}
	wg.Wait()
	return cs
}

// fire sends one booking request per servertest.Candidate, all at once, and returns the
// answers' statuses and codes by candidate.
func fire(a *servertest.App, cs []servertest.Candidate, slots func(i int) []int64) []testkit.Response {
	out := make([]testkit.Response, len(cs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": slots(i)})
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// TestNoOverbooking fires 200 concurrent bookings at a 10-seat slot.
func TestNoOverbooking(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 10})
	cs := candidates(a, sched, 200)

	res := fire(a, cs, func(int) []int64 { return []int64{slot} })
	got := map[string]int{}
	for _, r := range res {
		got[fmt.Sprint(r.Status, " ", r.Code())]++
	}
	if got["201 "] != 10 || got["409 slot_full"] != 190 {
		t.Fatalf("answers: %v, want 10 × 201 and 190 × 409 slot_full", got)
	}
	var confirmed, booked int
	if err := a.DB.Get(&confirmed, `SELECT count(*) FROM bookings WHERE slot_id = $1 AND status = 'confirmed'`, slot); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Get(&booked, `SELECT booked FROM slots WHERE id = $1`, slot); err != nil {
		t.Fatal(err)
	}
	if confirmed != 10 || booked != 10 {
		t.Fatalf("confirmed %d, booked %d, want 10 and 10", confirmed, booked)
	}
}

// TestCombinedRace races combined bookings against single subject 3
// bookings for scarce seats: no pair may end half-booked.
func TestCombinedRace(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, map[string]any{"capacity": 15})
	s3 := a.NewSlot(sched, venue, 3, 5, 10, map[string]any{"capacity": 10})
	cs := candidates(a, sched, 60)

	res := fire(a, cs, func(i int) []int64 {
		switch i % 3 {
		case 0:
			return []int64{s3} // a single road test competing for the same seats
		case 1:
			return []int64{s2, s3}
		}
		return []int64{s3, s2}
	})
	for i, r := range res {
		if r.Status != http.StatusCreated && !(r.Status == 409 && r.Code() == "slot_full") {
			t.Fatalf("candidate %d: got %d %s", i, r.Status, r.Raw)
		}
	}
	var half int
	if err := a.DB.Get(&half, `
		SELECT count(*) FROM bookings b
		LEFT JOIN bookings p ON p.id = b.pair_id
		WHERE b.status = 'confirmed' AND b.pair_id IS NOT NULL AND p.status IS DISTINCT FROM 'confirmed'`); err != nil {
		t.Fatal(err)
	}
	if half != 0 {
		t.Fatalf("%d half-booked pairs", half)
	}
	var unpaired2 int
	if err := a.DB.Get(&unpaired2, `SELECT count(*) FROM bookings WHERE subject = 2 AND pair_id IS NULL`); err != nil {
		t.Fatal(err)
	}
	if unpaired2 != 0 {
		t.Fatalf("%d subject 2 bookings without their subject 3 half", unpaired2)
	}
	var over int
	if err := a.DB.Get(&over, `
		SELECT count(*) FROM slots s
		WHERE s.booked <> (SELECT count(*) FROM bookings b WHERE b.slot_id = s.id AND b.status = 'confirmed')
		   OR s.booked > s.capacity`); err != nil {
		t.Fatal(err)
	}
	if over != 0 {
		t.Fatalf("%d slots whose booked count disagrees with their bookings", over)
	}
	var s3booked int
	if err := a.DB.Get(&s3booked, `SELECT booked FROM slots WHERE id = $1`, s3); err != nil || s3booked != 10 {
		t.Fatalf("subject 3 slot: booked %d (%v), want all 10 seats taken", s3booked, err)
	}
}

// TestIdempotency repeats a booking with the same key, also concurrently.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	s2 := a.NewSlot(sched, venue, 2, 5, 8, nil)
	s3 := a.NewSlot(sched, venue, 3, 5, 10, nil)
	c := a.NewCandidate(sched, nil)

	first := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2, s3}}, "Idempotency-Key", "k1")
	again := a.Must(http.StatusOK, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s3, s2}}, "Idempotency-Key", "k1")
	if string(first.Raw) != string(again.Raw) {
		t.Fatalf("repeat answered differently:\n%s\n%s", first.Raw, again.Raw)
	}
	if r := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{s2}}, "Idempotency-Key", "k1"); r.Status != 409 || r.Code() != "idempotency_key_reused" {
		t.Fatalf("key reused for another request: got %d %s", r.Status, r.Raw)
	}

	// Two copies at once: one books, the other answers with the same bookings.
	c2 := a.NewCandidate(sched, nil)
	res := fire(a, []servertest.Candidate{c2, c2}, func(int) []int64 { return []int64{s2, s3} })
	codes := []int{res[0].Status, res[1].Status}
	if !(codes[0] == 201 && codes[1] == 409 || codes[0] == 409 && codes[1] == 201) {
		// Without a key the second copy is refused by BK-ONE.
		t.Fatalf("copies without a key: %v", codes)
	}
	c3 := a.NewCandidate(sched, nil)
	var wg sync.WaitGroup
	out := make([]testkit.Response, 2)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = a.Do("POST", "/api/v1/bookings", c3.Token, map[string]any{"slot_ids": []int64{s2, s3}}, "Idempotency-Key", "same")
		}()
	}
	wg.Wait()
	if s := []int{out[0].Status, out[1].Status}; !(s[0] == 201 && s[1] == 200 || s[0] == 200 && s[1] == 201) {
		t.Fatalf("concurrent copies with a key: %v %s %s", s, out[0].Raw, out[1].Raw)
	}
	if string(out[0].Raw) != string(out[1].Raw) {
		t.Fatalf("copies answered differently:\n%s\n%s", out[0].Raw, out[1].Raw)
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM bookings WHERE candidate_id = $1`, c3.ID); err != nil || n != 2 {
		t.Fatalf("bookings of the candidate: %d (%v), want 2", n, err)
	}
}
