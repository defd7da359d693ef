package web

import (
	"github.com/labstack/echo/v4"

	"examd/internal/api"
	"examd/internal/refusal"
)

// textOnly refuses a page request whose query or form holds a name or value
// that is not text PostgreSQL can store (invalid UTF-8, NUL) with 422
// invalid_field, before any handler reads it: a browser sends UTF-8, so such
// bytes are a forged or broken request, and storing them would either fail
// in PostgreSQL or keep U+FFFD where the person typed something else. A
// form that cannot be parsed at all is a 400.
func textOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if err := req.ParseForm(); err != nil {
			return api.ErrBadRequest
		}
		for name, values := range req.Form {
			if !api.Text(name) {
				return refusal.Invalid("form", "field names must be UTF-8 text")
			}
			for _, v := range values {
				if !api.Text(v) {
					return refusal.Invalid(name, "must be UTF-8 text without NUL characters")
				}
			}
		}
		return next(c)
	}
}
