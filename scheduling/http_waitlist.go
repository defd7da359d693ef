package scheduling

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// waitlistCandidate is the candidate a waitlist request is for: the caller
// when a candidate, else the candidate staff name (given).
func waitlistCandidate(caller auth.Principal, given *int64) (int64, error) {
	switch {
	case caller.Role != auth.RoleCandidate:
		if given == nil || *given <= 0 {
			return 0, refusal.Invalid("candidate_id", "required: the candidate to wait for")
		}
		return *given, nil
	case given != nil && *given != caller.UserID:
		return 0, refusal.Invalid("candidate_id", "candidates wait for themselves")
	}
	return caller.UserID, nil
}

// joinWaitlist serves POST /api/v1/slots/:id/waitlist {"candidate_id":…}:
// a candidate joins a full slot's waitlist (staff name the candidate).
func (h Handler) joinWaitlist(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		CandidateID *int64 `json:"candidate_id"`
	}
	body, err := api.Body(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 { // a candidate may send no body at all
		if err := api.Decode(body, &req); err != nil {
			return err
		}
	}
	caller := auth.Caller(c)
	cand, err := waitlistCandidate(caller, req.CandidateID)
	if err != nil {
		return err
	}
	e, err := h.Store.JoinWaitlist(c.Request().Context(), cand, id, caller.UserID, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

// leaveWaitlist serves DELETE /api/v1/slots/:id/waitlist (staff:
// ?candidate_id=…).
func (h Handler) leaveWaitlist(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var given *int64
	if v := c.QueryParam("candidate_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return refusal.Invalid("candidate_id", "a candidate id")
		}
		given = &n
	}
	caller := auth.Caller(c)
	cand, err := waitlistCandidate(caller, given)
	if err != nil {
		return err
	}
	e, err := h.Store.LeaveWaitlist(c.Request().Context(), cand, id, caller.UserID, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

// slotWaitlist serves GET /api/v1/slots/:id/waitlist: the scheduler's view,
// ranked, names and ID numbers masked.
func (h Handler) slotWaitlist(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	es, err := h.Store.SlotWaitlist(c.Request().Context(), id, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"waitlist": es})
}

// myWaitlist serves GET /api/v1/me/waitlist: the candidate's entries, with
// their place while waiting.
func (h Handler) myWaitlist(c echo.Context) error {
	es, err := h.Store.MyWaitlist(c.Request().Context(), auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	for i := range es {
		es[i].Name, es[i].IDNumber = "", ""
	}
	return c.JSON(http.StatusOK, map[string]any{"waitlist": es})
}

// decline serves POST /api/v1/bookings/:id/decline: the candidate gives back
// a seat the waitlist booked for them.
func (h Handler) decline(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	bs, err := h.Store.Decline(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, present(bs))
}

// keep serves POST /api/v1/bookings/:id/keep: the candidate keeps a seat
// the waitlist booked for them (RA-WAIT), which they may then no longer
// decline; the answer is the waitlist entry, state booked.
func (h Handler) keep(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	e, err := h.Store.Keep(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if err != nil {
		return err
	}
	e.Name, e.IDNumber = "", ""
	return c.JSON(http.StatusOK, e)
}
