package scheduling

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// present shows bookings with their times in Asia/Shanghai.
func present(bs []Booking) map[string]any {
	for i := range bs {
		bs[i].StartsAt = bs[i].StartsAt.In(Shanghai)
		bs[i].EndsAt = bs[i].EndsAt.In(Shanghai)
		bs[i].CreatedAt = bs[i].CreatedAt.In(Shanghai)
	}
	return map[string]any{"bookings": bs}
}

func (h Handler) book(c echo.Context) error {
	outcome, err := h.bookAndAnswer(c)
	if h.Outcomes != nil {
		h.Outcomes.WithLabelValues(outcome).Inc()
	}
	return err
}

// bookAndAnswer books and reports the outcome for the metrics: "confirmed",
// "replayed", or the refusal's code.
func (h Handler) bookAndAnswer(c echo.Context) (string, error) {
	var req struct {
		SlotIDs     *[]int64 `json:"slot_ids"`
		CandidateID *int64   `json:"candidate_id"`
	}
	if err := api.Bind(c, &req); err != nil {
		return outcomeOf(err), err
	}
	caller := auth.Caller(c)
	r := BookRequest{By: caller.UserID, IdempotencyKey: c.Request().Header.Get("Idempotency-Key")}
	switch {
	case req.SlotIDs == nil || len(*req.SlotIDs) == 0 || len(*req.SlotIDs) > 2:
		err := refusal.Invalid("slot_ids", "one slot id, or two for the combined exam")
		return outcomeOf(err), err
	case len(r.IdempotencyKey) > 200 || !printableASCII(r.IdempotencyKey):
		err := refusal.Invalid("Idempotency-Key", "at most 200 printable ASCII characters")
		return outcomeOf(err), err
	case caller.Role == auth.RoleCandidate:
		// A candidate books for themselves only.
		if req.CandidateID != nil && *req.CandidateID != caller.UserID {
			err := refusal.Invalid("candidate_id", "candidates book for themselves")
			return outcomeOf(err), err
		}
		r.CandidateID = caller.UserID
	case req.CandidateID == nil || *req.CandidateID <= 0:
		err := refusal.Invalid("candidate_id", "required when staff book for a candidate")
		return outcomeOf(err), err
	default:
		r.CandidateID = *req.CandidateID
	}
	r.SlotIDs = *req.SlotIDs
	for _, id := range r.SlotIDs {
		if id <= 0 {
			err := refusal.Invalid("slot_ids", "positive slot ids")
			return outcomeOf(err), err
		}
	}
	bs, fresh, err := h.Store.Book(c.Request().Context(), r, h.Now())
	if errors.Is(err, refusal.ErrNotFound) {
		err = refusal.Invalid("candidate_id", "no such candidate")
	}
	if err != nil {
		return outcomeOf(err), err
	}
	// IS-NOTICE: the confirmation tells, once, everything to bring.
	notice, err := h.Store.CandidateNotice(c.Request().Context(), r.CandidateID, h.LicenceFeeYuan)
	if err != nil {
		return "internal", err
	}
	answer := present(bs)
	answer["notice"] = notice
	if !fresh {
		return "replayed", c.JSON(http.StatusOK, answer)
	}
	return "confirmed", c.JSON(http.StatusCreated, answer)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func outcomeOf(err error) string {
	if r, ok := refusal.As(err); ok {
		return r.Code
	}
	return "internal"
}

func (h Handler) getBooking(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	b, err := h.Store.Booking(c.Request().Context(), id, auth.Caller(c).Owner())
	if err != nil {
		return err
	}
	bs := []Booking{b}
	present(bs)
	return c.JSON(http.StatusOK, bs[0])
}

func (h Handler) cancel(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	r := CancelRequest{BookingID: id, Owner: auth.Caller(c).Owner(), By: auth.Caller(c).UserID, Reason: c.QueryParam("reason")}
	if r.Owner == 0 && r.Reason == "" {
		// BK-CANCEL: staff cancel at any time, with a reason.
		return refusal.Invalid("reason", "staff give a reason to cancel")
	}
	if len(r.Reason) > 500 || !api.Text(r.Reason) {
		return refusal.Invalid("reason", "at most 500 bytes of text")
	}
	if v := c.QueryParam("with_pair"); v != "" {
		if r.WithPair, err = strconv.ParseBool(v); err != nil {
			return refusal.Invalid("with_pair", "true or false")
		}
	}
	bs, err := h.Store.Cancel(c.Request().Context(), r, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, present(bs))
}

func (h Handler) myBookings(c echo.Context) error {
	bs, err := h.Store.Bookings(c.Request().Context(), auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, present(bs))
}

func (h Handler) candidateBookings(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	if _, err := h.Store.Candidate(c.Request().Context(), id); err != nil {
		return err
	}
	bs, err := h.Store.Bookings(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, present(bs))
}
