package scheduling

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// Handler serves the booking API.
type Handler struct {
	Store    *Store
	Accounts *auth.Store
	// Authn resolves the bearer token; every route here needs it.
	Authn echo.MiddlewareFunc
	Now   func() time.Time
	// Outcomes counts booking requests by result code.
	Outcomes *prometheus.CounterVec
	// LicenceFeeYuan is the licence fee the one-time notice names.
	LicenceFeeYuan int
}

// Register mounts every booking route on the /api/v1 group.
func (h Handler) Register(g *echo.Group) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleScheduler, auth.RoleExaminer, auth.RoleIssuer)
	planners := auth.Require(auth.RoleAdmin, auth.RoleScheduler)
	anyone := auth.Require(auth.RoleAdmin, auth.RoleScheduler, auth.RoleExaminer, auth.RoleIssuer, auth.RoleCandidate)
	deskStaff := auth.Require(auth.RoleAdmin, auth.RoleScheduler, auth.RoleIssuer)

	r := g.Group("", h.Authn)
	r.POST("/venues", h.createVenue, planners)
	r.GET("/venues", h.listVenues, anyone)

	r.POST("/candidates", h.createCandidate, planners)
	r.GET("/candidates/:id", h.getCandidate, deskStaff)
	r.POST("/candidates/:id/priority", h.grantPriority, planners)
	r.DELETE("/candidates/:id/priority", h.revokePriority, planners)
	r.POST("/candidates/:id/package", h.grantPackage, planners)
	r.DELETE("/candidates/:id/package", h.revokePackage, planners)
	r.GET("/candidates/:id/bookings", h.candidateBookings, staff)

	r.POST("/slots", h.createSlot, planners)
	r.POST("/slots/week", h.createWeek, planners)
	r.GET("/slots", h.listSlots, anyone)
	r.GET("/slots/:id", h.getSlot, anyone)
	r.PATCH("/slots/:id", h.setAllocation, planners)
	r.GET("/slots/:id/roster", h.roster, staff)
	r.POST("/slots/:id/waitlist", h.joinWaitlist, auth.Require(auth.RoleCandidate, auth.RoleScheduler, auth.RoleAdmin))
	r.DELETE("/slots/:id/waitlist", h.leaveWaitlist, auth.Require(auth.RoleCandidate, auth.RoleScheduler, auth.RoleAdmin))
	r.GET("/slots/:id/waitlist", h.slotWaitlist, planners)

	r.POST("/bookings", h.book, auth.Require(auth.RoleCandidate, auth.RoleScheduler, auth.RoleAdmin))
	r.GET("/bookings/:id", h.getBooking, anyone)
	r.DELETE("/bookings/:id", h.cancel, auth.Require(auth.RoleCandidate, auth.RoleScheduler, auth.RoleAdmin))
	r.POST("/bookings/:id/move", h.move, planners)
	r.POST("/bookings/:id/decline", h.decline, auth.Require(auth.RoleCandidate))
	r.POST("/bookings/:id/keep", h.keep, auth.Require(auth.RoleCandidate))
	r.GET("/me/bookings", h.myBookings, auth.Require(auth.RoleCandidate))
	r.GET("/me/package", h.myPackage, auth.Require(auth.RoleCandidate))
	r.DELETE("/applications/:id", h.withdraw, auth.Require(auth.RoleCandidate, auth.RoleScheduler, auth.RoleAdmin))
	r.POST("/slots/:id/allocate", h.allocateSlot, planners)
	r.GET("/slots/:id/applications", h.rankedList, planners)
	r.GET("/me/waitlist", h.myWaitlist, auth.Require(auth.RoleCandidate))
}

// required returns the value of a required body field, or a 422 naming it.
func required[T any](v *T, field string) (T, error) {
	if v == nil {
		var zero T
		return zero, refusal.Invalid(field, "required")
	}
	return *v, nil
}

func parseInstant(s *string, field string, optional bool) (*time.Time, error) {
	if s == nil {
		if optional {
			return nil, nil
		}
		return nil, refusal.Invalid(field, "required")
	}
	t, err := ParseInstant(*s)
	if err != nil {
		return nil, refusal.Invalid(field, "an RFC 3339 instant, e.g. 2026-12-01T08:30:00+08:00")
	}
	return &t, nil
}

func parseDate(s *string, field string, optional bool) (*time.Time, error) {
	if s == nil {
		if optional {
			return nil, nil
		}
		return nil, refusal.Invalid(field, "required")
	}
	d, err := ParseDate(*s)
	if err != nil {
		return nil, refusal.Invalid(field, "a date YYYY-MM-DD")
	}
	return &d, nil
}

func (h Handler) createVenue(c echo.Context) error {
	var req struct {
		Name     *string `json:"name"`
		Address  *string `json:"address"`
		StepFree *bool   `json:"step_free"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	var v Venue
	if req.Name != nil {
		v.Name = *req.Name
	}
	if req.Address != nil {
		v.Address = *req.Address
	}
	if req.StepFree != nil {
		v.StepFree = *req.StepFree
	}
	if err := v.Validate(); err != nil {
		return err
	}
	v, err := h.Store.CreateVenue(c.Request().Context(), v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, v)
}

func (h Handler) listVenues(c echo.Context) error {
	vs, err := h.Store.Venues(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"venues": vs})
}
