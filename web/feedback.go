package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/issuance"
)

// feedbackView is the rating page's data (SA-RATE).
type feedbackView struct {
	// IssuanceID or BookingID names the service rated, as the journey's
	// link and the form carry it.
	IssuanceID, BookingID int64
	// Service is the service among the candidate's rateable ones, nil when
	// it is none of them.
	Service *issuance.Service
	// Open: the form is offered (the service is rateable and not rated).
	Open    bool
	Score   int
	Comment string
	Err     formErrors
	// Refusal is already_rated or not_rateable, in the catalogue's words.
	Refusal *rowRefusal
}

// Scores are the form's choices, lowest first.
func (feedbackView) Scores() []int { return []int{1, 2, 3, 4, 5} }

// serviceOf reads the service a query or form names: exactly one of
// issuance_id and booking_id, a positive id. Anything else names nothing
// the pages link to.
func serviceOf(q url.Values) (issuanceID, bookingID int64, err error) {
	id := func(name string) int64 {
		n, err := strconv.ParseInt(q.Get(name), 10, 64)
		if err != nil || n <= 0 {
			return 0
		}
		return n
	}
	issuanceID, bookingID = id("issuance_id"), id("booking_id")
	if (issuanceID == 0) == (bookingID == 0) {
		return 0, 0, refusal.ErrNotFound
	}
	return issuanceID, bookingID, nil
}

// feedbackPage offers the rating of one of the candidate's services: the
// journey links it after a licence is issued or staff cancelled a booking.
func (h Handler) feedbackPage(c echo.Context) error {
	iid, bid, err := serviceOf(c.QueryParams())
	if err != nil {
		return err
	}
	return h.feedbackForm(c, http.StatusOK, feedbackView{IssuanceID: iid, BookingID: bid})
}

// feedbackForm shows the rating page for v's service: the form while it
// can be rated, otherwise why not (already_rated, not_rateable).
func (h Handler) feedbackForm(c echo.Context, status int, v feedbackView) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	ss, err := h.Issuing.Services(c.Request().Context(), me.ID)
	if err != nil {
		return err
	}
	for i, s := range ss {
		if v.IssuanceID != 0 && s.IssuanceID == v.IssuanceID || v.BookingID != 0 && s.BookingID == v.BookingID {
			v.Service = &ss[i]
		}
	}
	switch {
	case v.Refusal != nil:
	case v.Service == nil:
		v.Refusal, _ = rowRefusalOf(issuance.ErrNotRateable, "feedback")
		status = v.Refusal.Status
	case v.Service.Rated:
		v.Refusal, _ = rowRefusalOf(issuance.ErrAlreadyRated, "feedback")
	}
	v.Open = v.Refusal == nil
	return h.render(c, status, "candidate_feedback", "feedback.title", v)
}

// rate records the candidate's rating through issuance.Store.Rate, the
// function behind POST /api/v1/feedback: a rating once per service.
func (h Handler) rate(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	iid, bid, err := serviceOf(req.PostForm)
	if err != nil {
		return err
	}
	v := feedbackView{IssuanceID: iid, BookingID: bid, Comment: req.PostFormValue("comment")}
	v.Score, _ = strconv.Atoi(req.PostFormValue("score")) // not a number: Validate refuses 0
	_, err = h.Issuing.Rate(req.Context(), issuance.NewRating{
		CandidateID: auth.Caller(c).UserID, IssuanceID: iid, BookingID: bid, Score: v.Score, Comment: v.Comment,
	}, h.Now())
	r, ok := refusal.As(err)
	switch {
	case ok && (r.Field == "score" || r.Field == "comment"):
		v.Err = one(r.Field, "feedback."+r.Field+"_invalid")
		return h.feedbackForm(c, http.StatusUnprocessableEntity, v)
	case ok && r.Code != refusal.ErrNotFound.Code && r.Field == "":
		v.Refusal, _ = rowRefusalOf(err, "feedback")
		return h.feedbackForm(c, v.Refusal.Status, v)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate?done=rated")
}
