// Package refusal holds examd's one error type for requests it refuses: a
// stable code, a message for people (Chinese for the domain's rules) and,
// for bad input, the field at fault. Domain packages declare their refusals
// with New and Invalid; the HTTP edge (internal/api) maps each code to a
// status once, and the pages map each code to a message of their catalogue
// once. An error that is no *Error is examd's own failure.
package refusal

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a request refused: Code is the stable API code, Message says why
// to a person, Field names the input at fault (invalid_field only).
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Field, e.Message)
	}
	return e.Code + ": " + e.Message
}

// Is makes errors.Is match refusals by code (each code means one condition),
// and by field when the target names one.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}

// New declares a refusal with its code and message.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// InvalidField is the code of input that fails validation.
const InvalidField = "invalid_field"

// Invalid refuses the value of field.
func Invalid(field, message string) *Error {
	return &Error{Code: InvalidField, Field: field, Message: message}
}

// As returns the refusal that err is or wraps.
func As(err error) (*Error, bool) {
	var r *Error
	ok := errors.As(err, &r)
	return r, ok
}

// Refusals every package shares.
var (
	// ErrNotFound: the object does not exist, or is not the caller's to see.
	ErrNotFound     = New("not_found", "没有该对象，或无权查看")
	ErrUnauthorized = New("unauthorized", "未登录，或令牌无效、已过期")
	ErrForbidden    = New("forbidden", "您的角色不能进行此操作")
	ErrMalformed    = New("malformed_json", "请求体不是有效的 JSON")
	ErrTooLarge     = New("body_too_large", "请求体超过 1 MiB")
)

// List is every refusal of one request that has several bad fields, in the
// order of its form. It unwraps to its members, so that errors.As and As
// find the first one: the API answers with that one (its envelope holds one
// error), and the pages, which read All, show each next to its field.
type List []*Error

func (l List) Error() string {
	s := make([]string, len(l))
	for i, r := range l {
		s[i] = r.Error()
	}
	return strings.Join(s, "; ")
}

// Unwrap returns the members of l.
func (l List) Unwrap() []error {
	errs := make([]error, len(l))
	for i, r := range l {
		errs[i] = r
	}
	return errs
}

// Err returns l as an error: nil when l is empty, its only member when it
// holds one.
func (l List) Err() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	return l
}

// All returns every refusal that err is or wraps: the members of a List, or
// the one refusal, and nil for an error that is no refusal.
func All(err error) []*Error {
	var l List
	if errors.As(err, &l) {
		return l
	}
	if r, ok := As(err); ok {
		return []*Error{r}
	}
	return nil
}

// Has reports whether l refuses field.
func (l List) Has(field string) bool {
	for _, r := range l {
		if r.Field == field {
			return true
		}
	}
	return false
}
