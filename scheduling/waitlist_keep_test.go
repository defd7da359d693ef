package scheduling_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"examd/internal/server/servertest"
	"examd/internal/testkit"
	"examd/scheduling"
)

// TestCheckOffer: an offer is open until its cancel deadline (the start of
// the exam day in Asia/Shanghai), kept from then on; a kept, declined or
// missing entry refuses with its own code (RA-WAIT).
func TestCheckOffer(t *testing.T) {
	t.Parallel()
	day := time.Date(2030, 6, 5, 0, 0, 0, 0, time.UTC) // a calendar day, as the stores return them
	before := time.Date(2030, 6, 4, 23, 59, 59, 0, scheduling.Shanghai)
	at := time.Date(2030, 6, 5, 0, 0, 0, 0, scheduling.Shanghai)
	for _, tc := range []struct {
		name, state string
		now         time.Time
		want        error
		reads       string
	}{
		{"OpenBeforeTheDeadline", "offered", before, nil, "offered"},
		{"KeptAtTheDeadline", "offered", at, scheduling.ErrOfferKept, "booked"},
		{"Kept", "booked", before, scheduling.ErrOfferKept, "booked"},
		{"Declined", "declined", before, scheduling.ErrOfferDeclined, "declined"},
		{"NoEntry", "", before, scheduling.ErrNotAnOffer, ""},
		{"StillWaiting", "waiting", at, scheduling.ErrNotAnOffer, "waiting"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scheduling.CheckOffer(tc.state, day, tc.now); got != tc.want {
				t.Errorf("CheckOffer = %v, want %v", got, tc.want)
			}
			if got := scheduling.OfferState(tc.state, day, tc.now); got != tc.reads {
				t.Errorf("OfferState = %q, want %q", got, tc.reads)
			}
		})
	}
}

// offer books slot's only seat for a holder, puts ws on its waitlist and
// frees the seat: the first of ws gets the offer, whose booking it returns.
func offer(t *testing.T, a *servertest.App, sched string, slot int64, holder servertest.Candidate, ws ...servertest.Candidate) int64 {
	t.Helper()
	held := bookingOf(t, a, holder, slot)
	for _, w := range ws {
		join(t, a, w, slot)
	}
	a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", held), holder.Token, nil)
	e := entryOf(t, a, ws[0], slot)
	if e.State != "offered" || e.BookingID == nil {
		t.Fatalf("entry after the seat freed: %+v, want offered", e)
	}
	return *e.BookingID
}

