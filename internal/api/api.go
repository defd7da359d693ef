// Package api holds the JSON conventions every examd handler shares:
// the error envelope and strict request decoding.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Error is a refusal the client is meant to read: an HTTP status, a stable
// code and a human message, optionally naming the offending field.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s (%s): %s", e.Status, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Envelope is the JSON body of every error response.
type Envelope struct {
	Error *Error `json:"error"`
}

// Invalid answers 422 invalid_field for the named field.
func Invalid(field, message string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_field", Field: field, Message: message}
}

// Common refusals shared by every package.
var (
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "missing, invalid or expired token"}
	ErrForbidden    = &Error{Status: http.StatusForbidden, Code: "forbidden", Message: "your role may not do this"}
	ErrNotFound     = &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such object"}
	ErrMalformed    = &Error{Status: http.StatusBadRequest, Code: "malformed_json", Message: "the body is not valid JSON"}
	ErrTooLarge     = &Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the body is larger than 1 MiB"}
)

// Bind decodes the request body into dst strictly: one JSON object, no
// unknown fields, no wrong types. Syntax errors answer 400 malformed_json and
// everything else 422 invalid_field naming the first bad field.
func Bind(c echo.Context, dst any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var he *echo.HTTPError
		var mbe *http.MaxBytesError
		if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge || errors.As(err, &mbe) {
			return ErrTooLarge
		}
		return ErrMalformed
	}
	return Decode(body, dst)
}

// Decode is Bind for a body already read.
func Decode(body []byte, dst any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if len(trimmed) > 0 && json.Valid(trimmed) {
			return Invalid("body", "the body must be a JSON object")
		}
		return ErrMalformed
	}
	if !json.Valid(trimmed) {
		return ErrMalformed
	}
	if hasNUL(trimmed) {
		// PostgreSQL text cannot hold NUL: refuse it here, not with a 500 later.
		return Invalid(fieldWithNUL(trimmed), "text must not contain NUL characters (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return Invalid(te.Field, "wrong type: expected "+te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			return Invalid(name, "unknown field")
		default:
			return Invalid("body", "invalid value")
		}
	}
	return nil
}

// hasNUL reports whether a valid JSON text escapes a NUL character: \u0000
// preceded by an even number of backslashes.
func hasNUL(j []byte) bool {
	for i := 0; ; {
		k := bytes.Index(j[i:], []byte(`\u0000`))
		if k < 0 {
			return false
		}
		k += i
		n := 0
		for b := k - 1; b >= 0 && j[b] == '\\'; b-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = k + 1
	}
}

// Text reports whether s can be stored as PostgreSQL text: valid UTF-8
// without NUL. Query parameters and headers are checked with it.
func Text(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// fieldWithNUL names the top-level field whose value holds a NUL character.
func fieldWithNUL(j []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(j, &fields) == nil {
		for name, v := range fields {
			if hasNUL(v) || strings.ContainsRune(name, 0) {
				return name
			}
		}
	}
	return "body"
}

// PathID reads the :id of a route. An id that is not a positive integer
// names nothing, so it answers 404 like an id that does not exist.
func PathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrNotFound
	}
	return id, nil
}
