package pg

import (
	"errors"

	"github.com/lib/pq"
)

// Violation is an integrity constraint that a statement broke.
type Violation struct {
	// Kind is "unique", "check", "foreign_key" or "exclusion".
	Kind       string
	Table      string
	Constraint string
}

// violationKinds are the SQLSTATEs of integrity violations.
var violationKinds = map[pq.ErrorCode]string{
	"23505": "unique",
	"23514": "check",
	"23503": "foreign_key",
	"23P01": "exclusion",
}

// Violated returns the constraint that err broke, and false when err is no
// integrity violation. It is the one place where examd reads PostgreSQL's
// errors; each domain package maps the constraints of its own tables to its
// refusals.
func Violated(err error) (Violation, bool) {
	var e *pq.Error
	if !errors.As(err, &e) {
		return Violation{}, false
	}
	kind, ok := violationKinds[e.Code]
	return Violation{Kind: kind, Table: e.Table, Constraint: e.Constraint}, ok
}

// Refusal returns the refusal that known maps err's broken constraint to,
// and nil when err broke none of them.
func Refusal(err error, known map[string]error) error {
	if v, ok := Violated(err); ok {
		return known[v.Constraint]
	}
	return nil
}

// Retryable reports whether the transaction lost a deadlock or a
// serialization conflict and may simply run again.
func Retryable(err error) bool {
	var e *pq.Error
	return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
}

// UndefinedTable reports whether err names a table that does not exist (a
// database that was never migrated).
func UndefinedTable(err error) bool {
	var e *pq.Error
	return errors.As(err, &e) && e.Code == "42P01"
}
