package scheduling_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"examd/scheduling"
)

// bookingOf books slot for c and returns the booking's id.
func bookingOf(t *testing.T, a *servertest.App, c servertest.Candidate, slot int64) int64 {
	t.Helper()
	r := a.Must(http.StatusCreated, "POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
	return int64(r.Body["bookings"].([]any)[0].(map[string]any)["id"].(float64))
}

// join puts c on slot's waitlist.
func join(t *testing.T, a *servertest.App, c servertest.Candidate, slot int64) {
	t.Helper()
	a.Must(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/slots/%d/waitlist", slot), c.Token, nil)
}

// entry is c's waitlist entry of slot as the database holds it.
type entry struct {
	State      string  `db:"state"`
	SkipReason *string `db:"skip_reason"`
	BookingID  *int64  `db:"booking_id"`
}

func entryOf(t *testing.T, a *servertest.App, c servertest.Candidate, slot int64) entry {
	t.Helper()
	var e entry
	if err := a.DB.Get(&e, `SELECT state, skip_reason, booking_id FROM waitlist
		WHERE candidate_id = $1 AND slot_id = $2 ORDER BY id DESC LIMIT 1`, c.ID, slot); err != nil {
		t.Fatal(err)
	}
	return e
}

// holders lists the candidates holding a confirmed booking of slot.
func holders(t *testing.T, a *servertest.App, slot int64) []int64 {
	t.Helper()
	var ids []int64
	if err := a.DB.Select(&ids, `SELECT candidate_id FROM bookings WHERE slot_id = $1 AND status = 'confirmed' ORDER BY candidate_id`, slot); err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestWaitlistJoinAndLeave(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
	other := a.NewSlot(sched, venue, 2, 6, 9, map[string]any{"capacity": 5})
	holder, w, booked := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	path := fmt.Sprintf("/api/v1/slots/%d/waitlist", slot)

	if r := a.Do("POST", path, w.Token, nil); r.Status != http.StatusConflict || r.Code() != "slot_not_full" {
		t.Fatalf("joining a slot with a seat: got %d %s, want 409 slot_not_full", r.Status, r.Raw)
	}
	bookingOf(t, a, holder, slot)
	bookingOf(t, a, booked, other)
	if r := a.Do("POST", path, booked.Token, nil); r.Status != http.StatusConflict || r.Code() != "already_booked" {
		t.Fatalf("joining with a booking of the subject: got %d %s, want 409 already_booked", r.Status, r.Raw)
	}
	r := a.Must(http.StatusCreated, "POST", path, w.Token, nil)
	if r.Body["state"] != "waiting" || r.Body["place"] != 1.0 {
		t.Fatalf("join: %s, want waiting at place 1", r.Raw)
	}
	if r := a.Do("POST", path, w.Token, nil); r.Status != http.StatusConflict || r.Code() != "waitlist_joined" {
		t.Fatalf("joining twice: got %d %s, want 409 waitlist_joined", r.Status, r.Raw)
	}
	mine := a.Must(http.StatusOK, "GET", "/api/v1/me/waitlist", w.Token, nil)
	if list := mine.Body["waitlist"].([]any); len(list) != 1 || list[0].(map[string]any)["place"] != 1.0 {
		t.Fatalf("my waitlist: %s", mine.Raw)
	}
	a.Must(http.StatusOK, "DELETE", path, w.Token, nil)
	if r := a.Do("DELETE", path, w.Token, nil); r.Status != http.StatusNotFound {
		t.Fatalf("leaving twice: got %d %s, want 404", r.Status, r.Raw)
	}
	// Staff put a candidate on the list by naming them.
	if r := a.Do("POST", path, sched, nil); r.Status != http.StatusUnprocessableEntity || r.Field() != "candidate_id" {
		t.Fatalf("staff without candidate_id: got %d %s", r.Status, r.Raw)
	}
	a.Must(http.StatusCreated, "POST", path, sched, map[string]any{"candidate_id": w.ID})
	list := a.Must(http.StatusOK, "GET", path, sched, nil).Body["waitlist"].([]any)
	first := list[0].(map[string]any)
	if first["state"] != "waiting" || first["id_number"] != w.IDNo[:3]+"***********"+w.IDNo[14:] {
		t.Fatalf("scheduler's waitlist: %v, want the waiting entry first, its ID number masked", list)
	}
}

// TestWaitlistRefillsInTheFreeingTransaction cancels the only seat of a
// full slot while other candidates hammer it with bookings: the seat goes
// to the first waiting candidate in the cancellation's own transaction, so
// no hammering booking ever gets it. The offer declined passes the seat to
// the next; an ordinary booking is not declined.
func TestWaitlistRefillsInTheFreeingTransaction(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
	holder, w1, w2 := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	held := bookingOf(t, a, holder, slot)
	join(t, a, w1, slot)
	join(t, a, w2, slot)
	hammerers := candidates(a, sched, 6)

	var stop atomic.Bool
	var got atomic.Int64 // bookings the hammerers made
	var tries atomic.Int64
	var wg sync.WaitGroup
	for _, c := range hammerers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				r := a.Do("POST", "/api/v1/bookings", c.Token, map[string]any{"slot_ids": []int64{slot}})
				tries.Add(1)
				if r.Status == http.StatusCreated {
					got.Add(1)
				}
			}
		}()
	}
	for tries.Load() < 12 { // the hammer is going
		time.Sleep(5 * time.Millisecond)
	}
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", held), holder.Token, nil)
	time.Sleep(200 * time.Millisecond) // and keeps going after the cancellation
	stop.Store(true)
	wg.Wait()
	if got.Load() != 0 {
		t.Fatalf("hammering bookers got %d seats of a refilled slot", got.Load())
	}
	if h := holders(t, a, slot); len(h) != 1 || h[0] != w1.ID {
		t.Fatalf("seat holders %v, want the first waiting candidate %d", h, w1.ID)
	}
	e1 := entryOf(t, a, w1, slot)
	if e1.State != "offered" || e1.BookingID == nil {
		t.Fatalf("first waiting entry: %+v, want offered with its booking", e1)
	}
	var notes []struct{ Kind, Text string }
	if err := a.DB.Select(&notes, `SELECT kind, text_zh AS text FROM notifications WHERE candidate_id = $1`, w1.ID); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].Kind != "waitlist.offer" {
		t.Fatalf("notifications of the offer: %v, want one waitlist.offer", notes)
	}
	// The offer names the day with its weekday, the times and the venue.
	if txt := notes[0].Text; !strings.Contains(txt, "星期") || !strings.Contains(txt, ":00–") || !strings.Contains(txt, "（第一考场）") {
		t.Errorf("the offer says %q", txt)
	}
	if w := entryOf(t, a, w2, slot); w.State != "waiting" {
		t.Fatalf("second waiting entry: %+v, want still waiting", w)
	}
	mine := a.Must(http.StatusOK, "GET", "/api/v1/me/waitlist", w2.Token, nil).Body["waitlist"].([]any)
	if p := mine[0].(map[string]any)["place"]; p != 1.0 {
		t.Fatalf("second's place after the offer: %v, want 1", p)
	}

	t.Run("DeclinePassesOn", func(t *testing.T) {
		if r := a.Do("POST", fmt.Sprintf("/api/v1/bookings/%d/decline", *e1.BookingID), w2.Token, nil); r.Status != http.StatusNotFound {
			t.Fatalf("declining another's offer: got %d %s, want 404", r.Status, r.Raw)
		}
		r := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/bookings/%d/decline", *e1.BookingID), w1.Token, nil)
		if st := r.Body["bookings"].([]any)[0].(map[string]any)["status"]; st != "cancelled" {
			t.Fatalf("declined booking: %s", r.Raw)
		}
		if e := entryOf(t, a, w1, slot); e.State != "declined" {
			t.Fatalf("declined entry: %+v", e)
		}
		if h := holders(t, a, slot); len(h) != 1 || h[0] != w2.ID {
			t.Fatalf("seat holders after the decline %v, want the next waiting candidate %d", h, w2.ID)
		}
	})
	t.Run("OrdinaryBookingIsNoOffer", func(t *testing.T) {
		other := a.NewSlot(sched, venue, 3, 5, 14, nil)
		b := bookingOf(t, a, holder, other)
		if r := a.Do("POST", fmt.Sprintf("/api/v1/bookings/%d/decline", b), holder.Token, nil); r.Status != http.StatusConflict || r.Code() != "not_waitlist_offer" {
			t.Fatalf("declining an ordinary booking: got %d %s, want 409 not_waitlist_offer", r.Status, r.Raw)
		}
	})
}

