package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"examd/exam"
	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The admin's page of display tokens, which open a venue's hall screen
// (大厅屏) without a login; package exam keeps them (exam.CreateDisplay).

// venueDisplays is a venue's display tokens, for the list.
type venueDisplays struct {
	Venue    string
	Displays []exam.Display
}

// displaysView is the data of the admin's display page.
type displaysView struct {
	Venues  []scheduling.Venue
	ByVenue []venueDisplays
	// Created and URL are the display just made and its hall URL, shown
	// this once.
	Created *exam.Display
	URL     string
	// Form is what the create form shows; Refusal holds every field the
	// last try failed on, and why.
	Form    displayForm
	Refusal formErrors
	// Row and RowError are a revocation's refusal, next to its button.
	Row       int64
	RowError  string
	RowPlaced bool // the row is on the page, its message next to it
}

// displayForm is the create form as sent.
type displayForm struct {
	VenueID int64
	Label   string
}

func (h Handler) registerDisplays(e *echo.Echo, m []echo.MiddlewareFunc) {
	e.GET("/admin/displays", h.displaysList, m...)
	e.POST("/admin/displays", h.createDisplay, m...)
	e.POST("/admin/displays/:id/revoke", h.revokeDisplay, m...)
}

func (h Handler) displaysList(c echo.Context) error {
	return h.displaysPage(c, http.StatusOK, displaysView{})
}

// displaysPage lists the display tokens by venue, with the create form.
func (h Handler) displaysPage(c echo.Context, status int, v displaysView) error {
	ctx := c.Request().Context()
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	ds, err := h.Exams.Displays(ctx)
	if err != nil {
		return err
	}
	v.Venues = venues
	v.ByVenue = []venueDisplays{}
	for _, d := range ds {
		if n := len(v.ByVenue); n == 0 || v.ByVenue[n-1].Displays[0].VenueID != d.VenueID {
			v.ByVenue = append(v.ByVenue, venueDisplays{Venue: d.Venue})
		}
		last := &v.ByVenue[len(v.ByVenue)-1]
		last.Displays = append(last.Displays, d)
		v.RowPlaced = v.RowPlaced || d.ID == v.Row
	}
	return h.render(c, status, "admin_displays", "displays.title", v)
}

// createDisplay makes a display token and answers with its hall URL, shown
// this once: rendered here, never redirected to (a URL with it in the
// history), never cached.
func (h Handler) createDisplay(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	f := displayForm{Label: strings.TrimSpace(req.PostForm.Get("label"))}
	f.VenueID, _ = strconv.ParseInt(req.PostForm.Get("venue_id"), 10, 64)
	d, token, err := h.Exams.CreateDisplay(req.Context(), f.VenueID, f.Label, auth.Caller(c).UserID)
	if fe, ok := refusal.As(err); ok && fe.Field != "" {
		// Every refused field at once (the venue and the label).
		var fes formErrors
		for _, r := range refusal.All(err) {
			key := "displays.label_invalid"
			if r.Field == "venue_id" {
				key = "displays.venue_invalid"
			}
			fes = append(fes, &formError{Field: r.Field, Key: key})
		}
		return h.displaysPage(c, http.StatusUnprocessableEntity, displaysView{Form: f, Refusal: fes})
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.displaysPage(c, http.StatusCreated, displaysView{Created: &d, URL: c.Scheme() + "://" + req.Host + "/hall/" + token})
}

// revokeDisplay revokes a display token; its screen stops at once.
func (h Handler) revokeDisplay(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return refusal.ErrNotFound
	}
	err = h.Exams.RevokeDisplay(c.Request().Context(), id, auth.Caller(c).UserID, h.Now())
	if errors.Is(err, exam.ErrNotRevocable) {
		return h.displaysPage(c, http.StatusConflict, displaysView{Row: id, RowError: "displays.not_revocable"})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/displays?done=display_revoked")
}
