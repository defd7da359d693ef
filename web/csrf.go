package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/secret"
)

// CSRF: every form carries a token derived from the browser's session, and a
// form posted by a page of another site is refused before its token is read.
//
// The token is HMAC-SHA256 keyed with the session's secret (the token in
// the session cookie) over a fixed label. Only the browser holding the
// session and examd (any replica: the secret arrives with every request)
// can compute it, so nobody can choose a cookie and field pair that passes,
// as they could with a double-submit cookie planted by a sibling site or a
// plain-HTTP page of the same host. It needs no key to configure or share
// between replicas and no storage, and it ends with the session: a form left
// open across a logout or a new login is "expired".
//
// Before login there is no session: the login form is keyed with a random
// pre-session secret in its own cookie (examd_csrf). That is a double-submit
// token, so the login form is also checked by where it comes from: a
// browser's Sec-Fetch-Site must say same-origin (or none: typed by the
// user), and a browser that sends no Sec-Fetch-Site but an Origin must name
// this host. With EXAMD_COOKIE_SECURE the cookies are __Host- cookies, which
// no other host and no plain-HTTP page can set.

const (
	// csrfCookie holds the pre-session secret of the login form.
	csrfCookie = "examd_csrf"
	// csrfLabel is what a session's secret signs into its CSRF token.
	csrfLabel = "examd form v1"
	// preSessionTTL is how long a login form stays usable.
	preSessionTTL = 24 * time.Hour
)

// errCrossSite answers a form posted by a page of another site.
var errCrossSite = echo.NewHTTPError(http.StatusForbidden, "cross-site form")

// csrfTokenOf is the forms' token for a session (or pre-session) secret.
func csrfTokenOf(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrf gives the request's forms their token (csrfToken) and refuses a form
// (any method but GET, HEAD, OPTIONS and TRACE) that comes from another site
// (403 forbidden) or does not carry the token of the session it is sent
// with (403 form expired).
func (h Handler) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		unsafe := req.Method != http.MethodGet && req.Method != http.MethodHead &&
			req.Method != http.MethodOptions && req.Method != http.MethodTrace
		if unsafe && !h.fromThisSite(req) {
			return errCrossSite
		}
		key := h.cookieValue(c, sessionCookie)
		if key == "" {
			key = h.cookieValue(c, csrfCookie)
		}
		if key == "" {
			if unsafe {
				return errFormExpired // no page of examd gave this browser a form
			}
			key, _ = secret.New()
			h.setCookie(c, csrfCookie, key, preSessionTTL)
		}
		token := csrfTokenOf(key)
		c.Set(csrfKey, token)
		// Pages differ by their cookies: no cache may hand one's token to another.
		c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie)
		if unsafe && !hmac.Equal([]byte(req.PostFormValue(csrfField)), []byte(token)) {
			return errFormExpired
		}
		return next(c)
	}
}

// fromThisSite reports whether a form was sent by a page of this site, as
// far as the browser says: Sec-Fetch-Site same-origin or none (all current
// browsers), else an Origin naming this host (older ones; https when the
// cookies are Secure). A request that says neither (a tool, a very old
// browser) is left to the token alone.
func (h Handler) fromThisSite(req *http.Request) bool {
	if site := req.Header.Get("Sec-Fetch-Site"); site != "" {
		return site == "same-origin" || site == "none"
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, req.Host) {
		return false // "null" included: an opaque origin is no page of this site
	}
	return u.Scheme == "https" || u.Scheme == "http" && !h.SecureCookies
}
