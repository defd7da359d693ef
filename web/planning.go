package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/refusal"
	"examd/scheduling"
)

// The scheduler's and the admin's planning pages: venues, slots with their
// rosters, candidates and the priority lane. Each form calls the store the
// API calls, with the same validation (the domain's), and shows a refusal
// next to the control whose value caused it.

// registerPlanning mounts the planning pages with the middleware m.
func (h Handler) registerPlanning(e *echo.Echo, m []echo.MiddlewareFunc) {
	e.GET("/admin/venues", h.planVenues, m...)
	e.POST("/admin/venues", h.planCreateVenue, m...)
	e.GET("/admin/slots", h.planSlots, m...)
	e.POST("/admin/slots", h.planCreateSlot, m...)
	e.GET("/admin/slots/week", h.planWeek, m...)
	e.POST("/admin/slots/week", h.planPublishWeek, m...)
	e.POST("/admin/slots/:id/allocation", h.planSetAllocation, m...)
	e.GET("/admin/candidates", h.planCandidates, m...)
	e.POST("/admin/candidates", h.planCreateCandidate, m...)
	e.GET("/admin/candidates/:id", h.planCandidate, m...)
	e.POST("/admin/candidates/:id/priority", h.planGrant, m...)
	e.POST("/admin/candidates/:id/priority/revoke", h.planRevoke, m...)
	e.POST("/admin/candidates/:id/package", h.planPackage, m...)
	e.POST("/admin/candidates/:id/package/revoke", h.planPackageRevoke, m...)
	e.POST("/admin/lane-requests/:id/grant", h.planGrantRequest, m...)
	e.POST("/admin/lane-requests/:id/decline", h.planDeclineRequest, m...)
}

// invalidFields are the fields the planning forms name in a refusal, each
// with its message plan.invalid.<field>: the domain's field names (the
// API's), and date and q of the pages' own forms.
var invalidFields = []string{
	"name", "address",
	"venue_id", "subject", "licence_class", "date", "starts_at", "ends_at", "capacity", "priority_reserved",
	"days", "sessions", "subjects",
	"reserve_release_at", "booking_opens_at", "booking_closes_at",
	"id_number", "phone", "permit_issued_on", "permit_expires_on", "subject1_passed_on", "password",
	"reason", "needs", "note", "q", "package_reason", "package_note",
}

// invalidField is the refusal of field.
func invalidField(field string) *formError {
	if !slices.Contains(invalidFields, field) {
		return &formError{Field: "form", Key: "plan.invalid.form"}
	}
	return &formError{Field: field, Key: "plan.invalid." + field}
}

// formErrorOf returns the refusals that a store's error stands for (every
// bad field of a refusal.List), and false for an error that is examd's own
// failure.
func formErrorOf(err error) (formErrors, bool) {
	all := refusal.All(err)
	if all == nil {
		return nil, false
	}
	fes := make(formErrors, 0, len(all))
	for _, r := range all {
		switch {
		case r.Code == refusal.InvalidField:
			fes = append(fes, invalidField(r.Field))
		case errors.Is(r, scheduling.ErrDuplicateCandidate):
			fes = append(fes, &formError{Field: "id_number", Key: refusalKey(r.Code)})
		default:
			fes = append(fes, &formError{Field: "form", Key: refusalKey(r.Code)})
		}
	}
	return fes, true
}

// alongside is every refusal of a form at once: the fields it could not
// read (unread), then the domain's refusals (err) of the others. A field
// that could not be read is refused once, not again for the zero value the
// domain was given in its place; nor are the fields named in also (those
// computed from an unread one). An err that is no refusal is returned as it
// is.
func alongside(unread refusal.List, err error, also ...string) error {
	all := refusal.All(err)
	if err != nil && all == nil {
		return err
	}
	out := append(refusal.List{}, unread...)
	for _, r := range all {
		if !slices.Contains(also, r.Field) && !slices.ContainsFunc(unread, func(u *refusal.Error) bool { return u.Field != "" && u.Field == r.Field }) {
			out = append(out, r)
		}
	}
	return out.Err()
}

// postForm parses a form's body; a malformed one is a 400.
func postForm(c echo.Context) (url.Values, error) {
	if err := c.Request().ParseForm(); err != nil {
		return nil, api.ErrBadRequest
	}
	return c.Request().PostForm, nil
}

// pathForm is the id of the path (/…/:id/…) and the posted form.
func pathForm(c echo.Context) (int64, url.Values, error) {
	id, err := api.PathID(c)
	if err != nil {
		return 0, nil, err
	}
	f, err := postForm(c)
	return id, f, err
}

// venueNames maps each venue's id to its name.
func venueNames(vs []scheduling.Venue) map[int64]string {
	names := make(map[int64]string, len(vs))
	for _, v := range vs {
		names[v.ID] = v.Name
	}
	return names
}

// venuesView is the data of the venue page.
type venuesView struct {
	Venues []scheduling.Venue
	Form   url.Values
	Err    formErrors
}

func (h Handler) planVenues(c echo.Context) error {
	return h.venuesPage(c, http.StatusOK, url.Values{}, nil)
}

func (h Handler) venuesPage(c echo.Context, status int, form url.Values, ferr formErrors) error {
	vs, err := h.Scheduling.Venues(c.Request().Context())
	if err != nil {
		return err
	}
	return h.render(c, status, "admin_venues", "plan.venues.title", venuesView{Venues: vs, Form: form, Err: ferr})
}

// planCreateVenue publishes a venue, as POST /venues does.
func (h Handler) planCreateVenue(c echo.Context) error {
	f, err := postForm(c)
	if err != nil {
		return err
	}
	v := scheduling.Venue{Name: f.Get("name"), Address: strings.TrimSpace(f.Get("address")), StepFree: f.Get("step_free") == "1"}
	if err := v.Validate(); err != nil {
		if fe, ok := formErrorOf(err); ok {
			return h.venuesPage(c, http.StatusUnprocessableEntity, f, fe)
		}
		return err
	}
	if _, err := h.Scheduling.CreateVenue(c.Request().Context(), v); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/venues?done=venue_created")
}
