package audit

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Log reads the audit log for those who hold no database handle (the
// pages): List and Verify on its database.
type Log struct {
	db *sqlx.DB
}

// NewLog returns the audit log kept in db.
func NewLog(db *sqlx.DB) *Log { return &Log{db: db} }

// List returns the entries that f selects, as List does, after bringing the
// chain up to date (Flush): every entry committed before the call is listed.
func (l *Log) List(ctx context.Context, f Filter) ([]Row, int64, error) {
	if err := flushForRead(ctx, l.db); err != nil {
		return nil, 0, err
	}
	return List(ctx, l.db, f)
}

// Verify walks the chain, as Verify does with DefaultStaleAfter.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	return Verify(ctx, l.db, DefaultStaleAfter)
}
