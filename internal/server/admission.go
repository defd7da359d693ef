package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"examd/internal/admission"
	"examd/internal/api"
	"examd/internal/auth"
	"examd/internal/refusal"
)

// errBodyTimeout refuses a request whose body did not arrive within the
// body timeout (Config.BodyTimeout).
var errBodyTimeout = refusal.New("body_timeout", "请求体发送过慢，请重试")

// bodyLimit is the most a request's body may hold.
const bodyLimit = 1 << 20

// readBody reads each request's body into memory, at most limit bytes
// within timeout, before anything else looks at the request: nothing waits
// for a slow sender while holding a place that others need. A body over the
// limit is refused with 413, one slower than timeout with 408.
func readBody(limit int64, timeout time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Body == nil || r.Body == http.NoBody {
				return next(c)
			}
			if r.ContentLength > limit {
				return refusal.ErrTooLarge
			}
			rc := http.NewResponseController(c.Response())
			_ = rc.SetReadDeadline(time.Now().Add(timeout))
			body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
			// No deadline for the rest of the request: the server's own
			// come back with the next request on the connection.
			_ = rc.SetReadDeadline(time.Time{})
			var ne net.Error
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
				c.Response().Header().Set(echo.HeaderConnection, "close")
				return errBodyTimeout
			case err != nil:
				return api.ErrClientClosed
			case int64(len(body)) > limit:
				return refusal.ErrTooLarge
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			return next(c)
		}
	}
}

// admit admits the API's requests to the database gate, sized to the
// database pool, by who calls: a request's body has been read (readBody) and
// its caller identified before it waits for a place, in its class's queue
// (admission.Class). Identifying a bearer token reads the database too: it
// takes a short place of its own class first. The place is the request's
// until its handler returns, except while it waits for a password's hash
// (admission.Outside).
func admit(gate *admission.Gate, accounts auth.Handler) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			class, err := classOf(c, gate, accounts)
			if err != nil {
				return err
			}
			ctx := c.Request().Context()
			p, err := gate.Enter(ctx, class)
			if err != nil {
				return err
			}
			defer p.Leave()
			c.SetRequest(c.Request().WithContext(admission.With(ctx, p)))
			return next(c)
		}
	}
}

// classOf is the class a request waits in: logins and devices by their
// route and credentials, users by their role, anyone else as other.
func classOf(c echo.Context, gate *admission.Gate, accounts auth.Handler) (admission.Class, error) {
	r := c.Request()
	if r.Method == http.MethodPost && c.Path() == "/api/v1/login" {
		return admission.Login, nil
	}
	// Browsers cannot set headers on a websocket: their token comes as
	// access_token (tokenFromQuery, which the live routes run too).
	if tok := c.QueryParam("access_token"); tok != "" && r.Header.Get("Authorization") == "" && c.IsWebSocket() {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Device"):
		return admission.Device, nil
	case !strings.EqualFold(scheme, "Bearer"):
		return admission.Other, nil
	}
	p, err := gate.Enter(r.Context(), admission.Session)
	if err != nil {
		return 0, err
	}
	who, _, err := accounts.Identify(c)
	p.Leave()
	if _, refused := refusal.As(err); refused {
		return admission.Other, nil // the route refuses it, if it wants a caller
	}
	if err != nil {
		return 0, err
	}
	if who.Role == auth.RoleCandidate {
		return admission.Candidate, nil
	}
	return admission.Staff, nil
}

// clientIP is the client's address as Echo's RealIP reads it: the peer's,
// or with trusted proxies the last address in X-Forwarded-For that is not
// one of theirs.
func clientIP(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
