package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"examd/internal/auth"
	"examd/scheduling"
)

// loginView is the login page's data.
type loginView struct {
	Username string
	Next     string
	// Error is the catalogue key of why the last try failed.
	Error string
}

func (h Handler) loginPage(c echo.Context) error {
	if tok := h.cookieValue(c, sessionCookie); tok != "" {
		if p, err := h.Accounts.Lookup(c.Request().Context(), tok); err == nil {
			return c.Redirect(http.StatusSeeOther, homeOf(p.Role))
		}
	}
	return h.render(c, http.StatusOK, "login", "login.title", loginView{Next: localPath(c.QueryParam("next"))})
}

// login opens a session with the store's Login, as POST /api/v1/login does:
// candidates give their ID number, staff their username.
func (h Handler) login(c echo.Context) error {
	// The body's fields only: a password never travels in a URL.
	req := c.Request()
	v := loginView{Username: strings.TrimSpace(req.PostFormValue("username")), Next: localPath(req.PostFormValue("next"))}
	password := req.PostFormValue("password")
	if v.Username == "" || password == "" {
		v.Error = "login.required"
		return h.render(c, http.StatusUnprocessableEntity, "login", "login.title", v)
	}
	username := v.Username
	if len(username) == 18 {
		// An ID number's check character may be typed in lower case.
		username = scheduling.NormalizeIDNumber(username)
	}
	// The API's throttle, counting by the same client address.
	s, err := h.Accounts.Login(c.Request().Context(), username, password, c.RealIP())
	switch {
	case errors.Is(err, auth.ErrBadCredentials):
		v.Error = "login.failed"
		return h.render(c, http.StatusUnauthorized, "login", "login.title", v)
	case errors.Is(err, auth.ErrTooManyAttempts):
		auth.SetRetryAfter(c, err)
		v.Error = refusalKey(auth.ErrTooManyAttempts.Code)
		return h.render(c, http.StatusTooManyRequests, "login", "login.title", v)
	}
	if err != nil {
		return err
	}
	h.setCookie(c, sessionCookie, s.Token, s.ExpiresAt.Sub(h.Now()))
	// The session keys the forms from now on (csrf.go).
	h.setCookie(c, csrfCookie, "", -1)
	to := homeOf(s.Role)
	if v.Next != "/" {
		to = v.Next
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// logout ends the session behind the cookie, wherever it was opened.
func (h Handler) logout(c echo.Context) error {
	if tok := h.cookieValue(c, sessionCookie); tok != "" {
		if err := h.Accounts.Logout(c.Request().Context(), tok); err != nil {
			return err
		}
	}
	h.setCookie(c, sessionCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, "/login?done=logged_out")
}

// home sends each role to its first page; roles whose pages are still to
// come see a page that says so.
func (h Handler) home(c echo.Context) error {
	p := auth.Caller(c)
	if to := homeOf(p.Role); to != "/" {
		return c.Redirect(http.StatusSeeOther, to)
	}
	return h.render(c, http.StatusOK, "home", "home.title", nil)
}

// homeOf is the first page of a role.
func homeOf(role string) string {
	switch role {
	case auth.RoleCandidate:
		return "/candidate"
	case auth.RoleExaminer:
		return "/examiner"
	case auth.RoleIssuer:
		return "/desk"
	case auth.RoleScheduler, auth.RoleAdmin:
		return "/admin/slots"
	}
	return "/"
}
