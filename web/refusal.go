package web

import (
	"examd/internal/api"
	"examd/internal/refusal"
)

// The pages' one rule from a refusal to its message: a refusal with code c
// reads the catalogue's "refusal.<c>" (web/i18n/*/base.json), whichever page
// shows it; a refused field of a form reads the form's own key for that
// field (formErrorOf, fieldRefusal). The Chinese texts of the domain's rules
// are the domain's own (a test compares them). Anything that is no refusal
// is examd's failure, not the user's to read.

// refusalKey is the catalogue key of the message of a refusal with code.
func refusalKey(code string) string {
	if code == refusal.InvalidField {
		// A stale or tampered form: the page's controls cannot send it.
		return "refusal.invalid"
	}
	return "refusal." + code
}

// rowRefusal is a refusal shown next to the control that asked for it.
type rowRefusal struct {
	// Row is the key of the row whose button was pressed ("slot-12",
	// "pair-12-13", "booking-7", "cand-3", "attempt-9").
	Row string
	// Code is the API's code (slot_full, cooldown …), Key its message.
	Code, Key string
	// Status is the HTTP status the page answers with: the API's.
	Status int
	// Placed reports that a row of the page carries the message; otherwise
	// the page shows it above the list.
	Placed bool
}

// rowRefusalOf returns the refusal that err stands for, placed at row, and
// false for an error that is not the user's to read (a failure of examd).
func rowRefusalOf(err error, row string) (*rowRefusal, bool) {
	r, ok := refusal.As(err)
	if !ok {
		return nil, false
	}
	return &rowRefusal{Row: row, Code: r.Code, Key: refusalKey(r.Code), Status: api.Status(r.Code)}, true
}

// formError is a bad field of a form and the catalogue key of why. A
// field that no control of the form carries is "form": shown above it.
type formError struct {
	Field, Key string
}

// formErrors are every bad field of a form at once (refusal.List), each
// shown next to its control; the first of a field is the one shown.
type formErrors []*formError

// For returns the error of field, nil when it has none.
func (es formErrors) For(field string) *formError {
	for _, e := range es {
		if e.Field == field {
			return e
		}
	}
	return nil
}

// Is reports whether field has an error: templates ask it per field.
func (es formErrors) Is(field string) bool { return es.For(field) != nil }

// one is the form's errors when it has a single one.
func one(field, key string) formErrors { return formErrors{{Field: field, Key: key}} }
