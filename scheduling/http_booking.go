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
	inShanghai(bs)
	return map[string]any{"bookings": bs}
}

// booker is the Booker of both front doors, on the handler's store.
func (h Handler) booker() Booker { return Booker{Store: h.Store, Outcomes: h.Outcomes} }

// book serves POST /api/v1/bookings {"slot_ids":[…],"candidate_id":…}: the
// request is read here (DecodeBookRequest) and validated, run and counted by
// Booker.Book, as the candidate's page does.
func (h Handler) book(c echo.Context) error {
	body, err := api.Body(c)
	if err != nil {
		return h.booker().Refused(err)
	}
	// RA-*: a body with preferences is an application to ranked slots.
	if ar, ok, err := decodeApplyRequest(body, auth.Caller(c)); ok {
		if err != nil {
			return err
		}
		return h.apply(c, ar)
	}
	r, err := DecodeBookRequest(body, auth.Caller(c), c.Request().Header.Get("Idempotency-Key"))
	if err != nil {
		return h.booker().Refused(err)
	}
	bk, err := h.booker().Book(c.Request().Context(), r, h.Now())
	if errors.Is(err, ErrRankedSlot) {
		// A ranked slot named by slot_ids: the application of that one option.
		return h.apply(c, ApplyRequest{CandidateID: r.CandidateID, Preferences: [][]int64{r.SlotIDs}, By: r.By})
	}
	if err != nil {
		return err
	}
	// IS-NOTICE: the confirmation tells, once, everything to bring (read
	// by the booking's own statement).
	withFee(bk.Notice, h.LicenceFeeYuan)
	answer := present(bk.Bookings)
	answer["notice"] = bk.Notice
	if !bk.Fresh {
		return c.JSON(http.StatusOK, answer)
	}
	return c.JSON(http.StatusCreated, answer)
}

// DecodeBookRequest reads a booking request's JSON body
// {"slot_ids":[…],"candidate_id":…} from caller, with the request's
// Idempotency-Key: a candidate books for themselves (candidate_id may be
// left out), staff name the candidate. The request is validated
// (BookRequest.Validate); every refusal is a *refusal.Error.
func DecodeBookRequest(body []byte, caller auth.Principal, idempotencyKey string) (BookRequest, error) {
	var req struct {
		SlotIDs     []int64 `json:"slot_ids"`
		CandidateID *int64  `json:"candidate_id"`
	}
	if err := api.Decode(body, &req); err != nil {
		return BookRequest{}, err
	}
	r := BookRequest{SlotIDs: req.SlotIDs, By: caller.UserID, IdempotencyKey: idempotencyKey}
	switch {
	case caller.Role != auth.RoleCandidate:
		if req.CandidateID != nil {
			r.CandidateID = *req.CandidateID
		}
	case req.CandidateID != nil && *req.CandidateID != caller.UserID:
		// A candidate books for themselves only.
		return BookRequest{}, refusal.Invalid("candidate_id", "candidates book for themselves")
	default:
		r.CandidateID = caller.UserID
	}
	return r, r.Validate()
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
	if v := c.QueryParam("with_pair"); v != "" {
		if r.WithPair, err = strconv.ParseBool(v); err != nil {
			return refusal.Invalid("with_pair", "true or false")
		}
	}
	bs, err := h.booker().Cancel(c.Request().Context(), r, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, present(bs))
}

// move serves POST /api/v1/bookings/:id/move {"slot_ids":[…],"reason":…}:
// staff move a booking (a combined one as a pair) by Booker.Move, as the
// counter's pages do.
func (h Handler) move(c echo.Context) error {
	id, err := api.PathID(c)
	if err != nil {
		return err
	}
	var req struct {
		SlotIDs []int64 `json:"slot_ids"`
		Reason  string  `json:"reason"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	cancelled, booked, err := h.booker().Move(c.Request().Context(),
		MoveRequest{BookingID: id, SlotIDs: req.SlotIDs, By: auth.Caller(c).UserID, Reason: req.Reason}, h.Now())
	if err != nil {
		return err
	}
	inShanghai(cancelled)
	inShanghai(booked)
	return c.JSON(http.StatusOK, map[string]any{"cancelled": cancelled, "bookings": booked})
}

// myBookings lists the candidate's bookings and, beside them, their
// applications to ranked slots (RA-*) with status, rank and reason.
func (h Handler) myBookings(c echo.Context) error {
	bs, err := h.Store.Bookings(c.Request().Context(), auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	apps, err := h.Store.Applications(c.Request().Context(), auth.Caller(c).UserID)
	if err != nil {
		return err
	}
	answer := present(bs)
	answer["applications"] = apps
	return c.JSON(http.StatusOK, answer)
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