// TestWaitlistKeep: the candidate keeps an offer (offered → booked, once;
// audited); a kept offer is no longer declined but its booking is still
// cancelled as any other; a declined offer is not kept; an offer not
// declined by its cancel deadline reads as kept, and is then neither kept
// nor declined again, nor recorded declined when staff cancel it.
func TestWaitlistKeep(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(time.Now())
	a := servertest.StartAt(t, clock)
	sched := a.Staff("scheduler")
	venue := a.NewVenue(sched, false)
	keep := func(booking int64, c servertest.Candidate) testkit.Response {
		return a.Do("POST", fmt.Sprintf("/api/v1/bookings/%d/keep", booking), c.Token, nil)
	}
	decline := func(booking int64, c servertest.Candidate) testkit.Response {
		return a.Do("POST", fmt.Sprintf("/api/v1/bookings/%d/decline", booking), c.Token, nil)
	}
	refused := func(t *testing.T, r testkit.Response, status int, code string) {
		t.Helper()
		if r.Status != status || (code != "" && r.Code() != code) {
			t.Fatalf("got %d %s, want %d %s", r.Status, r.Raw, status, code)
		}
	}

	t.Run("KeepOnce", func(t *testing.T) {
		slot := a.NewSlot(sched, venue, 2, 5, 9, map[string]any{"capacity": 1})
		holder, w := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
		b := offer(t, a, sched, slot, holder, w)
		refused(t, keep(b, holder), http.StatusNotFound, "") // another's booking
		r := a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/bookings/%d/keep", b), w.Token, nil)
		if r.Body["state"] != "booked" || r.Body["booking_id"] != float64(b) {
			t.Fatalf("keep answered %s", r.Raw)
		}
		if e := entryOf(t, a, w, slot); e.State != "booked" {
			t.Fatalf("kept entry: %+v", e)
		}
		var n int
		if err := a.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE action = 'waitlist.kept' AND subject = $1`, fmt.Sprintf("booking:%d", b)); err != nil || n != 1 {
			t.Errorf("%d audit entries of the keep (%v), want 1", n, err)
		}
		refused(t, keep(b, w), http.StatusConflict, "offer_kept")
		refused(t, decline(b, w), http.StatusConflict, "offer_kept")
		if h := holders(t, a, slot); len(h) != 1 || h[0] != w.ID {
			t.Fatalf("holders after the refused decline %v", h)
		}
		// The booking is cancelled as any other; the entry stays kept.
		a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d", b), w.Token, nil)
		if e := entryOf(t, a, w, slot); e.State != "booked" {
			t.Errorf("entry after the kept booking's cancellation: %+v", e)
		}
	})
	t.Run("KeepAfterDecline", func(t *testing.T) {
		slot := a.NewSlot(sched, venue, 2, 6, 9, map[string]any{"capacity": 1})
		holder, w1, w2 := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
		b := offer(t, a, sched, slot, holder, w1, w2)
		a.Must(http.StatusOK, "POST", fmt.Sprintf("/api/v1/bookings/%d/decline", b), w1.Token, nil)
		refused(t, keep(b, w1), http.StatusConflict, "offer_declined")
		refused(t, decline(b, w1), http.StatusConflict, "offer_declined")
		if e := entryOf(t, a, w2, slot); e.State != "offered" {
			t.Errorf("the next waiting after the decline: %+v, want offered", e)
		}
	})
	t.Run("OrdinaryBooking", func(t *testing.T) {
		c := a.NewCandidate(sched, nil)
		b := bookingOf(t, a, c, a.NewSlot(sched, venue, 2, 7, 9, nil))
		refused(t, keep(b, c), http.StatusConflict, "not_waitlist_offer")
		refused(t, a.Do("POST", "/api/v1/bookings/999999/keep", c.Token, nil), http.StatusNotFound, "")
		refused(t, a.Do("POST", fmt.Sprintf("/api/v1/bookings/%d/keep", b), sched, nil), http.StatusForbidden, "")
	})
	t.Run("DeadlinePassed", func(t *testing.T) {
		day := a.Day(3)
		a.Must(http.StatusCreated, "POST", "/api/v1/users", a.Admin,
			map[string]any{"username": "keep-deadline-sched", "password": "staff-secret", "role": "scheduler"})
		s1 := a.NewSlot(sched, venue, 2, 3, 9, map[string]any{"capacity": 1})
		s2 := a.NewSlot(sched, venue, 2, 3, 13, map[string]any{"capacity": 1})
		h1, h2, w1, w2 := a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil), a.NewCandidate(sched, nil)
		b1 := offer(t, a, sched, s1, h1, w1)
		b2 := offer(t, a, sched, s2, h2, w2)
		// The first sessions expire as the clock moves on.
		fresh := func(c servertest.Candidate) servertest.Candidate {
			c.Token = a.Login(c.IDNo, "candidate-pw")
			return c
		}
		mine := func(c servertest.Candidate) string {
			c = fresh(c)
			es := a.Must(http.StatusOK, "GET", "/api/v1/me/waitlist", c.Token, nil).Body["waitlist"].([]any)
			return es[0].(map[string]any)["state"].(string)
		}
		clock.Set(scheduling.CancelDeadline(day).Add(-time.Second))
		if st := mine(w1); st != "offered" {
			t.Fatalf("a second before the deadline the offer reads %q", st)
		}
		clock.Set(scheduling.CancelDeadline(day))
		if st := mine(w1); st != "booked" {
			t.Fatalf("at the deadline the offer reads %q, want booked (kept)", st)
		}
		refused(t, keep(b1, fresh(w1)), http.StatusConflict, "offer_kept")
		refused(t, decline(b1, fresh(w1)), http.StatusConflict, "offer_kept")
		// Staff may still cancel it: the offer ends kept, not declined.
		a.Must(http.StatusOK, "DELETE", fmt.Sprintf("/api/v1/bookings/%d?reason=%s", b2, "考生来电"), a.Login("keep-deadline-sched", "staff-secret"), nil)
		if e := entryOf(t, a, w2, s2); e.State != "booked" {
			t.Errorf("a past-deadline offer cancelled by staff: %+v, want booked (kept)", e)
		}
	})
}
