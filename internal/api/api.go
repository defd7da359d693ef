// Package api holds the JSON conventions every examd handler shares: the
// error envelope, the one map from a refusal's code to its HTTP status, and
// strict request decoding.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"examd/internal/refusal"
)

// Envelope is the JSON body of every error response.
type Envelope struct {
	Error *refusal.Error `json:"error"`
}

// statuses is the one map from a refusal's code to its HTTP status. A code
// that is not listed is a rule of the domain refusing the request: 409.
var statuses = map[string]int{
	"malformed_json":       http.StatusBadRequest,
	"bad_request":          http.StatusBadRequest,
	"websocket_required":   http.StatusBadRequest,
	"bad_handshake":        http.StatusBadRequest,
	"unauthorized":         http.StatusUnauthorized,
	"invalid_credentials":  http.StatusUnauthorized,
	"forbidden":            http.StatusForbidden,
	"origin_forbidden":     http.StatusForbidden,
	"not_found":            http.StatusNotFound,
	"method_not_allowed":   http.StatusMethodNotAllowed,
	"body_too_large":       http.StatusRequestEntityTooLarge,
	"body_timeout":         http.StatusRequestTimeout,
	"too_many_attempts":    http.StatusTooManyRequests,
	"too_many_connections": http.StatusTooManyRequests,
	refusal.InvalidField:   http.StatusUnprocessableEntity,
	"checklist_incomplete": http.StatusUnprocessableEntity,
	"unknown_rule":         http.StatusUnprocessableEntity,
	"wrong_password":       http.StatusUnprocessableEntity,
	"password_too_short":   http.StatusUnprocessableEntity,
	"password_too_long":    http.StatusUnprocessableEntity,
	"password_mismatch":    http.StatusUnprocessableEntity,
	"client_closed":        499, // nginx's "client closed request": nobody reads it
	"internal":             http.StatusInternalServerError,
	"unavailable":          http.StatusServiceUnavailable,
	"feed_unavailable":     http.StatusServiceUnavailable,
}

// Status is the HTTP status that answers a refusal with code.
func Status(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusConflict
}

// Refusals of the HTTP edge itself.
var (
	ErrBadRequest       = refusal.New("bad_request", "请求格式不正确")
	ErrMethodNotAllowed = refusal.New("method_not_allowed", "该地址不支持此请求方法")
	ErrClientClosed     = refusal.New("client_closed", "客户端已断开")
	ErrInternal         = refusal.New("internal", "服务内部错误；请求编号见响应头 X-Request-Id")
	// ErrUnavailable answers every request that failed because PostgreSQL
	// cannot be reached, is shutting down or is recovering (pg.Unavailable),
	// and /readyz while it is so.
	ErrUnavailable = refusal.New("unavailable", "服务暂时不可用（数据库无法连接），请稍后重试")
)

// RetryAfter is the Retry-After header, in seconds, of every 503 answer:
// PostgreSQL restarting takes a few seconds, and examd reconnects by itself
// as soon as it is back.
const RetryAfter = "5"

// Bind decodes the request body into dst strictly: one JSON object, no
// unknown fields, no wrong types. Syntax errors and text that is not UTF-8
// answer 400 malformed_json, everything else 422 invalid_field naming the
// first bad field.
func Bind(c echo.Context, dst any) error {
	body, err := Body(c)
	if err != nil {
		return err
	}
	return Decode(body, dst)
}

// Body reads the request body whole, within the body limit: a body over it
// is refused with body_too_large, one that cannot be read as malformed.
func Body(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var he *echo.HTTPError
		var mbe *http.MaxBytesError
		if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge || errors.As(err, &mbe) {
			return nil, refusal.ErrTooLarge
		}
		return nil, refusal.ErrMalformed
	}
	return body, nil
}

// Decode is Bind for a body already read.
func Decode(body []byte, dst any) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		if len(trimmed) > 0 && json.Valid(trimmed) {
			return refusal.Invalid("body", "the body must be a JSON object")
		}
		return refusal.ErrMalformed
	}
	// encoding/json would store each invalid byte as U+FFFD without a word:
	// a body that is not UTF-8 is no JSON text (RFC 8259, section 8.1).
	// An escaped lone surrogate (\ud800) is replaced the same way.
	if !json.Valid(trimmed) || !utf8.Valid(trimmed) || loneSurrogate(trimmed) {
		return refusal.ErrMalformed
	}
	if hasNUL(trimmed) {
		// PostgreSQL text cannot hold NUL: refuse it here, not with a 500 later.
		return refusal.Invalid(fieldWithNUL(trimmed), "text must not contain NUL characters (\\u0000)")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return refusal.Invalid(te.Field, "wrong type: expected "+te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
			return refusal.Invalid(name, "unknown field")
		default:
			return refusal.Invalid("body", "invalid value")
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

// loneSurrogate reports whether a valid JSON text escapes half of a UTF-16
// surrogate pair without the other half, which names no character.
func loneSurrogate(j []byte) bool {
	// In a valid JSON text a backslash only occurs in a string, and starts
	// an escape: no state but the position is needed.
	for i := 0; i < len(j); i++ {
		if j[i] != '\\' {
			continue
		}
		i++
		if j[i] != 'u' {
			continue
		}
		r := hex4(j[i+1 : i+5])
		i += 4
		switch {
		case r >= 0xdc00 && r <= 0xdfff:
			return true // a low half first
		case r >= 0xd800 && r <= 0xdbff:
			if i+6 >= len(j) || j[i+1] != '\\' || j[i+2] != 'u' {
				return true
			}
			if lo := hex4(j[i+3 : i+7]); lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 6
		}
	}
	return false
}

// hex4 reads four hexadecimal digits, which json.Valid has checked.
func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
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
		return 0, refusal.ErrNotFound
	}
	return id, nil
}
