package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The counter service (导办): staff book, cancel and move a walk-in
// candidate's bookings from the candidate's page and from a slot's roster,
// and close a slot's day from its roster. Each form calls the API's own
// Booker (the same rules and refusals as the candidate's page) or the
// close the API uses; a refusal is shown next to the form that caused it.

// registerCounter mounts the counter's forms with the middleware m, and a
// slot's roster and its close with roster's (the venue's examiner too).
func (h Handler) registerCounter(e *echo.Echo, m, roster []echo.MiddlewareFunc) {
	e.GET("/admin/slots/:id", h.planRoster, roster...)
	e.POST("/admin/slots/:id/close", h.counterClose, roster...)
	e.POST("/admin/candidates/:id/book", h.counterBookCandidate, m...)
	e.POST("/admin/slots/:id/book", h.counterBookSlot, m...)
	e.POST("/admin/bookings/:id/cancel", h.counterCancel, m...)
	e.POST("/admin/bookings/:id/move", h.counterMove, m...)
	e.GET("/admin/bookings/:id/slip", h.staffSlip, m...)
}

// counterSlot is a slot the counter's forms offer.
type counterSlot struct {
	scheduling.Slot
	Venue string
	Free  int
}

// counterSlots are the slots of class from today on (slotDays days ahead)
// that the book and move forms offer; the rules judge the choice.
func (h Handler) counterSlots(ctx context.Context, class string) ([]counterSlot, error) {
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return nil, err
	}
	names := venueNames(venues)
	today := scheduling.Day(h.Now())
	found, _, err := h.Scheduling.FindSlots(ctx, scheduling.SlotFilter{LicenceClass: class, From: today, To: today.AddDate(0, 0, slotDays)})
	if err != nil {
		return nil, err
	}
	return counterSlotsOf(found, names), nil
}

// counterSlotsOf are found as the book and move forms offer them, with
// their venues' names.
func counterSlotsOf(found []scheduling.Slot, names map[int64]string) []counterSlot {
	slots := make([]counterSlot, len(found))
	for i, s := range found {
		slots[i] = counterSlot{Slot: s, Venue: names[s.VenueID], Free: s.Free()}
	}
	return slots
}

// formSlots reads the slot (and, for a combined exam, the pair) the form
// chose; the package form sends its three slots as slot_id three times
// (BK-PACKAGE).
func formSlots(f url.Values) []int64 {
	fields := f["slot_id"]
	if len(fields) <= 1 {
		fields = []string{f.Get("slot_id")}
		if v := strings.TrimSpace(f.Get("pair_slot_id")); v != "" {
			fields = append(fields, v)
		}
	}
	ids := make([]int64, len(fields))
	for i, v := range fields {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			n = 0 // not an id: Validate refuses it
		}
		ids[i] = n
	}
	return ids
}

// counterRefusal is the refusal of a counter form, placed at row: an
// invalid field reads the counter's message of that field (a reason or a
// slot to choose), anything else the refusal's own.
func counterRefusal(err error, row string) (*rowRefusal, bool) {
	ref, ok := rowRefusalOf(err, row)
	if !ok {
		return nil, false
	}
	if r, _ := refusal.As(err); r.Code == refusal.InvalidField {
		switch r.Field {
		case "reason", "slot_ids":
			ref.Key = "counter.invalid." + r.Field
		}
	}
	return ref, true
}

// counterBookCandidate books the candidate of the path into the slot, the
// combined pair or the all-subjects day (BK-PACKAGE) the form chose. A
// package's refusal shows on its row, and its success names the three
// bookings (booked=).
func (h Handler) counterBookCandidate(c echo.Context) error {
	id, f, err := pathForm(c)
	if err != nil {
		return err
	}
	ids := formSlots(f)
	row := "book"
	if len(ids) == 3 {
		row = rowKey(ids)
	}
	booked, err := h.booker().Book(c.Request().Context(), scheduling.BookRequest{
		CandidateID: id, SlotIDs: ids, By: auth.Caller(c).UserID, IdempotencyKey: f.Get("key"),
	}, h.Now())
	if ref, ok := counterRefusal(err, row); ok {
		if ref.Code == refusal.InvalidField && ref.Key == "refusal.invalid" {
			if _, err := h.Scheduling.Candidate(c.Request().Context(), id); errors.Is(err, refusal.ErrNotFound) {
				return refusal.ErrNotFound
			}
		}
		return h.candidatePage(c, ref.Status, id, nil, nil, ref)
	}
	if err != nil {
		return err
	}
	if bs := booked.Bookings; len(ids) == 3 && len(bs) == 3 {
		booked := make([]string, len(bs))
		for i, b := range bs {
			booked[i] = strconv.FormatInt(b.ID, 10)
		}
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=counter_package_booked&booked=%s#package-booked",
			id, strings.Join(booked, ",")))
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=counter_booked#bookings-h", id))
}

