package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/lib/pq"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// laneRequest is a candidate's request for the priority lane (绿色通道);
// staff decide it by granting the lane (PL-GRANT) or declining.
type laneRequest struct {
	Reason      string         `db:"reason"`
	Needs       pq.StringArray `db:"needs"`
	Note        string         `db:"note"`
	Status      string         `db:"status"` // pending, granted, declined
	RequestedAt time.Time      `db:"requested_at"`
}

// Has reports whether the request lists need.
func (r *laneRequest) Has(need string) bool { return r != nil && slices.Contains(r.Needs, need) }

// requestLane records the candidate's request, or revises the pending one:
// one pending request per candidate, held by a partial unique index.
func requestLane(ctx context.Context, db *sqlx.DB, candidateID int64, g scheduling.NewGrant, now time.Time) error {
	_, err := db.ExecContext(ctx, `
		INSERT INTO priority_requests (candidate_id, reason, needs, note, requested_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (candidate_id) WHERE status = 'pending'
		DO UPDATE SET reason = EXCLUDED.reason, needs = EXCLUDED.needs, note = EXCLUDED.note,
		              requested_at = EXCLUDED.requested_at`,
		candidateID, g.Reason, pq.Array(g.Needs), g.Note, now)
	if err != nil {
		return fmt.Errorf("request the lane for candidate %d: %w", candidateID, err)
	}
	return nil
}

// latestLaneRequest returns the candidate's latest request, nil without one.
func latestLaneRequest(ctx context.Context, db *sqlx.DB, candidateID int64) (*laneRequest, error) {
	var r laneRequest
	err := db.GetContext(ctx, &r, `
		SELECT reason, needs, note, status, requested_at FROM priority_requests
		WHERE candidate_id = $1 ORDER BY requested_at DESC, id DESC LIMIT 1`, candidateID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lane request of candidate %d: %w", candidateID, err)
	}
	return &r, nil
}

// laneView is the data of the priority-lane page.
type laneView struct {
	Grant   *scheduling.Grant
	Request *laneRequest // the latest, if any
	// Form is what the form shows: the pending request, or what was sent.
	Form    *laneRequest
	Reasons []string
	Needs   []string
	// Field and Error name the field the last try failed on, and why.
	Field, Error string
}

func (h Handler) lane(c echo.Context) error { return h.lanePage(c, http.StatusOK, nil, "", "") }

// lanePage shows the candidate's lane: granted, asked for, or the form to ask.
func (h Handler) lanePage(c echo.Context, status int, form *laneRequest, field, msg string) error {
	me, err := h.me(c)
	if err != nil {
		return err
	}
	req, err := latestLaneRequest(c.Request().Context(), h.DB, me.ID)
	if err != nil {
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
	form := &laneRequest{Reason: g.Reason, Needs: g.Needs, Note: g.Note}
	if !api.Text(g.Note) || utf8.RuneCountInString(g.Note) > 500 {
		return h.lanePage(c, http.StatusUnprocessableEntity, form, "note", "lane.note_invalid")
	}
	if err := g.Validate(); err != nil {
		if r, ok := refusal.As(err); ok && r.Field != "" {
			return h.lanePage(c, http.StatusUnprocessableEntity, form, r.Field, "lane."+r.Field+"_invalid")
		}
		return err
	}
	if err := requestLane(req.Context(), h.DB, auth.Caller(c).UserID, g, h.Now()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/candidate/priority?done=lane_requested")
}
