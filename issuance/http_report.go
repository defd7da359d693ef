package issuance

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// registerReports mounts the daily report, the ratings (SA-RATE) and the
// satisfaction report on the /api/v1 group.
func (h Handler) registerReports(g *echo.Group) {
	g.GET("/reports/daily", h.dailyReport, h.Authn, auth.Require(auth.RoleAdmin, auth.RoleScheduler, auth.RoleIssuer))
	g.POST("/feedback", h.rate, h.Authn, auth.Require(auth.RoleCandidate))
	g.GET("/reports/satisfaction", h.satisfaction, h.Authn, auth.Require(auth.RoleAdmin))
}

func (h Handler) dailyReport(c echo.Context) error {
	day, err := scheduling.DayParam(c.QueryParam("date"), h.Now())
	if err != nil {
		return err
	}
	r, err := h.Store.DailyReport(c.Request().Context(), day)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (h Handler) rate(c echo.Context) error {
	var req struct {
		IssuanceID *int64  `json:"issuance_id"`
		BookingID  *int64  `json:"booking_id"`
		Score      *int    `json:"score"`
		Comment    *string `json:"comment"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	r := NewRating{CandidateID: auth.Caller(c).UserID}
	switch {
	case (req.IssuanceID == nil) == (req.BookingID == nil):
		return refusal.Invalid("issuance_id", "exactly one of issuance_id and booking_id")
	case req.IssuanceID != nil:
		if r.IssuanceID = *req.IssuanceID; r.IssuanceID <= 0 {
			return refusal.Invalid("issuance_id", "a positive id")
		}
	default:
		if r.BookingID = *req.BookingID; r.BookingID <= 0 {
			return refusal.Invalid("booking_id", "a positive id")
		}
	}
	if req.Score == nil {
		return refusal.Invalid("score", "required: a whole number from 1 to 5")
	}
	r.Score = *req.Score
	if req.Comment != nil {
		r.Comment = *req.Comment
	}
	rt, err := h.Store.Rate(c.Request().Context(), r, h.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, rt)
}

func (h Handler) satisfaction(c echo.Context) error {
	d := scheduling.Day(h.Now())
	month := d.AddDate(0, 0, 1-d.Day())
	if q := c.QueryParam("month"); q != "" {
		m, err := ParseMonth(q)
		if err != nil {
			return refusal.Invalid("month", "a month as YYYY-MM")
		}
		month = m
	}
	r, err := h.Store.Satisfaction(c.Request().Context(), month)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