// TestWaitlistSkipsTheIneligible: a waiting candidate who booked the
// subject elsewhere since joining is passed over with the reason, and the
// seat goes to the next.
func TestWaitlistSkipsTheIneligible(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
	elsewhere := a.NewSlot(sched, venue, 2, 7, 9, nil)
	holder, w1, w2 := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	held := bookingOf(t, a, holder, slot)
	join(t, a, w1, slot)
	join(t, a, w2, slot)
	bookingOf(t, a, w1, elsewhere) // BK-ONE: no longer eligible for slot
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", held, "考生申请"), sched, nil)
	e := entryOf(t, a, w1, slot)
	if e.State != "skipped" || e.SkipReason == nil || *e.SkipReason != "already_booked" {
		t.Fatalf("ineligible entry: %+v, want skipped for already_booked", e)
	}
	if h := holders(t, a, slot); len(h) != 1 || h[0] != w2.ID {
		t.Fatalf("seat holders %v, want the next waiting candidate %d", h, w2.ID)
	}
}

// TestWaitlistTakesTheReleasedReserve pins the clock around a slot's
// reserve release time (PL-RESERVE): until the release job runs the reserve
// is held (one second before, and at the instant until the job marks it),
// then the released seats go to the waitlist, best-ranked first (a permit
// with under six months left before earlier joiners), before a booker can
// take them.
func TestWaitlistTakesTheReleasedReserve(t *testing.T) {
	t.Parallel()
	start := time.Date(2030, 6, 1, 10, 0, 0, 0, testkit.Shanghai)
	clock := testkit.NewClock(start)
	a := servertest.StartAt(t, clock)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	release := start.Add(time.Hour)
	slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 3, "priority_reserved": 2,
		"reserve_release_at": release.Format(time.RFC3339)})
	holder, w1, w2, booker := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	urgent := a.NewCandidate(sched, map[string]any{ // the permit ends in 3 months (RA-PRIORITY)
		"subject1_passed_on": a.Day(-1001).Format(time.DateOnly),
		"permit_issued_on":   a.Day(-1000).Format(time.DateOnly), "permit_expires_on": a.Day(90).Format(time.DateOnly)})
	bookingOf(t, a, holder, slot)
	join(t, a, w1, slot)
	join(t, a, w2, slot)
	join(t, a, urgent, slot)
	book := func() testkit.Response {
		return a.Do("POST", "/api/v1/bookings", booker.Token, map[string]any{"slot_ids": []int64{slot}})
	}

	clock.Set(release.Add(-time.Second))
	time.Sleep(1500 * time.Millisecond) // the job runs every second: it has looked
	if r := book(); r.Code() != "slot_full" {
		t.Fatalf("booking a second before the release: got %d %s, want slot_full", r.Status, r.Raw)
	}
	if e := entryOf(t, a, w1, slot); e.State != "waiting" {
		t.Fatalf("a second before the release: %+v, want still waiting", e)
	}

	clock.Set(release)
	if r := book(); r.Code() != "slot_full" { // the instant, before or after the job
		t.Fatalf("booking at the release instant: got %d %s, want slot_full", r.Status, r.Raw)
	}
	deadline := time.Now().Add(10 * time.Second)
	for entryOf(t, a, urgent, slot).State == "waiting" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if h := holders(t, a, slot); fmt.Sprint(h) != fmt.Sprint([]int64{holder.ID, w1.ID, urgent.ID}) {
		t.Fatalf("holders after the release %v, want %d, then %d and %d from the waitlist", h, holder.ID, w1.ID, urgent.ID)
	}
	if e := entryOf(t, a, w2, slot); e.State != "waiting" {
		t.Fatalf("third in rank: %+v, want still waiting", e)
	}
	clock.Set(release.Add(time.Second))
	if r := book(); r.Code() != "slot_full" {
		t.Fatalf("booking a second after the release: got %d %s, want slot_full", r.Status, r.Raw)
	}
	var released int
	if err := a.DB.Get(&released, `SELECT count(*) FROM slots WHERE id = $1 AND reserve_released_at = $2`, slot, release); err != nil {
		t.Fatal(err)
	}
	if released != 1 {
		t.Fatalf("slot not marked released at the release time")
	}
}

