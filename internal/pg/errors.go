package pg

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"

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

// unavailableCodes are the SQLSTATEs, besides class 08 (connection
// exception), of a server that is shutting down or not accepting
// connections yet.
var unavailableCodes = map[pq.ErrorCode]bool{
	"57P01": true, // admin_shutdown: terminating connection due to administrator command
	"57P02": true, // crash_shutdown: another server process crashed
	"57P03": true, // cannot_connect_now: the database system is starting up, shutting down or in recovery
}

// Unavailable reports whether err comes from a PostgreSQL that cannot be
// reached now: no server listening (connection refused, no socket), a
// connection lost (reset, broken pipe, EOF, driver.ErrBadConn), a dial that
// timed out, a connection exception (SQLSTATE class 08), or a server
// shutting down, starting up or in recovery (57P01, 57P02, 57P03). Such a
// request may succeed when retried later; examd answers it 503. A canceled
// or timed-out request is not an outage.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *pq.Error
	if errors.As(err, &e) {
		return e.Code.Class() == "08" || unavailableCodes[e.Code]
	}
	var ne *net.OpError
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &ne):
		// A dial (refused, no socket file, timed out), a read or a write on
		// the server's connection.
		return true
	}
	return false
}
