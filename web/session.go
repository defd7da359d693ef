package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/pg"
	"examd/internal/refusal"
)

const (
	sessionCookie = "examd_session"
	langCookie    = "examd_lang"
	sizeCookie    = "examd_size"
	csrfField     = "_csrf" // the form field of the CSRF token (csrf.go)
	csrfKey       = "csrf"
	langKey       = "examd.lang"
	largeKey      = "examd.large"
	loggedInKey   = "examd.logged_in"
)

// errFormExpired answers a form without a valid CSRF token: usually a page
// left open past the token cookie's life, sometimes a forgery.
var errFormExpired = echo.NewHTTPError(http.StatusForbidden, "form expired")

// language is the request's page language, chosen by prefs.
func language(c echo.Context) string {
	if l, ok := c.Get(langKey).(string); ok {
		return l
	}
	return langZh
}

// prefs applies the language switch and the large-type toggle (?lang=en,
// ?size=large: a cookie each, then back to the same page without them),
// picks the page language, and sets the headers every page carries.
func (h Handler) prefs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		q := req.URL.Query()
		if req.Method == http.MethodGet && (q.Has("lang") || q.Has("size")) {
			if l := q.Get("lang"); slices.Contains(languages, l) {
				h.setCookie(c, langCookie, l, 365*24*time.Hour)
			}
			if s := q.Get("size"); s == "large" || s == "normal" {
				h.setCookie(c, sizeCookie, s, 365*24*time.Hour)
			}
			q.Del("lang")
			q.Del("size")
			to := req.URL.Path
			if len(q) > 0 {
				to += "?" + q.Encode()
			}
			return c.Redirect(http.StatusSeeOther, localPath(to))
		}
		lang := pickLanguage(h.cookieValue(c, langCookie), req.Header.Get("Accept-Language"))
		c.Set(langKey, lang)
		c.Set(largeKey, h.cookieValue(c, sizeCookie) == "large")

		hd := c.Response().Header()
		hd.Set("Content-Language", lang)
		hd.Add("Vary", "Accept-Language")
		// Pages show personal data: no shared cache keeps them.
		hd.Set("Cache-Control", "no-store")
		// A second wall behind the templates' escaping: no inline script,
		// nothing from elsewhere, no framing.
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		return next(c)
	}
}

// cookieName is the name examd's cookie name goes by: with Secure cookies a
// __Host- cookie (Secure, Path=/, no Domain), which a sibling site or a
// plain-HTTP page of this host cannot set or overwrite.
func (h Handler) cookieName(name string) string {
	if h.SecureCookies {
		return "__Host-" + name
	}
	return name
}

// cookieValue is the value of examd's cookie name, "" when there is none.
func (h Handler) cookieValue(c echo.Context, name string) string {
	ck, err := c.Cookie(h.cookieName(name))
	if err != nil {
		return ""
	}
	return ck.Value
}

// setCookie sets examd's cookie name for the whole site (cookieName),
// HttpOnly and SameSite=Lax, for ttl (a negative ttl deletes it).
func (h Handler) setCookie(c echo.Context, name, value string, ttl time.Duration) {
	ck := &http.Cookie{
		Name: h.cookieName(name), Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies,
	}
	if ttl < 0 {
		ck.MaxAge = -1
	} else {
		ck.Expires = h.Now().Add(ttl)
	}
	c.SetCookie(ck)
}

// requireLogin resolves the session cookie to the caller with the API's own
// Authenticate, so that auth.Caller, auth.Require and the request log work
// on pages as on the API; without a valid session it sends the browser to
// the login page. Pages know only the cookie: an Authorization header sent
// with a page request is dropped.
func (h Handler) requireLogin(next echo.HandlerFunc) echo.HandlerFunc {
	authn := auth.Handler{Store: h.Accounts}.Authenticate(func(c echo.Context) error {
		c.Set(loggedInKey, true)
		return next(c)
	})
	return func(c echo.Context) error {
		req := c.Request()
		req.Header.Del("Authorization")
		if tok := h.cookieValue(c, sessionCookie); tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		err := authn(c)
		if c.Get(loggedInKey) == nil && errors.Is(err, refusal.ErrUnauthorized) {
			if h.cookieValue(c, sessionCookie) != "" {
				h.setCookie(c, sessionCookie, "", -1) // expired or revoked
			}
			return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(req.URL.RequestURI()))
		}
		return err
	}
}

// csrfToken is the token the request's forms carry.
func csrfToken(c echo.Context) string {
	s, _ := c.Get(csrfKey).(string)
	return s
}

// pageErrors turns an error of a page into a page: the login page for a lost
// session, an error page in the request's language for everything else: a
// 503 with Retry-After while the database cannot be reached. What went wrong
// inside examd stays in the log.
func (h Handler) pageErrors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		status, key := http.StatusInternalServerError, "error.internal"
		var ae *refusal.Error
		var he *echo.HTTPError
		switch {
		case errors.Is(err, context.Canceled):
			return err
		case errors.Is(err, refusal.ErrUnauthorized):
			return c.Redirect(http.StatusSeeOther, "/login")
		case err == errFormExpired:
			status, key = http.StatusForbidden, "error.form_expired"
		case errors.As(err, &ae):
			status = api.Status(ae.Code)
			switch {
			case status == http.StatusServiceUnavailable:
				key = refusalKey(ae.Code)
			case ae.Code == refusal.InvalidField:
				key = "error.invalid_field"
			}
		case errors.As(err, &he):
			status = he.Code
		case pg.Unavailable(err):
			// PostgreSQL is down or restarting: "try again shortly", not a bug.
			status, key = http.StatusServiceUnavailable, refusalKey(api.ErrUnavailable.Code)
			h.Log.LogAttrs(c.Request().Context(), slog.LevelWarn, "database unavailable",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("route", c.Path()), slog.String("err", err.Error()))
		default:
			h.Log.LogAttrs(c.Request().Context(), slog.LevelError, "page error",
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
				slog.String("route", c.Path()), slog.String("err", err.Error()))
		}
		if key == "error.internal" {
			switch {
			case status == http.StatusForbidden:
				key = "error.forbidden"
			case status == http.StatusNotFound:
				key = "error.not_found"
			case status == http.StatusRequestEntityTooLarge:
				key = "error.too_large"
			case status >= 400 && status < 500:
				key = "error.bad_request"
			default:
				status = http.StatusInternalServerError
			}
		}
		if status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", api.RetryAfter)
		}
		v := errorView{Key: key}
		if status == http.StatusInternalServerError {
			v.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
		}
		return h.render(c, status, "error", "error.title", v)
	}
}

// localPath returns p when it is a path on this site, "/" otherwise, so that
// a ?next= can never send the browser elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return p
}
