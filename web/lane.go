package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// laneView is the data of the priority-lane page.
type laneView struct {
	Grant   *scheduling.Grant
	Request *scheduling.LaneRequest // the latest, if any
	// Form is what the form shows: the pending request, or what was sent.
	Form    *scheduling.LaneRequest
	Reasons []string
	Needs   []string
	// Field and Error name the field the last try failed on, and why.
	Field, Error string
}

func (h Handler) lane(c echo.Context) error { return h.lanePage(c, http.StatusOK, nil, "", "") }

// lanePage shows the candidate's lane: granted, asked for, or the form to ask.
func (h Handler) lanePage(c echo.Context, status int, form *scheduling.LaneRequest, field, msg string) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	var req *scheduling.LaneRequest
	switch latest, err := h.Scheduling.LatestLaneRequest(c.Request().Context(), me.ID); {
	case err == nil:
		req = &latest
	case !errors.Is(err, refusal.ErrNotFound):
		return err
	}
	if form == nil && req != nil && req.Status == "pending" {
		form = req
	}
	return h.render(c, status, "candidate_lane", "lane.title", laneView{
		Grant: me.Priority, Request: req, Form: form,
		Reasons: scheduling.PriorityReasons, Needs: scheduling.PriorityNeeds, Field: field, Error: msg,
	})
}

// askForLane asks for the priority lane with a reason and needs (PL-GRANT's
// lists), for staff to decide.
func (h Handler) askForLane(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	g := scheduling.NewGrant{
		Reason: req.PostForm.Get("reason"),
		Needs:  req.PostForm["needs"],
		Note:   strings.TrimSpace(req.PostForm.Get("note")),
	}
	form := &scheduling.LaneRequest{Reason: g.Reason, Needs: g.Needs, Note: g.Note}
	err := h.Scheduling.RequestLane(req.Context(), auth.Caller(c).UserID, g, h.Now())
	if fe, ok := refusal.As(err); ok && fe.Field != "" {
		return h.lanePage(c, http.StatusUnprocessableEntity, form, fe.Field, "lane."+fe.Field+"_invalid")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/priority?done=lane_requested")
}