// counterBookSlot books the candidate of the ID number the form names into
// the slot of the path.
func (h Handler) counterBookSlot(c echo.Context) error {
	id, f, err := pathForm(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	idNo := strings.TrimSpace(f.Get("id_number"))
	p, err := h.Scheduling.CandidateByIDNumber(ctx, idNo)
	if errors.Is(err, refusal.ErrNotFound) || (err == nil && idNo == "") {
		ref := &rowRefusal{Row: "book", Code: refusal.InvalidField, Key: "counter.invalid.id_number", Status: http.StatusUnprocessableEntity}
		return h.rosterPage(c, ref.Status, id, ref)
	}
	if err != nil {
		return err
	}
	_, err = h.booker().Book(ctx, scheduling.BookRequest{
		CandidateID: p.ID, SlotIDs: []int64{id}, By: auth.Caller(c).UserID, IdempotencyKey: f.Get("key"),
	}, h.Now())
	if ref, ok := counterRefusal(err, "book"); ok {
		return h.rosterPage(c, ref.Status, id, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/slots/%d?done=counter_booked#roster-h", id))
}

// counterBack is the page a booking's form returns to: the roster of the
// form's slot, else the page of the form's candidate.
type counterBack struct{ slot, candidate int64 }

func counterBackOf(f url.Values) counterBack {
	var b counterBack
	b.slot, _ = strconv.ParseInt(f.Get("slot"), 10, 64)
	b.candidate, _ = strconv.ParseInt(f.Get("candidate"), 10, 64)
	return b
}

// page shows the page again with the refusal ref; a form that names
// neither page shows the candidates' list.
func (b counterBack) page(h Handler, c echo.Context, ref *rowRefusal) error {
	switch {
	case b.slot > 0:
		return h.rosterPage(c, ref.Status, b.slot, ref)
	case b.candidate > 0:
		return h.candidatePage(c, ref.Status, b.candidate, nil, nil, ref)
	}
	return h.candidatesPage(c, ref.Status, "", url.Values{}, nil, ref)
}

// done returns to the page with the flash message done.
// outcome answers a form's step on booking id: a missing booking is 404, a
// refusal is shown on its row of the page the form came from, success
// returns there with done.
func (b counterBack) outcome(h Handler, c echo.Context, err error, id int64, done string) error {
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if ref, ok := counterRefusal(err, "booking-"+strconv.FormatInt(id, 10)); ok {
		return b.page(h, c, ref)
	}
	if err != nil {
		return err
	}
	return b.done(c, done)
}

func (b counterBack) done(c echo.Context, done string) error {
	switch {
	case b.slot > 0:
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/slots/%d?done=%s#roster-h", b.slot, done))
	case b.candidate > 0:
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/candidates/%d?done=%s#bookings-h", b.candidate, done))
	}
	return c.Redirect(http.StatusSeeOther, "/admin/candidates?done="+done)
}

// counterCancel cancels a booking for staff, with the reason the form gives
// (BK-CANCEL), and its pair when the box is ticked.
func (h Handler) counterCancel(c echo.Context) error {
	id, f, err := pathForm(c)
	if err != nil {
		return err
	}
	back := counterBackOf(f)
	_, err = h.booker().Cancel(c.Request().Context(), scheduling.CancelRequest{
		BookingID: id, By: auth.Caller(c).UserID, WithPair: f.Get("with_pair") == "1",
		Reason: strings.TrimSpace(f.Get("reason")),
	}, h.Now())
	return back.outcome(h, c, err, id, "counter_cancelled")
}

// counterMove moves a booking to the slot (or pair) the form chose, in one
// transaction (Booker.Move): on a refusal the booking stays as it was.
func (h Handler) counterMove(c echo.Context) error {
	id, f, err := pathForm(c)
	if err != nil {
		return err
	}
	back := counterBackOf(f)
	_, _, err = h.booker().Move(c.Request().Context(), scheduling.MoveRequest{
		BookingID: id, SlotIDs: formSlots(f), By: auth.Caller(c).UserID, Reason: strings.TrimSpace(f.Get("reason")),
	}, h.Now())
	return back.outcome(h, c, err, id, "counter_moved")
}

// examinerVenue is the venue an examiner caller works at (-1 without one:
// no slot is theirs), 0 for other staff (any venue).
func examinerVenue(c echo.Context) int64 {
	p := auth.Caller(c)
	switch {
	case p.Role != auth.RoleExaminer:
		return 0
	case p.VenueID == nil:
		return -1
	}
	return *p.VenueID
}

// counterClose ends the exam day of the slot (BK-NOSHOW), as POST
// /slots/{id}/close does: an examiner closes only their venue's slots.
func (h Handler) counterClose(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	_, err = h.Exams.CloseSlot(c.Request().Context(), id, examinerVenue(c), h.Now())
	if errors.Is(err, refusal.ErrNotFound) {
		return refusal.ErrNotFound
	}
	if ref, ok := rowRefusalOf(err, "close"); ok {
		return h.rosterPage(c, ref.Status, id, ref)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/admin/slots/%d?done=slot_closed", id))
}

// counterActions is what the cancel and move forms of one booking need.
type counterActions struct {
	BookingID int64
	Paired    bool
	// Candidate and Slot name the page the forms return to (counterBack).
	Candidate, Slot int64
	CSRF            string
	Slots           []counterSlot
	Refusal         *rowRefusal
}

// Row is the key of the booking's row, where its refusal shows.
func (a counterActions) Row() string { return "booking-" + strconv.FormatInt(a.BookingID, 10) }

// Actions are the forms of one of the candidate's bookings.
func (v candidateView) Actions(b candidateBooking, csrf string) counterActions {
	a := counterActions{BookingID: b.ID, Paired: b.PairID != nil, Candidate: v.Profile.ID, CSRF: csrf, Slots: v.Slots}
	a.Refusal = v.RefusalFor(a.Row())
	return a
}

// Seq is the place in the exam order of the roster's entry i, from 1, as
// the printed roster numbers it.
func (rosterView) Seq(i int) int { return i + 1 }

// Actions are the forms of one booking of the roster.
func (v rosterView) Actions(e scheduling.RosterEntry, csrf string) counterActions {
	a := counterActions{BookingID: e.BookingID, Paired: e.PairID != nil, Slot: v.Slot.ID, CSRF: csrf, Slots: v.Slots}
	a.Refusal = v.RefusalFor(a.Row())
	return a
}
