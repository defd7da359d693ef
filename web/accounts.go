package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
	"examd/scheduling"
)

// registerAccounts mounts the admin's account pages: the staff's users, the
// judging devices and the audit log.
func (h Handler) registerAccounts(e *echo.Echo, m []echo.MiddlewareFunc) {
	e.GET("/admin/users", h.usersPage, m...)
	e.POST("/admin/users", h.addUser, m...)
	e.GET("/admin/devices", h.devicesPage, m...)
	e.POST("/admin/devices", h.addDevice, m...)
	e.POST("/admin/devices/:id/retire", h.retireDevice, m...)
	e.GET("/admin/audit", h.auditPage, m...)
}

// userRow is a staff account as the list shows it.
type userRow struct {
	auth.User
	Venue string
}

// userForm is what the new-user form shows again after a refusal: what was
// sent, never the password.
type userForm struct {
	Username, Role, Desk, Venue string
}

// usersView is the data of the users page.
type usersView struct {
	Users   []userRow
	Venues  []scheduling.Venue
	Roles   []string
	Form    userForm
	Refusal formErrors
}

func (h Handler) usersPage(c echo.Context) error {
	return h.renderUsers(c, http.StatusOK, userForm{Role: auth.RoleExaminer}, nil)
}

// renderUsers lists the staff accounts under the form to create one, with
// the refusal of the last try next to its field.
func (h Handler) renderUsers(c echo.Context, status int, form userForm, ref formErrors) error {
	ctx := c.Request().Context()
	users, err := h.Accounts.StaffUsers(ctx)
	if err != nil {
		return err
	}
	venues, err := h.Scheduling.Venues(ctx)
	if err != nil {
		return err
	}
	names := venueNames(venues)
	v := usersView{Users: make([]userRow, 0, len(users)), Venues: venues, Roles: auth.StaffRoles, Form: form, Refusal: ref}
	for _, u := range users {
		r := userRow{User: u}
		if u.VenueID != nil {
			r.Venue = names[*u.VenueID]
		}
		v.Users = append(v.Users, r)
	}
	return h.render(c, status, "admin_users", "users.title", v)
}

// addUser creates a staff account with the API's checks (auth.ValidUser).
// Examiners must also be given their venue: their live screen shows it.
func (h Handler) addUser(c echo.Context) error {
	req := c.Request()
	if err := req.ParseForm(); err != nil {
		return api.ErrBadRequest
	}
	f := req.PostForm
	form := userForm{Username: f.Get("username"), Role: f.Get("role"), Desk: f.Get("desk"), Venue: f.Get("venue_id")}
	password := f.Get("password")
	refuse := func(status int, fes formErrors) error { return h.renderUsers(c, status, form, fes) }
	var unread refusal.List
	var venue *int64
	if form.Venue != "" {
		n, err := strconv.ParseInt(form.Venue, 10, 64)
		if err != nil || n <= 0 {
			unread = append(unread, refusal.Invalid("venue_id", "malformed"))
		} else {
			venue = &n
		}
	}
	var desk *string
	if d := strings.TrimSpace(form.Desk); d != "" {
		desk = &d
	}
	u, err := auth.ValidUser(&form.Username, &password, &form.Role, venue, desk)
	if err = alongside(unread, err); err != nil {
		all := refusal.All(err)
		if all == nil {
			return err
		}
		fes := make(formErrors, 0, len(all)+1)
		for _, r := range all {
			fes = append(fes, &formError{Field: r.Field, Key: "users.err." + r.Field})
		}
		if form.Role == auth.RoleExaminer && venue == nil && !fes.Is("venue_id") {
			fes = append(fes, &formError{Field: "venue_id", Key: "users.err.venue_required"})
		}
		return refuse(api.Status(all[0].Code), fes)
	}
	if u.Role == auth.RoleExaminer && u.VenueID == nil {
		return refuse(http.StatusUnprocessableEntity, one("venue_id", "users.err.venue_required"))
	}
	_, err = h.Accounts.CreateUser(req.Context(), u, auth.Caller(c).UserID)
	switch {
	case errors.Is(err, auth.ErrDuplicateUser):
		return refuse(http.StatusConflict, one("username", refusalKey(auth.ErrDuplicateUser.Code)))
	case errors.Is(err, auth.ErrUnknownVenue):
		return refuse(http.StatusUnprocessableEntity, one("venue_id", "users.err.venue_id"))
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users?done=user_created")
}