// TestSeatFreedRefillsInTheCallersTransaction: another package's release
// (BK-COMBINED-FAIL, package exam) frees a seat with ReleaseBooking and
// hands it on with SeatFreed in its own transaction: before that
// transaction commits the seat is already the waiting candidate's, so the
// slot is never seen with a free seat.
func TestSeatFreedRefillsInTheCallersTransaction(t *testing.T) {
	t.Parallel()
	a := servertest.Start(t)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	slot := a.NewSlot(sched, venue, 3, 5, 9, map[string]any{"capacity": 1})
	holder, w := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
	held := bookingOf(t, a, holder, slot)
	join(t, a, w, slot)

	ctx := context.Background()
	tx, err := a.DB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if ok, err := scheduling.ReleaseBooking(ctx, tx, held, "BK-COMBINED-FAIL: subject 2 failed", time.Now()); err != nil || !ok {
		t.Fatalf("release: %v %v", ok, err)
	}
	if err := scheduling.SeatFreed(ctx, tx, held, slot, time.Now()); err != nil {
		t.Fatal(err)
	}
	var booked int
	if err := tx.Get(&booked, `SELECT booked FROM slots WHERE id = $1`, slot); err != nil || booked != 1 {
		t.Fatalf("before commit: %d booked (%v), want the seat taken again", booked, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if h := holders(t, a, slot); len(h) != 1 || h[0] != w.ID {
		t.Fatalf("seat holders %v, want the waiting candidate %d", h, w.ID)
	}
}
