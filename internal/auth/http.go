package auth

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/refusal"
)

const principalKey = "examd.principal"

// Handler serves login, logout and user administration.
type Handler struct {
	Store *Store
}

// Register mounts the account routes on the /api/v1 group.
func (h Handler) Register(g *echo.Group) {
	g.POST("/login", h.login)
	g.POST("/logout", h.logout, h.Authenticate)
	g.POST("/users", h.createUser, h.Authenticate, Require(RoleAdmin))
	g.POST("/me/password", h.changePassword, h.Authenticate)
}

// Authenticate is middleware that resolves the bearer token to a Principal,
// answering 401 when there is none. A token that Identify has resolved for
// the request already is not looked up again.
func (h Handler) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, ok := bearer(c.Request())
		if !ok {
			return refusal.ErrUnauthorized
		}
		if id, ok := c.Get(identityKey).(identity); ok && id.token == tok {
			if id.err != nil {
				return id.err
			}
			c.Set(principalKey, id.p)
			return next(c)
		}
		p, err := h.Store.Lookup(c.Request().Context(), tok)
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// identityKey keeps what Identify found, for Authenticate.
const identityKey = "examd.identity"

// identity is a bearer token and what it resolved to.
type identity struct {
	token string
	p     Principal
	err   error
}

// Identify resolves the request's bearer token, when it has one, to its
// caller ahead of the route: the admission of a request to the database
// gate goes by who calls. It reports false without a token. Authenticate
// then uses the answer, whether a caller or a refusal; Caller stays empty
// until Authenticate has run, so that a route without it sees nobody.
func (h Handler) Identify(c echo.Context) (Principal, bool, error) {
	tok, ok := bearer(c.Request())
	if !ok {
		return Principal{}, false, nil
	}
	p, err := h.Store.Lookup(c.Request().Context(), tok)
	if _, refused := refusal.As(err); err == nil || refused {
		c.Set(identityKey, identity{token: tok, p: p, err: err})
	}
	return p, true, err
}

// SetRetryAfter sets the Retry-After header of a refused login when err is
// a *Throttled.
func SetRetryAfter(c echo.Context, err error) {
	var t *Throttled
	if errors.As(err, &t) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(t.RetryAfterSeconds()))
	}
}

// Require is middleware that answers 403 unless the caller has one of roles.
// It runs after Authenticate.
func Require(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !slices.Contains(roles, Caller(c).Role) {
				return refusal.ErrForbidden
			}
			return next(c)
		}
	}
}

// Caller returns the authenticated caller of the request.
func Caller(c echo.Context) Principal {
	p, _ := c.Get(principalKey).(Principal)
	return p
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func (h Handler) login(c echo.Context) error {
	var req struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	if req.Username == nil || *req.Username == "" {
		return refusal.Invalid("username", "required")
	}
	if req.Password == nil || *req.Password == "" {
		return refusal.Invalid("password", "required")
	}
	// Candidates log in with their ID number; its check character may be typed in lower case.
	username := strings.TrimSpace(*req.Username)
	if len(username) == 18 && strings.HasSuffix(username, "x") {
		username = strings.ToUpper(username)
	}
	s, err := h.Store.Login(c.Request().Context(), username, *req.Password, c.RealIP())
	if err != nil {
		SetRetryAfter(c, err)
		return err
	}
	return c.JSON(http.StatusOK, s)
}

func (h Handler) logout(c echo.Context) error {
	tok, _ := bearer(c.Request())
	if err := h.Store.Logout(c.Request().Context(), tok); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h Handler) createUser(c echo.Context) error {
	var req struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
		Role     *string `json:"role"`
		VenueID  *int64  `json:"venue_id"`
		Desk     *string `json:"desk"`
	}
	if err := api.Bind(c, &req); err != nil {
		return err
	}
	u, err := ValidUser(req.Username, req.Password, req.Role, req.VenueID, req.Desk)
	if err != nil {
		return err
	}
	id, err := h.Store.CreateUser(c.Request().Context(), u, Caller(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": id, "username": u.Username, "role": u.Role, "venue_id": u.VenueID, "desk": u.Desk})
}

// ValidUser checks an account to create, as POST /users and the admin's
// page send it (nil for a field left out), and returns it ready for
// CreateUser. A refusal is an *refusal.Error naming the field.
func ValidUser(username, password, role *string, venueID *int64, desk *string) (NewUser, error) {
	var u NewUser
	var bad refusal.List
	refuse := func(field, message string) { bad = append(bad, refusal.Invalid(field, message)) }
	switch {
	case username == nil || strings.TrimSpace(*username) == "":
		refuse("username", "required")
	case utf8.RuneCountInString(*username) > 64 || strings.ContainsAny(*username, " \t\r\n") || !api.Text(*username):
		refuse("username", "at most 64 characters, no spaces")
	}
	switch {
	case password == nil || len(*password) < 8:
		refuse("password", "at least 8 characters")
	case len(*password) > 72:
		refuse("password", "at most 72 bytes")
	}
	if role == nil || !slices.Contains(StaffRoles, *role) {
		refuse("role", "one of admin, scheduler, examiner, issuer (candidates are created through /api/v1/candidates)")
	}
	if venueID != nil && *venueID <= 0 {
		refuse("venue_id", "must be a positive id")
	}
	if desk != nil && (utf8.RuneCountInString(*desk) > 32 || !api.Text(*desk)) {
		refuse("desk", "at most 32 characters")
	}
	// Every bad field at once, in the order of the API.
	if err := bad.Err(); err != nil {
		return u, err
	}
	u = NewUser{Username: *username, Password: *password, Role: *role, VenueID: venueID}
	if desk != nil {
		u.Desk = strings.TrimSpace(*desk)
	}
	return u, nil
}
