package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// waitRow is one of the candidate's waitlist entries as the bookings page
// shows it.
type waitRow struct {
	scheduling.WaitlistEntry
	Key   string
	Venue string
}

// waitlistPlaces maps the slots whose waitlist the candidate waits on to
// their place.
func waitlistPlaces(es []scheduling.WaitlistEntry) map[int64]int {
	places := map[int64]int{}
	for _, e := range es {
		if e.State == scheduling.WaitWaiting {
			places[e.SlotID] = e.Place
		}
	}
	return places
}

// joinWaitlist puts the candidate on a full slot's waitlist, through the
// API's own store method, and returns to the same list, the refusal next
// to the slot's row.
func (h Handler) joinWaitlist(c echo.Context) error {
	id, form, err := pathForm(c)
	if err != nil {
		return err
	}
	req := c.Request()
	q := parseSlotQuery(form)
	p := auth.Caller(c)
	_, err = h.Scheduling.JoinWaitlist(req.Context(), p.UserID, id, p.UserID, h.Now())
	if errors.Is(err, refusal.ErrNotFound) {
		return err
	}
	if ref, ok := rowRefusalOf(err, rowKey([]int64{id})); ok {
		return h.slotsPage(c, q, ref.Status, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/slots?"+withDone(q.Encode(), "waitlist_joined")+"#"+rowKey([]int64{id}))
}

// leaveWaitlist takes the candidate off a slot's waitlist, from the slot
// page or the bookings page (from=bookings).
func (h Handler) leaveWaitlist(c echo.Context) error {
	id, form, err := pathForm(c)
	if err != nil {
		return err
	}
	req := c.Request()
	p := auth.Caller(c)
	_, err = h.Scheduling.LeaveWaitlist(req.Context(), p.UserID, id, p.UserID, h.Now())
	if err != nil {
		return err // not waiting (left already): not found
	}
	if form.Get("from") == "bookings" {
		return c.Redirect(http.StatusSeeOther, "/candidate/bookings?done=waitlist_left")
	}
	q := parseSlotQuery(form)
	return c.Redirect(http.StatusSeeOther, "/candidate/slots?"+withDone(q.Encode(), "waitlist_left")+"#"+rowKey([]int64{id}))
}

// declineOffer gives back a seat the waitlist booked for the candidate,
// once they ticked the confirmation; the seat passes to the next waiting.
func (h Handler) declineOffer(c echo.Context) error {
	id, form, err := pathForm(c)
	if err != nil {
		return err
	}
	req := c.Request()
	row := "booking-" + strconv.FormatInt(id, 10)
	if form.Get("confirm") != "yes" {
		ref, _ := rowRefusalOf(refusal.Invalid("confirm", "tick the confirmation"), row)
		return h.bookingsPage(c, ref.Status, ref)
	}
	_, err = h.Scheduling.Decline(req.Context(), id, auth.Caller(c).UserID, h.Now())
	return h.offerOutcome(c, row, err, "/candidate/bookings?done=offer_declined")
}

// keepOffer keeps a seat the waitlist booked for the candidate (RA-WAIT):
// it can then no longer be declined, only cancelled.
func (h Handler) keepOffer(c echo.Context) error {
	id, _, err := pathForm(c)
	if err != nil {
		return err
	}
	row := "booking-" + strconv.FormatInt(id, 10)
	_, err = h.Scheduling.Keep(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	return h.offerOutcome(c, row, err, "/candidate/bookings?done=offer_kept#"+row)
}

// offerOutcome answers a decline or keep of the offer on row of 我的预约:
// the store's refusal at the row, else to.
func (h Handler) offerOutcome(c echo.Context, row string, err error, to string) error {
	if errors.Is(err, refusal.ErrNotFound) {
		return err
	}
	if ref, ok := rowRefusalOf(err, row); ok {
		return h.bookingsPage(c, ref.Status, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// withDone adds the flash done to the query string q.
func withDone(q, done string) string {
	if q == "" {
		return "done=" + done
	}
	return q + "&done=" + done
}
